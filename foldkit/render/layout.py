"""Frame layout: from folded stacks to the frames a flame graph draws, with their geometry in weight
units. No pixels here (svg.py converts), no recursion anywhere (stacks can be 100,000 frames deep).

`layout_flame(weights, ...)` merges stacks into a tree (siblings alphabetical, or widest first)
and `layout_chart(runs, ...)` keeps time order (a frame spans consecutive runs that share it).
Both return a `Layout`: parallel lists, one entry per drawn frame, in depth-first pre-order (a
frame comes before its descendants; siblings left to right), frame 0 being the root `all`:

    names[i]    the frame name (full, annotations kept; "all" for the root)
    depths[i]   0 for the root, 1 for the outermost frames of the stacks, ...
    starts[i]   left edge: weight to the left of the frame in the whole graph
    weights[i]  inclusive weight (the frame and everything it called)
    parents[i]  index of the parent frame (-1 for the root)
    path(i)     the folded stack prefix the frame stands for ("a;b;c"; "" for the root)

A frame's pixel width is `weights[i] / span * plot_width`, so widths are exact shares.

How: every frame of every stack becomes at most one tree node (a child table per node), so time
and memory are linear in the total number of frames, however deep the stacks. The nodes are put
in pre-order (siblings by name; flame charts: in time order, a new node whenever a run stops
sharing the previous run's frames), inclusive weights are summed from the leaves up in reverse
pre-order, and a frame starts where the weight of the stacks ending before it in pre-order ends
(flame charts: where its first run starts). Frames lighter than `min_weight` are dropped, and
with more than `max_frames` left only those heavier than the (max_frames + 1)-th heaviest stay
(the frame budget; the root always stays).

The native core (`foldkit._native`, Rust) does the same for integer weights within int64 and is
used when it is built; this module's Python code is its twin and the reference (and takes
fractional weights). Both give identical layouts (tests/render/test_render_layout_native.py).

Differential graphs (`foldkit diff`) lay out one profile and ask `layout.inclusive(other)` for
the other's weight through each drawn frame.
"""

from __future__ import annotations

import heapq
import math
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, repeat
from operator import contains

from foldkit.native import native_core
from foldkit.profile import StackTable, Weight
from foldkit.render import defaults
from foldkit.timeline import Sample, Timeline, chart_runs, native_chart_runs

_SEP = "\x00"
_AFTER_SEP = "\x01"
_UNESCAPE = re.compile("\x01(.)", re.DOTALL)


def _key(stack: str, escape: bool) -> str:
    if escape:
        return stack.replace("\x01", "\x01\x02").replace("\x00", "\x01\x01").replace(";", _SEP)
    return stack.replace(";", _SEP)


def _make_keys(stacks: Sequence[str]) -> tuple[list[str], bool]:
    """Sort keys: `;` becomes the lowest character, so key order is frame-by-frame order and the
    stacks under a frame are contiguous. Stacks holding \\x00 or \\x01 themselves are escaped."""
    escaped = any(map(contains, stacks, repeat(_SEP))) or any(map(contains, stacks, repeat(_AFTER_SEP)))
    if escaped:
        return [_key(s, True) for s in stacks], True
    return list(map(str.replace, stacks, repeat(";"), repeat(_SEP))), False


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: "\x00" if m.group(1) == "\x01" else "\x01", text)


@dataclass
class Layout:
    """The drawn frames, in depth-first pre-order (see the module docstring)."""

    names: list[str] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)
    starts: list[Weight] = field(default_factory=list)
    weights: list[Weight] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    #: Weight that spans the full width (the profile's total, or more when asked for).
    span: Weight = 0
    #: Frames lighter than this were not drawn (0: none dropped for width).
    min_weight: float = 0.0
    #: True when the frame budget raised `min_weight` above what was asked for.
    budget_limited: bool = False
    #: Stacks left out because their weight was zero or negative.
    nonpositive: int = 0

    def __len__(self) -> int:
        return len(self.names)

    @property
    def total(self) -> Weight:
        """Weight of the root frame: everything drawn."""
        return self.weights[0] if self.weights else 0

    @property
    def max_depth(self) -> int:
        """Depth of the deepest drawn frame (0 when only the root is drawn)."""
        return max(self.depths, default=0)

    def path(self, i: int) -> str:
        """The folded stack prefix frame `i` stands for (`a;b;c`), "" for the root."""
        names, parents = self.names, self.parents
        frames = []
        while i > 0:
            frames.append(names[i])
            i = parents[i]
        return ";".join(reversed(frames))

    def paths(self) -> list[str]:
        """`path(i)` of every frame (as long as the frames' paths together: prefer `inclusive`
        for per-frame lookups)."""
        out = [""] * len(self.names)
        for i in range(1, len(self.names)):
            p = self.parents[i]
            out[i] = f"{out[p]};{self.names[i]}" if p else self.names[i]
        return out

    def inclusive(self, weights: Mapping[str, Weight]) -> list[Weight]:
        """For every frame, the weight of the stacks of `weights` (positive ones only) that pass
        through its path: another profile's inclusive weights on this layout, in time linear in
        the frames of `weights`. Frames with the same path (flame charts) get the same weight."""
        return self._per_frame(weights, own=False)

    def own(self, weights: Mapping[str, Weight]) -> list[Weight]:
        """For every frame, the weight of the stacks of `weights` (positive ones only) that end at
        its path: another profile's self weights on this layout (the root's is the empty stack's)."""
        return self._per_frame(weights, own=True)

    def _per_frame(self, weights: Mapping[str, Weight], own: bool) -> list[Weight]:
        names, parents = self.names, self.parents
        path_id = [0] * len(names)
        child: dict[tuple[int, str], int] = {}
        for i in range(1, len(names)):
            path_id[i] = child.setdefault((path_id[parents[i]], names[i]), len(child) + 1)
        acc: list[Weight] = [0] * (len(child) + 1)
        lookup = child.get
        for stack, w in weights.items():
            if not w > 0:
                continue
            if not own:
                acc[0] += w
            if not stack:
                if own:
                    acc[0] += w
                continue
            node: int | None = 0
            for frame in stack.split(";"):
                node = lookup((node, frame))  # type: ignore[arg-type]
                if node is None:
                    break
                if not own:
                    acc[node] += w
            if own and node is not None:
                acc[node] += w
        return [acc[p] for p in path_id]


class StackIndex:
    """Stacks sorted for prefix queries: the inclusive weight of any frame path in O(log n)."""

    def __init__(self, weights: Mapping[str, Weight]) -> None:
        if not weights or min(weights.values()) > 0:
            stacks, values = list(weights), list(weights.values())
        else:
            stacks = [s for s, w in weights.items() if w > 0]
            values = [weights[s] for s in stacks]
        keys, self.escaped = _make_keys(stacks)
        by_key = dict(zip(keys, values, strict=True))
        self.keys: list[str] = sorted(by_key)
        self.weights: list[Weight] = list(map(by_key.__getitem__, self.keys))
        self.cum: list[Weight] = [0, *accumulate(self.weights)]
        self.nonpositive = len(weights) - len(stacks)

    @property
    def total(self) -> Weight:
        """Sum of all (positive) weights."""
        return self.cum[-1]

    def inclusive(self, path: str) -> Weight:
        """Weight of every stack that is `path` or passes through it ("" is the whole profile)."""
        if not path:
            return self.total
        key = _key(path, self.escaped or _SEP in path or _AFTER_SEP in path)
        lo = bisect_left(self.keys, key)
        hi = bisect_left(self.keys, key + _AFTER_SEP, lo)
        return self.cum[hi] - self.cum[lo]


def min_weight_for(span: Weight, min_fraction: float) -> float:
    """The weight below which frames are dropped: `min_fraction` of the full width."""
    return span * min_fraction if min_fraction > 0 else 0.0


@dataclass
class _Tree:
    """Tree nodes in depth-first pre-order (node 0 the root), as the native core builds them."""

    names: list[str]
    parents: list[int]
    depths: list[int]
    #: Weight of the stacks (runs) ending at the node.
    own: list[Weight]
    #: Flame charts: where the node's first run starts (None for flame graphs).
    starts: list[Weight] | None
    nonpositive: int


def _flame_tree(weights: Mapping[str, Weight]) -> _Tree:
    """Stacks merged into a tree, siblings in name (code point) order."""
    kids: list[dict[str, int]] = [{}]
    names, parents = [defaults.ROOT_NAME], [-1]
    own: list[Weight] = [0]
    nonpositive = 0
    for stack, w in weights.items():
        if not w > 0:
            nonpositive += 1
            continue
        node = 0
        if stack:
            for frame in stack.split(";"):
                table = kids[node]
                child = table.get(frame)
                if child is None:
                    child = table[frame] = len(names)
                    kids.append({})
                    names.append(frame)
                    parents.append(node)
                    own.append(0)
                node = child
        own[node] += w
    order: list[int] = []
    todo = [0]
    while todo:
        i = todo.pop()
        order.append(i)
        table = kids[i]
        if table:
            todo.extend(table[name] for name in sorted(table, reverse=True))
    where = [0] * len(order)
    for new, old in enumerate(order):
        where[old] = new
    depths = [0] * len(order)
    new_parents = [-1] * len(order)
    for new, old in enumerate(order[1:], 1):
        p = where[parents[old]]
        new_parents[new] = p
        depths[new] = depths[p] + 1
    return _Tree([names[i] for i in order], new_parents, depths, [own[i] for i in order], None, nonpositive)


def _chart_tree(runs: Sequence[tuple[str, Weight]]) -> _Tree:
    """Runs in time order: a new node wherever a run stops sharing the previous run's frames."""
    names, parents, depths = [defaults.ROOT_NAME], [-1], [0]
    own: list[Weight] = [0]
    starts: list[Weight] = [0]
    path = [0]
    previous: list[str] = []
    position: Weight = 0
    nonpositive = 0
    for stack, w in runs:
        if not w > 0:
            nonpositive += 1
            continue
        frames = stack.split(";") if stack else []
        common = 0
        limit = min(len(frames), len(previous))
        while common < limit and frames[common] == previous[common]:
            common += 1
        del path[common + 1 :]
        for frame in frames[common:]:
            names.append(frame)
            parents.append(path[-1])
            depths.append(len(path))
            own.append(0)
            starts.append(position)
            path.append(len(names) - 1)
        own[path[-1]] += w
        position += w
        previous = frames
    return _Tree(names, parents, depths, own, starts, nonpositive)


def _widest_first(tree: _Tree, totals: list[Weight]) -> list[int]:
    """Pre-order with every node's children (stable-)sorted widest first."""
    kids: list[list[int]] = [[] for _ in tree.names]
    for i in range(1, len(tree.names)):
        kids[tree.parents[i]].append(i)
    order: list[int] = []
    todo = [0]
    while todo:
        i = todo.pop()
        order.append(i)
        if kids[i]:
            todo.extend(reversed(sorted(kids[i], key=lambda c: -totals[c])))
    return order


_Placed = tuple[list[str], list[int], list[Weight], list[Weight], list[int], Weight | None, int]


def _place(tree: _Tree, sort_by_weight: bool, min_weight: float, max_frames: int) -> _Placed:
    """The drawn frames of a tree: (names, depths, starts, weights, parents, cut, nonpositive)."""
    n = len(tree.names)
    totals = list(tree.own)
    parents = tree.parents
    for i in range(n - 1, 0, -1):
        totals[parents[i]] += totals[i]
    order = _widest_first(tree, totals) if sort_by_weight and tree.starts is None else range(n)
    drawn = [i == 0 or totals[i] >= min_weight for i in range(n)]
    cut: Weight | None = None
    count = sum(drawn)
    if count > max_frames:
        cut = heapq.nlargest(max_frames + 1, (w for w, d in zip(totals, drawn, strict=True) if d))[-1]
    names: list[str] = []
    depths: list[int] = []
    starts: list[Weight] = []
    weights: list[Weight] = []
    out_parents: list[int] = []
    index = [-1] * n
    position: Weight = 0
    for i in order:
        start = position if tree.starts is None else tree.starts[i]
        position += tree.own[i]
        if i and (not drawn[i] or (cut is not None and totals[i] <= cut)):
            continue
        index[i] = len(names)
        names.append(tree.names[i])
        depths.append(tree.depths[i])
        starts.append(start)
        weights.append(totals[i])
        out_parents.append(index[parents[i]] if i else -1)
    return names, depths, starts, weights, out_parents, cut, tree.nonpositive


def _native_threshold(min_weight: float) -> int:
    """The smallest integer weight at least `min_weight` (what the native core compares with)."""
    return min(max(math.ceil(min_weight), 0), 2**126)


def _finish(placed: _Placed, full: Weight, min_weight: float) -> Layout:
    names, depths, starts, weights, parents, cut, nonpositive = placed
    if names:
        names[0] = defaults.ROOT_NAME
    return Layout(
        names=names,
        depths=depths,
        starts=starts,
        weights=weights,
        parents=parents,
        span=full,
        min_weight=max(min_weight, cut) if cut is not None else min_weight,
        budget_limited=cut is not None and cut >= min_weight,
        nonpositive=nonpositive,
    )


def layout_flame(
    weights: Mapping[str, Weight],
    *,
    min_fraction: float = 0.0,
    max_frames: int = defaults.MAX_FRAMES,
    sort_by_weight: bool = False,
    span: Weight | None = None,
    native: bool = True,
) -> Layout:
    """Merge stacks into a flame graph: frames narrower than `min_fraction` of the full width are
    dropped, and at most `max_frames` are kept (the heaviest). `span` widens the full width
    beyond the total (several graphs on one scale); it never narrows it. `native=False` uses
    the Python twin only."""
    total = exact_sum(w for w in weights.values() if w > 0)
    stacks = weights if type(weights) is dict else dict(weights)
    return _layout(stacks, lambda: _flame_tree(stacks), total, span, min_fraction, max_frames, sort_by_weight, native)


def layout_table(
    table: StackTable,
    *,
    min_fraction: float = 0.0,
    max_frames: int = defaults.MAX_FRAMES,
    sort_by_weight: bool = False,
    span: Weight | None = None,
) -> Layout:
    """`layout_flame` of the stacks of a native table (`LazyProfile.table`): only the frames
    drawn become Python objects."""
    full = max(table.sums()[1], span or 0)
    min_weight = min_weight_for(full, min_fraction)
    try:
        placed = table.layout(_native_threshold(min_weight), min(max_frames, 2**62), sort_by_weight)
    except RuntimeError:  # a panic in the native core (a bug): the stacks as a dict instead
        placed = None
    if placed is None:
        return layout_flame(table.to_dict(), min_fraction=min_fraction, max_frames=max_frames, sort_by_weight=sort_by_weight, span=span)
    return _finish(placed, full, min_weight)


def exact_sum(weights: Iterable[Weight]) -> Weight:
    """The sum of `weights`, independent of their order (exact for integers, `math.fsum` once a
    float is among them), so a layout does not depend on the order stacks were folded in."""
    items = list(weights)
    return sum(items) if all(type(w) is int for w in items) else math.fsum(items)


def _layout(
    stacks: dict[str, Weight] | list[tuple[str, Weight]],
    twin: Callable[[], _Tree],
    total: Weight,
    span: Weight | None,
    min_fraction: float,
    max_frames: int,
    sort_by_weight: bool,
    native: bool,
) -> Layout:
    """A flame graph (`stacks` a dict) or chart (a list of runs), natively when the weights
    allow, else by the Python twin."""
    full = max(total, span or 0)
    min_weight = min_weight_for(full, min_fraction)
    placed = None
    core = native_core() if native and type(total) is int else None
    if core is not None:
        chart = isinstance(stacks, list)
        try:
            placed = core.layout_frames(stacks, chart, _native_threshold(min_weight), min(max_frames, 2**62), sort_by_weight)
        except RuntimeError:  # a panic in the native core (a bug): the twin gives the same layout
            placed = None
    if placed is None:
        placed = _place(twin(), sort_by_weight, min_weight, max_frames)
    return _finish(placed, full, min_weight)


def layout_chart(
    runs: Sequence[tuple[str, Weight]],
    *,
    min_fraction: float = 0.0,
    max_frames: int = defaults.MAX_FRAMES,
    span: Weight | None = None,
    native: bool = True,
) -> Layout:
    """A flame chart: `runs` (stack, weight) in time order, left to right; a frame spans the
    consecutive runs that share it. Narrow frames and the frame budget work as in `layout_flame`."""
    total = sum(w for _, w in runs if w > 0)
    listed = runs if type(runs) is list else list(runs)
    return _layout(listed, lambda: _chart_tree(listed), total, span, min_fraction, max_frames, False, native)


def layout_timeline(
    samples: Sequence[Sample],
    *,
    stack_of: Callable[[str], str] | None = None,
    min_fraction: float = 0.0,
    max_frames: int = defaults.MAX_FRAMES,
    span: Weight | None = None,
    native: bool = True,
) -> Layout:
    """The flame chart of timeline samples: `layout_chart` of their `chart_runs`, each run's
    stack through `stack_of` (`--reverse`). Natively from the timeline's arrays when the core is
    in use and the weights are int64 (no Python object per sample or run); the runs are the
    reference. Stacks of weight <= 0 are counted in `nonpositive`."""
    timeline = Timeline.of(samples)
    stacks = timeline.stacks if stack_of is None else [stack_of(s) for s in timeline.stacks]
    core = native_core() if native else None
    runs = native_chart_runs(timeline) if core is not None else None
    if core is not None and runs is not None:
        run_ids, run_weights, nonpositive, total = runs
        full = max(total, span or 0)
        min_weight = min_weight_for(full, min_fraction)
        try:
            placed = core.timeline_chart_layout(stacks, run_ids, run_weights, _native_threshold(min_weight), min(max_frames, 2**62))
        except RuntimeError:  # a panic in the native core (a bug): the twin gives the same layout
            placed = None
        if placed is not None:
            layout = _finish(placed, full, min_weight)
            layout.nonpositive += nonpositive
            return layout
    pairs, nonpositive = chart_runs(timeline)
    if stack_of is not None:
        pairs = [(stack_of(s), w) for s, w in pairs]
    layout = layout_chart(pairs, min_fraction=min_fraction, max_frames=max_frames, span=span, native=native)
    layout.nonpositive += nonpositive
    return layout
