"""What processing one capture yields: the facts that go into the index row and the summary files.

Small on purpose: a worker sends one `CaptureResult` back to the parent, which keeps one per
capture, never a profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: Statuses of a capture: read fine, read with warnings, could not be read, not a capture (a file
#: in a folder that no format recognises; listed, but without a row).
STATUSES = ("ok", "warning", "error", "skipped")


@dataclass(frozen=True)
class TopFunction:
    """One of the heaviest functions by self weight."""

    name: str
    self_weight: float
    self_pct: float


@dataclass(frozen=True)
class Regression:
    """A function whose share grew significantly beyond the threshold against the baseline."""

    name: str
    measure: str  # "total" (inclusive) or "self"
    base_pct: float
    cand_pct: float
    delta_pp: float
    p_adjusted: float


@dataclass
class CheckSummary:
    """The verdict of `foldkit check` against the baseline, or why there is none."""

    passed: bool | None  # None: the check could not be made (`error` says why)
    verdict: str
    regressions: list[Regression] = field(default_factory=list)
    error: str | None = None
    underpowered: bool = False  # passed, but could not have seen a moderate regression (one run a side)


@dataclass
class CaptureResult:
    """One capture as the report shows it."""

    name: str
    path: str
    slug: str
    status: str = "ok"
    error: str | None = None
    format: str | None = None
    compression: str | None = None
    event: str | None = None
    unit: str | None = None
    weight: float | None = None
    samples: int | None = None
    stacks: int | None = None
    time_start: float | None = None
    time_end: float | None = None
    top: list[TopFunction] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    check: CheckSummary | None = None
    is_baseline: bool = False
    files: dict[str, str] = field(default_factory=dict)  # kind -> file name in the capture's folder
    digests: dict[str, tuple[int, str]] = field(default_factory=dict)  # file name -> (size, SHA-256) as written
    seconds: float = 0.0

    @property
    def time_span(self) -> float | None:
        """Seconds from the first to the last timestamped sample, when the capture has timestamps."""
        if self.time_start is None or self.time_end is None:
            return None
        span = self.time_end - self.time_start
        return span if math.isfinite(span) else None

    @property
    def regressed(self) -> bool:
        """The check against the baseline failed."""
        return self.check is not None and self.check.passed is False
