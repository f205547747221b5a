"""Frame layout: from folded stacks to the frames a flame graph draws, with their geometry in weight
units. No pixels here (svg.py converts), no recursion anywhere (stacks can be 10,000 frames deep).

`layout_flame(weights, ...)` merges stacks into a tree (siblings alphabetical, or widest first)
and `layout_chart(runs, ...)` keeps time order (a frame spans consecutive samples that share it).
Both return a `Layout`: parallel lists, one entry per drawn frame, in depth-first pre-order (a
frame comes before its descendants; siblings left to right), frame 0 being the root `all`:

    names[i]    the frame name (full, annotations kept; "all" for the root)
    depths[i]   0 for the root, 1 for the outermost frames of the stacks, ...
    starts[i]   left edge: weight to the left of the frame in the whole graph
    weights[i]  inclusive weight (the frame and everything it called)
    parents[i]  index of the parent frame (-1 for the root)
    path(i)     the folded stack prefix the frame stands for ("a;b;c"; "" for the root)

A frame's pixel width is `weights[i] / span * plot_width`, so widths are exact shares.

How it stays fast: the stacks are turned into sort keys (frames separated by a character lower
than any other), sorted once, and summed into prefix sums. The stacks under one frame are then a
contiguous range of the sorted keys, its weight a difference of two prefix sums, and the range of
each child one binary search away. The tree is never materialised: frames are expanded heaviest
first from a heap, and only frames at least `min_weight` wide are pushed. Narrow children are
skipped in bulk: if the stacks from i to j-1 weigh less than `min_weight` together, no child that
ends before j can be drawn, and one binary search in the prefix sums finds j. So the cost follows
the number of drawn frames, not the number of frames or stacks in the input. Expanding heaviest
first is also how the frame budget works: after `max_frames` frames the next frame's weight
becomes the new minimum. Flame charts work the same way on runs in time order, except that a
child's runs are found by walking (they are consecutive, not sorted).

Differential graphs (`foldkit diff`) lay out one profile and look up the other's weight of each
frame with `StackIndex(other).inclusive(layout.path(i))`.
"""

from __future__ import annotations

import heapq
import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, repeat
from operator import contains

from foldkit.profile import Weight
from foldkit.render import defaults

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
    _keys: list[str] = field(default_factory=list, repr=False)
    _escaped: bool = field(default=False, repr=False)

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
        key = self._keys[i]
        if self._escaped:
            return ";".join(_unescape(part) for part in key.split(_SEP)) if key else ""
        return key.replace(_SEP, ";")

    def paths(self) -> list[str]:
        """`path(i)` of every frame."""
        return [self.path(i) for i in range(len(self.names))]


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
class _Picked:
    """Frames chosen by the heap walk, in the order they were picked (non-increasing weight)."""

    lo: list[int] = field(default_factory=list)
    hi: list[int] = field(default_factory=list)
    depth: list[int] = field(default_factory=list)
    nstart: list[int] = field(default_factory=list)
    plen: list[int] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    weight: list[Weight] = field(default_factory=list)

    def add(self, lo: int, hi: int, depth: int, nstart: int, plen: int, parent: int, weight: Weight) -> None:
        self.lo.append(lo)
        self.hi.append(hi)
        self.depth.append(depth)
        self.nstart.append(nstart)
        self.plen.append(plen)
        self.parent.append(parent)
        self.weight.append(weight)

    def drop_from(self, n: int) -> None:
        for column in (self.lo, self.hi, self.depth, self.nstart, self.plen, self.parent, self.weight):
            del column[n:]


def _trim_to_budget(picked: _Picked, cut: Weight | None) -> None:
    """Drop the picked frames that weigh no more than `cut` (ties at the budget's edge go together,
    and with them their descendants, which weigh no more)."""
    if cut is None:
        return
    n = len(picked.weight)
    while n > 1 and picked.weight[n - 1] <= cut:
        n -= 1
    picked.drop_from(n)


def _finish(
    picked: _Picked,
    keys: list[str],
    escaped: bool,
    cum: list[Weight],
    starts_of: list[Weight] | None,
    sort_by_weight: bool,
) -> Layout:
    """Put the picked frames in depth-first pre-order with names, starts and parent indexes."""
    m = len(picked.lo)
    children: list[list[int]] = [[] for _ in range(m)]
    for i in range(1, m):
        children[picked.parent[i]].append(i)
    lo = picked.lo
    weight = picked.weight
    for kids in children:
        if len(kids) > 1:
            if sort_by_weight:
                kids.sort(key=lambda c: (-weight[c], lo[c]))
            else:
                kids.sort(key=lo.__getitem__)
    starts: list[Weight] = [cum[x] for x in lo] if starts_of is None else starts_of
    if sort_by_weight:
        for p in range(m):
            if children[p]:
                k = keys[lo[p]]
                own = cum[lo[p] + 1] - cum[lo[p]] if len(k) == picked.plen[p] else 0
                pos = starts[p] + own
                for c in children[p]:
                    starts[c] = pos
                    pos += weight[c]
    order: list[int] = []
    todo = [0]
    while todo:
        i = todo.pop()
        order.append(i)
        kids = children[i]
        if kids:
            todo.extend(reversed(kids))
    where = [0] * m
    for new, old in enumerate(order):
        where[old] = new
    names: list[str] = []
    path_keys: list[str] = []
    for old in order:
        if old == 0:
            names.append(defaults.ROOT_NAME)
            path_keys.append("")
            continue
        k = keys[lo[old]]
        name = k[picked.nstart[old] : picked.plen[old]]
        names.append(_unescape(name) if escaped else name)
        path_keys.append(k[: picked.plen[old]])
    parents = [where[picked.parent[old]] if old else -1 for old in order]
    return Layout(
        names=names,
        depths=[picked.depth[old] for old in order],
        starts=[starts[old] for old in order],
        weights=[weight[old] for old in order],
        parents=parents,
        _keys=path_keys,
        _escaped=escaped,
    )


def layout_flame(
    weights: Mapping[str, Weight] | StackIndex,
    *,
    min_fraction: float = 0.0,
    max_frames: int = defaults.MAX_FRAMES,
    sort_by_weight: bool = False,
    span: Weight | None = None,
) -> Layout:
    """Merge stacks into a flame graph: frames narrower than `min_fraction` of the full width are
    dropped, and at most `max_frames` are kept (the heaviest). `span` widens the full width
    beyond the total (several graphs on one scale); it never narrows it."""
    index = weights if isinstance(weights, StackIndex) else StackIndex(weights)
    keys, cum = index.keys, index.cum
    total = index.total
    full = max(total, span or 0)
    min_weight = min_weight_for(full, min_fraction)
    picked = _Picked()
    heap: list[tuple[Weight, int, int, int, int, int, int, int]] = [(-total, 0, 0, len(keys), 0, 0, 0, -1)]
    seq = 1
    cut: Weight | None = None
    push = heapq.heappush
    pop = heapq.heappop
    while heap:
        negw, _, lo, hi, depth, nstart, plen, parent = pop(heap)
        if len(picked.lo) >= max_frames:
            cut = -negw
            break
        me = len(picked.lo)
        picked.add(lo, hi, depth, nstart, plen, parent, -negw)
        i = lo
        if i < hi and len(keys[i]) == plen:
            i += 1  # the stack that ends at this frame: its self weight
        cstart = plen + 1 if depth else 0
        cdepth = depth + 1
        while i < hi:
            # Stacks i..last-1 weigh less than min_weight together, so every child that ends
            # before `last` is too narrow: skip to the child that holds stack last-1.
            last = bisect_left(cum, cum[i] + min_weight, i + 1, hi + 1)
            if last > hi:
                break
            k = keys[last - 1]
            end = k.find(_SEP, cstart)
            if end < 0:
                end = len(k)
            prefix = k[:end]
            first = bisect_left(keys, prefix, i, last - 1) if last - 1 > i else i
            j = bisect_left(keys, prefix + _AFTER_SEP, last, hi)
            w = cum[j] - cum[first]
            if w >= min_weight:
                push(heap, (-w, seq, first, j, cdepth, cstart, end, me))
                seq += 1
            i = j
    _trim_to_budget(picked, cut)
    layout = _finish(picked, keys, index.escaped, cum, None, sort_by_weight)
    layout.span = full
    layout.min_weight = max(min_weight, cut) if cut is not None else min_weight
    layout.budget_limited = cut is not None and cut >= min_weight
    layout.nonpositive = index.nonpositive
    return layout


def chart_runs(samples: Iterable[tuple[float, str, Weight]]) -> tuple[list[tuple[str, Weight]], int]:
    """Timeline samples (time, stack, weight) in time order (stable; untimed ones keep their place
    at the end), consecutive samples of the same stack merged. Returns (runs, non-positive count)."""
    rows = list(samples)
    if any(not math.isnan(t) for t, _, _ in rows):
        rows.sort(key=lambda r: math.inf if math.isnan(r[0]) else r[0])
    runs: list[tuple[str, Weight]] = []
    nonpositive = 0
    last: str | None = None
    acc: Weight = 0
    for _, stack, w in rows:
        if w <= 0:
            nonpositive += 1
            continue
        if stack == last:
            acc += w
            continue
        if last is not None:
            runs.append((last, acc))
        last, acc = stack, w
    if last is not None:
        runs.append((last, acc))
    return runs, nonpositive


def layout_chart(
    runs: Sequence[tuple[str, Weight]],
    *,
    min_fraction: float = 0.0,
    max_frames: int = defaults.MAX_FRAMES,
    span: Weight | None = None,
) -> Layout:
    """A flame chart: `runs` (stack, weight) in time order, left to right; a frame spans the
    consecutive runs that share it. Narrow frames and the frame budget work as in `layout_flame`."""
    pairs = [(s, w) for s, w in runs if w > 0]
    distinct = list(dict.fromkeys(s for s, _ in pairs))  # runs repeat stacks: convert each once
    distinct_keys, escaped = _make_keys(distinct)
    key_of = dict(zip(distinct, distinct_keys, strict=True))
    keys = [key_of[s] for s, _ in pairs]
    cum: list[Weight] = [0, *accumulate(w for _, w in pairs)]
    total = cum[-1]
    full = max(total, span or 0)
    min_weight = min_weight_for(full, min_fraction)
    picked = _Picked()
    heap: list[tuple[Weight, int, int, int, int, int, int, int]] = [(-total, 0, 0, len(keys), 0, 0, 0, -1)]
    seq = 1
    cut: Weight | None = None
    while heap:
        negw, _, lo, hi, depth, nstart, plen, parent = heapq.heappop(heap)
        if len(picked.lo) >= max_frames:
            cut = -negw
            break
        me = len(picked.lo)
        picked.add(lo, hi, depth, nstart, plen, parent, -negw)
        cstart = plen + 1 if depth else 0
        cdepth = depth + 1
        i = lo
        while i < hi:
            # Runs i..last-1 weigh less than min_weight together: every child that ends before
            # `last` is too narrow. Look only at the child holding run last-1, and walk to its
            # first and last run (a child is the consecutive runs that share its frame).
            last = bisect_left(cum, cum[i] + min_weight, i + 1, hi + 1)
            if last > hi:
                break
            k = keys[last - 1]
            if len(k) == plen:
                i = last  # that run ends at this frame
                continue
            end = k.find(_SEP, cstart)
            if end < 0:
                end = len(k)
            prefix = k[:end]
            below = prefix + _SEP
            first = last - 1
            whole = prefix if end else None  # "" is the empty stack, not a frame named ""
            while first > i and (keys[first - 1] == whole or keys[first - 1].startswith(below)):
                first -= 1
            j = last
            while j < hi and (keys[j] == whole or keys[j].startswith(below)):
                j += 1
            w = cum[j] - cum[first]
            if w >= min_weight:
                heapq.heappush(heap, (-w, seq, first, j, cdepth, cstart, end, me))
                seq += 1
            i = j
    _trim_to_budget(picked, cut)
    layout = _finish(picked, keys, escaped, cum, None, False)
    layout.span = full
    layout.min_weight = max(min_weight, cut) if cut is not None else min_weight
    layout.budget_limited = cut is not None and cut >= min_weight
    layout.nonpositive = len(runs) - len(pairs)
    return layout
