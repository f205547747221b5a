"""The statistics of `foldkit check`, in plain Python (no SciPy): one-sided tests of an increase in a
function's share (or count) of samples, the run-to-run noise they rest on, Holm's multiple-testing
correction, and the power calculations behind the README's tables.

A function's samples in a run vary for two reasons: sampling (binomial for shares, Poisson for
counts), and run-to-run variation of how fast the function ran (caches, frequency, a busy sibling
core), which is proportional to its time: a relative standard deviation tau per run, the same kind of
noise for every function (the negative-binomial model of sequencing counts). So a function's
variance is its sampling variance times a dispersion that grows with its size,
phi = 1 + tau^2 * g, where g is its expected samples per run (over 1 - share, for shares). Two runs
of one function cannot estimate its variance, so tau^2 is estimated across all functions of both
sides (a moment estimate from each function's Pearson statistic around its side's share) and never
taken below RUN_NOISE_FLOOR: runs recorded close together share a machine state and agree with each
other better than with runs recorded later, which a few runs cannot show. Each function's own
dispersion is then shrunk toward the model's with an empirical-Bayes prior whose weight is estimated
from how much the functions differ (as limma does for gene-expression variances). With one run a
side there is nothing to estimate and only a conservative prior speaks, which is why such a check
can claim only large changes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from foldkit.regression.defaults import DEFAULT_RUN_NOISE

#: sqrt(2), as `statistics.NormalDist` divides by it.
_SQRT2 = math.sqrt(2.0)

#: Iteration cap and tolerance of the incomplete-beta continued fraction (converges in < 100
#: iterations for the degrees of freedom a check meets; 1e-14 is below any p-value we report).
_BETA_MAX_ITER = 300
_BETA_EPS = 1e-14
_TINY = 1e-300

#: The sampling part of the dispersion a check assumes when it has no repeated run to measure the
#: noise (one capture a side), and its weight in degrees of freedom: four times the binomial variance
#: with the heavy tails of 4 degrees of freedom, so that one odd run (a small function jumping from
#: 0.65% to 4.7% of 5,000 samples, z = 12 under pure sampling) is not a regression.
PRIOR_DISPERSION = 4.0
PRIOR_DF = 4.0
#: The least run-to-run variation of a function's time assumed (relative standard deviation per run;
#: see `defaults.DEFAULT_RUN_NOISE` for how it was measured).
RUN_NOISE_FLOOR = DEFAULT_RUN_NOISE / 100.0
#: A function's runs count towards the noise estimate only when its expected samples (and
#: non-samples) per run are at least this, where the Pearson statistic behaves like chi-square.
MIN_EXPECTED = 5.0
#: Least weight, in degrees of freedom, of the model's dispersion against a function's own.
MIN_SPREAD_DF = 4.0
#: Fewest functions with a dispersion estimate needed to estimate how much they differ (below this
#: every function takes the model's dispersion).
MIN_ROWS_FOR_SPREAD = 3


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def normal_cdf(z: float) -> float:
    """P(Z <= z) for a standard normal Z: `statistics.NormalDist().cdf(z)`, bit for bit, without
    importing statistics (with fractions, decimal and random) into every check."""
    return 0.5 * (1.0 + math.erf(z / _SQRT2))


def normal_isf(p: float) -> float:
    """The z with P(Z > z) = p."""
    from statistics import NormalDist  # (on use: infinite degrees of freedom only)

    return NormalDist().inv_cdf(1.0 - p)


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


def holm(pvalues: Sequence[float], weights: Sequence[float] | None = None) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error rate), in the input order; with
    `weights`, the weighted Holm procedure (Holm 1979): a test of weight w gets w / (the remaining
    weight) of alpha at its step, so heavier tests are easier to reject, the family-wise error rate
    staying at most alpha. Equal weights give plain Holm."""
    m = len(pvalues)
    w = [1.0] * m if weights is None else [float(x) for x in weights]
    order = sorted(range(m), key=lambda i: pvalues[i] / w[i])
    remaining = sum(w)
    adjusted = [1.0] * m
    running = 0.0
    for i in order:
        running = max(running, min(1.0, pvalues[i] * remaining / w[i]))
        adjusted[i] = running
        remaining -= w[i]
    return adjusted


@dataclass(frozen=True)
class SideShares:
    """One function's samples in the runs of one side."""

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
        """The side's share: its samples of the function over all its samples."""
        n = sum(self.totals)
        return sum(self.counts) / n if n else 0.0

    def pearson(self) -> tuple[float, float]:
        """(Pearson statistic, degrees of freedom) of the runs' counts around the side's share under
        the binomial model; (0, 0) when that share is 0 or 1 (nothing to measure)."""
        p = self.mean()
        if self.runs < 2 or min(min(p, 1.0 - p) * n for n in self.totals) < MIN_EXPECTED:
            return 0.0, 0.0
        x2 = sum((x - n * p) ** 2 / (n * p * (1.0 - p)) for x, n in zip(self.counts, self.totals, strict=True) if n)
        return x2, self.runs - 1.0

    def noise(self) -> Noise:
        """The side's Pearson statistic with the size its run-to-run noise scales with (`share_scale`)."""
        x2, d = self.pearson()
        return Noise(x2, d, d * share_scale(self.mean(), sum(self.totals) / self.runs) if d else 0.0)


def share_scale(share: float, per_run: float) -> float:
    """How a function's dispersion grows with relative run-to-run noise in a share: its variance per
    run is share (1 - share) / n sampling plus tau^2 share^2, which is sampling times
    1 + tau^2 * (this: n share / (1 - share))."""
    return per_run * share / (1.0 - share) if share < 1.0 else 0.0


def count_pearson(counts: Sequence[float]) -> tuple[float, float]:
    """(Pearson statistic, degrees of freedom) of per-run counts around their mean under the Poisson
    model; (0, 0) with fewer than two runs or no samples."""
    k = len(counts)
    m = sum(counts) / k if k else 0.0
    if k < 2 or m < MIN_EXPECTED:
        return 0.0, 0.0
    return sum((c - m) ** 2 for c in counts) / m, k - 1.0


def count_noise(counts: Sequence[float]) -> Noise:
    """`count_pearson` with the size relative run-to-run noise scales with: a count's variance is
    m + tau^2 m^2, Poisson times 1 + tau^2 m."""
    x2, d = count_pearson(counts)
    return Noise(x2, d, d * sum(counts) / len(counts) if d else 0.0)


@dataclass(frozen=True)
class Noise:
    """One function's evidence on run-to-run noise (one side, or both summed): Pearson statistic
    `x2` on `df` degrees of freedom, and `scale`, the sum over its sides of degrees of freedom times
    the size its noise grows with (`share_scale`, or the mean count): under the model, x2 is about
    df + tau^2 * scale."""

    x2: float = 0.0
    df: float = 0.0
    scale: float = 0.0

    def __add__(self, other: Noise) -> Noise:
        return Noise(self.x2 + other.x2, self.df + other.df, self.scale + other.scale)


@dataclass(frozen=True)
class TestResult:
    """The outcome of one one-sided test of an increase."""

    base: float  # baseline share (or count per run, as a fraction of the baseline's samples per run)
    cand: float  # candidate share (or count)
    delta: float  # cand - base
    se: float  # standard error of delta
    df: float  # degrees of freedom (inf: normal)
    statistic: float  # delta / se
    p: float  # one-sided p-value for "it increased"


def pooled_share(base: SideShares, cand: SideShares) -> float:
    """The share over both sides' samples together (the null hypothesis' common share)."""
    n = sum(base.totals) + sum(cand.totals)
    return (sum(base.counts) + sum(cand.counts)) / n if n else 0.0


def _result(b: float, c: float, var: float, df: float) -> TestResult:
    delta = c - b
    if var <= 0.0:
        return TestResult(b, c, delta, 0.0, df, math.copysign(math.inf, delta) if delta else 0.0, 0.0 if delta > 0 else 1.0)
    se = math.sqrt(var)
    return TestResult(b, c, delta, se, df, delta / se, t_sf(delta / se, df))


def increase_test(base: SideShares, cand: SideShares, dispersion: float = 1.0, df: float = math.inf) -> TestResult:
    """One-sided test that `cand`'s share exceeds `base`'s: the difference of the sides' shares over
    its standard error under the null (the pooled share, binomial variance times `dispersion`),
    against Student's t with `df` degrees of freedom. With dispersion 1 and infinite df this is the
    pooled two-proportion z-test."""
    nb, nc = sum(base.totals), sum(cand.totals)
    b, c = base.mean(), cand.mean()
    if nb <= 0 or nc <= 0:
        return TestResult(b, c, c - b, 0.0, df, 0.0, 1.0)
    p0 = pooled_share(base, cand)
    return _result(b, c, dispersion * p0 * (1.0 - p0) * (1.0 / nb + 1.0 / nc), df)


def count_increase_test(
    base: Sequence[float], cand: Sequence[float], per_run: float, dispersion: float = 1.0, df: float = math.inf
) -> TestResult:
    """One-sided test that a function's samples per run grew from the `base` runs to the `cand`
    runs, reported as fractions of `per_run` (the baseline's mean samples per run): counts in a
    fixed time are Poisson, so the variance of a side's mean count is the pooled mean count times
    `dispersion` over its number of runs; Student's t with `df` degrees of freedom."""
    scale = per_run if per_run > 0 else 1.0
    kb, kc = len(base), len(cand)
    pooled = (sum(base) + sum(cand)) / (kb + kc)
    b, c = sum(base) / kb / scale, sum(cand) / kc / scale
    return _result(b, c, dispersion * pooled * (1.0 / kb + 1.0 / kc) / (scale * scale), df)


# --- dispersion ---------------------------------------------------------------------------------


def digamma(x: float) -> float:
    """The digamma function psi(x), x > 0 (recurrence up to 6, then the asymptotic series)."""
    acc = 0.0
    while x < 6.0:
        acc -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    return acc + math.log(x) - 0.5 / x - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))))


def trigamma(x: float) -> float:
    """The trigamma function psi'(x), x > 0 (recurrence up to 6, then the asymptotic series)."""
    acc = 0.0
    while x < 6.0:
        acc += 1.0 / (x * x)
        x += 1.0
    f = 1.0 / (x * x)
    return acc + 1.0 / x + f / 2.0 + f / x * (1.0 / 6 - f * (1.0 / 30 - f * (1.0 / 42 - f / 30)))


def trigamma_inverse(y: float) -> float:
    """The x > 0 with trigamma(x) = y (trigamma decreases from infinity to 0), by bisection in log x."""
    lo, hi = math.log(1e-8), math.log(1e12)
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if trigamma(math.exp(mid)) > y:
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2.0)


def spread_prior_df(rows: Sequence[tuple[float, float]]) -> float:
    """The degrees of freedom of the prior from which the functions' own dispersions look drawn
    (limma's moment estimate on log dispersions): infinite when they differ no more than their
    sampling explains (every function then takes the pooled dispersion). `rows`: (Pearson
    statistic, degrees of freedom) per function."""
    usable = [(x2 / d, d) for x2, d in rows if d > 0 and x2 > 0]
    if len(usable) < MIN_ROWS_FOR_SPREAD:
        return math.inf
    e = [math.log(r) - digamma(d / 2.0) + math.log(d / 2.0) for r, d in usable]
    mean = sum(e) / len(e)
    var = sum((x - mean) ** 2 for x in e) / (len(e) - 1) - sum(trigamma(d / 2.0) for _, d in usable) / len(usable)
    if var <= 0.0:
        return math.inf
    return 2.0 * trigamma_inverse(var)


@dataclass(frozen=True)
class Dispersion:
    """The run-to-run noise of one kind of test (shares or counts, self or inclusive).

    A function whose noise grows with `g` (`share_scale`, or its mean count per run) has variance
    sampling times `base` + `tau2` * g (`at`). `tau2` is the relative run-to-run variance pooled
    over functions (never below RUN_NOISE_FLOOR squared); `base` 1, or PRIOR_DISPERSION with one run
    a side; `df` the degrees of freedom of the tests (infinite when the floor, not the data, sets
    tau2; PRIOR_DF with one run a side); `spread_df` the weight, in degrees of freedom, with which a
    function's own dispersion is shrunk toward the model's (infinite: every function takes the
    model's); `data_df` the degrees of freedom the runs themselves gave (0: the prior alone speaks).
    """

    tau2: float
    df: float
    spread_df: float = math.inf
    data_df: float = 0.0
    base: float = 1.0

    @property
    def noise(self) -> float:
        """tau: the relative standard deviation of a function's time per run."""
        return math.sqrt(self.tau2)

    def at(self, g: float) -> float:
        """The dispersion (multiple of the sampling variance) of a function whose noise grows with `g`."""
        return self.base + self.tau2 * max(0.0, g)

    def for_function(self, own: Noise, g: float) -> tuple[float, float]:
        """(dispersion, degrees of freedom) for one function of size `g` whose runs gave `own`: its
        own estimate shrunk toward the model's with a weight of `spread_df` (kept between
        MIN_SPREAD_DF and the pooled degrees of freedom) and never below the model's, so that a
        function noisier than the rest is tested with more of its own noise while the others keep
        the model's and its degrees of freedom."""
        model = self.at(g)
        if own.df <= 0:
            return model, self.df
        weight = min(max(self.spread_df, MIN_SPREAD_DF), self.data_df or self.df)
        return max(model, (weight * model + own.x2) / (weight + own.df)), self.df


def pooled_dispersion(rows: Sequence[Noise], floor: float = RUN_NOISE_FLOOR) -> Dispersion:
    """The run-to-run noise pooled over functions: the moment estimate of tau^2 (summed Pearson
    statistics minus their degrees of freedom, over the summed `Noise.scale`), never below `floor`
    squared; the tests get the pooled degrees of freedom when the data set tau^2 and are normal when
    a floor above 0 did. Without repeated runs: PRIOR_DISPERSION times sampling plus the floor, on
    PRIOR_DF degrees of freedom."""
    used = [r for r in rows if r.df > 0]
    dof = sum(r.df for r in used)
    if dof <= 0:
        return Dispersion(floor * floor, PRIOR_DF, base=PRIOR_DISPERSION)
    scale = sum(r.scale for r in used)
    tau2 = (sum(r.x2 for r in used) - dof) / scale if scale > 0 else 0.0
    spread = spread_prior_df([(r.x2 / (1.0 + max(tau2, 0.0) * r.scale / r.df), r.df) for r in used])
    if floor > 0.0 and tau2 <= floor * floor:
        return Dispersion(floor * floor, math.inf, spread, dof)
    return Dispersion(max(tau2, 0.0), dof, spread, dof)


@functools.lru_cache(maxsize=1024)
def t_isf(p: float, df: float) -> float:
    """The t with P(T > t) = p for Student's t with `df` degrees of freedom (0 < p < 1); cached (power
    searches ask for the same quantile hundreds of times)."""
    if math.isinf(df):
        return normal_isf(p)
    lo, hi = -1.0, 1.0
    while t_sf(hi, df) > p:
        hi *= 2.0
    while t_sf(lo, df) < p:
        lo *= 2.0
    for _ in range(100):
        mid = (lo + hi) / 2.0
        if t_sf(mid, df) > p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def detection_power(
    share: float,
    increase: float,
    n_base: float,
    n_cand: float,
    threshold: float,
    alpha: float,
    tests: int = 1,
    dispersion: float = 1.0,
    df: float = math.inf,
) -> float:
    """Probability that a true increase `increase` (fractions) of a function at `share` is flagged
    with `n_base` and `n_cand` samples a side: the observed increase must exceed `threshold` and be
    significant at `alpha` / `tests` (Holm's bar for the strongest result) against Student's t with
    `df` degrees of freedom, the variances being binomial times `dispersion`."""
    if n_base <= 0 or n_cand <= 0:
        return 0.0
    p1, p2 = share, min(1.0, share + increase)
    se = math.sqrt(dispersion * (p1 * (1 - p1) / n_base + p2 * (1 - p2) / n_cand))
    p0 = (p1 * n_base + p2 * n_cand) / (n_base + n_cand)
    se0 = math.sqrt(dispersion * p0 * (1 - p0) * (1 / n_base + 1 / n_cand))
    bar = max(threshold, t_isf(alpha / max(1, tests), df) * se0)
    if se == 0:
        return 1.0 if p2 - p1 > bar else 0.0
    return 1.0 - normal_cdf((bar - (p2 - p1)) / se)


def required_samples(
    share: float,
    increase: float,
    threshold: float,
    alpha: float,
    tests: int = 1,
    power: float = 0.8,
    limit: int = 10**10,
    dispersion: float = 1.0,
    df: float = math.inf,
) -> int | None:
    """The smallest equal sample count per side at which `detection_power` reaches `power`
    (None when it never does, e.g. when `increase` does not exceed `threshold`)."""

    def enough(n: float) -> bool:
        return detection_power(share, increase, n, n, threshold, alpha, tests, dispersion, df) >= power

    if not enough(limit):
        return None
    lo, hi = 1, 1
    while not enough(hi):
        lo, hi = hi, hi * 2
    while hi - lo > max(1, lo // 1000):
        mid = (lo + hi) // 2
        if enough(mid):
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
    dispersion: float = 1.0,
    df: float = math.inf,
) -> float | None:
    """The smallest increase (fraction) of a function at `share` flagged with probability `power`
    given these sample counts (None if none up to the whole profile is)."""

    def enough(increase: float) -> bool:
        return detection_power(share, increase, n_base, n_cand, threshold, alpha, tests, dispersion, df) >= power

    top = 1.0 - share
    if not enough(top):
        return None
    lo, hi = 0.0, top
    for _ in range(50):
        mid = (lo + hi) / 2
        if enough(mid):
            hi = mid
        else:
            lo = mid
    return hi
