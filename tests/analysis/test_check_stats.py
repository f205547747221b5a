"""The statistics behind `foldkit check`: distributions against table values, Holm, power."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foldkit.regression import stats


@pytest.mark.parametrize(
    ("t", "df", "p"),
    [  # one-sided critical values from standard t tables
        (6.314, 1, 0.05),
        (2.920, 2, 0.05),
        (3.747, 4, 0.01),
        (2.228, 10, 0.025),
        (2.457, 30, 0.01),
        (1.960, math.inf, 0.025),
        (0.0, 7, 0.5),
    ],
)
def test_t_tail_matches_tables(t: float, df: float, p: float) -> None:
    assert stats.t_sf(t, df) == pytest.approx(p, abs=2e-5)
    assert stats.t_sf(-t, df) == pytest.approx(1 - p, abs=2e-5)


def test_t_approaches_normal_with_many_degrees_of_freedom() -> None:
    assert stats.t_sf(2.5, 1e6) == pytest.approx(stats.normal_sf(2.5), rel=1e-4)


@given(st.floats(0.1, 50), st.floats(0.1, 50), st.floats(1e-6, 1 - 1e-6))
def test_incomplete_beta_symmetry(a: float, b: float, x: float) -> None:
    assert stats.betainc(a, b, x) == pytest.approx(1 - stats.betainc(b, a, 1 - x), abs=1e-9)


def test_holm_adjusts_step_down_and_keeps_order() -> None:
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([]) == []
    assert stats.holm([0.5, 0.9]) == [1.0, 1.0]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_holm_is_between_raw_and_bonferroni(ps: list[float]) -> None:
    adj = stats.holm(ps)
    for p, a in zip(ps, adj, strict=True):
        assert p <= a + 1e-12
        assert a <= min(1.0, p * len(ps)) + 1e-12


def test_one_run_per_side_is_the_pooled_two_proportion_z_test() -> None:
    b = stats.SideShares([100], [1000])
    c = stats.SideShares([150], [1000])
    r = stats.increase_test(b, c)
    p0 = 250 / 2000
    z = 0.05 / math.sqrt(p0 * (1 - p0) * (2 / 1000))
    assert r.statistic == pytest.approx(z)
    assert r.p == pytest.approx(stats.normal_sf(z))
    assert math.isinf(r.df)


def test_dispersion_scales_the_variance_and_a_noisy_function_keeps_more_of_its_own() -> None:
    """The variance is sampling variance times the dispersion; a function whose runs wander more
    than the model explains is tested with its own shrunk toward it, never less."""
    b, c = stats.SideShares([100, 100], [1000, 1000]), stats.SideShares([120, 120], [1000, 1000])
    assert stats.increase_test(b, c, 4.0).se == pytest.approx(2 * stats.increase_test(b, c, 1.0).se)
    model = stats.Dispersion(0.0, 40.0, data_df=40.0)
    steady = stats.SideShares([100, 101, 99], [1000] * 3).noise()
    noisy = stats.SideShares([60, 140, 100], [1000] * 3).noise()
    assert steady.df == noisy.df == 2
    assert model.for_function(steady, 100.0) == (1.0, 40.0)  # never below the model's value
    phi, df = model.for_function(noisy, 100.0)  # r = 17.8 on 2 df, against 40 df of the model's 1.0
    assert phi == pytest.approx((40 + noisy.x2) / 42) and df == 40.0
    spread = stats.Dispersion(0.0, 40.0, spread_df=4.0, data_df=40.0)
    assert spread.for_function(noisy, 100.0)[0] == pytest.approx((4 + noisy.x2) / 6)
    assert model.for_function(stats.Noise(), 100.0) == (1.0, 40.0)


def test_run_to_run_noise_is_relative_so_larger_functions_vary_more_than_sampling_says() -> None:
    """A function's variance per run is sampling plus tau^2 share^2 (shares) or tau^2 mean^2
    (counts): its dispersion grows with its size, 1 + tau^2 * g."""
    noise = stats.Dispersion(0.05**2, math.inf)
    g_small, g_big = stats.share_scale(0.01, 5000), stats.share_scale(0.30, 5000)
    assert g_small == pytest.approx(50 / 0.99) and g_big == pytest.approx(1500 / 0.7)
    assert noise.at(g_small) == pytest.approx(1 + 0.0025 * g_small)
    assert noise.at(g_big) > 6 > noise.at(g_small) > 1
    # the share variance per run that dispersion stands for: binomial plus (5% of the share)^2
    p, n = 0.30, 5000
    assert noise.at(g_big) * p * (1 - p) / n == pytest.approx(p * (1 - p) / n + (0.05 * p) ** 2)
    m = 600.0
    assert stats.count_noise([m, m]).scale == m
    assert noise.at(m) * m == pytest.approx(m + (0.05 * m) ** 2)
    assert stats.Dispersion(0.0, 1.0, base=4.0).at(1000.0) == 4.0


def test_pooled_noise_is_estimated_above_the_floor_and_the_floor_otherwise() -> None:
    """Binomial runs show no run-to-run noise: the floor is assumed (normal tests); runs whose
    shares wander by 10% of themselves give tau near 0.1 on their degrees of freedom; without
    repeated runs the prior speaks."""
    rng = random.Random(7)

    def run(p: float, n: int) -> int:
        return sum(rng.random() < p for _ in range(n))

    def runs(p: float, n: int, k: int, tau: float = 0.0) -> stats.SideShares:
        return stats.SideShares([run(p * (1 + rng.gauss(0, tau)), n) for _ in range(k)], [n] * k)

    calm = stats.pooled_dispersion([runs(0.2, 2000, 4).noise() for _ in range(30)])
    assert calm.tau2 == stats.RUN_NOISE_FLOOR**2 and math.isinf(calm.df) and calm.data_df == 90
    wild = stats.pooled_dispersion([runs(p, 2000, 4, tau=0.10).noise() for p in (0.3, 0.2, 0.1, 0.05) * 6])
    assert 0.07 < wild.noise < 0.13 and wild.df == wild.data_df == 72
    assert stats.pooled_dispersion([stats.Noise(2.0, 2.0, 800.0)] * 5, floor=0.0).tau2 == 0.0
    none = stats.pooled_dispersion([stats.Noise()] * 5)
    assert (none.base, none.tau2, none.df, none.data_df) == (
        stats.PRIOR_DISPERSION, stats.RUN_NOISE_FLOOR**2, stats.PRIOR_DF, 0.0
    )  # fmt: skip


def test_polygamma_and_the_spread_of_dispersions() -> None:
    assert stats.digamma(1.0) == pytest.approx(-0.5772156649, abs=1e-9)
    assert stats.digamma(0.5) == pytest.approx(-1.9635100260, abs=1e-9)
    assert stats.trigamma(1.0) == pytest.approx(math.pi**2 / 6, abs=1e-9)
    assert stats.trigamma(0.5) == pytest.approx(math.pi**2 / 2, abs=1e-9)
    assert stats.trigamma_inverse(stats.trigamma(2.5)) == pytest.approx(2.5, rel=1e-6)
    rng = random.Random(3)
    alike = [(rng.gammavariate(2.0, 2.0), 4.0) for _ in range(200)]  # chi-square on 4 df: one dispersion
    assert stats.spread_prior_df(alike) > 30
    differ = [(x2 * rng.choice([0.2, 5.0]), d) for x2, d in alike]
    assert stats.spread_prior_df(differ) < 5
    assert math.isinf(stats.spread_prior_df(alike[:2]))


@pytest.mark.parametrize(("p", "df"), [(0.05, 4), (0.001, 10), (0.0007, 30), (0.3, math.inf)])
def test_t_quantile_inverts_the_tail(p: float, df: float) -> None:
    assert stats.t_sf(stats.t_isf(p, df), df) == pytest.approx(p, rel=1e-6)


@given(st.one_of(st.floats(-40, 40), st.sampled_from([0.0, -0.0, 1e-300, -1e-300, 8.5, -8.5, math.inf, -math.inf])))
def test_the_normal_cdf_is_statistics_own_bit_for_bit(z: float) -> None:
    from statistics import NormalDist

    assert stats.normal_cdf(z) == NormalDist().cdf(z)


def test_no_variance_no_change_gives_p_one() -> None:
    r = stats.increase_test(stats.SideShares([0, 0], [10, 10]), stats.SideShares([0, 0], [10, 10]))
    assert r.p == 1.0 and r.delta == 0.0


def test_power_grows_with_samples_and_required_samples_reach_it() -> None:
    powers = [stats.detection_power(0.1, 0.02, n, n, 0.01, 0.01, 20) for n in (500, 2000, 8000, 32000)]
    assert powers == sorted(powers)
    n = stats.required_samples(0.1, 0.02, 0.01, 0.01, 20)
    assert n is not None
    assert stats.detection_power(0.1, 0.02, n, n, 0.01, 0.01, 20) >= 0.8
    assert stats.detection_power(0.1, 0.02, n * 0.97, n * 0.97, 0.01, 0.01, 20) < 0.8
    assert stats.required_samples(0.1, 0.01, 0.01, 0.01, 20) is None  # not above the threshold


def test_smallest_detectable_inverts_required_samples() -> None:
    n = stats.required_samples(0.1, 0.03, 0.01, 0.01, 20)
    assert n is not None
    d = stats.smallest_detectable(0.1, n, n, 0.01, 0.01, 20)
    assert d == pytest.approx(0.03, abs=2e-4)


def test_readme_sample_count_table_matches_the_power_calculation() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    _, _, rest = readme.partition("<!-- power-table:")
    assert rest, "README lost its power table"
    settings, _, rest = rest.partition("-->")
    table = rest.partition("<!-- /power-table -->")[0]
    params = dict(item.split("=") for item in settings.split())
    rows = [line.strip("|").split("|") for line in table.strip().splitlines()]
    increases = [float(cell.strip().lstrip("+").split()[0]) / 100 for cell in rows[0][1:]]
    for row in rows[2:]:
        share = float(row[0].strip().rstrip("%")) / 100
        for increase, cell in zip(increases, row[1:], strict=True):
            stated = int(cell.strip().replace(",", ""))
            n = stats.required_samples(
                share, increase, float(params["threshold"]), float(params["alpha"]), int(params["tests"]), float(params["power"])
            )
            assert n is not None and abs(n - stated) <= 0.05 * n, (share, increase, stated, n)


def test_readme_runs_table_matches_the_power_model_with_the_run_noise_floor() -> None:
    """The README's "how many runs a side" table: the smallest increase of a 10% function caught at
    each power, with the run-noise floor in the variance (it does not shrink with more samples a
    run, only with more runs)."""
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    _, _, rest = readme.partition("<!-- runs-table:")
    assert rest, "README lost its runs table"
    settings, _, rest = rest.partition("-->")
    params = {k: float(v) for k, v in (item.split("=") for item in settings.split())}
    assert params["noise"] == stats.RUN_NOISE_FLOOR
    rows = [line.strip("|").split("|") for line in rest.partition("<!-- /runs-table -->")[0].strip().splitlines()]
    powers = [float(cell.strip().rstrip("%")) / 100 for cell in rows[0][1:]]
    share, per_run = params["share"], params["per_run"]
    dispersion = 1 + params["noise"] ** 2 * stats.share_scale(share, per_run)
    for row in rows[2:]:
        n = int(row[0]) * per_run
        for power, cell in zip(powers, row[1:], strict=True):
            stated = float(cell.split("pp")[0].strip().lstrip("+")) / 100
            d = stats.smallest_detectable(share, n, n, params["threshold"], params["alpha"], int(params["tests"]), power, dispersion)
            assert d is not None and abs(d - stated) <= 0.0006, (row[0], power, stated, d)
