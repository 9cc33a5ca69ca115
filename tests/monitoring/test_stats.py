"""The statistics: scipy's numbers, PSI and the p-value corrections checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from loopml.monitoring._stats import (
    adjust_p_values,
    chi2_test,
    js_distance,
    ks_test,
    normalized_wasserstein,
    psi,
    wasserstein_sorted,
)


def test_holm_matches_the_hand_computed_step_down() -> None:
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> running max 0.06
    adjusted = adjust_p_values(np.array([0.01, 0.04, 0.03, 0.005]), "holm")
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_skips_untested_features() -> None:
    adjusted = adjust_p_values(np.array([0.01, math.nan, 0.04, 0.9]), "holm")
    np.testing.assert_allclose(adjusted, [0.03, math.nan, 0.08, 0.9])
    assert adjust_p_values(np.array([0.6, 0.7]), "holm").tolist() == [1.0, 1.0]


def test_bh_matches_the_hand_computed_step_up() -> None:
    # p*m/rank: 0.005*4/1=0.02, 0.01*4/2=0.02, 0.03*4/3=0.04, 0.04*4/4=0.04
    adjusted = adjust_p_values(np.array([0.01, 0.04, 0.03, 0.005]), "bh")
    np.testing.assert_allclose(adjusted, [0.02, 0.04, 0.04, 0.02])
    with_nan = adjust_p_values(np.array([math.nan, 0.01, 0.04]), "bh")
    np.testing.assert_allclose(with_nan, [math.nan, 0.02, 0.04])


def test_no_correction_and_empty_families_give_the_p_values_back() -> None:
    assert adjust_p_values(np.array([0.01, 0.5]), "none").tolist() == [0.01, 0.5]
    assert adjust_p_values(np.array([]), "holm").size == 0
    assert np.isnan(adjust_p_values(np.array([math.nan]), "bh")).all()


def test_ks_is_scipys() -> None:
    rng = np.random.default_rng(1)
    for n, m in ((5000, 1000), (5000, 100_000), (30, 40)):
        a, b = np.sort(rng.normal(size=n)), np.sort(rng.normal(0.05, size=m))
        expected = stats.ks_2samp(a, b)
        assert ks_test(a, b) == (expected.statistic, expected.pvalue)


def test_chi2_is_scipys_homogeneity_test_without_yates() -> None:
    table = np.array([[120, 340, 90, 0], [30, 80, 25, 12]])
    expected = stats.chi2_contingency(table, correction=False)
    assert chi2_test(table) == (expected.statistic, expected.pvalue)
    binary = np.array([[40, 60], [55, 45]])
    assert chi2_test(binary)[1] == stats.chi2_contingency(binary, correction=False).pvalue
    assert chi2_test(binary)[1] != stats.chi2_contingency(binary).pvalue


def test_js_is_scipys_base_2_distance() -> None:
    ref, cur = np.array([50, 30, 20, 0]), np.array([10, 30, 20, 40])
    assert js_distance(ref, cur) == jensenshannon(ref, cur, base=2)
    assert js_distance(ref, ref) == 0.0
    assert js_distance(np.array([1, 0]), np.array([0, 1])) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("n", "m", "discrete"),
    [(5000, 100_000, False), (5000, 1000, True), (7, 13, False), (1, 1, False), (3, 9, True)],
)
def test_wasserstein_equals_scipys(n: int, m: int, discrete: bool) -> None:
    rng = np.random.default_rng(n + m)
    if discrete:
        a = np.sort(rng.integers(0, 5, size=n).astype(float))
        b = np.sort(rng.integers(1, 7, size=m).astype(float))
    else:
        a, b = np.sort(rng.normal(size=n)), np.sort(rng.lognormal(size=m))
    assert wasserstein_sorted(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-12)


def test_wasserstein_is_normalized_by_the_reference_std_or_the_pooled_one() -> None:
    rng = np.random.default_rng(2)
    a, b = np.sort(rng.normal(size=2000)), np.sort(rng.normal(1.0, size=3000))
    expected = stats.wasserstein_distance(a, b) / 2.5
    assert normalized_wasserstein(a, b, 2.5) == pytest.approx(expected, rel=1e-12)
    constant, moved = np.zeros(100), np.ones(20)
    pooled = np.concatenate([constant, moved]).std()
    assert normalized_wasserstein(constant, moved, 0.0) == pytest.approx(1.0 / pooled)
    assert normalized_wasserstein(constant, np.zeros(5), 0.0) == 0.0


def test_psi_matches_the_hand_computed_value() -> None:
    reference = np.arange(1000.0)  # deciles: 10% of the values in each bin
    current = np.arange(100.0)  # every value in the first decile, 9 deciles empty
    expected = 0.9 * math.log(1 / 0.1) + 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert psi(reference, current) == pytest.approx(expected, rel=1e-12)
    assert psi(reference, reference) == 0.0


def test_psi_merges_repeated_edges_of_a_discrete_feature() -> None:
    reference = np.sort(np.repeat([0.0, 1.0], [700, 300]))
    current = np.sort(np.repeat([0.0, 1.0], [500, 500]))
    expected = (0.5 - 0.7) * math.log(0.5 / 0.7) + (0.5 - 0.3) * math.log(0.5 / 0.3)
    assert psi(reference, current) == pytest.approx(expected, rel=1e-12)
