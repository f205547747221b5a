"""The drop-in fast path (`foldkit.cli.fast`): FlameGraph/inferno-style `foldkit flamegraph`
and `foldkit fold` command lines give the same output bytes, messages and exit codes as through
Typer (`FOLDKIT_FAST_PATH=0`), load neither Typer, click, rich nor polars, and its flags mean what
the Typer command's flags of those spellings mean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foldkit.cli import fast
from tests.support.common import DATA, FIXTURES

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
    (["IN", "--focus", "work", "-o", "OUT.svg"], None),  # transforms, in command-line order
    (["IN", "--rename", "work=>job", "--focus=job"], None),
    (["IN", "--focus=job", "--rename", "work=>job"], None),
    (["IN", "--hide", "inner", "--exclude", "idle", "--max-depth", "2", "-o", "OUT.html"], None),
    (["IN", "--python", "--normalize-symbols", "--prune-below", "10"], None),
    (["IN", "--max-depth", "x"], None),  # refused by the transform
    (["IN", "--rename", "("], None),
    (["IN", "--collapse-recursion"], None),  # an optional value: left to Typer
    (["IN", "--python=1"], None),
]


#: A perf capture with a bad line, a chain-less sample and two events (`fold` warns, or asks
#: for --event).
ODD_PERF = (
    b"bash 10/10 [000] 1.000001: 7 cpu-clock:ppp: \n\tffffffff815d6c20 f+0x1 ([kernel.kallsyms])\n\t    7f1e2215d058 main+0xed (/bin/bash)\n\n"
    b"bash 10/11 [001] 1.000002: 3 cpu-clock:ppp:  7f1e2215d058 main+0xed (/bin/bash)\n\n"
    b"sh 12/12 [000] 1.000003: 1 cpu-clock:ppp: \n\t    7f1e2215d059 _ZN3foo3barEv+0x3 (/bin/sh)\nNOT A FRAME\n\n"
)
TWO_EVENTS = (
    b"a 1/1 [000] 1.0: 5 cycles: \n\t    7f1e2215d058 main+0xed (/x)\n\n"
    b"a 1/1 [000] 1.1: 9 instructions: \n\t    7f1e2215d058 main+0xed (/x)\n\n"
)

#: `foldkit fold` command lines (after `fold`) run both ways: PERF the fixture's Java capture,
#: ODD and EVENTS the captures above, IN the folded file, OUT an output path in the test's folder.
FOLD_CASES: list[tuple[list[str], bytes | None]] = [
    (["PERF", "-o", "OUT.folded"], None),
    (["PERF"], None),
    (["-"], ODD_PERF),
    (["-", "-o", "-", "--tid"], ODD_PERF),
    (["ODD", "--pid", "--kernel", "--jit", "-o", "OUT.folded"], None),
    (["ODD", "--all", "--addrs", "--demangle", "-n", "1"], None),
    (["ODD", "-q", "--strict"], None),
    (["ODD", "-v", "--weight", "samples", "-j", "2"], None),
    (["ODD", "--weight=bytes"], None),  # refused by the command (left to Typer)
    (["ODD", "--jobs", "-1"], None),  # refused by click
    (["ODD", "--nthreads", "two"], None),
    (["EVENTS"], None),  # two sampling events: an error naming them
    (["EVENTS", "--event", "cycles", "--unit-header"], None),
    (["EVENTS", "--event-filter=instructions:u", "-o", "OUT.folded.gz"], None),
    (["PERF", "ODD", "--format", "perf", "-o", "OUT.speedscope.json"], None),
    (["IN", "-f", "folded", "--unit-header", "-o", "OUT.folded"], None),
    (["PERF", "-o", "OUT.svg"], None),  # a suffix fold does not write
    (["PERF", "-o", "PERF"], None),  # the input as output
    (["NOSUCH.perf"], None),
    (["EMPTY"], None),
    (["PERF", "--inline", "--srcline"], None),  # compatibility flags: warnings
    (["PERF", "--focus", "main"], None),  # a transform
    (["PERF", "--comm", "java", "--comm", "nosuch", "--tid", "--exclude", "^java"], None),
    (["PERF", "--only-pid", "32305", "--pid", "--time", "0..0.5", "-o", "OUT.folded"], None),
    (["PERF", "-o", ".//bad.svg/"], None),  # the output named as the command names it (a Path)
    (["PERF", "-qv"], None),
    (["--pid"], None),
    ([], None),
    (["SCHED", "--off-cpu", "-o", "OUT.folded"], None),
    (["SCHED", "--wall", "--off-cpu-states", "S,D", "--tid"], None),
    (["SCHED", "--off-cpu", "--wakeups", "--off-cpu-states=all"], None),
    (["SCHED", "--off-cpu", "--wall"], None),  # refused: they exclude each other
    (["SCHED", "--wakeups"], None),  # refused: needs --off-cpu or --wall
    (["SCHED", "--off-cpu", "--off-cpu-states", "Q"], None),  # refused by the reader
    (["PERF", "--off-cpu"], None),  # no sched_switch events: refused
]


#: A second folded file (BEFORE or AFTER beside IN).
OTHER = b"main;work;inner 1\nmain;work 6\nmain;idle 1\nmain;new 2\n"

#: `foldkit top` command lines (after `top`) run both ways: IN, B folded files, PERF the
#: fixture's Java capture, ODD the capture above, OUT an output path in the test's folder.
TOP_CASES: list[tuple[list[str], bytes | None]] = [
    (["IN"], None),
    (["IN", "B"], None),
    (["-"], FOLDED),
    (["IN", "-n", "2", "--sort", "total"], None),
    (["IN", "--limit=0", "--json"], None),
    (["IN", "--csv", "-o", "OUT.csv"], None),
    (["IN", "-o", "OUT.json"], None),
    (["PERF", "--tid", "--by", "comm"], None),
    (["PERF", "--by", "dso", "-o", "OUT.txt"], None),
    (["PERF", "--all", "--kernel", "-j", "1"], None),
    (["ODD", "-q"], None),
    (["ODD", "-v"], None),
    (["ODD", "--strict"], None),
    (["IN", "--csv", "-o", "OUT.json"], None),  # contradicting formats
    (["IN", "--csv", "--json"], None),
    (["IN", "--sort", "nosuch"], None),
    (["IN", "--by", "nosuch"], None),
    (["IN", "-o", "OUT.svg"], None),  # a suffix top does not write
    (["IN", "-o", "IN"], None),  # the input as output
    (["NOSUCH.folded"], None),
    (["EMPTY"], None),
    (["IN", "--inline"], None),  # a compatibility flag: a warning
    (["IN", "-n", "x"], None),  # refused by click
    (["IN", "--weight", "bytes"], None),
    ([], None),
    (["IN", "--rename", "work=>job", "--focus", "job"], None),
    (["IN", "--focus", "job", "--rename", "work=>job"], None),
    (["PERF", "--comm", "java", "--by", "comm"], None),
    (["IN", "-o", "./x//bad.png"], None),
]

#: `foldkit diff` command lines (after `diff`) run both ways (names as TOP_CASES').
DIFF_CASES: list[tuple[list[str], bytes | None]] = [
    (["IN", "B"], None),
    (["-", "B"], FOLDED),
    (["IN", "B", "-o", "OUT.html"], None),
    (["IN", "B", "-o", "OUT.svg"], None),
    (["IN", "B", "--folded"], None),
    (["IN", "B", "-o", "OUT.folded", "-n"], None),
    (["IN", "B", "--no-normalize", "--sort", "total", "--limit", "2"], None),
    (["IN", "B", "--csv", "-s"], None),
    (["IN", "B", "--json", "-o", "OUT.json"], None),
    (["IN", "B", "--title", "t", "--width", "600", "--basis", "union", "--color-by", "total", "-o", "OUT.svg"], None),
    (["IN", "B", "--colors", "mem", "-i", "-o", "OUT.html"], None),
    (["IN", "B", "--width", "0", "--folded"], None),  # a picture flag refused, whatever the output
    (["IN", "B", "--basis", "nope"], None),
    (["IN", "B", "--color-by", "nope"], None),
    (["IN", "B", "--sort", "nope"], None),
    (["IN"], None),  # one side
    (["IN", "B", "IN"], None),
    (["IN", "B", "-o", "OUT.png"], None),
    (["IN", "B", "-o", "IN"], None),
    (["PERF", "ODD", "--tid", "-q"], None),
    (["IN", "NOSUCH.folded"], None),
    (["IN", "B", "-n", "5"], None),  # -n N: the message naming --limit
    (["IN", "B", "--no-sort", "--encoding", "latin1"], None),  # compatibility flags
    (["IN", "B", "--before", "IN"], None),  # left to Typer
    (["TWO", "B"], None),
    (["PERF", "ODD", "--off-cpu", "--wall", "--width", "0"], None),  # two refusals: the folding flags' first
    (["PERF", "ODD", "--off-cpu", "--wall", "--max-depth", "x"], None),  # the transform's first
    (["IN", "B", "--normalize-symbols", "--exclude", "idle", "-o", "OUT.html"], None),
    (["IN", "B", "--focus", "work", "--folded"], None),
    (["IN", "B", "-o", "./bad.png/."], None),
]

#: `foldkit check` command lines (after `check`) run both ways (names as TOP_CASES').
CHECK_CASES: list[tuple[list[str], bytes | None]] = [
    (["IN", "B"], None),  # a regression: exit 1
    (["IN", "IN"], None),
    (["IN", "B", "-q"], None),
    (["IN", "B", "-o", "OUT.txt"], None),
    (["IN", "B", "--json", "OUT.json"], None),
    (["IN", "B", "--junit", "OUT.xml"], None),
    (["IN", "B", "--markdown", "OUT.md"], None),
    (["IN", "B", "--svg", "OUT.svg"], None),
    (["IN", "B", "--function", "main", "--budget", "work<=5%", "--budget=self:idle<=50%", "--only"], None),
    (["IN", "B", "--max-increase", "10%", "--alpha", "0.05", "--run-noise", "2", "-s"], None),
    (["IN", "B", "--max-increase", "bogus"], None),
    (["IN", "B", "--budget", "nonsense"], None),
    (["IN", "B", "--function", "("], None),
    (["IN", "B", "--alpha", "x"], None),  # refused by click
    (["PERF", "PERF"], None),
    (["PERF", "PERF", "--absolute"], None),
    (["PERF", "PERF", "--shares-only", "--tid"], None),
    (["IN", "PERF"], None),
    (["EMPTY", "IN"], None),
    (["IN"], None),
    (["IN", "B", "-o", "OUT.svg"], None),
    (["IN", "B", "--json", "IN"], None),
    (["-", "B"], FOLDED),
    (["IN", "B", "--baseline", "IN"], None),  # left to Typer
    (["IN", "B", "--focus", "work", "--hide", "inner"], None),
    (["IN", "B", "--exclude", "(", "--budget", "nonsense"], None),
    (["IN", "B", "-o", "./bad.svg", "--json", "in.folded"], None),
    (["IN", "B", "--markdown", ".//in.folded"], None),
]


def _run(args: list[str], stdin: bytes | None, tmp: Path, fast_path: bool, command: str = "flamegraph") -> tuple[int, bytes, bytes, bytes | None]:
    """(exit code, stdout, stderr, the output file's bytes or None) of `python -m foldkit
    COMMAND ARGS` in `tmp`."""
    out = tmp / ("fast" if fast_path else "slow")
    names = {
        "IN": str(tmp / "in.folded"), "EMPTY": str(tmp / "empty.folded"), "TWO": str(tmp / "two.folded"), "B": str(tmp / "b.folded"),
        "JAVA": str(FIXTURES / "java.perf"), "PERF": str(FIXTURES / "java.perf"), "ODD": str(tmp / "odd.perf"),
        "EVENTS": str(tmp / "events.perf"), "SCHED": str(DATA / "time" / "spinsleep.perf.zst"),
    }  # fmt: skip
    argv = []
    for arg in args:
        arg = names.get(arg, arg)
        argv.append(str(out) + arg[3:] if arg.startswith("OUT") else arg)
    env = {**os.environ, fast.SWITCH: "1" if fast_path else "0"}
    env.pop("FOLDKIT_CLUSTER", None)
    proc = subprocess.run([sys.executable, "-m", "foldkit", command, *argv], input=stdin or b"", capture_output=True, env=env, timeout=120, cwd=tmp)
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


@pytest.mark.parametrize(("args", "stdin"), FOLD_CASES, ids=[" ".join(a) or "(none)" for a, _ in FOLD_CASES])
def test_the_fold_fast_path_gives_what_typer_gives(tmp_path: Path, args: list[str], stdin: bytes | None) -> None:
    (tmp_path / "in.folded").write_bytes(FOLDED)
    (tmp_path / "empty.folded").write_bytes(b"")
    (tmp_path / "odd.perf").write_bytes(ODD_PERF)
    (tmp_path / "events.perf").write_bytes(TWO_EVENTS)
    slow = _run(args, stdin, tmp_path, fast_path=False, command="fold")
    quick = _run(args, stdin, tmp_path, fast_path=True, command="fold")
    assert quick[0] == slow[0], (quick[2], slow[2])
    assert quick[2] == slow[2]
    assert quick[1] == slow[1]
    assert quick[3] == slow[3]


_OTHER_CASES = [(command, args, stdin) for command, cases in (("top", TOP_CASES), ("diff", DIFF_CASES), ("check", CHECK_CASES)) for args, stdin in cases]


@pytest.mark.parametrize(("command", "args", "stdin"), _OTHER_CASES, ids=[f"{c} {' '.join(a)}" for c, a, _ in _OTHER_CASES])
def test_top_diff_and_check_fast_paths_give_what_typer_gives(tmp_path: Path, command: str, args: list[str], stdin: bytes | None) -> None:
    (tmp_path / "in.folded").write_bytes(FOLDED)
    (tmp_path / "b.folded").write_bytes(OTHER)
    (tmp_path / "empty.folded").write_bytes(b"")
    (tmp_path / "two.folded").write_bytes(TWO_COLUMNS)
    (tmp_path / "odd.perf").write_bytes(ODD_PERF)
    slow = _run(args, stdin, tmp_path, fast_path=False, command=command)
    quick = _run(args, stdin, tmp_path, fast_path=True, command=command)
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
        (["flamegraph", "--focus", "f", "x"], True),
        (["flamegraph", "--collapse-recursion", "x"], False),
        (["flamegraph", "--python=1", "x"], False),
        (["flamegraph", "--focus", "-x", "x"], False),
        (["flamegraph", "--", "x"], False),
        (["flamegraph", "--help"], False),
        (["flamegraph", "-o", "x.svg"], False),
        (["fold", "x.perf"], True),
        (["fold", "-", "-o", "x.folded", "--tid", "-n", "2", "--inline"], True),
        (["fold", "x.perf", "--off-cpu", "--wakeups", "--off-cpu-states", "S,D"], True),
        (["fold", "x.perf", "-j", "-1"], False),
        (["fold", "x.perf", "--weight", "bytes"], False),
        (["fold", "x.perf", "--exclude", "^swapper$"], True),
        (["fold", "x.perf", "--per-thread", "-o", "d"], False),
        (["fold", "x.perf", "--title", "t"], False),
        (["fold", "-o", "x.folded"], False),
        (["flamegraph", "x.perf", "--tid"], False),
        (["top", "x.perf"], True),
        (["top", "x.perf", "-n", "5", "--sort", "total", "--tid", "--csv"], True),
        (["top", "x.perf", "--by", "dso", "-o", "t.json"], True),
        (["top", "x.perf", "--cluster", "local:1"], False),
        (["top", "x.perf", "--focus", "main"], True),
        (["top", "x.perf", "-n", "-1"], False),
        (["diff", "a.folded", "b.folded", "-o", "d.html"], True),
        (["diff", "a", "b", "-n", "--folded", "--title", "t", "--basis", "union", "-s"], True),
        (["diff", "a", "b", "--no-normalize", "--limit", "3", "--color-by", "total", "--width=800"], True),
        (["diff", "--before", "a", "--after", "b"], False),
        (["diff", "a", "b", "-n", "20"], False),
        (["diff", "a", "b", "--unit-header"], False),
        (["check", "a", "b"], True),
        (["check", "a", "b", "--function", "f", "--budget=g<=5%", "--function", "h", "--json", "r.json", "--shares-only"], True),
        (["check", "a", "b", "--alpha", "0.05", "--run-noise", "3", "--max-increase", "2pp", "--only", "--absolute"], True),
        (["check", "--baseline", "a", "--candidate", "b"], False),
        (["check", "a", "b", "--function"], False),
        (["check", "a", "b", "--alpha", "x"], False),
        (["report", "a"], False),
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


def _spellings(name: str) -> dict[str, tuple[str, str]]:
    """The Typer command `name`'s option spellings, as `fast.FLAGS` writes them."""
    from foldkit.cli.typer_app import _command

    command = _command([name]).commands[name]  # type: ignore[attr-defined]
    kinds = {"int": "int", "float": "float", "str": "str", "path": "str"}  # click's type names
    spelled = {}
    for p in command.params:
        if p.param_type_name != "option" or p.nargs != 1:
            continue
        kind = "flag" if p.is_flag else kinds.get(p.type.name, "?")
        if p.multiple:
            kind = "list" if kind == "str" else "?"  # a repeatable option: its values in order
        if p.type.name == "int range" and (p.type.min, p.type.max, p.type.min_open) == (0, None, False):
            kind = "count"  # min=0
        for opt in p.opts:
            spelled[opt] = (p.name, kind)
        for opt in p.secondary_opts:
            spelled[opt] = (p.name, "off")
    return spelled


@pytest.mark.parametrize(("name", "flags"), sorted(fast.COMMAND_FLAGS.items()))
def test_the_fast_path_flags_are_the_commands_flags(name: str, flags: dict[str, tuple[str, str]]) -> None:
    """Each spelling the fast path takes is the Typer command's spelling of the same parameter,
    of the kind the fast path converts it as."""
    spelled = _spellings(name)
    assert {s: spelled.get(s) for s in flags} == flags


@given(st.text(alphabet="/.ab", max_size=12))
def test_the_fast_path_names_an_output_as_pathlib_does(text: str) -> None:
    from pathlib import Path

    assert fast.as_path(text) == str(Path(text))


def test_the_fast_path_transform_flags_are_the_registry_s() -> None:
    """`fast.TRANSFORM_FLAGS` (written out: reading a command line does not load the transforms)
    are every transform flag but `--collapse-recursion` (an optional value), and whether each
    takes a value."""
    from foldkit.transform import TRANSFORMS

    registry = {t.flag: (t.name, t.takes_value) for t in TRANSFORMS.values() if t.flag != "--collapse-recursion"}
    assert fast.TRANSFORM_FLAGS == registry


def test_a_plan_with_a_transform_builds_no_viewer_tree_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    from foldkit.launch import viewer_root

    monkeypatch.delenv(fast.SWITCH, raising=False)
    monkeypatch.delenv("FOLDKIT_CLUSTER", raising=False)
    assert viewer_root(fast.parse(["flamegraph", "x.folded", "-o", "x.html"])) is not None  # the test can see one
    assert viewer_root(fast.parse(["flamegraph", "x.folded", "-o", "x.html", "--focus", "f"])) is None


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


@pytest.mark.parametrize(("name", "module"), [("top", "ranking"), ("diff", "diffing"), ("check", "gating")])
def test_the_defaults_the_fast_path_runs_top_diff_and_check_with_are_the_commands(name: str, module: str) -> None:
    """`DEFAULTS` of the command's Typer-free module (what the fast path passes for a flag not
    given) are the Typer command's defaults; every parameter of the command is one of those, a
    folding, picture or transform flag, or its inputs."""
    import importlib

    from foldkit.cli.common import FOLD_FLAGS
    from foldkit.cli.render_values import RENDER_DEFAULTS
    from foldkit.cli.transforms import CONTEXT_PARAMETER
    from foldkit.cli.typer_app import _command
    from foldkit.transform import TRANSFORMS

    declared = importlib.import_module(f"foldkit.cli.{module}").DEFAULTS
    command = _command([name]).commands[name]  # type: ignore[attr-defined]
    defaults = {p.name: p.default for p in command.params}
    assert {n: defaults[n] for n in declared} == declared
    others = {*FOLD_FLAGS, *RENDER_DEFAULTS, *TRANSFORMS, CONTEXT_PARAMETER, "inputs", "sides"}
    assert sorted(set(defaults) - set(declared) - others) == []
    # the fast path's spellings of the command's own parameters are among DEFAULTS'
    own = {parameter for parameter, _ in fast.COMMAND_FLAGS[name].values()} - {p for p, _ in fast.READ_FLAGS.values()} - set(RENDER_DEFAULTS)
    assert own <= set(declared)


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"pid": True, "kernel": True, "jobs": 3, "output": "x.folded", "quiet": True},
        {"tid": True, "all": True, "addrs": True, "demangle": True, "strict": True, "verbose": True},
        {"jit": True, "event": "cycles", "weight": "samples", "format": "perf", "unit_header": True},
        {"off_cpu": True, "wakeups": True, "off_cpu_states": "S,D"},
        {"wall": True, "tid": True},
    ],
)
def test_the_fold_fast_path_folds_with_the_commands_options(given: dict[str, object]) -> None:
    """`fast.fold_options` gives what the command's own `fold_options` makes of the same flags
    (every other folding flag at its default)."""
    from foldkit.cli.common import FOLD_PARAMETERS, fold_options

    flags = {name: given.get(name, default) for name, _, default in FOLD_PARAMETERS}
    assert fast.fold_options(given) == fold_options(**flags)


#: Modules the fast path never loads.
NOT_ON_THE_FAST_PATH = ("typer", "click", "rich", "polars", "foldkit.cli.typer_app", "foldkit.cli.common", "foldkit.api")


def _console_modules(tmp_path: Path, args: list[str]) -> set[str]:
    """The modules loaded when the console script (`foldkit.launch.entry`) run with `args`
    (fast path on, no cluster) exits."""
    dump = tmp_path / "modules.json"
    code = (
        "import atexit, json, sys; "
        f"atexit.register(lambda: open({str(dump)!r}, 'w').write(json.dumps(sorted(sys.modules)))); "
        f"sys.argv = ['foldkit', *{args!r}]; "
        "from foldkit.launch import entry; entry()"
    )
    env = {k: v for k, v in os.environ.items() if k not in (fast.SWITCH, "FOLDKIT_CLUSTER")}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=env)
    return set(json.loads(dump.read_text()))


def test_the_fast_path_loads_no_command_line_toolkit(tmp_path: Path) -> None:
    folded = tmp_path / "cpu.folded"
    folded.write_bytes(FOLDED)
    modules = _console_modules(tmp_path, ["flamegraph", str(folded), "--title", "x", "-o", str(tmp_path / "cpu.svg")])
    assert {"foldkit.cli.fast", "foldkit.cli.draw"} <= modules  # the test sees what was loaded
    assert sorted(m for m in modules if m.startswith(NOT_ON_THE_FAST_PATH)) == []
    assert (tmp_path / "cpu.svg").read_bytes().startswith(b"<?xml")


#: ... nor, to fold, the transforms, the renderer or the text module (nothing to print).
NOT_ON_THE_FOLD_PATH = (*NOT_ON_THE_FAST_PATH, "foldkit.transform", "foldkit.render", "foldkit.cli.draw", "lxml", "foldkit.text")


def test_the_fold_fast_path_loads_neither_the_command_line_toolkit_nor_the_transforms(tmp_path: Path) -> None:
    out = tmp_path / "java.folded"
    modules = _console_modules(tmp_path, ["fold", str(FIXTURES / "java.perf"), "--tid", "-o", str(out)])
    assert {"foldkit.cli.fast", "foldkit.cli.folding", "foldkit.ingest.perf"} <= modules  # the test sees what was loaded
    assert sorted(m for m in modules if m.startswith(NOT_ON_THE_FOLD_PATH)) == []
    assert b"-?/32320;" in out.read_bytes()  # --tid
