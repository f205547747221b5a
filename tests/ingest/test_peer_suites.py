"""The peers' own test suites, run against foldkit: every case of inferno's `tests/collapse-perf.rs`
(beyond the FlameGraph corpus cases, which `tests/ingest/test_perf_reference.py` runs against FlameGraph's
recorded results), `tests/collapse-dtrace.rs` and `tests/diff-folded.rs`, with their published
inputs and expected outputs (`tests/data/inferno/`, CDDL-1.0), FlameGraph's DTrace example, and
the `flamegraph.pl` step of FlameGraph's `test.sh` (its collapse step is in
`tests/ingest/test_perf_reference.py`).

Each case either matches the peer's expected output or differs exactly as the rows of
docs/differences.md it names say: every row is an adjustment below, applied by name, and a test
checks that each named row is needed (the case fails without it) and is in docs/differences.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from foldkit.cli import main
from foldkit.ingest import FoldOptions, read
from foldkit.ingest import bpf_frames as bf
from foldkit.ingest import perf_frames as pf
from tests.support.common import DATA, data_bytes, folded_weights

ROOT = Path(__file__).resolve().parents[2]
INFERNO = "inferno"

Weights = dict[bytes, float]
#: An adjustment: (foldkit's result, the peer's result) -> both as the row says to compare them.
Adjust = Callable[[Weights, Weights], tuple[Weights, Weights]]


def _frames(weights: Weights, rename: Callable[[bytes], bytes]) -> Weights:
    """`weights` with every frame renamed, stacks that become equal summed."""
    out: Weights = {}
    for stack, w in weights.items():
        key = b";".join(rename(f) for f in stack.split(b";"))
        out[key] = out.get(key, 0) + w
    return out


def _stacks(weights: Weights, rename: Callable[[list[bytes]], list[bytes]]) -> Weights:
    out: Weights = {}
    for stack, w in weights.items():
        key = b";".join(rename(stack.split(b";")))
        out[key] = out.get(key, 0) + w
    return out


def _rust_underscore(frame: bytes) -> bytes:
    """inferno's `…::_{{closure}}`, `…::_<impl …>` as foldkit writes them, without the `_`."""
    return re.sub(rb"(^|::|`)_(?=\{\{|<)", rb"\1", frame)


def _peer_cpp_cut(func: str) -> str:
    """The peers' C++ rule: after the first `::`, cut at the last `(` or `<`."""
    scope = func.find("::")
    if scope < 0:
        return func
    cut = max(func.rfind("(", scope), func.rfind("<", scope))
    return func[:cut] if cut >= 0 else func


def _dtrace_names(frame: bytes) -> bytes:
    module, tick, func = frame.decode().rpartition("`")
    return f"{module}{tick}{_peer_cpp_cut(pf.cut_arguments(func))}".encode()


def _module_on_inlined(frames: list[bytes]) -> list[bytes]:
    """inferno's `test`foo;bar_[i]` as foldkit writes it, `test`foo;test`bar_[i]`."""
    out: list[bytes] = []
    for frame in frames:
        if frame.endswith(b"_[i]") and b"`" not in frame and out and b"`" in out[-1]:
            frame = out[-1].rpartition(b"`")[0] + b"`" + frame
        out.append(frame)
    return out


ADJUSTMENTS: dict[str, Adjust] = {
    # perf 3: foldkit keeps `operator()`; inferno cuts it as an argument list
    "perf 3": lambda got, exp: (_frames(got, lambda f: re.sub(rb"::operator\(\)$", b"::operator", f)), exp),
    # perf 17: `{{closure}}`, inferno `_{{closure}}`; a lifetime's quote removed like every quote
    "perf 17": lambda got, exp: (got, _frames(exp, lambda f: _rust_underscore(f).replace(b"'", b""))),
    # perf 19: a sample whose only frame line is unrecognised keeps its weight under `comm`
    "perf 19": lambda got, exp: ({s: w for s, w in got.items() if b";" in s}, exp),
    # dtrace 1: offsets are always dropped (no --includeoffset)
    "dtrace 1": lambda got, exp: (got, _frames(exp, lambda f: bf.strip_offset(f.decode()).encode())),
    # dtrace 2: the function's own argument list is cut, templates kept
    "dtrace 2": lambda got, exp: (_frames(got, _dtrace_names), _frames(exp, _dtrace_names)),
    # dtrace 3: `{{closure}}`, inferno `_{{closure}}`
    "dtrace 3": lambda got, exp: (got, _frames(exp, _rust_underscore)),
    # dtrace 4: the inlined function keeps its module (the case runs with --all for `_[i]`)
    "dtrace 4": lambda got, exp: (got, _stacks(exp, _module_on_inlined)),
}


@dataclass(frozen=True)
class Case:
    """One peer case: input, expected output, foldkit options, documented rows that apply."""

    name: str
    input: str
    expected: str
    options: FoldOptions = field(default_factory=FoldOptions)
    rows: tuple[str, ...] = ()
    fmt: str = "auto"


_OPTS = {
    "": FoldOptions(),
    "pid": FoldOptions(pid=True),
    "tid": FoldOptions(tid=True),
    "kernel": FoldOptions(kernel=True),
    "jit": FoldOptions(jit=True),
    "all": FoldOptions.with_all(),
    "addrs": FoldOptions(addrs=True),
}
_CP = f"{INFERNO}/collapse-perf"
_CD = f"{INFERNO}/collapse-dtrace"

COLLAPSE_PERF = [
    Case("no_events", f"{_CP}/no-events.txt", f"{_CP}/results/no-events-collapsed.txt"),
    Case("single_line_stacks", f"{_CP}/single-line-stacks.txt", f"{_CP}/results/single-line-stacks-collapsed.txt"),
    Case("single_event", f"{_CP}/single-event.txt", f"{_CP}/results/single-event-collapsed.txt", rows=("perf 17",)),
    Case("go_stacks", f"{_CP}/go-stacks.txt", f"{_CP}/results/go-stacks-collapsed.txt"),
    Case("java_inline", f"{_CP}/java-inline.txt", f"{_CP}/results/java-inline-collapsed.txt"),
    Case("versioned_vmlinux__kernel", f"{_CP}/versioned-vmlinux.txt", f"{_CP}/results/versioned-vmlinux-collapsed-kernel.txt", _OPTS["kernel"]),
    Case("sourcepawn_jitdump__jit", f"{_CP}/sourcepawn-jitdump.txt", f"{_CP}/results/sourcepawn-jitdump-collapsed-jit.txt", _OPTS["jit"]),
    # in inferno's data, not in its test list
    Case("cpp_stacks_std_function", f"{_CP}/cpp-stacks-std-function.txt", f"{_CP}/results/cpp-stacks-std-function-collapsed.txt", rows=("perf 3",)),
    Case("example_perf_stacks", "flamegraph-tests/example-perf-stacks.txt", f"{_CP}/results/example-perf-stacks-collapsed.txt"),
    *(
        Case(f"rust_Yamakaky_dcpu__{opt}", "flamegraph-tests/perf-rust-Yamakaky-dcpu.txt",
             f"{_CP}/results/perf-rust-Yamakaky-dcpu-collapsed-{opt}.txt", _OPTS[opt], rows=("perf 17",))
        for opt in ("pid", "tid", "kernel", "jit", "all", "addrs")
    ),
]

COLLAPSE_DTRACE = [
    Case("compare_to_upstream", "flamegraph-tests/example-dtrace-stacks.txt", f"{_CD}/results/dtrace-example.txt"),
    Case("compare_to_upstream_with_offsets", "flamegraph-tests/example-dtrace-stacks.txt",
         f"{_CD}/results/dtrace-example-offsets.txt", rows=("dtrace 1",)),
    Case("compare_to_upstream_java", f"{_CD}/java.txt", f"{_CD}/results/java.txt", FoldOptions(inline=True), rows=("dtrace 4",)),
    Case("hex_addresses", f"{_CD}/hex-addresses.txt", f"{_CD}/results/hex-addresses.txt", rows=("dtrace 2",)),
    Case("compare_to_flamegraph_bug", f"{_CD}/flamegraph-bug.txt", f"{_CD}/results/flamegraph-bug.txt", rows=("dtrace 1",)),
    Case("stack_ustack", f"{_CD}/stack-ustack.txt", f"{_CD}/results/stack-ustack.txt", rows=("dtrace 2", "dtrace 3")),
    Case("scope_with_no_argument_list", f"{_CD}/scope_with_no_argument_list.txt",
         f"{_CD}/results/scope_with_no_argument_list.txt", rows=("dtrace 2",)),
    Case("rust_names", f"{_CD}/rust-names.txt", f"{_CD}/results/rust-names.txt", rows=("dtrace 3",)),
]


def _compare(case: Case, rows: tuple[str, ...]) -> tuple[Weights, Weights]:
    profile = read(data_bytes(case.input), case.options)
    got = folded_weights(profile.to_folded_bytes())
    expected = folded_weights(data_bytes(case.expected))
    for row in rows:
        got, expected = ADJUSTMENTS[row](got, expected)
    return got, expected


@pytest.mark.parametrize("case", COLLAPSE_PERF + COLLAPSE_DTRACE, ids=lambda c: c.name)
def test_collapse_case(case: Case) -> None:
    got, expected = _compare(case, case.rows)
    assert got == expected


@pytest.mark.parametrize("case", [c for c in COLLAPSE_PERF + COLLAPSE_DTRACE if c.rows], ids=lambda c: c.name)
def test_every_documented_row_of_a_case_is_needed(case: Case) -> None:
    for row in case.rows:
        got, expected = _compare(case, tuple(r for r in case.rows if r != row))
        assert got != expected, f"{case.name}: {row} changes nothing"


def _documented_rows() -> set[str]:
    """`perf N`, `dtrace N` and `diff N` for every numbered row of docs/differences.md."""
    sections = {"## perf script": "perf", "## DTrace": "dtrace", "## diff and check": "diff"}
    rows: set[str] = set()
    current = None
    for line in (ROOT / "docs" / "differences.md").read_text().splitlines():
        if line.startswith("## "):
            current = next((key for prefix, key in sections.items() if line.startswith(prefix)), None)
        m = re.match(r"\| (\d+) \|", line)
        if current and m:
            rows.add(f"{current} {m.group(1)}")
    return rows


def test_every_row_named_here_is_documented() -> None:
    named = {*ADJUSTMENTS, *DIFF_ROWS}
    assert named <= _documented_rows()


def test_samples_without_frames_keep_their_weight_and_warn_once() -> None:
    """inferno's `should_warn_about_empty_input_lines` / `…weird_input_lines` (no expected
    outputs are published; inferno 0.12 folds them to the `inferno` dicts below)."""
    inferno = {
        "empty-line": {"inline-counter;main": 250000, "inline-counter": 250000},
        "weird-stack-line": {"inline-counter;main": 250000},
    }
    for name, peer in inferno.items():
        profile = read(data_bytes(f"{_CP}/{name}.txt"))
        assert profile.diagnostics.bad_lines == 1 and len(profile.diagnostics.messages()) == 1
        assert profile.weights == {"inline-counter;main": 250000, "inline-counter": 250000}
        if name == "weird-stack-line":  # perf 19
            got, _ = ADJUSTMENTS["perf 19"](folded_weights(profile.to_folded_bytes()), {})
            assert got == {k.encode(): v for k, v in peer.items()}
        else:
            assert profile.weights == peer


def test_dtrace_only_header_lines_warns(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    profile = read(data_bytes(f"{_CD}/only-header-lines.txt"), FoldOptions(format="dtrace"))
    assert not profile.weights
    assert any("ended in DTrace's header" in w for w in profile.diagnostics.warnings)


# diff-folded: `foldkit diff BEFORE AFTER -o x.folded` writes difffolded.pl's two columns.

_DF = DATA / INFERNO / "diff-folded"
#: Rows of the diff section that cases below name.
DIFF_ROWS = {"diff 2", "diff 8"}


def _two_columns(text: bytes) -> dict[bytes, tuple[float, float]]:
    out = {}
    for line in text.splitlines():
        stack, before, after = line.rsplit(b" ", 2)
        out[stack] = (float(before), float(after))
    return out


def _diff(tmp_path: Path, before: str, *options: str) -> dict[bytes, tuple[float, float]]:
    out = tmp_path / "diff.folded"
    assert main(["diff", *options, str(_DF / before), str(_DF / "after.txt"), "-o", str(out), "-q"]) == 0
    return _two_columns(out.read_bytes())


@pytest.mark.parametrize(("name", "before", "options"), [
    ("default", "before.txt", ()),
    ("strip_hex", "before.txt", ("--strip-hex",)),
])
def test_diff_folded_case(tmp_path: Path, name: str, before: str, options: tuple[str, ...]) -> None:
    assert _diff(tmp_path, before, *options) == _two_columns((_DF / "results" / f"{name}.txt").read_bytes())


def test_diff_folded_normalize_rounds_where_inferno_truncates(tmp_path: Path) -> None:
    """diff 2: BEFORE scaled to AFTER's total is rounded to the nearest integer; inferno (and
    difffolded.pl) truncate."""
    got = _diff(tmp_path, "before.txt", "--normalize")
    expected = _two_columns((_DF / "results" / "normalize.txt").read_bytes())
    before = folded_weights((_DF / "before.txt").read_bytes())
    after = folded_weights((_DF / "after.txt").read_bytes())
    scale = sum(after.values()) / sum(before.values())
    assert got.keys() == expected.keys()
    changed = 0
    for stack, (b, a) in expected.items():
        exact = before.get(stack, 0) * scale
        assert b == int(exact) and got[stack] == (round(exact), a)
        changed += b != round(exact)
    assert changed, "diff 2 changes nothing here"


def test_diff_folded_fractional_weights_are_kept(tmp_path: Path) -> None:
    """diff 8: fractional weights are kept (written exactly); inferno truncates them."""
    got = _diff(tmp_path, "before_fractionals.txt")
    expected = _two_columns((_DF / "results" / "fractionals.txt").read_bytes())
    assert got != expected
    assert {s: (float(int(b)), a) for s, (b, a) in got.items()} == expected
    assert got[b"dd;[unknown];read"][0] == 14.2343983248722834234


def test_diff_folded_warns_once_about_a_bad_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "diff.folded"
    assert main(["diff", str(_DF / "bad_before.txt"), str(_DF / "after.txt"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("unrecognised line(s) skipped") == 1 and "bad_before.txt:3" in err


# FlameGraph's test.sh also draws every recorded result with flamegraph.pl.

FG_RESULTS = sorted((DATA / "flamegraph-tests" / "results").glob("*.txt.zst"))


def test_flamegraph_test_sh_results_are_all_present() -> None:
    assert len(FG_RESULTS) == 13 * 6


@pytest.mark.parametrize("path", FG_RESULTS, ids=lambda p: p.name.removesuffix(".txt.zst"))
def test_flamegraph_test_sh_draws_every_result(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "graph.svg"
    assert main(["flamegraph", str(path), "-o", str(out), "-q"]) == 0
    svg = out.read_bytes()
    assert svg.startswith(b"<?xml") and b"</svg>" in svg[-64:]
    top = max(folded_weights(data_bytes(str(path.relative_to(DATA)))).items(), key=lambda kv: kv[1])[0]
    assert top.split(b";")[0].decode().replace("&", "&amp;").encode() in svg


def test_collapse_perf_cli_reads_a_file_and_standard_input_alike(tmp_path: Path) -> None:
    """inferno's `collapse_perf_cli`: `--all` of perf-vertx-stacks-01 from a file and from
    standard input (the file's result is compared with FlameGraph's in test_perf_reference.py)."""
    import subprocess
    import sys

    text = data_bytes("flamegraph-tests/perf-vertx-stacks-01.txt")
    path = tmp_path / "perf-vertx-stacks-01.txt"
    path.write_bytes(text)
    runs = [
        subprocess.run([sys.executable, "-m", "foldkit", "fold", "--all", *args], input=stdin, capture_output=True, timeout=120, check=False)
        for args, stdin in (([str(path)], None), (["-"], text))
    ]
    assert [r.returncode for r in runs] == [0, 0]
    assert runs[0].stdout == runs[1].stdout
    assert runs[0].stdout == read(text, FoldOptions.with_all()).to_folded_bytes()
