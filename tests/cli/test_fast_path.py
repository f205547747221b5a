"""The drop-in fast path (`foldkit.cli.fast`): FlameGraph/inferno-style `foldkit flamegraph`
command lines give the same output bytes, messages and exit codes as through Typer
(`FOLDKIT_FAST_PATH=0`), load neither Typer, click, rich nor polars, and its flags mean what the
Typer command's flags of those spellings mean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from foldkit.cli import fast
from tests.support.common import FIXTURES

FOLDED = b"main;work;inner 3\nmain;work 2\nmain;idle 1\nmain;[unknown] ;x  4\n"
TWO_COLUMNS = b"main;a;x 5 1\nmain;a;y 1 4\nmain;b 2 2\n"

#: (command line after `flamegraph`, stdin) run both ways: IN is the folded file, OUT an output
#: path in the test's folder, JAVA a perf capture.
CASES: list[tuple[list[str], bytes | None]] = [
    (["IN", "-o", "OUT.svg"], None),
    (["IN"], None),
    (["-"], FOLDED),
    (["-", "-o", "-"], FOLDED),
    (["--title", "checkout, 60 s", "--subtitle=sub <b>", "IN", "-o", "OUT.svg"], None),
    (["--width", "800", "--height", "20", "--minwidth", "0", "IN", "-o", "OUT.svg"], None),
    (["--minwidth", "1%", "--colors", "mem", "--hash", "--countname", "ms", "IN"], None),
    (["--inverted", "--reverse", "-c", "java", "IN", "--output", "OUT.svg"], None),
    (["-i", "--title=", "--fonttype", "Courier", "--fontsize", "10.5", "--fontwidth", "0.6", "IN"], None),
    (["--nametype", "Fn:", "--notes", "a & b", "--bgcolors", "blue", "--factor", "2.5", "--total", "100", "IN"], None),
    (["--search-color", "#00ff00", "--truncate-text-left", "--sort-by-weight", "--max-frames", "3", "IN"], None),
    (["--colordiffusion", "--stroke-color", "#7d7d7d", "--uicolor", "#102030", "--no-javascript", "--deterministic", "IN"], None),
    (["--no-sort", "--encoding", "latin1", "IN"], None),  # compatibility flags: a warning
    (["--no-sort", "--encoding", "latin1", "-q", "IN"], None),
    (["--width", "0", "IN"], None),  # refused by RenderOptions
    (["--width", "wide", "IN"], None),  # refused by click (the fast path leaves it to Typer)
    (["--colors", "nosuch", "IN"], None),
    (["--minwidth", "x", "IN"], None),
    (["NOSUCH.folded", "-o", "OUT.svg"], None),
    (["IN", "-o", "OUT.folded"], None),  # an output suffix flamegraph does not write
    (["IN", "-o", "IN"], None),  # the input as output
    (["EMPTY"], None),
    (["TWO"], None),  # the differential graph
    (["JAVA", "-q", "-o", "OUT.svg"], None),
    (["JAVA", "--width", "1000"], None),
    (["IN", "-o", "OUT.html"], None),
    (["IN", "--bogus"], None),  # not the fast path's: Typer's message
    (["--title"], None),
    ([], None),
    (["IN", "-qi"], None),
    (["IN", "--", "-x"], None),
]


def _run(args: list[str], stdin: bytes | None, tmp: Path, fast_path: bool) -> tuple[int, bytes, bytes, bytes | None]:
    """(exit code, stdout, stderr, the output file's bytes or None) of `python -m foldkit
    flamegraph ARGS` in `tmp`."""
    out = tmp / ("fast" if fast_path else "slow")
    names = {"IN": str(tmp / "in.folded"), "EMPTY": str(tmp / "empty.folded"), "TWO": str(tmp / "two.folded"), "JAVA": str(FIXTURES / "java.perf")}
    argv = []
    for arg in args:
        arg = names.get(arg, arg)
        argv.append(str(out) + arg[3:] if arg.startswith("OUT") else arg)
    env = {**os.environ, fast.SWITCH: "1" if fast_path else "0"}
    env.pop("FOLDKIT_CLUSTER", None)
    proc = subprocess.run([sys.executable, "-m", "foldkit", "flamegraph", *argv], input=stdin or b"", capture_output=True, env=env, timeout=120, cwd=tmp)
    written = [p for p in tmp.iterdir() if p.name.startswith(out.name)]
    data = written[0].read_bytes() if written else None
    for p in written:
        p.unlink()
    err = proc.stderr.replace(str(out).encode(), b"OUT")
    return proc.returncode, proc.stdout, err, data


@pytest.mark.parametrize(("args", "stdin"), CASES, ids=[" ".join(a) or "(none)" for a, _ in CASES])
def test_fast_path_gives_what_typer_gives(tmp_path: Path, args: list[str], stdin: bytes | None) -> None:
    (tmp_path / "in.folded").write_bytes(FOLDED)
    (tmp_path / "empty.folded").write_bytes(b"")
    (tmp_path / "two.folded").write_bytes(TWO_COLUMNS)
    slow = _run(args, stdin, tmp_path, fast_path=False)
    quick = _run(args, stdin, tmp_path, fast_path=True)
    assert quick[0] == slow[0], (quick[2], slow[2])
    assert quick[2] == slow[2]
    assert quick[1] == slow[1]
    assert quick[3] == slow[3]


@pytest.mark.parametrize(
    ("args", "taken"),
    [
        (["flamegraph", "x.folded", "-o", "x.svg"], True),
        (["flamegraph", "-", "--title", "t", "--width=800", "-i", "--no-sort"], True),
        (["flamegraph", "--width", "wide", "x"], False),
        (["flamegraph", "--title", "-x", "x"], False),
        (["flamegraph", "-o=x.svg", "x"], False),
        (["flamegraph", "--hash=1", "x"], False),
        (["flamegraph", "-qi", "x"], False),
        (["flamegraph", "--focus", "f", "x"], False),
        (["flamegraph", "--", "x"], False),
        (["flamegraph", "--help"], False),
        (["flamegraph", "-o", "x.svg"], False),
        (["fold", "x.perf"], False),
    ],
)
def test_what_the_fast_path_takes(args: list[str], taken: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fast.SWITCH, raising=False)
    monkeypatch.delenv("FOLDKIT_CLUSTER", raising=False)
    assert (fast.parse(args) is not None) == taken
    monkeypatch.setenv(fast.SWITCH, "0")
    assert fast.parse(args) is None


def test_a_cluster_from_the_environment_is_left_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLDKIT_CLUSTER", "local:1")
    assert fast.parse(["flamegraph", "x.folded"]) is None


def test_the_fast_path_flags_are_the_commands_flags() -> None:
    """Each spelling of `fast.FLAGS` is the Typer command's spelling of the same parameter, of
    the kind the fast path converts it as."""
    from foldkit.cli.typer_app import _command

    command = _command(["flamegraph"]).commands["flamegraph"]  # type: ignore[attr-defined]
    kinds = {"int": "int", "float": "float", "str": "str", "path": "str"}  # click's type names
    spelled = {}
    for p in command.params:
        if p.param_type_name != "option" or p.multiple or p.nargs != 1:
            continue
        for opt in p.opts:
            spelled[opt] = (p.name, "flag" if p.is_flag else kinds.get(p.type.name, "?"))
        for opt in p.secondary_opts:
            spelled[opt] = (p.name, "off")
    assert {s: spelled.get(s) for s in fast.FLAGS} == fast.FLAGS


def test_the_fast_path_defaults_are_the_commands_defaults() -> None:
    from foldkit.cli.common import FOLD_PARAMETERS, fold_options
    from foldkit.cli.render_values import RENDER_DEFAULTS
    from foldkit.cli.typer_app import _command
    from foldkit.ingest.options import FoldOptions

    command = _command(["flamegraph"]).commands["flamegraph"]  # type: ignore[attr-defined]
    defaults = {p.name: p.default for p in command.params}
    assert {n: defaults[n] for n in RENDER_DEFAULTS} == RENDER_DEFAULTS
    # the fast path reads with FoldOptions(): what the folding flags' defaults make
    assert fold_options(**{n: d for n, _, d in FOLD_PARAMETERS}) == FoldOptions()


#: Modules the fast path never loads.
NOT_ON_THE_FAST_PATH = ("typer", "click", "rich", "polars", "foldkit.cli.typer_app", "foldkit.cli.common", "foldkit.api")


def test_the_fast_path_loads_no_command_line_toolkit(tmp_path: Path) -> None:
    folded = tmp_path / "cpu.folded"
    folded.write_bytes(FOLDED)
    dump = tmp_path / "modules.json"
    code = (
        "import atexit, json, sys; "
        f"atexit.register(lambda: open({str(dump)!r}, 'w').write(json.dumps(sorted(sys.modules)))); "
        f"sys.argv = ['foldkit', 'flamegraph', {str(folded)!r}, '--title', 'x', '-o', {str(tmp_path / 'cpu.svg')!r}]; "
        "from foldkit.launch import entry; entry()"
    )
    env = {k: v for k, v in os.environ.items() if k not in (fast.SWITCH, "FOLDKIT_CLUSTER")}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=env)
    modules = set(json.loads(dump.read_text()))
    assert {"foldkit.cli.fast", "foldkit.cli.draw"} <= modules  # the test sees what was loaded
    assert sorted(m for m in modules if m.startswith(NOT_ON_THE_FAST_PATH)) == []
    assert (tmp_path / "cpu.svg").read_bytes().startswith(b"<?xml")
