"""Faults around the inputs and outputs: reads that fail, files whose size is only a hint,
outputs that cannot be made, Ctrl-C at start-up. Each is an exit code and one line from foldkit,
never a traceback, and never a previous good output lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.common import TESTS

ROOT = TESTS.parent


def _foldkit(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "foldkit", *args], input=stdin, capture_output=True, timeout=300, check=False, cwd=ROOT, env=env)


@pytest.mark.parametrize("command", [["fold"], ["top"], ["flamegraph", "-o", "{tmp}/x.svg"]])
def test_a_read_error_is_an_input_error_naming_the_file(command: list[str], tmp_path: Path) -> None:
    # reading /proc/self/mem at offset 0 fails with EIO, as a failing disk or network file system does
    run = _foldkit(*[c.format(tmp=tmp_path) for c in command], "/proc/self/mem")
    assert run.returncode == 2, run.stderr
    assert b"Traceback" not in run.stderr
    assert b"foldkit: error: /proc/self/mem: read error: Input/output error" in run.stderr


PERF = "\n\n" + "".join(f"app 7/7 [000] {i}.0: 1001001 cpu-clock: \n\t 4000 work{i % 7} (/bin/app)\n\t 3000 main (/bin/app)\n\n" for i in range(1, 1001))
FOLDED = "\n" + "".join(f"main;work{i % 7} {i}\n" for i in range(1, 1001))


@pytest.mark.parametrize(("fmt", "stacks"), [("folded", FOLDED), ("perf", PERF), ("auto", PERF)])
def test_a_file_whose_size_says_0_is_read_to_its_end(fmt: str, stacks: str) -> None:
    # /proc/PID/environ is a regular file of st_size 0 that has content: here, a capture
    holder = subprocess.Popen(["/bin/sleep", "60"], env={"X": stacks})
    try:
        environ = f"/proc/{holder.pid}/environ"
        assert os.stat(environ).st_size == 0
        deadline = time.monotonic() + 60  # a bound, not a timing: a loaded machine may take seconds
        while time.monotonic() < deadline:  # until the child has exec'd sleep (its environment is then in place)
            if Path(environ).read_bytes().startswith(b"X="):
                break
            time.sleep(0.05)
        from_file = _foldkit("fold", "--format", fmt, environ)
        from_stdin = _foldkit("fold", "--format", fmt, "-", stdin=Path(environ).read_bytes())
    finally:
        holder.kill()
        holder.wait()
    assert from_file.returncode == 0 and from_stdin.returncode == 0, from_file.stderr
    assert from_file.stdout == from_stdin.stdout
    assert from_file.stdout.count(b"\n") == 7 and b"no samples found" not in from_file.stderr


#: Runs the console script's lines (`from foldkit.launch import entry; entry()`, argv[0] `foldkit`)
#: as the main module of `python -m` (whose exit, `Py_RunMain`, is where CPython may end a process
#: by SIGINT after the fact), with an import hook that sends SIGINT to the process when MODULE
#: starts to import: Ctrl-C at that moment of the start-up, every time. WHERE the signal is raised:
#: in the import itself; in code that `exec()` runs from a string (as `dataclasses` and
#: `namedtuple` make a class's methods while a module imports); in a class attribute's
#: `__set_name__` (an enum's members', a `cached_property`'s) as its class is made; or in a
#: `__del__`, where Python cannot raise it (it prints "Exception ignored in ..." and carries on).
_INTERRUPT_AT = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal (a background job ignores it)
MODULE, WHERE = sys.argv[1:3]
def interrupt():
    os.kill(os.getpid(), signal.SIGINT)
class Dropped:
    def __del__(self):
        interrupt()
class Named:
    def __set_name__(self, owner, name):
        interrupt()
class Hook:
    def find_spec(self, name, path=None, target=None):
        if name == MODULE:
            sys.meta_path.remove(self)
            if WHERE == "import":
                interrupt()
            elif WHERE == "exec":
                exec("interrupt()")
            elif WHERE == "set_name":
                type("Owner", (), {"named": Named()})
            else:
                Dropped()
        return None
sys.meta_path.insert(0, Hook())
sys.argv = ["/usr/bin/foldkit", *sys.argv[3:]]
from foldkit.launch import entry
entry()
"""


def _interrupt_at(module: str, where: str, args: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    """`_INTERRUPT_AT` run as `python -m` with the console script's `args`."""
    (folder / "interrupt_at.py").write_text(_INTERRUPT_AT)
    env = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run(
        [sys.executable, "-m", "interrupt_at", module, where, *args], capture_output=True, text=True, timeout=120, check=False, cwd=ROOT, env=env
    )


@pytest.mark.parametrize("where", ["import", "exec", "set_name", "del"])
@pytest.mark.parametrize(
    ("module", "typer"),
    [
        ("foldkit.profile", False),
        ("foldkit.readahead", False),
        ("foldkit.cli.fast", False),
        ("foldkit.cli.draw", False),
        ("foldkit.render.svg", False),
        ("typer", True),
        ("foldkit.cli.flamegraph", True),
    ],
)
def test_ctrl_c_during_start_up_is_interrupted_and_130(module: str, typer: bool, where: str, tmp_path: Path) -> None:
    # "exec": CPython notes a KeyboardInterrupt leaving exec()'s code as unhandled even when the
    # command catches it, and `python -m` then ended the process by SIGINT (status -2) after
    # foldkit's line; "set_name": Python 3.11 raised a RuntimeError from it (a traceback, exit 1);
    # "del": the interrupt was lost and the command ran to its end (exit 0)
    capture = TESTS / "data" / "captures" / "perf-c-fp.txt.zst"
    through_typer = ["--collapse-recursion"] if typer else []  # a flag the drop-in fast path leaves to Typer
    run = _interrupt_at(module, where, ["flamegraph", *through_typer, str(capture), "-o", str(tmp_path / "x.svg")], tmp_path)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 130 and run.stderr.endswith("foldkit: interrupted\n"), (run.returncode, run.stderr)
    assert run.stderr.count("interrupted") == 1, run.stderr
    assert not (tmp_path / "x.svg").exists()


#: The console script's lines with SIGINT sent as lxml.etree's initialisation (compiled by Cython)
#: registers its first type with `collections.abc`: Python code it calls inside `try: ... except:
#: pass`, which swallows the KeyboardInterrupt. Prints "registered" once it did.
_INTERRUPT_IN_EXTENSION = """
import abc, os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
register = abc.ABCMeta.register
def interrupting(cls, subclass):
    if subclass.__module__.startswith("lxml") and abc.ABCMeta.register is interrupting:
        abc.ABCMeta.register = register
        print("registered", flush=True)
        os.kill(os.getpid(), signal.SIGINT)
    return register(cls, subclass)
abc.ABCMeta.register = interrupting
sys.argv = ["/usr/bin/foldkit", *sys.argv[1:]]
from foldkit.launch import entry
entry()
"""


@pytest.mark.parametrize("args", [["-o", "{tmp}/x.svg"], ["-o", "{tmp}/x.html"], ["--collapse-recursion", "-o", "{tmp}/x.svg"]])
def test_ctrl_c_in_an_extension_modules_initialisation_is_not_lost(args: list[str], tmp_path: Path) -> None:
    # the command used to run to its end and exit 0, silently
    capture = TESTS / "data" / "captures" / "perf-c-fp.txt.zst"
    run = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_IN_EXTENSION, "flamegraph", str(capture), *[a.format(tmp=tmp_path) for a in args]],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )
    assert run.stdout == "registered\n", "lxml.etree registered no type with collections.abc: the test needs another trigger"
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 130 and run.stderr.endswith("foldkit: interrupted\n"), (run.returncode, run.stderr)
    assert not any(tmp_path.iterdir())


#: The start-up of `python -m foldkit` (argv[0] is not `foldkit`, so the package leaves SIGINT to
#: the launcher), stopped when the command line starts to import: which SIGINT handler is set then.
_HANDLER_AT_CLI = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
class Hook:
    def find_spec(self, name, path=None, target=None):
        if name == "foldkit.cli":
            import foldkit
            print(signal.getsignal(signal.SIGINT) is foldkit._interrupted)
            os._exit(0)
        return None
sys.meta_path.insert(0, Hook())
sys.argv = [sys.argv[1], "fold", "-"]
from foldkit.launch import entry
entry()
"""


@pytest.mark.parametrize("argv0", ["/usr/bin/foldkit", "-m"])
def test_start_up_has_one_sigint_handler_the_packages(argv0: str) -> None:
    # the console script (installed by the package's __init__) and `python -m foldkit` (installed
    # by the launcher) use the same handler, not one copy each
    run = subprocess.run([sys.executable, "-c", _HANDLER_AT_CLI, argv0], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert run.returncode == 0 and run.stdout == "True\n", (run.stdout, run.stderr)


def test_an_input_whose_name_is_too_long_is_an_input_error(tmp_path: Path) -> None:
    name = tmp_path / ("n" * 300)
    run = _foldkit("fold", str(name))
    assert run.returncode == 2 and b"Traceback" not in run.stderr, run.stderr
    assert run.stderr.endswith(b": cannot open: File name too long\n")


@pytest.mark.parametrize("command", [["top", "--by", "dso", "{x}"], ["check", "{base}", "{x}"]])
def test_a_fifo_is_read_once_by_commands_that_read_an_input_twice(command: list[str], tmp_path: Path) -> None:
    # `top --by dso` reads a perf capture twice (stacks, then frames' dsos), `check` reads both
    # ends of each capture again for their durations: a FIFO's second open waited for ever
    capture = TESTS / "data" / "captures" / "perf-c-fp.txt.zst"
    plain = tmp_path / "plain.perf.zst"
    plain.write_bytes(capture.read_bytes())
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["/bin/sh", "-c", f"cat {plain} > {fifo}"])
    try:
        run = _foldkit(*[a.format(x=fifo, base=plain) for a in command])
    finally:
        if writer.poll() is None:  # the command never opened the FIFO
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        writer.wait(timeout=60)
    expected = _foldkit(*[a.format(x=plain, base=plain) for a in command])
    assert run.returncode == expected.returncode == 0, run.stderr
    if command[0] == "top":
        assert run.stdout == expected.stdout
    else:  # a FIFO's duration is not read again: the check is made on its sample counts alone
        assert run.stdout.splitlines()[-1] == expected.stdout.splitlines()[-1]


def _waiting_for_a_writer(pid: int) -> bool:
    """Whether a thread of process `pid` is blocked opening a FIFO (Linux: wchan wait_for_partner)."""
    for wchan in Path(f"/proc/{pid}/task").glob("*/wchan"):
        try:
            if wchan.read_text() == "wait_for_partner":
                return True
        except OSError:
            pass
    return False


def test_ctrl_c_ends_a_command_waiting_for_a_fifo_writer(tmp_path: Path) -> None:
    """open() of a FIFO blocks until a writer comes; SIGINT may reach another thread of the
    process, so a plain open() in the main thread never ended: exit 130 with foldkit's line."""
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    script = Path(sys.executable).with_name("foldkit")  # the console script, as a user runs it
    proc = subprocess.Popen([str(script), "top", str(fifo)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        for _ in range(600):  # until it waits in open() (up to a minute on a loaded machine)
            if _waiting_for_a_writer(proc.pid) or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert _waiting_for_a_writer(proc.pid)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130 and err.decode().strip().endswith("foldkit: interrupted"), err
