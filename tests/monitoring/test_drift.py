"""Drift reports: quiet on a stable stream, loud on a real shift, deaf to a negligible one."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from loopml.errors import InputError
from loopml.monitoring import (
    DriftReport,
    DriftSettings,
    ReferenceProfile,
    build_profile,
    drift_report,
)

LEVELS = np.array(["a", "b", "c", "d", "e"])
SHARES = np.array([0.35, 0.25, 0.2, 0.15, 0.05])


def make_frame(
    rows: int,
    seed: int,
    *,
    numeric: int = 15,
    categorical: int = 5,
    shift: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Return rows of the reference distribution; ``shift`` moves numeric means (in sd)."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for i in range(numeric):
        columns[f"x{i}"] = rng.normal(size=rows) + (shift or {}).get(f"x{i}", 0.0)
    for j in range(categorical):
        columns[f"c{j}"] = rng.choice(LEVELS, size=rows, p=SHARES)
    return pd.DataFrame(columns)


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    return build_profile(make_frame(20_000, 0), max_sample=2000)


def test_a_stable_stream_stays_quiet(profile: ReferenceProfile) -> None:
    reports = [drift_report(profile, make_frame(1000, 1 + i)) for i in range(200)]
    alpha = reports[0].settings.alpha
    dataset = np.mean([r.dataset_drift for r in reports])
    flagged = np.mean([bool(r.drifted) for r in reports])
    significant = np.mean([any(f.p_adjusted < alpha for f in r.features) for r in reports])
    uncorrected = np.mean([any(f.p_value < alpha for f in r.features) for r in reports])
    assert dataset == 0.0
    # Slack: 200 windows are a noisy estimate (one sd is 0.015 at a 5% rate), and they
    # share one reference sample.
    assert flagged <= alpha + 0.03
    # Holm alone holds the family-wise error rate at alpha; the effect gate only removes flags.
    assert significant <= alpha + 0.04
    assert flagged <= significant
    # The same stream tested feature by feature would raise an alarm in most windows
    # (1 - 0.95^20 = 64%): what the correction is for.
    assert uncorrected > 0.4


def test_a_covariate_shift_is_found_in_one_window(profile: ReferenceProfile) -> None:
    shifted = {"x0": 0.5, "x1": 0.5, "x2": 0.5}
    report = drift_report(profile, make_frame(1000, 7, shift=shifted))
    assert report.sufficient
    assert report.drifted == ("x0", "x1", "x2")
    assert report.share == pytest.approx(3 / 20)
    assert not report.dataset_drift
    assert report.reason.startswith("3 of 20 tested features drifted (15%; dataset drift from 30%)")
    wide = {f"x{i}": 0.5 for i in range(8)}
    assert drift_report(profile, make_frame(1000, 8, shift=wide)).dataset_drift


def test_a_tiny_shift_on_a_large_window_is_significant_but_not_drift() -> None:
    reference = make_frame(200_000, 0, numeric=1, categorical=0)
    profile = build_profile(reference, max_sample=200_000)
    window = make_frame(100_000, 1, numeric=1, categorical=0, shift={"x0": 0.02})
    x0 = drift_report(profile, window).feature("x0")
    assert x0.p_adjusted < 0.05  # KS sees it ...
    assert x0.effects["wasserstein"] < 0.1 and x0.effects["psi"] < 0.2
    assert not x0.drifted  # ... and the effect gate says it does not matter


def test_numeric_statistics_are_scipys(profile: ReferenceProfile) -> None:
    window = make_frame(1500, 3, shift={"x4": 0.3})
    window.loc[::10, "x4"] = np.nan
    x4 = drift_report(profile, window).feature("x4")
    reference = np.asarray(profile.feature("x4").sample)
    current = window["x4"].dropna().to_numpy()
    expected = stats.ks_2samp(reference, current)
    assert (x4.test, x4.statistic, x4.p_value) == ("ks", expected.statistic, expected.pvalue)
    distance = stats.wasserstein_distance(reference, current) / profile.feature("x4").std
    assert x4.effects["wasserstein"] == pytest.approx(distance, rel=1e-12)
    assert (x4.reference_count, x4.current_count) == (2000, 1350)
    assert x4.current_missing == pytest.approx(0.1)


def test_categorical_statistics_are_scipys(profile: ReferenceProfile) -> None:
    window = make_frame(1500, 4)
    c0 = drift_report(profile, window).feature("c0")
    counts = window["c0"].value_counts()
    reference = np.array([profile.feature("c0").levels[level] for level in LEVELS])
    current = np.array([counts.get(level, 0) for level in LEVELS])
    table = np.array([reference, current])
    expected = stats.chi2_contingency(table, correction=False)
    assert (c0.test, c0.statistic) == ("chi2", pytest.approx(expected.statistic, rel=1e-12))
    assert c0.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert c0.effects["js"] == pytest.approx(jensenshannon(reference, current, base=2))


def test_a_new_categorical_level_counts_as_its_own_level(profile: ReferenceProfile) -> None:
    window = make_frame(2000, 5)
    window.loc[:599, "c1"] = "z"  # a level the reference never saw, in 30% of the rows
    window.loc[0, "c2"] = "rare"  # one row of another: listed, but no drift
    report = drift_report(profile, window)
    c1, c2 = report.feature("c1"), report.feature("c2")
    assert c1.drifted and c1.new_levels == ("z",) and c1.effects["js"] >= 0.1
    assert not c2.drifted and c2.new_levels == ("rare",)


def test_missing_rate_changes_are_reported_per_feature(profile: ReferenceProfile) -> None:
    window = make_frame(2000, 6)
    window.loc[window.index % 5 < 2, "x5"] = np.nan
    window.loc[window.index % 2 == 0, "c3"] = None
    report = drift_report(profile, window)
    x5, c3 = report.feature("x5"), report.feature("c3")
    assert (x5.reference_missing, x5.current_missing) == (0.0, pytest.approx(0.4))
    assert x5.missing_change == pytest.approx(0.4)
    assert c3.current_missing == pytest.approx(0.5) and c3.current_count == 1000
    assert not x5.drifted and not c3.drifted  # the values left are unchanged


def test_a_window_below_min_rows_flags_nothing_and_says_why(profile: ReferenceProfile) -> None:
    shifted = {f"x{i}": 3.0 for i in range(15)}
    report = drift_report(profile, make_frame(120, 9, shift=shifted))
    assert not report.sufficient and not report.dataset_drift and report.drifted == ()
    assert report.feature("x0").p_value < 1e-10  # tested, just not flagged
    assert report.reason == (
        "the window holds 120 rows, fewer than min_rows=500: too few to tell drift from "
        "noise, so nothing is flagged. Wait for more rows, or lower min_rows"
    )
    lower = drift_report(
        profile, make_frame(120, 9, shift=shifted), settings=DriftSettings(min_rows=100)
    )
    assert lower.sufficient and lower.dataset_drift


def test_an_empty_window_is_untested_not_a_crash(profile: ReferenceProfile) -> None:
    report = drift_report(profile, make_frame(0, 1))
    assert not report.sufficient and report.share == 0.0
    x0 = report.feature("x0")
    assert not x0.tested and x0.note == "not tested: the window has no values"


def test_correction_none_flags_more_than_holm(profile: ReferenceProfile) -> None:
    window = make_frame(600, 11, shift={"x0": 0.14})
    holm = drift_report(profile, window, settings=DriftSettings(wasserstein_threshold=0.0))
    plain = drift_report(
        profile, window, settings=DriftSettings(correction="none", wasserstein_threshold=0.0)
    )
    x0_holm, x0_plain = holm.feature("x0"), plain.feature("x0")
    assert x0_plain.p_adjusted == x0_plain.p_value < 0.05
    assert x0_holm.p_adjusted > x0_holm.p_value
    bh = drift_report(profile, window, settings=DriftSettings(correction="bh"))
    assert x0_plain.p_value <= bh.feature("x0").p_adjusted <= x0_holm.p_adjusted


def test_predictions_are_tested_apart_from_the_features() -> None:
    rng = np.random.default_rng(0)
    reference = make_frame(5000, 0)
    profile = build_profile(reference, predictions=rng.choice(["yes", "no"], size=5000))
    served = rng.choice(["yes", "no"], size=1000, p=[0.85, 0.15])
    report = drift_report(profile, make_frame(1000, 1), predictions=served)
    assert report.prediction is not None and report.prediction.drifted
    assert report.prediction.p_adjusted == report.prediction.p_value
    assert report.share == 0.0 and report.drifted == ()
    assert report.reason.endswith("; the prediction distribution drifted")


def test_extra_columns_are_ignored_and_listed(profile: ReferenceProfile) -> None:
    window = make_frame(600, 2).assign(request_id="r", extra=1.0)
    report = drift_report(profile, window)
    assert report.ignored == ("request_id", "extra")
    assert len(report.features) == 20


def test_report_json_round_trip(profile: ReferenceProfile) -> None:
    report = drift_report(profile, make_frame(800, 3, shift={"x0": 1.0}))
    text = json.dumps(report.to_json(), allow_nan=False)
    assert DriftReport.from_json(json.loads(text)) == report


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"alpha": 1.5},
            "`alpha` must be a number in (0, 1), but got 1.5: it is the false-alarm rate of a "
            "report, e.g. 0.05",
        ),
        (
            {"correction": "bonferroni"},
            "`correction` must be one of 'holm', 'bh', 'none', but got 'bonferroni': 'holm' "
            "is the default",
        ),
        (
            {"psi_threshold": -0.1},
            "`psi_threshold` must be a finite number >= 0, but got -0.1: use 0 to flag every "
            "significant shift, however small",
        ),
        (
            {"js_threshold": float("nan")},
            "`js_threshold` must be a finite number >= 0, but got nan: use 0 to flag every "
            "significant shift, however small",
        ),
        (
            {"min_rows": 0},
            "`min_rows` must be an int >= 1, but got 0: it is the smallest window judged, e.g. 500",
        ),
        ({"min_rows": 10.0}, "`min_rows` must be an int >= 1, but got 10.0"),
        (
            {"dataset_share": 0},
            "`dataset_share` must be a number in (0, 1], but got 0: it is the share of "
            "drifted features that makes dataset drift, e.g. 0.3",
        ),
    ],
)
def test_settings_are_validated_on_construction(options: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        DriftSettings(**options)  # type: ignore[arg-type]


def test_a_missing_feature_is_named(profile: ReferenceProfile) -> None:
    window = make_frame(600, 1).drop(columns=["x3", "c4"])
    message = (
        "every feature of the reference profile must be a column of the window, but 'x3' is "
        "missing (and 1 more: ['c4']): send the features the model was trained on"
    )
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        drift_report(profile, window)


def test_a_non_numeric_value_in_a_numeric_feature_is_named(profile: ReferenceProfile) -> None:
    window = make_frame(600, 1).astype({"x2": object})
    window.loc[5, "x2"] = "abc"
    message = (
        "feature 'x2' must hold numbers, as the reference profile has it as numeric, but "
        "holds 'abc': send numbers (or null for a missing value)"
    )
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        drift_report(profile, window)


def test_predictions_need_a_profile_of_predictions(profile: ReferenceProfile) -> None:
    message = (
        "predictions were given but the reference profile holds no prediction distribution: "
        "build the profile with predictions=..., or leave them out here"
    )
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        drift_report(profile, make_frame(600, 1), predictions=[1] * 600)


def test_predictions_must_be_row_aligned() -> None:
    profile = build_profile(make_frame(500, 0), predictions=[0, 1] * 100)
    message = (
        "`predictions` must be row-aligned with the window (600 rows), but got 3 values: "
        "pass the predictions made for these rows"
    )
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        drift_report(profile, make_frame(600, 1), predictions=[0, 1, 1])
