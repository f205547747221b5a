"""Sample counts for statistics: a check must count samples, not sum periods.

perf weights a sample by its period (nanoseconds for cpu-clock, events for cycles), so a perf
profile's weights say nothing about how many samples stand behind a share; the perf folder records
the number of samples per stack in `Profile.counts`, and that is what the tests use. Other inputs
(folded files, BPF maps) carry no counts: their weights are taken as counts, except that integer
weights sharing a large common factor are recognised as fixed-period perf weights and divided by it.
"""

from __future__ import annotations

import math

from foldkit.errors import UsageError
from foldkit.native import native_core
from foldkit.profile import LazyProfile, Profile, StackTable

#: Integer weights whose greatest common divisor is at least this are taken to be a fixed sampling
#: period (perf's cpu-clock at 99 Hz gives 10101010 ns); genuine counts are almost never all
#: multiples of 1000.
PERIOD_GCD_MIN = 1000
#: Without sample counts, a mean weight per stack above this suggests the weights are sums (of
#: nanoseconds, bytes) rather than counts: a sampling profile reaches it only at millions of samples
#: per distinct stack.
IMPLAUSIBLE_MEAN_COUNT = 1_000_000
#: Units that mean time, not samples: such weights cannot be turned into counts.
TIME_UNITS = ("ns", "us", "µs", "ms", "s", "nsecs", "usecs", "msecs")


def sample_counts(profile: Profile, warnings: list[str] | None = None) -> dict[str, int]:
    """Samples per stack of `profile` (zero-count stacks dropped); UsageError when the input has no
    sample counts and its weights cannot be counts."""
    name = ", ".join(profile.sources) or "input"
    if profile.counts is not None:
        return {s: int(c) for s, c in profile.counts.items() if c}
    values = list(profile.weights.values())
    ints = [int(v) for v in values if float(v).is_integer()]
    fixed_period = len(ints) == len(values) and bool(ints) and math.gcd(*ints) >= PERIOD_GCD_MIN
    if profile.unit in TIME_UNITS and not fixed_period:  # cpu-clock folded with --unit-header has one
        raise UsageError(
            f"{name}: weights are times ({profile.unit}) and the input has no sample counts; "
            "foldkit check needs samples (fold perf captures from perf script text, or use a "
            "sampling profile rather than an off-CPU time profile)"
        )
    if not all(float(v).is_integer() for v in values):
        raise UsageError(
            f"{name}: fractional weights are not sample counts; foldkit check needs the number of "
            "samples per stack (fold with --weight samples)"
        )
    ints = [int(v) for v in values]
    g = math.gcd(*ints) if ints else 1
    if g >= PERIOD_GCD_MIN:
        if warnings is not None:
            warnings.append(
                f"{name}: every weight is a multiple of {g}; taking that as the sampling period "
                "and dividing by it to get sample counts (fold with --weight samples to avoid this guess)"
            )
        return {s: w // g for s, w in zip(profile.weights, ints, strict=True) if w}
    if ints and warnings is not None:
        _plausible(name, sum(ints), len(ints), warnings)
    return {s: w for s, w in zip(profile.weights, ints, strict=True) if w}


def _plausible(name: str, total: int, stacks: int, warnings: list[str]) -> None:
    """Warn when `stacks` stacks of `total` samples look like sums rather than counts."""
    if total / stacks > IMPLAUSIBLE_MEAN_COUNT:
        warnings.append(
            f"{name}: {total / stacks:,.0f} per stack on average; if these weights are sums "
            "(nanoseconds, bytes) rather than counts, the p-values are meaningless and only "
            "--max-increase decides"
        )


def counted_table(profile: Profile, roots: int, warnings: list[str]) -> tuple[StackTable, int, int] | None:
    """`(table, samples, samples of stacks with no frame after the first `roots`)` of a profile
    whose stacks are still in the native table and whose weights are what `sample_counts` counts
    as they stand (integers, not times, no common sampling period to divide by, no separate
    counts), with `sample_counts`' warnings; None otherwise (count with `sample_counts`)."""
    native = native_core()
    table = profile.table if isinstance(profile, LazyProfile) else None
    if native is None or table is None or profile.has_counts or profile.unit in TIME_UNITS:
        return None
    found = native.table_check_totals(table, roots)
    if found is None or not len(table):
        return None
    samples, no_code, divisor = found
    if divisor >= PERIOD_GCD_MIN:
        return None
    _plausible(", ".join(profile.sources) or "input", samples, len(table), warnings)
    return table, samples, no_code
