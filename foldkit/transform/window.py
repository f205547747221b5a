"""`--time START..END`: keep the samples taken in a time window (FlameGraph's range-perf.pl)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from foldkit.errors import UsageError
from foldkit.lazy import regex
from foldkit.profile import Profile, Weight
from foldkit.timeline import Timeline

#: `Profile.meta` key recording the window kept, as absolute (start, end) seconds.
TIME_WINDOW = "time_window"

_UNITS = {"": 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6}
_BOUND = regex(globals(), "_BOUND", r"\s*(@?)\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*(s|ms|us)?\s*")


@dataclass(frozen=True)
class TimeWindow:
    """Samples with `start <= time < end` (seconds; either end may be open). Times are relative to
    the first sample unless `absolute`, which compares with the capture's own timestamps."""

    start: float | None = None
    end: float | None = None
    absolute: bool = False

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise UsageError(f"--time: the end ({self.end}) must come after the start ({self.start})")

    @classmethod
    def parse(cls, text: str) -> TimeWindow:
        """`START..END` in seconds (`2..5`, `..1.5`, `10..`, `250ms..750ms`); an `@` before a bound
        (`@911.2..@913`) makes the window absolute, in the capture's own clock."""
        if ".." not in text:
            raise UsageError(f"--time takes START..END in seconds (e.g. 2..5, ..1.5, @911.2..@913), not {text!r}")
        left, right = text.split("..", 1)
        bounds: list[float | None] = []
        absolute = False
        for side in (left, right):
            if not side.strip():
                bounds.append(None)
                continue
            m = _BOUND.fullmatch(side)
            if m is None:
                raise UsageError(f"--time: {side.strip()!r} is not a number of seconds (in {text!r})")
            absolute = absolute or bool(m.group(1))
            bounds.append(float(m.group(2)) * _UNITS[m.group(3) or ""])
        return cls(bounds[0], bounds[1], absolute)


def time_window(profile: Profile, options: TimeWindow) -> Profile:
    """Only the samples in the window, weights and counts recomputed from the timeline."""
    if profile.timeline is None:
        if not profile.weights:
            return replace(profile, weights={}, counts=None if profile.counts is None else {})
        what = f"{profile.format} input" if profile.format else "this profile"
        raise UsageError(
            f"--time needs per-sample timestamps, and {what} has none; perf script captures "
            "(with the time field, printed by default) have them"
        )
    timeline = Timeline.of(profile.timeline)
    first = timeline.first_time()
    if len(timeline) and first is None:
        raise UsageError("--time: the capture has no timestamps (perf script was run without the time field)")
    origin = 0.0 if options.absolute or first is None else first
    lo = -math.inf if options.start is None else origin + options.start
    hi = math.inf if options.end is None else origin + options.end
    timeline = timeline.window(lo, hi)
    totals, samples = timeline.sums()
    weights: dict[str, Weight] = {}
    counts: dict[str, int] = {}
    for stack, w, n in zip(timeline.stacks, totals, samples, strict=True):
        if n:
            weights[stack] = w
            counts[stack] = n
    meta = {**profile.meta, TIME_WINDOW: (lo, hi)}
    return replace(
        profile,
        weights=weights,
        counts=None if profile.counts is None else counts,
        timeline=timeline,
        meta=meta,
    )
