"""`foldkit report` as a process among others: started from any folder, stopped by signals early or
late, killed outright; its workers never print tracebacks nor outlive it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from foldkit.report import runner
from tests.support.common import FIXTURES

FOLDKIT = Path(sys.executable).parent / "foldkit"


def _captures(folder: Path, copies: int = 6) -> Path:
    folder.mkdir()
    for i in range(copies):
        shutil.copy(FIXTURES / "system-mixed.perf.zst", folder / f"host-{i}.perf.zst")
    shutil.copy(FIXTURES / "java.perf", folder / "java.perf")
    return folder


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_report_runs_from_a_folder_that_holds_a_foldkit_package(tmp_path: Path) -> None:
    """Workers import foldkit from where the report process did, not from the current folder."""
    captures = _captures(tmp_path / "in", copies=2)
    (tmp_path / "foldkit").mkdir()
    (tmp_path / "foldkit" / "__init__.py").write_text("# another project's package\n")
    run = subprocess.run(
        [str(FOLDKIT), "report", "in", "-o", "site", "-j", "2", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    rows = json.loads((tmp_path / "site" / "summary.json").read_text())["captures"]
    assert len(rows) == len(list(captures.iterdir()))
    assert {r["status"] for r in rows} == {"ok"}


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_the_process_group_while_workers_start_is_quiet(tmp_path: Path, sig: signal.Signals) -> None:
    """Ctrl-C (or a kill to the group) as the report's first processes start and in the seconds
    after: exit 130 (or, for SIGTERM before the command runs, SIGTERM's own silent end), never a
    traceback from the report or its workers. The delays count from the first child process (a
    worker, or multiprocessing's resource tracker), not from the start: before foldkit's first line
    runs, a Ctrl-C is the interpreter's own (a loaded machine once spent 0.8 s starting Python)."""
    captures = _captures(tmp_path / "in", copies=40)  # long enough that no machine finishes before the last signal
    signalled = 0
    for delay in (0.0, 0.1, 0.3, 0.6, 1.0, 1.5):
        proc = subprocess.Popen(
            [str(FOLDKIT), "report", str(captures), "-o", str(tmp_path / "site"), "-j", "2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
            preexec_fn=_default_sigint,  # as from a shell, whatever the test runner ignores
        )  # fmt: skip
        deadline = time.monotonic() + 300  # a guard against a hang, not a timing
        while proc.poll() is None and not _descendants(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
        running = proc.poll() is None
        if running:
            os.killpg(proc.pid, sig)
        _, err = proc.communicate(timeout=300)
        time.sleep(0.3)  # a worker's late traceback would land on the same stderr pipe: gone by now
        assert b"Traceback" not in err, (delay, err.decode(errors="replace"))
        site = tmp_path / "site"
        if site.exists():
            # Finished before the signal, or the signal landed after the site was renamed into
            # place (poll and killpg cannot be atomic): then the site must be whole.
            assert proc.returncode in ((0,) if not running else (0, 130, -sig)), (delay, err)
            rows = json.loads((site / "summary.json").read_text())["captures"]
            assert len(rows) == len(list(captures.iterdir())), delay
            shutil.rmtree(site)
            continue
        signalled += 1
        assert proc.returncode in ((130,) if sig == signal.SIGINT else (130, -signal.SIGTERM)), (delay, err)
        assert not (tmp_path / "site").exists()
    assert signalled >= 4, "the report ended before most signals: give it more captures"


def test_workers_end_when_the_report_is_killed(tmp_path: Path) -> None:
    captures = _captures(tmp_path / "in", copies=8)
    proc = subprocess.Popen(
        [str(FOLDKIT), "report", str(captures), "-o", str(tmp_path / "site"), "-j", "2", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        workers = _descendants(proc.pid)
    assert len(workers) >= 2, "the workers never started"
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 60  # a bound, not a timing: they end within a second (PDEATHSIG, or their watcher)
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if _alive(p)]


class _Signalled(Exception):
    """Raised by the test's SIGHUP handler."""


def _signalled(signum: int, frame: object) -> None:
    raise _Signalled


def test_held_signals_hold_a_signal_that_another_thread_receives() -> None:
    """With the signals blocked in this thread, the kernel gives a signal sent to the process to a
    thread that does not block it (polars' cleanup thread does not), and Python runs the handler in
    this thread all the same: it must still wait for the block's end."""
    idle = threading.Event()
    other = threading.Thread(target=idle.wait, daemon=True)  # born before the block: nothing blocked
    other.start()
    previous = signal.signal(signal.SIGHUP, _signalled)
    reached = False
    try:
        with pytest.raises(_Signalled):
            with runner.held_signals():
                os.kill(os.getpid(), signal.SIGHUP)  # to the process, as a kill to the group
                for _ in range(200):
                    time.sleep(0.001)  # every chance for the handler to run inside the block
                reached = True
        assert reached, "the handler ran inside the block"
        assert signal.getsignal(signal.SIGHUP) is _signalled
        assert signal.SIGHUP not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    finally:
        signal.signal(signal.SIGHUP, previous)
        idle.set()
        other.join()


#: The report's pool started as `_run_pool` starts it, with a Ctrl-C to the process landing just
#: after a worker is spawned (before the pool records it) while a thread that does not block
#: SIGINT runs, as polars' cleanup thread does.
_SPAWN_THEN_SIGINT = textwrap.dedent("""
    import os, signal, threading, time
    from multiprocessing import util
    from foldkit.report import runner

    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    pool = runner._pool(2)
    spawn = util.spawnv_passfds

    def spawn_then_sigint(*args, **kwargs):
        pid = spawn(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)
        return pid

    util.spawnv_passfds = spawn_then_sigint
    try:
        with runner.held_signals():
            pool.submit(print, "never")
    except KeyboardInterrupt:
        runner._stop(pool)
        raise SystemExit(130)
    raise SystemExit(0)
""")


def test_a_ctrl_c_as_a_worker_is_spawned_leaves_no_worker_to_print_a_traceback() -> None:
    """The moment `test_a_signal_to_the_process_group_while_workers_start_is_quiet` once caught
    under load: the worker spawned but not yet known to the pool was left running, and printed
    `EOFError: Ran out of input` as its start-up data was cut short."""
    run = subprocess.run(
        [sys.executable, "-c", _SPAWN_THEN_SIGINT], capture_output=True, timeout=120, preexec_fn=_default_sigint
    )  # (stderr is read to its end: a left worker holds it open until it has printed)
    assert run.returncode == 130, run.stderr
    assert b"Traceback" not in run.stderr, run.stderr.decode(errors="replace")


def test_the_report_process_imports_polars_only_once_its_workers_are_done(tmp_path: Path) -> None:
    """The report process needs polars for summary.parquet alone: it imports it after the workers
    (which use it) finished, so it does not hold polars' memory (about 30 MB) beside theirs."""
    folder = _captures(tmp_path / "captures", copies=2)
    code = textwrap.dedent(
        f"""
        import sys
        from foldkit.report import ReportOptions, build_report
        seen = []
        build_report([{str(folder)!r}], {str(tmp_path / "site")!r}, ReportOptions(jobs=2),
                     progress=lambda result, done, total: seen.append("polars" in sys.modules))
        print(seen, "polars" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert out.split() == ["[False,", "False,", "False]", "True"]
