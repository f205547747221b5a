"""The statistics of `foldkit check`, in plain Python (no SciPy): one-sided tests of an increase in a
function's share of samples, Holm's multiple-testing correction, and the power calculation behind
the README's sample-count table.

A function's share of a profile is a proportion of samples. With one capture per side the samples
are taken as independent draws (binomial), and the test is the pooled two-proportion z-test. With
several captures per side the spread of the per-run shares is measured: each side's variance is
the larger of the function's own run-to-run variance and the binomial variance scaled by a
dispersion factor pooled over all functions, and the test is Welch's t-test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

_NORMAL = NormalDist()

#: Iteration cap and tolerance of the incomplete-beta continued fraction (converges in < 100
#: iterations for the degrees of freedom a check meets; 1e-14 is below any p-value we report).
_BETA_MAX_ITER = 300
_BETA_EPS = 1e-14
_TINY = 1e-300


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def normal_isf(p: float) -> float:
    """The z with P(Z > z) = p."""
    return _NORMAL.inv_cdf(1.0 - p)


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularised incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _BETA_MAX_ITER + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _BETA_EPS:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b), for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_cf(a, b, x) / a
    return 1.0 - front * _beta_cf(b, a, 1.0 - x) / b


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with `df` degrees of freedom (normal when df is infinite)."""
    if math.isinf(df):
        return normal_sf(t)
    if df <= 0 or math.isnan(t):
        return float("nan")
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error rate), in the input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class SideShares:
    """One function's shares of samples in the runs of one side."""

    counts: Sequence[float]  # samples in which the function appears (or is the leaf), per run
    totals: Sequence[float]  # samples per run

    @property
    def runs(self) -> int:
        """Number of runs."""
        return len(self.totals)

    def shares(self) -> list[float]:
        """The share in each run."""
        return [x / n if n else 0.0 for x, n in zip(self.counts, self.totals, strict=True)]

    def mean(self) -> float:
        """Mean of the per-run shares (the share itself with one run)."""
        s = self.shares()
        return sum(s) / len(s) if s else 0.0

    def run_variance(self) -> float | None:
        """Sample variance of the per-run shares (None with fewer than two runs)."""
        s = self.shares()
        if len(s) < 2:
            return None
        mu = sum(s) / len(s)
        return sum((x - mu) ** 2 for x in s) / (len(s) - 1)

    def binomial_variance(self, p: float) -> float:
        """Variance of one run's share if samples were independent draws with probability `p`,
        averaged over the runs."""
        inv = [1.0 / n for n in self.totals if n]
        return p * (1.0 - p) * (sum(inv) / len(inv)) if inv else 0.0


@dataclass(frozen=True)
class TestResult:
    """The outcome of one one-sided test of an increase in share."""

    base: float  # baseline share (mean over runs)
    cand: float  # candidate share
    delta: float  # cand - base
    se: float  # standard error of delta
    df: float  # degrees of freedom (inf: normal)
    statistic: float  # delta / se
    p: float  # one-sided p-value for "the share increased"


def pooled_share(base: SideShares, cand: SideShares) -> float:
    """The share over both sides' samples together (the null hypothesis' common share)."""
    n = sum(base.totals) + sum(cand.totals)
    return (sum(base.counts) + sum(cand.counts)) / n if n else 0.0


def increase_test(
    base: SideShares, cand: SideShares, dispersion: float = 1.0, pooled_df: float = math.inf
) -> TestResult:
    """One-sided test that `cand`'s share exceeds `base`'s.

    Each side's variance of its mean share is the larger of the function's run-to-run variance
    (when the side has several runs; Welch degrees of freedom) and the binomial variance at the
    pooled share times `dispersion` (degrees of freedom `pooled_df`). With one run per side and
    dispersion 1 this is the pooled two-proportion z-test.
    """
    b, c = base.mean(), cand.mean()
    delta = c - b
    p0 = pooled_share(base, cand)
    parts: list[tuple[float, float]] = []  # (variance of the mean, its degrees of freedom)
    for side in (base, cand):
        k = side.runs
        floor = dispersion * side.binomial_variance(p0) / k
        own = side.run_variance()
        if own is not None and own / k > floor:
            parts.append((own / k, k - 1.0))
        else:
            parts.append((floor, pooled_df))
    var = parts[0][0] + parts[1][0]
    if var <= 0.0:
        p = 1.0 if delta <= 0 else 0.0
        return TestResult(b, c, delta, 0.0, math.inf, math.copysign(math.inf, delta) if delta else 0.0, p)
    se = math.sqrt(var)
    denom = sum(v * v / d for v, d in parts if not math.isinf(d))
    df = var * var / denom if denom > 0 else math.inf
    stat = delta / se
    return TestResult(b, c, delta, se, df, stat, t_sf(stat, df))


def count_increase_test(
    base: Sequence[float], cand: Sequence[float], per_run: float, dispersion: float = 1.0
) -> TestResult:
    """One-sided test that a function's samples per run grew from the `base` runs to the `cand`
    runs, as fractions of `per_run` (the baseline's mean samples per run).

    Counts in a fixed time are Poisson: each side's variance of its mean count is the larger of
    its run-to-run variance (several runs; Welch degrees of freedom) and the pooled mean count
    times `dispersion`, over its number of runs.
    """
    scale = per_run if per_run > 0 else 1.0
    pooled = (sum(base) + sum(cand)) / (len(base) + len(cand))
    parts: list[tuple[float, float]] = []
    for side in (base, cand):
        k = len(side)
        floor = dispersion * pooled / k
        own = None
        if k > 1:
            mu = sum(side) / k
            own = sum((x - mu) ** 2 for x in side) / (k - 1)
        parts.append((own / k, k - 1.0) if own is not None and own / k > floor else (floor, math.inf))
    b, c = sum(base) / len(base) / scale, sum(cand) / len(cand) / scale
    delta = c - b
    var = (parts[0][0] + parts[1][0]) / (scale * scale)
    if var <= 0.0:
        return TestResult(b, c, delta, 0.0, math.inf, 0.0, 1.0 if delta <= 0 else 0.0)
    denom = sum((v / scale**2) ** 2 / d for v, d in parts if not math.isinf(d))
    df = var * var / denom if denom > 0 else math.inf
    se = math.sqrt(var)
    return TestResult(b, c, delta, se, df, delta / se, t_sf(delta / se, df))


def dispersion(pairs: Sequence[tuple[SideShares, float]]) -> tuple[float, float]:
    """Run-to-run dispersion pooled over functions: (factor >= 1, its degrees of freedom).

    `pairs` holds, for each tested function and side with several runs, its shares and the pooled
    share. The factor is the ratio of the summed observed run-to-run variances to the summed
    binomial variances (a quasi-binomial estimate); 1 when nothing can be estimated.
    """
    observed = expected = dof = 0.0
    for side, p in pairs:
        own = side.run_variance()
        if own is None:
            continue
        k = side.runs
        observed += own * (k - 1)
        expected += side.binomial_variance(p) * (k - 1)
        dof += k - 1
    if expected <= 0.0 or dof == 0:
        return 1.0, math.inf
    return max(1.0, observed / expected), dof


def detection_power(
    share: float,
    increase: float,
    n_base: float,
    n_cand: float,
    threshold: float,
    alpha: float,
    tests: int = 1,
) -> float:
    """Probability that a true increase `increase` (fractions) of a function at `share` is flagged
    with single captures of `n_base` and `n_cand` samples: the observed increase must exceed
    `threshold` and be significant at `alpha` / `tests` (Holm's bar for the strongest result)."""
    if n_base <= 0 or n_cand <= 0:
        return 0.0
    p1, p2 = share, min(1.0, share + increase)
    se = math.sqrt(p1 * (1 - p1) / n_base + p2 * (1 - p2) / n_cand)
    p0 = (p1 * n_base + p2 * n_cand) / (n_base + n_cand)
    se0 = math.sqrt(p0 * (1 - p0) * (1 / n_base + 1 / n_cand))
    bar = max(threshold, normal_isf(alpha / max(1, tests)) * se0)
    if se == 0:
        return 1.0 if p2 - p1 > bar else 0.0
    return 1.0 - _NORMAL.cdf((bar - (p2 - p1)) / se)


def required_samples(
    share: float,
    increase: float,
    threshold: float,
    alpha: float,
    tests: int = 1,
    power: float = 0.8,
    limit: int = 10**10,
) -> int | None:
    """The smallest equal sample count per side at which `detection_power` reaches `power`
    (None when it never does, e.g. when `increase` does not exceed `threshold`)."""
    if detection_power(share, increase, limit, limit, threshold, alpha, tests) < power:
        return None
    lo, hi = 1, 1
    while detection_power(share, increase, hi, hi, threshold, alpha, tests) < power:
        lo, hi = hi, hi * 2
    while hi - lo > max(1, lo // 1000):
        mid = (lo + hi) // 2
        if detection_power(share, increase, mid, mid, threshold, alpha, tests) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def smallest_detectable(
    share: float,
    n_base: float,
    n_cand: float,
    threshold: float,
    alpha: float,
    tests: int = 1,
    power: float = 0.8,
) -> float | None:
    """The smallest increase (fraction) of a function at `share` flagged with probability `power`
    given these sample counts (None if none up to the whole profile is)."""
    top = 1.0 - share
    if detection_power(share, top, n_base, n_cand, threshold, alpha, tests) < power:
        return None
    lo, hi = 0.0, top
    for _ in range(50):
        mid = (lo + hi) / 2
        if detection_power(share, mid, n_base, n_cand, threshold, alpha, tests) >= power:
            hi = mid
        else:
            lo = mid
    return hi
