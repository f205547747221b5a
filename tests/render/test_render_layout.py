"""Frame layout against a plain, obviously-correct tree built from the folded input."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit.profile import Profile
from foldkit.render import RenderOptions, layout_profile
from foldkit.render.layout import Layout, StackIndex, chart_runs, layout_chart, layout_flame

# Frame names chosen to break naive string sorting: prefixes of each other, characters below
# ';' (space, '-', digits), the escaped \x00 and \x01, empty names, non-ASCII and surrogates.
NAMES = st.sampled_from(["a", "b", "ab", "a b", "a-", "a0", "", "\x00", "a\x01", "\x01\x01", "é", "\udcff", "zz"])
STACKS = st.lists(NAMES, min_size=0, max_size=6).map(";".join)
WEIGHTS = st.dictionaries(STACKS, st.integers(min_value=1, max_value=1000), min_size=1, max_size=25)


def naive_tree(weights: dict[str, int]) -> dict[tuple[str, ...], int]:
    """Inclusive weight of every frame path, the slow way."""
    tree: dict[tuple[str, ...], int] = defaultdict(int)
    for stack, w in weights.items():
        frames = tuple(stack.split(";")) if stack else ()
        for depth in range(len(frames) + 1):
            tree[frames[:depth]] += w
    return dict(tree)


def layout_paths(layout: Layout) -> dict[tuple[str, ...], tuple[int, float, float]]:
    """path -> (index, start, weight) for every drawn frame."""
    out = {}
    for i in range(len(layout)):
        path = layout.path(i)
        key = tuple(path.split(";")) if i else ()
        assert key not in out, f"frame {key} drawn twice"
        out[key] = (i, layout.starts[i], layout.weights[i])
    return out


def check_structure(layout: Layout) -> None:
    """Pre-order, parents, nesting: children inside their parent, siblings side by side."""
    assert layout.depths[0] == 0 and layout.parents[0] == -1 and layout.names[0] == "all"
    children: dict[int, list[int]] = defaultdict(list)
    for i in range(1, len(layout)):
        p = layout.parents[i]
        assert 0 <= p < i, "a parent comes before its children"
        assert layout.depths[i] == layout.depths[p] + 1
        assert layout.weights[i] <= layout.weights[p]
        assert layout.starts[p] <= layout.starts[i]
        assert layout.starts[i] + layout.weights[i] <= layout.starts[p] + layout.weights[p]
        children[p].append(i)
        # pre-order: everything between the parent and this frame is in the parent's subtree
        j = i - 1
        while j != p:
            assert layout.depths[j] > layout.depths[p]
            j -= 1
    for kids in children.values():
        for a, b in itertools.pairwise(kids):
            assert layout.starts[a] + layout.weights[a] <= layout.starts[b], "siblings overlap or are out of order"


@given(WEIGHTS)
def test_flame_layout_is_the_merged_tree(weights: dict[str, int]) -> None:
    layout = layout_flame(weights, min_fraction=0, max_frames=10**6)
    tree = naive_tree(weights)
    drawn = layout_paths(layout)
    assert {k: v[2] for k, v in drawn.items()} == tree
    check_structure(layout)
    for i in range(1, len(layout)):
        assert layout.names[i] == layout.path(i).split(";")[-1]
    # siblings alphabetical (code point order), self weight first: a frame starts where the
    # stacks sorted before it end
    for path, (_, start, _) in drawn.items():
        before = sum(w for s, w in weights.items() if (tuple(s.split(";")) if s else ()) < path and (tuple(s.split(";")) if s else ())[: len(path)] != path)
        assert start == before


@given(WEIGHTS, st.floats(min_value=0.0, max_value=0.5))
def test_min_width_drops_exactly_the_narrow_frames(weights: dict[str, int], fraction: float) -> None:
    layout = layout_flame(weights, min_fraction=fraction, max_frames=10**6)
    total = sum(weights.values())
    expected = {k: w for k, w in naive_tree(weights).items() if w >= total * fraction or not k}
    assert {k: v[2] for k, v in layout_paths(layout).items()} == expected
    assert not layout.budget_limited


@given(WEIGHTS, st.integers(min_value=1, max_value=12))
def test_frame_budget_keeps_the_heaviest_frames(weights: dict[str, int], budget: int) -> None:
    layout = layout_flame(weights, min_fraction=0, max_frames=budget)
    tree = naive_tree(weights)
    assert 1 <= len(layout) <= budget
    drawn = {k: v[2] for k, v in layout_paths(layout).items()}
    if len(tree) <= budget:
        assert drawn == tree and not layout.budget_limited
        return
    assert layout.budget_limited
    lightest = min(w for k, w in drawn.items() if k) if len(drawn) > 1 else math.inf
    assert all(w <= layout.min_weight for k, w in tree.items() if k not in drawn)
    assert {k: w for k, w in tree.items() if w >= lightest or not k} == drawn
    check_structure(layout)


@given(WEIGHTS)
def test_sort_by_weight_puts_the_widest_sibling_first(weights: dict[str, int]) -> None:
    layout = layout_flame(weights, sort_by_weight=True, max_frames=10**6)
    assert {k: v[2] for k, v in layout_paths(layout).items()} == naive_tree(weights)
    check_structure(layout)
    kids: dict[int, list[int]] = defaultdict(list)
    for i in range(1, len(layout)):
        kids[layout.parents[i]].append(i)
    for p, ks in kids.items():
        assert [layout.weights[k] for k in ks] == sorted((layout.weights[k] for k in ks), reverse=True)
        path = tuple(layout.path(p).split(";")) if p else ()
        own = sum(w for s, w in weights.items() if (tuple(s.split(";")) if s else ()) == path)
        assert layout.starts[ks[0]] == layout.starts[p] + own


def naive_chart(runs: list[tuple[str, int]]) -> list[tuple[tuple[str, ...], int, int]]:
    """(path, start, weight) of every flame-chart frame: consecutive runs sharing a prefix merge."""
    out = []
    open_frames: list[list] = []  # [path, start, weight]
    t = 0
    for stack, w in runs:
        frames = tuple(stack.split(";")) if stack else ()
        keep = 0
        while keep < len(open_frames) and keep < len(frames) and open_frames[keep][0] == frames[: keep + 1]:
            keep += 1
        for f in open_frames[keep:]:
            out.append(tuple(f))
        del open_frames[keep:]
        for d in range(keep, len(frames)):
            open_frames.append([frames[: d + 1], t, 0])
        for f in open_frames:
            f[2] += w
        t += w
    out.extend(tuple(f) for f in open_frames)
    return out


RUNS = st.lists(st.tuples(STACKS, st.integers(min_value=1, max_value=100)), min_size=1, max_size=25)


@given(RUNS)
def test_chart_layout_keeps_time_order(samples: list[tuple[str, int]]) -> None:
    runs, _ = chart_runs((float(i), s, w) for i, (s, w) in enumerate(samples))
    layout = layout_chart(runs, max_frames=10**6)
    drawn = sorted((tuple(layout.path(i).split(";")), layout.starts[i], layout.weights[i]) for i in range(1, len(layout)))
    assert drawn == sorted(naive_chart(runs))
    assert layout.weights[0] == sum(w for _, w in samples)
    check_structure(layout)


@given(RUNS, st.floats(min_value=0.0, max_value=0.5), st.integers(min_value=1, max_value=40))
def test_chart_min_width_and_budget(samples: list[tuple[str, int]], fraction: float, budget: int) -> None:
    runs, _ = chart_runs((float(i), s, w) for i, (s, w) in enumerate(samples))
    layout = layout_chart(runs, min_fraction=fraction, max_frames=budget)
    total = sum(w for _, w in samples)
    wide = [f for f in naive_chart(runs) if f[2] >= total * fraction]
    drawn = sorted((tuple(layout.path(i).split(";")), layout.starts[i], layout.weights[i]) for i in range(1, len(layout)))
    assert len(layout) <= budget
    if len(wide) + 1 <= budget:
        assert drawn == sorted(wide)
    else:
        lightest = min((f[2] for f in drawn), default=math.inf)
        assert drawn == sorted(f for f in wide if f[2] >= lightest)
        assert all(f[2] <= layout.min_weight for f in wide if f not in drawn)
    check_structure(layout)


def test_chart_runs_sort_by_time_and_merge_neighbours() -> None:
    samples = [(3.0, "a;b", 1), (1.0, "a;b", 2), (2.0, "a;b", 4), (4.0, "a", 1), (5.0, "a;b", 1), (6.0, "x", 0)]
    assert chart_runs(samples) == ([("a;b", 7), ("a", 1), ("a;b", 1)], 1)
    untimed = [(math.nan, "b", 1), (math.nan, "a", 1), (math.nan, "b", 1)]
    assert chart_runs(untimed) == ([("b", 1), ("a", 1), ("b", 1)], 0)


def test_chart_splits_a_frame_interrupted_in_time() -> None:
    layout = layout_chart([("m;f", 2), ("m;g", 1), ("m;f", 3)])
    frames = [(layout.names[i], layout.starts[i], layout.weights[i]) for i in range(len(layout))]
    assert frames == [("all", 0, 6), ("m", 0, 6), ("f", 0, 2), ("g", 2, 1), ("f", 3, 3)]


@given(WEIGHTS, st.lists(STACKS, max_size=10))
def test_stack_index_inclusive_weights(weights: dict[str, int], probes: list[str]) -> None:
    index = StackIndex(weights)
    tree = naive_tree(weights)
    for probe in [*probes, *weights]:
        key = tuple(probe.split(";")) if probe else ()
        assert index.inclusive(probe) == tree.get(key, 0)


def test_non_positive_weights_are_left_out_and_counted() -> None:
    layout = layout_flame({"a;b": 3, "a;c": 0, "d": -2})
    assert layout.names == ["all", "a", "b"] and layout.nonpositive == 2


def test_empty_profile_has_only_an_empty_root() -> None:
    layout = layout_flame({})
    assert layout.names == ["all"] and layout.weights == [0] and layout.total == 0


def test_ten_thousand_deep_stack_needs_no_recursion() -> None:
    deep = ";".join(f"f{i}" for i in range(10_000))
    layout = layout_flame({deep: 5, "f0;other": 1}, max_frames=10**6)
    assert len(layout) == 10_002 and layout.max_depth == 10_000
    chart = layout_chart([(deep, 1), ("f0", 1), (deep, 1)], max_frames=10**6)
    assert len(chart) == 1 + 1 + 2 * 9_999


def test_fractional_weights() -> None:
    layout = layout_flame({"a;b": 0.25, "a;c": 0.5, "d": 1.25})
    assert layout.total == 2.0
    assert dict(zip(layout.names, layout.weights, strict=True)) == {"all": 2.0, "a": 0.75, "b": 0.25, "c": 0.5, "d": 1.25}


@settings(max_examples=30)
@given(WEIGHTS)
def test_reverse_turns_stacks_around(weights: dict[str, int]) -> None:
    profile = Profile(weights=weights)
    flipped = layout_profile(profile, RenderOptions(reverse=True, min_width="0", max_frames=10**6))
    reversed_weights: dict[str, int] = defaultdict(int)
    for s, w in weights.items():
        reversed_weights[";".join(reversed(s.split(";")))] += w
    assert {k: v[2] for k, v in layout_paths(flipped).items()} == naive_tree(dict(reversed_weights))


def test_total_widens_the_span_but_never_narrows_it() -> None:
    wide = layout_profile(Profile(weights={"a": 10}), RenderOptions(total=40))
    assert wide.span == 40 and wide.total == 10
    narrow = layout_profile(Profile(weights={"a": 10}), RenderOptions(total=4))
    assert narrow.span == 10


def test_min_width_in_percent_and_pixels() -> None:
    weights = {"big": 990, "small": 10}  # small is 1% wide: 11.8 px of 1180
    assert "small" in layout_profile(Profile(weights=weights), RenderOptions(min_width="0.5%")).names
    assert "small" not in layout_profile(Profile(weights=weights), RenderOptions(min_width="2%")).names
    assert "small" in layout_profile(Profile(weights=weights), RenderOptions(min_width="11")).names
    assert "small" not in layout_profile(Profile(weights=weights), RenderOptions(min_width="12")).names
