"""The shared transform flags on the command line: parsing, order, errors, end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from foldkit.cli import transforms as t
from foldkit.transform import TRANSFORMS, CollapseRecursion, Focus, MaxDepth, Rename
from tests.support.transform import ROOT, capture, run_cli

C_FP = capture("perf-c-fp.txt")
PY_DWARF = capture("perf-python-dwarf.txt")


def quicksort_total() -> int:
    """Weight of the perf-c-fp stacks through quicksort, summed from the plain folded output."""
    _, out, _ = run_cli(["fold", C_FP])
    return sum(int(line.rsplit(" ", 1)[1]) for line in lines(out) if ";quicksort" in line)


QS_LINE = "deeprec;__libc_start_call_main;main;phase_sort"


def lines(data: bytes) -> list[str]:
    return data.decode().splitlines()


@pytest.mark.parametrize(
    ("given", "want"),
    [
        (["fold", "x", "--collapse-recursion"], ["fold", "x", "--collapse-recursion=direct"]),
        (["fold", "--collapse-recursion", "x"], ["fold", "--collapse-recursion=direct", "x"]),
        (["fold", "--collapse-recursion", "all", "x"], ["fold", "--collapse-recursion=all", "x"]),
        (["fold", "--collapse-recursion=all", "x"], ["fold", "--collapse-recursion=all", "x"]),
        (["fold", "--", "--collapse-recursion"], ["fold", "--", "--collapse-recursion"]),
    ],
)
def test_prepare_args(given: list[str], want: list[str]) -> None:
    assert t.prepare_args(given) == want


def test_build_pipeline_interleaves_values_in_order() -> None:
    order = ["rename", "focus", "rename", "max_depth", "comm", "comm"]
    values = {"rename": ["a=>b", "b=>c"], "focus": ["x"], "max_depth": ["3"], "comm": ["java", "bash"]}
    steps = t.build_pipeline(order, values).steps
    assert steps[:4] == (Rename("a", "b"), Focus("x"), Rename("b", "c"), MaxDepth(3))
    assert steps[4].patterns == ("java", "bash")  # type: ignore[attr-defined]
    assert len(steps) == 5


def test_command_line_order_is_applied() -> None:
    """--focus then --max-depth keeps the focused stacks' prefixes; the other way round the
    focused frame is cut away first, so nothing is left."""
    code, first, _ = run_cli(["fold", C_FP, "--focus", "^quicksort$", "--max-depth", "4"])
    assert code == 0
    assert lines(first) == [f"{QS_LINE} {quicksort_total()}"]
    code, second, err = run_cli(["fold", C_FP, "--max-depth", "4", "--focus=^quicksort$"])
    assert code == 0 and second == b""
    assert "no stacks left after --focus '^quicksort$'" in err


def test_repeated_flags_interleaved_with_others() -> None:
    argv = ["fold", C_FP, "--rename", "^quicksort$=>qs", "--focus", "^qs$", "--rename", "^qs$=>QS", "--max-depth", "5"]
    code, out, _ = run_cli(argv)
    assert code == 0
    assert lines(out) == [f"{QS_LINE};QS {quicksort_total()}"]
    # the same flags in another order: the focus runs before the first rename and finds nothing
    code, out, _ = run_cli(["fold", C_FP, "--focus", "^qs$", "--rename", "^quicksort$=>qs"])
    assert code == 0 and out == b""


def test_collapse_recursion_flag_forms() -> None:
    """CPython's eval loop recurses through helpers: only =all merges that indirect recursion."""
    def deepest(out: bytes) -> int:
        return max(line.count("_PyEval_EvalFrameDefault") for line in lines(out))

    _, plain, _ = run_cli(["fold", PY_DWARF])
    code, direct, _ = run_cli(["fold", PY_DWARF, "--collapse-recursion"])
    _, all_, _ = run_cli(["fold", PY_DWARF, "--collapse-recursion=all"])
    _, all2, _ = run_cli(["fold", PY_DWARF, "--collapse-recursion", "all"])
    assert code == 0 and all_ == all2
    assert deepest(plain) > 1 and deepest(direct) > 1
    assert deepest(all_) == 1
    assert not any(";_PyEval_EvalFrameDefault;_PyEval_EvalFrameDefault;" in line for line in lines(direct))
    code, _, err = run_cli(["fold", C_FP, "--collapse-recursion=some"])
    assert code == 2 and "=all" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--focus", "("], "--focus: invalid regular expression"),
        (["--rename", "nothing"], "--rename takes 'REGEX=>REPLACEMENT'"),
        (["--max-depth", "x"], "--max-depth takes a whole number"),
        (["--prune-below", "200"], "--prune-below is a percentage"),
        (["--time", "3"], "--time takes START..END"),
        (["--only-pid", "java"], "--only-pid takes process ids"),
    ],
)
def test_bad_values_are_usage_errors(argv: list[str], message: str) -> None:
    code, out, err = run_cli(["fold", C_FP, *argv])
    assert code == 2 and out == b""
    assert message in err and "Traceback" not in err


def test_time_on_input_without_timestamps(tmp_path: Path) -> None:
    folded = tmp_path / "x.folded"
    folded.write_text("a;b 1\n")
    code, _, err = run_cli(["fold", str(folded), "--time", "0..1"])
    assert code == 2 and "--time needs per-sample timestamps, and folded input has none" in err


def test_only_pid_reads_ids_and_restores_the_root_frames() -> None:
    pidtid = capture("perf-cpp-fields-pidtid.txt")
    code, out, err = run_cli(["fold", pidtid, "--only-pid", "28763"])
    assert code == 0 and not err
    _, plain, _ = run_cli(["fold", pidtid])
    assert out == plain, "every sample is pid 28763; roots stay `tmpl` as without the filter"
    code, out, _ = run_cli(["fold", pidtid, "--pid", "--only-pid", "1"])
    assert code == 0 and out == b""
    _, with_pid, _ = run_cli(["fold", pidtid, "--pid", "--only-pid", "28763"])
    assert all(line.startswith("tmpl-28763;") for line in lines(with_pid))


def test_help_lists_every_transform_and_the_order_rule() -> None:
    code, out, _ = run_cli(["fold", "--help"])
    text = " ".join(out.decode().split())
    assert code == 0
    for tr in TRANSFORMS.values():
        assert tr.flag in text
    assert "applied in the order they are given" in text
    assert "To keep only some processes, use --only-pid" in text


def test_order_falls_back_with_a_warning_when_the_command_line_is_unknown(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.core import TyperCommand

    from foldkit.cli import app
    from foldkit.cli.help import Command

    monkeypatch.setattr(Command, "make_parser", TyperCommand.make_parser)  # a parser that records no order
    app(args=["fold", C_FP, "--max-depth", "4", "--focus", "^quicksort$"], standalone_mode=False)
    captured = capsys.readouterr()
    assert "could not recover the command-line order" in captured.err
    # fallback is the documented (--help) order: focus before max-depth
    assert captured.out.splitlines() == [f"{QS_LINE} {quicksort_total()}"]


def _subprocess(argv: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "foldkit", *argv],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_end_to_end_order_from_sys_argv_by_path_and_stdin() -> None:
    """A real process: the order comes from sys.argv, and stdin gives the same result as a path."""
    argv = ["--max-depth", "4", "--focus", "^quicksort$"]
    by_path = _subprocess(["fold", C_FP, *argv])
    assert by_path.returncode == 0 and by_path.stdout == b""
    other = _subprocess(["fold", C_FP, "--focus", "^quicksort$", "--collapse-recursion", "--max-depth", "4"])
    assert other.stdout.decode() == f"{QS_LINE} {quicksort_total()}\n"
    data = Path(C_FP).read_bytes()
    by_stdin = _subprocess(["fold", "-", "--focus", "^quicksort$", "--collapse-recursion", "--max-depth", "4"], data)
    assert by_stdin.stdout == other.stdout


def test_collapse_recursion_options() -> None:
    assert TRANSFORMS["collapse_recursion"].parse("all") == CollapseRecursion("all")


def test_time_window_matches_the_raw_capture_timestamps() -> None:
    """--time keeps exactly the samples whose header time falls in the window (checked against a
    plain regex over the perf script text, not through foldkit's timeline)."""
    import re

    import zstandard

    path = capture("perf-system-fields-full.txt")
    with open(path, "rb") as fh, zstandard.ZstdDecompressor().stream_reader(fh) as reader:
        text = reader.read().decode()
    times = [float(m) for m in re.findall(r"^\S.*?\s(\d+\.\d{6}):\s", text, re.M)]
    first = min(times)
    in_window = sum(1 for x in times if first + 0.25 <= x < first + 0.5)
    assert 0 < in_window < len(times)
    _, out, _ = run_cli(["fold", path, "--weight", "samples", "--time", "0.25..0.5"])
    assert sum(int(line.rsplit(" ", 1)[1]) for line in lines(out)) == in_window
    _, out, _ = run_cli(["fold", path, "--weight", "samples", "--time", f"@{first + 0.25}..@{first + 0.5}"])
    assert sum(int(line.rsplit(" ", 1)[1]) for line in lines(out)) == in_window


def _captures_commands() -> list[str]:
    """Every command whose --help shows the folding flags (it reads captures)."""
    from foldkit.cli import COMMANDS

    names = []
    for _, name in COMMANDS:
        _, out, _ = run_cli([name, "--help"])
        if "--skip-after" in out.decode():
            names.append(name)
    return names


def test_every_capture_reading_command_takes_the_transform_flags() -> None:
    names = _captures_commands()
    assert {"fold", "flamegraph", "top", "diff", "check"} <= set(names)
    for name in names:
        _, out, _ = run_cli([name, "--help"])
        text = " ".join(out.decode().split())
        missing = [tr.flag for tr in TRANSFORMS.values() if tr.flag not in text]
        assert not missing, f"foldkit {name} lacks {missing}"
        assert "applied in the order they are given" in text


def test_transforms_take_effect_in_top_flamegraph_diff_and_check(tmp_path: Path) -> None:
    code, out, err = run_cli(["top", C_FP, "--focus", "^quicksort$", "--max-depth", "5", "--csv", "-n", "0"])
    assert code == 0, err
    rows = out.decode().splitlines()
    assert rows[0].startswith("name,") and any(r.startswith("quicksort,") for r in rows)
    assert not any(r.startswith("tree_insert,") for r in rows)

    svg = tmp_path / "g.svg"
    code, _, err = run_cli(["flamegraph", C_FP, "--exclude", "^quicksort$", "-o", str(svg)])
    assert code == 0, err
    assert "quicksort" not in svg.read_text() and "tree_insert" in svg.read_text()

    code, out, err = run_cli(["diff", C_FP, C_FP, "--rename", "^quicksort$=>QS", "-o", str(tmp_path / "d.folded")])
    assert code == 0, err
    text = (tmp_path / "d.folded").read_text()
    assert ";QS " in text and ";quicksort" not in text

    # check: the transforms apply to both sides alike (a capture against itself still passes), and
    # only the functions left after --focus are tested
    import re

    def tests_run(argv: list[str]) -> int:
        code, out, err = run_cli(["check", C_FP, C_FP, "-q", *argv])
        assert code == 0, err
        m = re.search(r"in (\d+) functions checked", out.decode())
        assert m, out
        return int(m.group(1))

    assert tests_run(["--focus", "^quicksort$"]) < tests_run([])


def test_normalize_symbols_is_one_flag_for_diff_and_fold() -> None:
    node = capture("perf-node.txt")
    _, folded, _ = run_cli(["fold", node, "--normalize-symbols"])
    assert b"JS:*" not in folded and folded
    code, _, err = run_cli(["diff", node, node, "--normalize-symbols", "--limit", "3"])
    assert code == 0, err


def test_benchmark_script_runs_every_transform() -> None:
    """benchmarks/bench_transform.py keeps working (timings are its business, not this test's)."""
    done = subprocess.run(
        [sys.executable, "benchmarks/bench_transform.py", "--input", "fixtures/system-mixed.perf.zst", "--repeat", "1", "--widen", "2"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    listed = {line.split()[0] for line in done.stdout.decode().splitlines() if line.strip()}
    assert set(TRANSFORMS) <= listed
