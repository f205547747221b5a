"""The contract every registered transform keeps, checked on random profiles (hypothesis)."""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foldkit.profile import Diagnostics, Profile
from foldkit.transform import (
    TRANSFORMS,
    Base,
    CollapseRecursion,
    Comm,
    Exclude,
    Focus,
    FocusRoot,
    Hide,
    MaxDepth,
    NormalizeOptions,
    OnlyPid,
    PruneBelow,
    PythonView,
    Rename,
    TimeWindow,
)
from foldkit.transform.roots import ROOT_FRAMES

#: Options each transform is checked with; every registered transform must have some.
OPTIONS: dict[str, list[object]] = {
    "focus": [Focus("a"), Focus("^r$"), Focus("nothing")],
    "focus_root": [FocusRoot("r"), FocusRoot("^main$")],
    "base": [Base(("r",)), Base(("main", "b"))],
    "exclude": [Exclude("a"), Exclude("^java")],
    "hide": [Hide("a"), Hide("."), Hide(r"\[unknown\]")],
    "collapse_recursion": [CollapseRecursion("direct"), CollapseRecursion("all")],
    "max_depth": [MaxDepth(1), MaxDepth(3)],
    "prune_below": [PruneBelow(0), PruneBelow(10), PruneBelow(60), PruneBelow(100)],
    "comm": [Comm(("^java$",)), Comm(("bash", "sort"))],
    "only_pid": [OnlyPid((1,)), OnlyPid(("2,4",))],
    "time": [TimeWindow(0.5, 2.0), TimeWindow(None, 1.0), TimeWindow(2.0, None, absolute=True)],
    "rename": [Rename("a", "b"), Rename("^(.)", r"\1\1"), Rename(".*", "")],
    "normalize_symbols": [NormalizeOptions()],
    "python": [PythonView()],
}

ROOTS = ["java-1/1", "java-1/7", "bash-2/3", "sort-?/4"]
FRAMES = [
    "a", "b", "r", "main", "[unknown]", "x::h0123456789abcdef", "f.isra.0",
    "JS:*fn /x.js:1:2", "0x7f00aa12",
]  # fmt: skip

samples = st.lists(
    st.tuples(
        st.sampled_from(ROOTS),
        st.lists(st.sampled_from(FRAMES), max_size=7),
        st.integers(min_value=1, max_value=1000),
        st.floats(min_value=100.0, max_value=104.0),
    ),
    max_size=40,
)


def build(rows: list[tuple[str, list[str], int, float]], with_counts: bool, with_timeline: bool) -> Profile:
    """A consistent profile: weights, counts and timeline all from the same samples."""
    weights: dict[str, int] = {}
    counts: dict[str, int] = {}
    timeline = []
    for root, frames, w, t in rows:
        stack = ";".join([root, *frames])
        weights[stack] = weights.get(stack, 0) + w
        counts[stack] = counts.get(stack, 0) + 1
        timeline.append((t, stack, w))
    return Profile(
        weights=weights,
        counts=counts if with_counts else None,
        timeline=sorted(timeline) if with_timeline else None,
        meta={ROOT_FRAMES: ("comm-pid/tid",)},
        format="perf",
        diagnostics=Diagnostics(),
    )


def check_consistent(p: Profile) -> None:
    assert all(s for s in p.weights), "no empty stack"
    assert all(w > 0 for w in p.weights.values())
    if p.counts is not None:
        assert set(p.counts) == set(p.weights)
        assert all(c >= 1 for c in p.counts.values())
    if p.timeline is not None:
        sums: dict[str, float] = {}
        n: dict[str, int] = {}
        for _, s, w in p.timeline:
            sums[s] = sums.get(s, 0) + w
            n[s] = n.get(s, 0) + 1
        assert sums == p.weights
        if p.counts is not None:
            assert n == p.counts


def test_every_transform_is_covered() -> None:
    assert set(OPTIONS) == set(TRANSFORMS)
    for name, t in TRANSFORMS.items():
        assert all(type(o) is t.options for o in OPTIONS[name]), name


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_empty_in_empty_out(name: str) -> None:
    t = TRANSFORMS[name]
    for options in OPTIONS[name]:
        for counts, timeline in ((None, None), ({}, []), ({}, None)):
            out = t.func(Profile(counts=counts, timeline=timeline), options)
            assert out.weights == {}
            assert out.counts == counts
            if name != "time":
                assert out.timeline == timeline


@pytest.mark.parametrize("name", list(TRANSFORMS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=samples, with_counts=st.booleans(), with_timeline=st.booleans())
def test_contract(name: str, rows: list[tuple[str, list[str], int, float]], with_counts: bool, with_timeline: bool) -> None:
    t = TRANSFORMS[name]
    if name == "time":
        with_timeline = True
    profile = build(rows, with_counts, with_timeline)
    check_consistent(profile)
    before = copy.deepcopy(profile)
    for options in OPTIONS[name]:
        out = t.func(profile, options)
        assert profile == before, "a transform must not modify its input"
        check_consistent(out)
        # weights are never created from nothing
        assert out.total <= profile.total
        if t.keeps_total:
            assert out.total == profile.total
        if profile.counts is not None:
            assert out.counts is not None
            assert sum(out.counts.values()) <= sum(profile.counts.values())
            if t.keeps_total:
                assert sum(out.counts.values()) == sum(profile.counts.values())
        else:
            assert out.counts is None
        assert (out.timeline is None) == (profile.timeline is None)
        assert out.unit == profile.unit and out.event == profile.event and out.format == profile.format


@pytest.mark.parametrize(
    "name", ["focus", "focus_root", "base", "exclude", "hide", "collapse_recursion", "max_depth", "comm", "only_pid", "normalize_symbols"]
)
@settings(max_examples=40, deadline=None)
@given(rows=samples)
def test_idempotent(name: str, rows: list[tuple[str, list[str], int, float]]) -> None:
    """Filters and shapers reach a fixed point in one step."""
    profile = build(rows, True, True)
    t = TRANSFORMS[name]
    for options in OPTIONS[name]:
        once = t.func(profile, options)
        assert t.func(once, options).weights == once.weights


@settings(max_examples=60, deadline=None)
@given(rows=samples)
def test_focus_and_exclude_partition(rows: list[tuple[str, list[str], int, float]]) -> None:
    profile = build(rows, True, False)
    kept = TRANSFORMS["focus"].func(profile, Focus("r"))
    dropped = TRANSFORMS["exclude"].func(profile, Exclude("r"))
    assert kept.total + dropped.total == profile.total
    assert not set(kept.weights) & set(dropped.weights)


@settings(max_examples=60, deadline=None)
@given(rows=samples, percent=st.floats(min_value=0, max_value=100))
def test_prune_keeps_every_remaining_frame_width(rows: list[tuple[str, list[str], int, float]], percent: float) -> None:
    """Pruning replaces slivers by [pruned] but never changes a kept call path's inclusive weight."""
    profile = build(rows, True, False)
    out = TRANSFORMS["prune_below"].func(profile, PruneBelow(percent))

    def inclusive(p: Profile) -> dict[str, int]:
        acc: dict[str, int] = {}
        for s, w in p.weights.items():
            frames = s.split(";")
            for i in range(1, len(frames) + 1):
                acc[";".join(frames[:i])] = acc.get(";".join(frames[:i]), 0) + int(w)
        return acc

    before, after = inclusive(profile), inclusive(out)
    for path, w in after.items():
        if not path.endswith("[pruned]"):
            assert before[path] == w
            assert w >= profile.total * percent / 100 or math.isclose(w, profile.total * percent / 100)
