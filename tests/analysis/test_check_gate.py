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
#: These binomial runs have no run-to-run noise: the statements about them are checked without a floor.
STEADY = gate.CheckOptions(run_noise=0.0)


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
        result = gate.check_profiles(runs(rng, SHARES, n), runs(rng, shares_with_increase(increase), n), STEADY)
        hits += TARGET in {f.name for f in result.regressions}
        assert {f.name for f in result.regressions} <= {TARGET}
        stated += stats.detection_power(
            SHARES[TARGET], increase, n, n, 0.01, gate.DEFAULT_ALPHA, result.tests, result.dispersion, result.dispersion_df
        )
    return hits / trials, stated / trials


def design(n: int) -> gate.CheckResult:
    rng = random.Random(1)
    return gate.check_profiles(runs(rng, SHARES, n), runs(rng, SHARES, n), STEADY)


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


def test_the_run_noise_floor_is_in_the_power_the_check_states() -> None:
    """Binomial runs show no run-to-run noise, but the default floor (6.5% of a function's time a
    run) is assumed all the same: the stated dispersion at a 10% share is 1 + tau^2 n p / (1 - p),
    and the smallest detectable increase grows with it."""
    rng = random.Random(2)
    base, cand = runs(rng, SHARES, 10000), runs(rng, SHARES, 10000)
    floored, steady = gate.check_profiles(base, cand), gate.check_profiles(base, cand, STEADY)
    per_run = 5000
    assert floored.noise == pytest.approx(stats.RUN_NOISE_FLOOR)
    assert floored.dispersion == pytest.approx(1 + stats.RUN_NOISE_FLOOR**2 * per_run * 0.1 / 0.9)
    assert steady.noise < 0.5 * stats.RUN_NOISE_FLOOR  # what binomial runs show by chance
    assert steady.dispersion == pytest.approx(1 + steady.noise**2 * per_run * 0.1 / 0.9)
    assert floored.detectable_pp is not None and steady.detectable_pp is not None
    assert floored.detectable_pp > 1.3 * steady.detectable_pp
    assert "floor assumed" in floored.method
    with pytest.raises(UsageError, match="--run-noise"):
        gate.CheckOptions(run_noise=-0.01)


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
    """Runs whose shares wander more than sampling explains: the one-capture test without a
    run-noise floor would fire, the run-based test does not."""
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
        alarms_single += not gate.check_profiles(base[:1], cand[:1], STEADY).passed
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


def counted(stacks: dict[str, int]) -> Profile:
    """A profile of these sample counts."""
    return Profile(weights=dict(stacks))


def test_callers_with_the_same_samples_in_every_run_are_one_hypothesis() -> None:
    """`a` and `b` (a caller with one callee) have the same inclusive samples in every run: one test
    in the Holm correction, so adding `a` costs `b` nothing."""

    def side(x: int, wobble: int, with_a: bool) -> Profile:
        top = "r;a;b" if with_a else "r;b"
        return counted({f"{top};x": x, f"{top};y": 2000 - wobble, "r;z": 3000 + wobble})

    def check(with_a: bool) -> gate.CheckResult:
        base = [side(1000, 20, with_a), side(1010, -20, with_a)]
        cand = [side(1200, 10, with_a), side(1190, -10, with_a)]
        return gate.check_profiles(base, cand, STEADY)

    both, alone = check(True), check(False)
    a, b = (next(f for f in both.findings if f.name == n and f.measure == "total") for n in ("a", "b"))
    assert a.p == b.p and a.p_adjusted == b.p_adjusted and both.tests == alone.tests + 1

    def holm(findings: list[gate.Finding]) -> list[float]:
        return stats.holm([f.p for f in findings], [1.0 if f.measure == "self" else gate.INCLUSIVE_WEIGHT for f in findings])

    once = [f for f in both.findings if f is not a]
    assert b.p_adjusted == pytest.approx(holm(once)[once.index(b)])
    assert b.p_adjusted < holm(both.findings)[both.findings.index(b)]  # counted twice, it would pay twice


def test_no_inclusive_test_for_a_function_whose_callees_hold_almost_nothing() -> None:
    """`f` calls `g` in 0.2% of the samples: its inclusive share is its self share give or take less
    than half the threshold, so it is tested once, as self time."""
    base = [counted({"r;f": 3000, "r;f;g": 10, "r;h": 1990})] * 2
    cand = [counted({"r;f": 3050, "r;f;g": 12, "r;h": 1938})] * 2
    result = gate.check_profiles(base, cand)
    assert [f.measure for f in result.findings if f.name == "f"] == ["self"]
    forced = gate.check_profiles(base, cand, gate.CheckOptions(functions=("^f$",)))
    assert {f.measure for f in forced.findings if f.name == "^f$"} == {"self", "total"}


def test_runs_that_agree_within_a_side_but_shifted_together_are_not_a_regression() -> None:
    """A 30% function at 30% in both baseline runs and 35% in both candidate runs (runs recorded
    in one machine state: q1's base-04..07 had hash_records at 33-37% against 28-29%): sampling
    alone makes that z = 7.6, so the steady-runs test fails; with the default floor of run-to-run
    noise it is within what two runs a side can be off by together, and the check passes."""

    def one(hot: int) -> Profile:
        return counted({"r;hot": hot, "r;warm": 2000, "r;cool": 3000 - hot})

    base, cand = [one(1500), one(1505)], [one(1750), one(1755)]
    assert gate.check_profiles(base, cand, STEADY).culprit_names() == ["hot"]
    assert gate.check_profiles(base, cand).passed
