"""`foldkit check` on folded files' native stack tables (`gate.native_runs`: per function its
samples per run summed by the core, only the functions the gate can test or measure noise on)
against the reference, the same check of the same stacks as dicts: the same CheckResult and the
same bytes in every output, and no dict made of a table."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit.ingest import FoldOptions, read
from foldkit.ingest.folded import fold_file
from foldkit.profile import ROOT_FRAMES, LazyProfile, Profile
from foldkit.regression import gate
from foldkit.regression import outputs as out
from foldkit.regression.gate import Budget, CheckOptions, CheckResult, Threshold, check_profiles
from tests.support.common import DATA

#: Frame names: recursion (repeats), a shared prefix, non-ASCII, an empty frame.
FRAMES = st.sampled_from(["main", "a", "b", "ab", "é", "x y", "", "leaf"])
STACK = st.lists(FRAMES, min_size=1, max_size=5).map(";".join).filter(lambda s: s.strip() != "")
#: Weights from a few samples to many, so that functions pass the floor, measure noise and regress.
WEIGHT = st.one_of(st.integers(min_value=0, max_value=40), st.integers(min_value=100, max_value=5000))
RUN = st.lists(st.tuples(STACK, WEIGHT), min_size=1, max_size=12).filter(lambda lines: any(w for _, w in lines))
OPTIONS = st.sampled_from(
    [
        CheckOptions(),
        CheckOptions(max_increase=Threshold.parse("10%")),
        CheckOptions(max_increase=Threshold.parse("5pp"), alpha=0.2),
        CheckOptions(absolute=True, run_noise=0.0),
        CheckOptions(max_increase=Threshold.parse("0.1pp"), alpha=0.5, run_noise=0.0),
        CheckOptions(functions=("^a", "é|x", "nomatch"), budgets=(Budget.parse("self:b<=5%"), Budget.parse("a.*<=50%"))),
        CheckOptions(functions=("^a",), only=True, absolute=True),
    ]
)


def read_table(lines: list[tuple[str, int]], name: str) -> LazyProfile:
    """The stacks of `lines` as a folded file's native table."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes("".join(f"{s} {w}\n" for s, w in lines).encode())
        got = fold_file(name, str(path), FoldOptions(jobs=1), 1 << 26, min_split=1)
    assert isinstance(got, LazyProfile) and got.table is not None
    return got


def twin(profile: LazyProfile) -> Profile:
    """The same stacks as a plain dict (the reference path), the table left in `profile`."""
    assert profile.table is not None
    return Profile(weights=profile.table.to_dict(), unit=profile.unit, sources=list(profile.sources), meta=dict(profile.meta))


def outputs(result: CheckResult) -> tuple[object, ...]:
    """Everything a check says, in every format."""
    return (
        repr(result.findings),
        repr(result.budgets),
        result.method,
        result.warnings,
        (result.baseline, result.candidate, result.tests, result.status),
        repr((result.dispersion, result.dispersion_df, result.detectable_pp, result.noise, result.measured)),
        out.to_json(result),
        out.to_junit(result),
        out.to_markdown(result),
        out.to_html(result),
        out.report_bytes(result),
    )


def tables(base: list[list[tuple[str, int]]], cand: list[list[tuple[str, int]]], roots: bool = False) -> list[list[LazyProfile]]:
    """The runs of each side as folded files' native tables (`roots`: one root frame each)."""
    runs = [[read_table(r, f"{side}{i}.folded") for i, r in enumerate(lines)] for side, lines in (("b", base), ("c", cand))]
    if roots:
        for p in (*runs[0], *runs[1]):
            p.meta[ROOT_FRAMES] = ("comm",)
    return runs


def both(base: list[list[tuple[str, int]]], cand: list[list[tuple[str, int]]], options: CheckOptions, roots: bool = False) -> tuple[CheckResult, CheckResult]:
    """The check of the runs' native tables and of the same runs as dicts (the reference)."""
    runs = tables(base, cand, roots)
    reference = check_profiles([twin(p) for p in runs[0]], [twin(p) for p in runs[1]], options)
    native = check_profiles(runs[0], runs[1], options)
    assert all(p.table is not None for p in (*runs[0], *runs[1]))  # summed in the tables, no dict made
    return native, reference


def outcome(base: list[LazyProfile] | list[Profile], cand: list[LazyProfile] | list[Profile], options: CheckOptions) -> object:
    """Every output of the check, or the error it raised (type and message)."""
    try:
        return outputs(check_profiles(base, cand, options))
    except Exception as exc:  # the reference's refusals must be the native path's
        return (type(exc), str(exc))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(RUN, min_size=1, max_size=3),
    st.lists(RUN, min_size=1, max_size=3),
    OPTIONS,
    st.booleans(),
)
def test_the_check_of_tables_is_the_check_of_dicts(
    base: list[list[tuple[str, int]]], cand: list[list[tuple[str, int]]], options: CheckOptions, roots: bool
) -> None:
    runs = tables(base, cand, roots)
    reference = outcome([twin(p) for p in runs[0]], [twin(p) for p in runs[1]], options)
    assert outcome(runs[0], runs[1], options) == reference


def regressed_runs(k: int) -> tuple[list[list[tuple[str, int]]], list[list[tuple[str, int]]]]:
    """`k` runs a side where `hot` (called by `caller` under `main`) doubles its self time: a
    self-time regression and its callers' inclusive rises, which it explains."""
    base = [[("main;caller;hot", 1000 + 10 * i), ("main;other", 3000 - 7 * i), ("main;caller;cold", 500 + i)] for i in range(k)]
    cand = [[("main;caller;hot", 2000 + 9 * i), ("main;other", 3000 + 5 * i), ("main;caller;cold", 500 - i)] for i in range(k)]
    return base, cand


@pytest.mark.parametrize("k", [1, 2, 4])
def test_a_regression_explained_by_its_callee_is_found_alike(k: int) -> None:
    base, cand = regressed_runs(k)
    for options in (CheckOptions(), CheckOptions(absolute=True)):
        native, reference = both(base, cand, options)
        assert outputs(native) == outputs(reference)
        if k > 1:  # (one run a side: the prior's noise hides it)
            assert native.culprit_names()[0] == "hot"
            assert any(f.explained_by == "hot" for f in native.findings)


def test_root_frames_and_no_code_samples_alike() -> None:
    base = [[("app;main;f", 900), ("app", 50), ("app;main;g", 100)], [("app;main;f", 880), ("app;main;g", 120)]]
    cand = [[("app;main;f", 600), ("app", 70), ("app;main;g", 400)], [("app;main;f", 610), ("app;main;g", 390)]]
    native, reference = both(base, cand, CheckOptions(), roots=True)
    assert outputs(native) == outputs(reference)
    assert native.baseline.no_code_samples == 50 and "g" in native.culprit_names()


def test_what_the_columns_do_not_take_goes_to_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Weights sharing a sampling period, times, more runs than the core takes: the reference
    counts them (and the result is still the reference's); patterns are summed natively."""
    base, cand = regressed_runs(2)
    profiles = [read_table(r, f"{i}.folded") for i, r in enumerate([*base, *cand])]
    floor = CheckOptions().max_increase.floor()
    assert gate.native_runs(profiles[:2], profiles[2:], floor, []) is not None
    assert gate.native_runs(profiles[:1] * 5, profiles[2:] * 4, floor, []) is None  # 9 runs
    period = [read_table([(s, w * 10_101_010) for s, w in r], "p.folded") for r in base]
    assert gate.native_runs(period, profiles[2:], floor, []) is None
    timed = [replace_unit(read_table(r, "t.folded"), "ns") for r in base]
    assert gate.native_runs(timed, profiles[2:], floor, []) is None
    with_pattern = CheckOptions(functions=("ho.",), budgets=(Budget.parse("self:cold<=1%"),))
    native, reference = both(base, cand, with_pattern)
    assert outputs(native) == outputs(reference)
    assert any(f.kind == "pattern" and f.name == "ho." for f in native.findings)
    assert native.breaches and native.breaches[0].budget.text == "self:cold<=1%"
    monkeypatch.setenv("FOLDKIT_NATIVE", "0")
    assert gate.native_runs(profiles[:2], profiles[2:], floor, []) is None


def replace_unit(profile: LazyProfile, unit: str) -> LazyProfile:
    """`profile` saying its weights are `unit`."""
    profile.unit = unit
    return profile


def test_many_functions_keep_only_what_the_gate_can_see() -> None:
    """20,000 functions of one sample each beside a few hot ones: the core hands over only the
    functions that pass the floor or can measure noise, and the verdict is the reference's."""
    base = [[(f"main;cold{i}", 1) for i in range(10_000)] + [("main;hot", 20_000 + 50 * r), ("main;warm", 5000)] for r in range(2)]
    cand = [[(f"main;cold{i}", 1) for i in range(10_000)] + [("main;hot", 30_000 + 40 * r), ("main;warm", 5000)] for r in range(2)]
    native, reference = both(base, cand, CheckOptions())
    assert outputs(native) == outputs(reference)
    profiles = [read_table(r, f"{i}.folded") for i, r in enumerate([*base, *cand])]
    runs = gate.native_runs(profiles[:2], profiles[2:], CheckOptions().max_increase.floor(), [])
    assert runs is not None
    assert {name for r in runs[0] for name, _ in r.values} == {"main", "hot", "warm"}
    assert {f.name for f in native.findings} == {"hot", "warm"}


def test_an_implausible_mean_count_warns_alike() -> None:
    base = [[("main;a", 5_000_000), ("main;b", 3_000_001)]]
    cand = [[("main;a", 5_000_003), ("main;b", 3_000_001)]]
    native, reference = both(base, cand, CheckOptions())
    assert outputs(native) == outputs(reference)
    assert any("per stack on average" in w for w in native.warnings)




@pytest.mark.parametrize("k", [1, 2, 4])
def test_real_captures_folded_are_checked_alike(tmp_path: Path, k: int) -> None:
    """tests/data/check's captures (a workload and a build with one function slowed), folded to
    samples per stack and read back as tables: every design, both scales, the same result."""
    tables: dict[str, list[LazyProfile]] = {}
    for side in ("base", "slow"):
        tables[side] = []
        for path in sorted((DATA / "check").glob(f"{side}-*.perf.zst")):
            folded = tmp_path / f"{path.name}.folded"
            folded.write_bytes(read(path, FoldOptions(jobs=1, weight="samples")).to_folded_bytes())
            got = fold_file(folded.name, str(folded), FoldOptions(jobs=1), 1 << 26)
            assert isinstance(got, LazyProfile)
            tables[side].append(got)
    pairs = [(tables["base"][:k], tables["slow"][:k]), (tables["base"][:k], tables["base"][k : 2 * k])]
    for base, cand in pairs:
        for options in (CheckOptions(), CheckOptions(absolute=True), CheckOptions(max_increase=Threshold.parse("10%"))):
            reference = check_profiles([twin(p) for p in base], [twin(p) for p in cand], options)
            native = check_profiles(base, cand, options)
            assert all(p.table is not None for p in (*base, *cand))
            assert outputs(native) == outputs(reference)
