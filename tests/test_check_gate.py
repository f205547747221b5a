"""`foldkit check` on synthetic profiles of known shares: power as stated, no false alarms, budgets,
thresholds, and the sample counts the statistics need."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from foldkit.errors import UsageError
from foldkit.profile import Profile
from foldkit.regression import gate, stats
from foldkit.regression.samples import sample_counts

#: Leaf functions of the synthetic program and their baseline shares of samples.
SHARES = {f"work_{i}": s for i, s in enumerate([0.25, 0.20, 0.15, 0.10, 0.10, 0.08, 0.06, 0.03, 0.02, 0.01])}
TARGET = "work_3"  # the function made slower, at 10%
INJECTED = 0.03  # +3 pp
TRIALS = 40


def shares_with_increase(increase: float) -> dict[str, float]:
    """SHARES with TARGET raised by `increase` and the others scaled down to keep the sum 1."""
    rest = 1.0 - SHARES[TARGET]
    out = {k: v * (rest - increase) / rest for k, v in SHARES.items()}
    out[TARGET] = SHARES[TARGET] + increase
    return out


def sample(rng: random.Random, shares: dict[str, float], n: int) -> Profile:
    """A profile of `n` samples drawn from `shares`, weighted by a fixed period like perf's."""
    names = list(shares)
    drawn = Counter(rng.choices(names, weights=[shares[k] for k in names], k=n))
    counts = {f"app;main;{k}": c for k, c in drawn.items()}
    return Profile(weights={s: c * 10101010 for s, c in counts.items()}, counts=counts, unit="ns")


def runs(rng: random.Random, shares: dict[str, float], n: int, k: int = 2) -> list[Profile]:
    """`k` runs of `n` // `k` samples each (binomial draws: dispersion 1)."""
    return [sample(rng, shares, n // k) for _ in range(k)]


def detection_rate(n: int, increase: float, seed: int, trials: int = TRIALS) -> tuple[float, float]:
    """How often 2 runs a side of `n` samples a side in all catch the injected increase, and the
    power the checks themselves stated for it (their dispersion estimates, averaged)."""
    rng = random.Random(seed)
    hits = 0
    stated = 0.0
    for _ in range(trials):
        result = gate.check_profiles(runs(rng, SHARES, n), runs(rng, shares_with_increase(increase), n))
        hits += TARGET in {f.name for f in result.regressions}
        assert {f.name for f in result.regressions} <= {TARGET}
        stated += stats.detection_power(
            SHARES[TARGET], increase, n, n, 0.01, gate.DEFAULT_ALPHA, result.tests, result.dispersion, result.dispersion_df
        )
    return hits / trials, stated / trials


def design(n: int) -> gate.CheckResult:
    rng = random.Random(1)
    return gate.check_profiles(runs(rng, SHARES, n), runs(rng, SHARES, n))


def required(n_hint: int, increase: float) -> int | None:
    """Samples a side for 80% power, as the check's own power statement computes it."""
    r = design(n_hint)
    assert r.tests == len(SHARES)  # every work_i is a leaf (one self test each); app and main are 100%
    return stats.required_samples(SHARES[TARGET], increase, 0.01, gate.DEFAULT_ALPHA, r.tests, dispersion=1.0, df=r.dispersion_df)


def test_an_injected_regression_is_caught_at_the_stated_power() -> None:
    """With the dispersion each check estimated, the power it states is the power it has; with the
    dispersion 1 these binomial runs truly have, 80% needs the samples `required` says."""
    n = required(10000, INJECTED)
    assert n is not None and 2000 < n < 12000
    detected, stated = detection_rate(n, INJECTED, seed=11)
    assert 0.5 < stated < 0.8  # estimating the dispersion (from 20 degrees of freedom) costs some power
    # the statement leaves out that a function's own dispersion may be taken above the pooled one
    # (and the 40 trials' own noise, sd 0.07): it is optimistic by at most about 0.2
    assert stated - 0.25 <= detected <= stated + 0.15


def test_an_injected_regression_is_missed_with_too_few_samples() -> None:
    n = required(10000, INJECTED)
    assert n is not None
    small = n // 6
    assert stats.detection_power(SHARES[TARGET], INJECTED, small, small, 0.01, gate.DEFAULT_ALPHA, len(SHARES)) < 0.1
    assert detection_rate(small, INJECTED, seed=12)[0] <= 0.15


def test_a_change_below_the_threshold_is_never_a_regression_however_many_samples() -> None:
    assert detection_rate(100000, 0.008, seed=13, trials=8)[0] == 0.0


def test_false_alarms_when_nothing_changed_are_rarer_than_alpha() -> None:
    """Holm keeps the chance that a check of same-workload captures fails at most alpha (1%):
    measured over 200 checks of 2 runs a side at small and medium sample counts."""
    rng = random.Random(14)
    checks = alarms = 0
    for n in (600, 6000):
        for _ in range(100):
            checks += 1
            alarms += not gate.check_profiles(runs(rng, SHARES, n), runs(rng, SHARES, n)).passed
    assert alarms / checks <= 2 * gate.DEFAULT_ALPHA


def test_repeated_runs_with_extra_run_to_run_noise_do_not_false_alarm() -> None:
    """Runs whose shares wander more than sampling explains: the one-capture z-test would
    fire, the run-based test does not."""
    rng = random.Random(15)

    def noisy_run() -> Profile:
        wobble = dict(SHARES)
        wobble[TARGET] = SHARES[TARGET] + rng.choice([-0.02, 0.02])
        return sample(rng, wobble, 50000)

    alarms_runs = alarms_single = 0
    for _ in range(10):
        base = [noisy_run() for _ in range(4)]
        cand = [noisy_run() for _ in range(4)]
        alarms_runs += not gate.check_profiles(base, cand).passed
        alarms_single += not gate.check_profiles(base[:1], cand[:1]).passed
    assert alarms_runs == 0
    assert alarms_single > 0


def test_threshold_parsing_and_meaning() -> None:
    pp = gate.Threshold.parse("2pp")
    rel = gate.Threshold.parse(" 10 % ")
    assert (pp.kind, pp.value, str(pp)) == ("pp", 2.0, "2pp")
    assert (rel.kind, rel.value, str(rel)) == ("relative", 10.0, "10%")
    assert pp.exceeded(0.10, 0.121) and not pp.exceeded(0.10, 0.119)
    assert rel.exceeded(0.10, 0.111) and not rel.exceeded(0.10, 0.109)
    assert rel.exceeded(0.0, 0.001) and not rel.exceeded(0.0, 0.0)
    for bad in ("2", "pp", "-1pp", "2 percent"):
        with pytest.raises(UsageError):
            gate.Threshold.parse(bad)


def test_budgets_parse_and_breach() -> None:
    b = gate.Budget.parse("work_[01]<=40%")
    assert (b.limit, b.measure) == (0.40, "total")
    assert gate.Budget.parse("self:json.*<=2.5%").measure == "self"
    for bad in ("work_0", "work_0<5%", "(<=5%"):
        with pytest.raises(UsageError):
            gate.Budget.parse(bad)
    rng = random.Random(16)
    base, cand = sample(rng, SHARES, 20000), sample(rng, SHARES, 20000)
    options = gate.CheckOptions(budgets=(gate.Budget.parse("work_[01]<=40%"), gate.Budget.parse("work_9<=5%")))
    result = gate.check_profiles([base], [cand], options)
    assert [r.breached for r in result.budgets] == [True, False]
    assert result.budgets[0].cand == pytest.approx(0.45, abs=0.01)
    assert not result.passed and not result.regressions


def test_function_patterns_are_checked_as_one_and_only_restricts() -> None:
    rng = random.Random(17)
    base = sample(rng, SHARES, 40000)
    cand = sample(rng, shares_with_increase(0.05), 40000)
    options = gate.CheckOptions(functions=("work_[3]$",), only=True)
    result = gate.check_profiles([base], [cand], options)
    assert {(f.name, f.kind) for f in result.findings} == {("work_[3]$", "pattern")}
    assert {f.measure for f in result.regressions} == {"self"}  # always a leaf: inclusive is self, tested once
    with pytest.raises(UsageError):
        gate.CheckOptions(only=True)
    with pytest.raises(UsageError):
        gate.CheckOptions(alpha=1.5)


def test_recursion_counts_once_per_stack_in_inclusive_shares() -> None:
    base = Profile(weights={"a;f;f;f": 50, "a;g": 50})
    cand = Profile(weights={"a;f;f;f": 50, "a;g": 50})
    result = gate.check_profiles([base], [cand])
    f = next(x for x in result.findings if x.name == "f")
    assert f.measure == "self" and f.base == pytest.approx(0.5)  # only ever a leaf: one (self) test


def test_sample_counts_prefer_counts_then_undo_a_fixed_period() -> None:
    assert sample_counts(Profile(weights={"a": 3_000_000}, counts={"a": 3})) == {"a": 3}
    warnings: list[str] = []
    assert sample_counts(Profile(weights={"a": 20202020, "b": 10101010}), warnings) == {"a": 2, "b": 1}
    assert "10101010" in warnings[0]
    assert sample_counts(Profile(weights={"a": 4, "b": 2})) == {"a": 4, "b": 2}
    warnings.clear()
    sample_counts(Profile(weights={"a": 140493713090, "b": 1234567891}), warnings)
    assert "sums" in warnings[0]
    with pytest.raises(UsageError, match="fractional"):
        sample_counts(Profile(weights={"a": 1.5}))
    with pytest.raises(UsageError, match="times"):
        sample_counts(Profile(weights={"a": 1234567, "b": 7654321}, unit="us"))


def test_empty_side_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        gate.check_profiles([Profile()], [Profile(weights={"a": 1})])
    with pytest.raises(UsageError):
        gate.check_profiles([], [Profile(weights={"a": 1})])
