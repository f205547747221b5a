"""inferno-flamegraph's own test cases (its tests/flamegraph.rs) run through `foldkit flamegraph`.

The inputs and expected SVGs are inferno's test data (CDDL-1.0, see tests/data/README.md); the
case list below is this project's own table of what each case feeds inferno and with which
options, written in foldkit's spelling of inferno's flags. Every case must run (exit 0), and
draw every frame inferno draws (name, position, width, depth), unless `DIFFERENCES` names the
row of docs/differences.md that says why not.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.common import DATA, data_bytes
from tests.support.svg import inferno_frames, shared_frames
from tests.support.transform import run_cli

INFERNO = DATA / "inferno-flamegraph"
#: FlameGraph's collapsed results at the commit inferno's tests use (its `flamegraph` submodule).
FG = INFERNO / "inputs"
DIFF = INFERNO / "differential" / "perf-cycles-instructions-01-collapsed-all-diff.txt"
VERTX = FG / "perf-vertx-stacks-01-collapsed-all.txt.zst"
CYCLES = FG / "perf-cycles-instructions-01-collapsed-all.txt"
JAVA = FG / "perf-java-stacks-01-collapsed-all.txt"
UNSORTED = INFERNO / "unsorted-input" / "perf-vertx-stacks-01-collapsed-all-unsorted.txt.zst"
#: inferno's default --minwidth is 0.01 % of the width (flamegraph.pl's and foldkit's is 0.1 px).
INFERNO_DEFAULTS = ["--minwidth", "0.01%"]


@dataclass(frozen=True)
class Case:
    """One test of inferno's tests/flamegraph.rs: inputs, foldkit options, the expected SVG."""

    inputs: tuple[Path, ...]
    args: tuple[str, ...] = ()
    expected: str | None = None  # under tests/data/inferno-flamegraph, .svg.zst; None: no picture compared
    files: dict[str, Path] = field(default_factory=dict)  # {placeholder in args: file copied to tmp}


def _case(inputs: Path | tuple[Path, ...], args: tuple[str, ...] = (), expected: str | None = None, **files: Path) -> Case:
    return Case(inputs if isinstance(inputs, tuple) else (inputs,), args, expected, files)


_OPTION_CASES = {
    "title_simple": ("--title", "Test Graph"),
    "title_with_symbols": ("--title", "Test <& ' \""),
    "subtitle_simple": ("--subtitle", "Test Subtitle"),
    "subtitle_with_symbols": ("--subtitle", "Test Subtitle <& ' \""),
    "notes_simple": ("--notes", "Test Notes"),
    "notes_with_symbols": ("--notes", "Test Notes <& ' \""),
    "count_name_simple": ("--countname", "test-samples"),
    "count_name_with_symbols": ("--countname", "test-samples <& ' \""),
    "name_type_simple": ("--nametype", "Tfunction:"),
    "name_type_with_quote": ("--nametype", "Test: '"),
    "name_type_with_backslash": ("--nametype", "Test: \\"),
    "font_type_simple": ("--fonttype", "Andale Mono"),
    "font_type_with_quote": ("--fonttype", 'Andale Mono"'),
    **{f"font_type_{family}": ("--fonttype", family) for family in ("cursive", "fantasy", "monospace", "sans-serif", "serif")},
    "search_color": ("--search-color", "#7d7d7d"),
    "stroke_color": ("--stroke-color", "#7d7d7d"),
    "uicolor_color": ("--uicolor", "#ff0000"),
}

CASES: dict[str, Case] = {
    "colors_deterministic": _case(INFERNO / "colors" / "async-profiler-collapsed-part.txt", ("--deterministic",), "colors/deterministic"),
    "colors_java": _case(JAVA, ("-c", "java", "--bgcolors", "blue", "--hash"), "colors/java"),
    "colors_java_async_profile": _case(INFERNO / "colors" / "async-profiler-collapsed-part.txt", ("-c", "java", "--hash"), "colors/async-profiler-java"),
    "colors_js": _case(FG / "perf-js-stacks-01-collapsed-all.txt", ("-c", "js", "--bgcolors", "green", "--hash"), "colors/js"),
    "differential": _case(DIFF, (), "differential/diff"),
    "differential_negated": _case(DIFF, ("--negate",), "differential/diff-negated"),
    "colordiffusion": _case(VERTX, ("--colordiffusion",), "options/colordiffusion"),
    "factor": _case(VERTX, ("--factor", "2.5", "--hash"), "factor/factor-2.5"),
    **{
        f"nameattr{suffix}": _case(CYCLES, ("--hash", "--nameattr", "{nameattr}"), expected, nameattr=INFERNO / "nameattr" / f"nameattr{suffix}.txt")
        for suffix, expected in (
            ("", "nameattr/nameattr"),
            ("_empty_first_line", "nameattr/nameattr"),
            ("_empty_attribute", "nameattr/nameattr"),
            ("_duplicate_attributes", "nameattr/nameattr_duplicate_attributes"),
        )
    },
    "nameattr_invalid_attribute": _case(CYCLES, ("--nameattr", "{nameattr}"), nameattr=INFERNO / "nameattr" / "nameattr_invalid_attribute.txt"),
    "fractional_samples": _case(INFERNO / "fractional-samples" / "fractional.txt"),
    "zero_fractional_samples": _case(INFERNO / "fractional-samples" / "zero-fractionals.txt"),
    "tricky_stack": _case(INFERNO / "fractional-samples" / "tricky-stack.txt"),
    "palette_map": _case(VERTX, ("--hash", "--palette-file", "{map}"), "palette-map/consistent-palette", map=INFERNO / "palette-map" / "palette.map"),
    "palette_map_invalid_lines": _case(VERTX, ("--palette-file", "{map}"), map=INFERNO / "palette-map" / "palette_invalid.map"),
    "bad_lines": _case(INFERNO / "bad-lines" / "bad-lines.txt"),
    "empty_input": _case(INFERNO / "empty" / "empty.txt"),
    "unsorted_multiple_input_files": _case(
        (INFERNO / "multiple-inputs" / "perf-vertx-stacks-01-collapsed-all-unsorted-1.txt.zst", INFERNO / "multiple-inputs" / "perf-vertx-stacks-01-collapsed-all-unsorted-2.txt.zst"),
        ("--hash",),
        "perf-vertx-stacks/perf-vertx-stacks-01-collapsed-all",
    ),
    "prune_narrow_blocks": _case(INFERNO / "narrow-blocks" / "narrow-blocks.txt", ("--hash",), "narrow-blocks/narrow-blocks"),
    "inverted": _case(VERTX, ("--hash", "--title", "Icicle Graph", "-i"), "inverted/inverted"),
    "grey_frames": _case(INFERNO / "grey-frames" / "grey-frames.txt", ("--hash",), "grey-frames/grey-frames"),
    "example_perf_stacks": _case(
        INFERNO / "inputs" / "example-perf-stacks-collapsed.txt.zst", ("--palette-file", "{map}"), "example-perf-stacks/example-perf-stacks", map=INFERNO / "example-perf-stacks" / "palette.map"
    ),
    "default_options": _case(DIFF, (), "options/default"),
    **{name: _case(DIFF, args, f"options/{name}") for name, args in _OPTION_CASES.items()},
    "sorted_input_file": _case(VERTX, ("--hash",), "perf-vertx-stacks/perf-vertx-stacks-01-collapsed-all"),
    "unsorted_input_file": _case(UNSORTED, ("--hash",), "perf-vertx-stacks/perf-vertx-stacks-01-collapsed-all"),
    "no_sort_unsorted_input": _case(UNSORTED, ("--no-sort",)),
    "reversed_stack_ordering": _case(UNSORTED, ("--hash", "--reverse"), "perf-vertx-stacks/perf-vertx-stacks-01-collapsed-all-reversed-stacks"),
    "reversed_fractional_samples": _case(INFERNO / "fractional-samples" / "fractional.txt", ("--hash", "--reverse"), "fractional-samples/fractional-reversed"),
    "reversed_with_space": _case(INFERNO / "fractional-samples" / "with-space.txt", ("--hash", "--reverse"), "fractional-samples/with-space-reversed"),
    "no_sort_with_reverse": _case(FG / "perf-funcab-cmd-01-collapsed-all.txt", ("--no-sort", "--reverse")),
    "bad_lines_reversed": _case(INFERNO / "bad-lines" / "bad-lines.txt", ("--reverse",)),
    "cli": _case(VERTX, ("--pretty-xml", "--no-javascript", "--hash"), "perf-vertx-stacks/perf-vertx-stacks-01-collapsed-all"),
    "truncate_right": _case(JAVA, ("-c", "java", "--truncate-text-right", "--bgcolors", "blue", "--hash"), "options/truncate-right"),
    "flamechart": _case(INFERNO / "flamechart" / "flames.txt.zst", ("--title", "Flame Chart", "--flamechart", "--hash"), "flamechart/flame"),
    "base_symbol": _case(INFERNO / "base" / "flames.txt.zst", ("--title", "Flame Chart", "--base", "Final"), "base/single-base"),
    "multiple_base_symbol": _case(INFERNO / "base" / "flames.txt.zst", ("--title", "Flame Chart", "--base", "Final", "--base", "Samples"), "base/multi-base"),
    "austin": _case(INFERNO / "austin" / "flames.txt", (), "austin/flame"),
    "huge_sample_counts": _case(INFERNO / "inputs" / "huge-sample-counts.txt"),
    # inferno-diff-folded's expected outputs (its tests/diff-folded.rs) piped into the flame graph
    **{f"diff_folded_{name}": _case(INFERNO / "diff-folded" / f"{name}.txt", (), f"diff-folded/{name}") for name in ("default", "fractionals", "normalize", "strip_hex")},
}

@dataclass(frozen=True)
class Difference:
    """A case whose picture differs from inferno's as docs/differences.md says (`row` is quoted
    from it), and how to see past that difference: `truncate` the input's weights to integers as
    inferno does, `mirror` inferno's frames left to right, `strip` spaces around frame names
    in the input as inferno does (with `--reverse`)."""

    row: str
    truncate: bool = False
    mirror: bool = False
    strip: bool = False


_FRACTIONAL = "**Decimal weights are summed exactly.**"
DIFFERENCES: dict[str, Difference] = {
    "reversed_fractional_samples": Difference(_FRACTIONAL, truncate=True),
    "reversed_with_space": Difference("**With `--reverse`, a space at the start of a frame name is kept.**", truncate=True, strip=True),
    "flamechart": Difference("**A flame chart of folded input reads left to right in line order**", mirror=True),
}


def _as_inferno_reads(path: Path, tmp_path: Path, difference: Difference) -> Path:
    """A copy of a folded file with every weight cut to an integer (`truncate`) and spaces
    around frame names removed (`strip`), as inferno reads it."""
    out = tmp_path / f"adjusted-{path.name}"
    lines = []
    for line in path.read_text().splitlines():
        stack, _, weight = line.rpartition(" ")
        if difference.strip:
            stack = ";".join(frame.strip() for frame in stack.split(";"))
        lines.append(f"{stack} {int(float(weight)) if difference.truncate else weight}")
    out.write_text("\n".join(lines) + "\n")
    return out


def test_every_difference_is_documented() -> None:
    text = (DATA.parent.parent / "docs" / "differences.md").read_text()
    for name, difference in DIFFERENCES.items():
        assert name in CASES and difference.row in text, name


def _run(case: Case, tmp_path: Path, difference: Difference | None = None) -> tuple[int, bytes, str]:
    if difference is not None:
        case = Case(tuple(_as_inferno_reads(p, tmp_path, difference) for p in case.inputs), case.args, case.expected, case.files)
    copies = {}
    for key, src in case.files.items():
        copies[key] = tmp_path / src.name
        shutil.copyfile(src, copies[key])
    args = [a.format(**{k: str(v) for k, v in copies.items()}) if a.startswith("{") else a for a in case.args]
    out = tmp_path / "out.svg"
    code, _, err = run_cli(["flamegraph", *map(str, case.inputs), *INFERNO_DEFAULTS, *args, "-o", str(out)])
    return code, out.read_bytes() if out.exists() else b"", err


@pytest.mark.parametrize("name", list(CASES))
def test_case_runs_and_draws_inferno_frames(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    code, svg, err = _run(case, tmp_path)
    assert code == 0, err
    if case.expected is None:
        return
    difference = DIFFERENCES.get(name)
    if difference is not None and (difference.truncate or difference.strip):
        code, svg, err = _run(case, tmp_path, difference)
        assert code == 0, err
    mirror = difference is not None and difference.mirror
    want = Counter(inferno_frames(data_bytes(f"inferno-flamegraph/{case.expected}.svg.zst"), mirror=mirror))
    got = Counter(shared_frames(svg))
    assert got == want, f"missing {sorted(want - got)[:5]}, extra {sorted(got - want)[:5]}"
