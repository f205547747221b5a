"""`Timeline`: a profile's samples in order, as parallel arrays instead of one tuple per sample.

    times[i]    the sample's time in seconds (NaN when the capture printed none), float64
    ids[i]      its stack, an index into `stacks` (distinct folded stacks), uint32
    weights[i]  its weight: int64 when every weight is such an int, else a list of numbers

A `Timeline` is also a read-only sequence of `(time, stack, weight)` tuples (what
`Profile.timeline` held before, and may still hold: a plain list), made one at a time when asked
for. Flame charts (`chart_runs`), time windows (`window`), stack transforms (`map_stacks`) and
the viewer's Time view work on the arrays: natively (`foldkit._native.timeline_*`) when the
weights are int64, else by this module's Python code, which is the reference (tests check both
give the same, sample for sample).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence

from foldkit.native import native_core

#: `typing.TYPE_CHECKING` without importing typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, overload

Weight = int | float
Sample = tuple[float, str, Weight]

_INT64 = 2**63


def _int64(weights: Iterable[Weight]) -> array | None:
    """The weights as an int64 array when every one is an int within int64, else None."""
    values = weights if isinstance(weights, list) else list(weights)
    if all(type(w) is int and -_INT64 <= w < _INT64 for w in values):
        return array("q", values)
    return None


class Timeline(Sequence[Sample]):
    """Samples in order as arrays (see the module docstring)."""

    def __init__(self, stacks: list[str], times: array, ids: array, weights: array | list[Weight]) -> None:
        self.stacks = stacks
        self.times = times
        self.ids = ids
        self.weights = weights

    @classmethod
    def empty(cls) -> Timeline:
        """No samples."""
        return cls([], array("d"), array("I"), array("q"))

    @classmethod
    def from_samples(cls, samples: Iterable[Sample]) -> Timeline:
        """The timeline of `(time, stack, weight)` tuples, stacks numbered as first met."""
        index: dict[str, int] = {}
        stacks: list[str] = []
        times = array("d")
        ids = array("I")
        weights: list[Weight] = []
        for t, stack, w in samples:
            i = index.get(stack)
            if i is None:
                i = index[stack] = len(stacks)
                stacks.append(stack)
            times.append(t)
            ids.append(i)
            weights.append(w)
        packed = _int64(weights)
        return cls(stacks, times, ids, packed if packed is not None else weights)

    @classmethod
    def of(cls, samples: Iterable[Sample]) -> Timeline:
        """`samples` as a `Timeline` (itself when it is one)."""
        return samples if isinstance(samples, Timeline) else cls.from_samples(samples)

    @classmethod
    def from_arrays(cls, stacks: list[str], times: bytes, ids: bytes, weights: bytes | Sequence[Weight]) -> Timeline:
        """A timeline from the native core's bytes (float64 times, uint32 ids, int64 weights or a list)."""
        t, i = array("d"), array("I")
        t.frombytes(times)
        i.frombytes(ids)
        if not isinstance(weights, bytes):
            return cls(stacks, t, i, list(weights))
        w = array("q")
        w.frombytes(weights)
        return cls(stacks, t, i, w)

    def __len__(self) -> int:
        return len(self.ids)

    if TYPE_CHECKING:  # (typing is not imported at run time)

        @overload
        def __getitem__(self, i: int) -> Sample: ...
        @overload
        def __getitem__(self, i: slice) -> list[Sample]: ...

    def __getitem__(self, i: int | slice) -> Sample | list[Sample]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return (self.times[i], self.stacks[self.ids[i]], self.weights[i])

    def __iter__(self) -> Iterator[Sample]:
        stacks = self.stacks
        for t, i, w in zip(self.times, self.ids, self.weights, strict=True):
            yield (t, stacks[i], w)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        if len(self) != len(other):
            return False
        for (t, s, w), (u, s2, w2) in zip(self, other, strict=True):
            if s != s2 or w != w2 or not (t == u or (math.isnan(t) and math.isnan(u))):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))

    def has_times(self) -> bool:
        """True when some sample has a time (not NaN)."""
        return self.first_time() is not None

    def first_time(self) -> float | None:
        """The earliest time that is not NaN, or None."""
        core = native_core()
        if core is not None:
            return core.timeline_first_time(self.times.tobytes())
        return min((t for t in self.times if not math.isnan(t)), default=None)

    def sums(self) -> tuple[list[Weight], list[int]]:
        """Per stack id: the sum of its samples' weights, and their number."""
        core = native_core()
        if core is not None and isinstance(self.weights, array):
            totals, counts = core.timeline_sums(self.ids.tobytes(), self.weights.tobytes(), len(self.stacks))
            return list[Weight](totals), counts
        totals_py: list[Weight] = [0] * len(self.stacks)
        counts_py = [0] * len(self.stacks)
        for i, w in zip(self.ids, self.weights, strict=True):
            totals_py[i] += w
            counts_py[i] += 1
        return totals_py, counts_py

    def filtered(self, stacks: list[str], mapping: Sequence[int] | None, window: tuple[float, float] | None) -> Timeline:
        """The samples whose stack `mapping` keeps (`mapping[id]` the new id into `stacks`, -1 to
        drop; None keeps every one) and, with `window` (lo, hi), whose time is in `lo <= t < hi`."""
        core = native_core()
        if core is not None and isinstance(self.weights, array):
            raw = None if mapping is None else array("q", mapping).tobytes()
            t, i, w = core.timeline_filter(self.times.tobytes(), self.ids.tobytes(), self.weights.tobytes(), raw, window)
            return Timeline.from_arrays(stacks, t, i, w)
        times, ids = array("d"), array("I")
        weights: list[Weight] = []
        lo, hi = window if window is not None else (-math.inf, math.inf)
        for t, i, w in zip(self.times, self.ids, self.weights, strict=True):
            if window is not None and not lo <= t < hi:
                continue
            new = i if mapping is None else mapping[i]
            if new < 0:
                continue
            times.append(t)
            ids.append(new)
            weights.append(w)
        packed = _int64(weights) if isinstance(self.weights, array) else None
        return Timeline(stacks, times, ids, packed if packed is not None else weights)

    def split(self, group: Sequence[int], groups: int) -> list[Timeline]:
        """The samples in `groups` parts, in one pass: a sample goes to part `group[its id]` (none
        when negative); a part's stacks are its group's, in the order of their ids."""
        stacks: list[list[str]] = [[] for _ in range(groups)]
        local = array("I")
        for stack, g in zip(self.stacks, group, strict=True):
            local.append(len(stacks[g]) if g >= 0 else 0)
            if g >= 0:
                stacks[g].append(stack)
        core = native_core()
        if core is not None and isinstance(self.weights, array):
            raw = core.timeline_split(
                self.times.tobytes(), self.ids.tobytes(), self.weights.tobytes(), array("q", group).tobytes(), local.tobytes(), groups
            )
            return [Timeline.from_arrays(stacks[k], *part) for k, part in enumerate(raw)]
        parts = [Timeline(stacks[k], array("d"), array("I"), array("q") if isinstance(self.weights, array) else []) for k in range(groups)]
        for t, i, w in zip(self.times, self.ids, self.weights, strict=True):
            g = group[i]
            if g >= 0:
                part = parts[g]
                part.times.append(t)
                part.ids.append(local[i])
                part.weights.append(w)
        return parts

    def window(self, lo: float, hi: float) -> Timeline:
        """The samples with `lo <= time < hi` (untimed ones never are)."""
        return self.filtered(self.stacks, None, (lo, hi))

    def map_stacks(self, new_stacks: Sequence[str | None]) -> Timeline:
        """Every sample's stack replaced by `new_stacks[its id]` (None drops the sample); stacks
        that become equal share one id."""
        index: dict[str, int] = {}
        stacks: list[str] = []
        mapping: list[int] = []
        for new in new_stacks:
            if new is None:
                mapping.append(-1)
                continue
            i = index.get(new)
            if i is None:
                i = index[new] = len(stacks)
                stacks.append(new)
            mapping.append(i)
        if stacks == self.stacks:
            return self  # nothing changed (a timeline's stacks are never modified in place)
        return self.filtered(stacks, mapping, None)

    def keep_stacks(self, keep: Callable[[str], bool]) -> Timeline:
        """Only the samples whose stack `keep` accepts."""
        return self.map_stacks([s if keep(s) else None for s in self.stacks])


def concat(parts: Iterable[Sequence[Sample]]) -> Timeline:
    """The samples of every part, one part after the other (parts sharing one stack list, as a
    native fold's chunks do, are joined without renumbering)."""
    timelines = [Timeline.of(p) for p in parts]
    if not timelines:
        return Timeline.empty()
    if len(timelines) == 1:
        return timelines[0]
    base = timelines[0].stacks
    stacks = list(base)
    index: dict[str, int] | None = None
    mappings: dict[int, list[int]] = {id(base): list(range(len(base)))}  # per stack list
    times, ids = array("d"), array("I")
    ints = all(isinstance(p.weights, array) for p in timelines)
    weights: array | list[Weight] = array("q") if ints else []
    for part in timelines:
        if part.stacks is not base:
            mapping = mappings.get(id(part.stacks))
            if mapping is None:
                if index is None:
                    index = {s: i for i, s in enumerate(stacks)}
                mapping = mappings[id(part.stacks)] = []
                for s in part.stacks:
                    i = index.get(s)
                    if i is None:
                        i = index[s] = len(stacks)
                        stacks.append(s)
                    mapping.append(i)
            part = part.filtered(stacks, mapping, None)
        times.extend(part.times)
        ids.extend(part.ids)
        weights.extend(part.weights)
    return Timeline(stacks, times, ids, weights)


def has_times(samples: Sequence[Sample] | None) -> bool:
    """True when some sample has a time (not NaN)."""
    if isinstance(samples, Timeline):
        return samples.has_times()
    return any(not math.isnan(t) for t, _, _ in samples or ())


def sorted_by_time(timeline: Sequence[Sample]) -> Timeline:
    """The samples sorted by time as `sorted(samples, key=time)` sorts them (the same
    comparisons, so NaNs land where that sort leaves them; natively when no time is NaN)."""
    tl = Timeline.of(timeline)
    core = native_core()
    if core is not None and isinstance(tl.weights, array):
        got = core.timeline_sorted(tl.times.tobytes(), tl.ids.tobytes(), tl.weights.tobytes())
        if got is not None:
            return Timeline.from_arrays(tl.stacks, *got)
    times = tl.times
    order = sorted(range(len(tl)), key=times.__getitem__)
    weights = tl.weights
    new_weights: array | list[Weight] = array("q") if isinstance(weights, array) else []
    new_weights.extend(weights[i] for i in order)
    return Timeline(tl.stacks, array("d", (times[i] for i in order)), array("I", (tl.ids[i] for i in order)), new_weights)


def chart_runs(timeline: Sequence[Sample]) -> tuple[list[tuple[str, Weight]], int]:
    """Samples in time order (stable; untimed ones keep their place at the end), consecutive
    samples of the same stack merged: (runs as (stack, weight), non-positive count). The reference
    for `native_chart_runs`."""
    rows = list(timeline)
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


def native_chart_runs(timeline: Timeline) -> tuple[bytes, bytes, int, int] | None:
    """`chart_runs` in the native core: (run stack ids as uint32 bytes, run weights as int64
    bytes, non-positive count, total), or None when the core is not in use, the weights are not
    int64 or a run's weight is beyond int64 (then `chart_runs`)."""
    core = native_core()
    if core is None or not isinstance(timeline.weights, array):
        return None
    got: Any = core.timeline_runs(timeline.times.tobytes(), timeline.ids.tobytes(), timeline.weights.tobytes())
    return got
