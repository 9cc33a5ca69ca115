"""The cost model: recovers power laws, widens with noise, prices budgets, falls back in order."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from loopml.estimate import Calibration, CostModel
from loopml.tracking import Rung, TrialRecord, TrialState

BUDGETS = (1 / 9, 1 / 3, 1.0)


def trial(
    number: int,
    rows: int,
    features: int,
    rungs: Sequence[tuple[float, float]],
    *,
    params: Mapping[str, Any] | None = None,
    state: TrialState = TrialState.COMPLETE,
    fit_seconds: float | None = None,
) -> TrialRecord:
    return TrialRecord(
        trial_id=f"t{number}",
        run_id="run",
        pipeline="shop",
        dataset="eu",
        model="m",
        study_key="study",
        key=f"k{number}",
        number=number,
        state=state,
        params=params or {},
        started_at=datetime(2024, 1, 1, tzinfo=UTC),
        rows=rows,
        features=features,
        rungs=tuple(Rung(i, b, 0.5, s) for i, (b, s) in enumerate(rungs)),
        fit_seconds=fit_seconds,
    )


def power_law_history(
    estimator: str,
    *,
    scale: float = 2e-6,
    size_slope: float = 1.2,
    budget_slope: float = 0.8,
    noise: float = 0.0,
    rows: Sequence[int] = (1000, 2000, 4000, 8000),
    per_size: int = 5,
    seed: int = 0,
) -> list[tuple[str, TrialRecord]]:
    """Trials whose rung seconds are scale * (rows*10)^size_slope * budget^budget_slope."""
    rng = np.random.default_rng(seed)
    history: list[tuple[str, TrialRecord]] = []
    for n in rows:
        for _ in range(per_size):
            rungs = [
                (
                    b,
                    scale
                    * (n * 10) ** size_slope
                    * b**budget_slope
                    * math.exp(rng.normal(0, noise)),
                )
                for b in BUDGETS
            ]
            history.append((estimator, trial(len(history), n, 10, rungs)))
    return history


def truth(rows: int, budget: float = 1.0) -> float:
    return float(2e-6 * (rows * 10) ** 1.2 * budget**0.8)


def test_recovers_a_known_power_law() -> None:
    model = CostModel.fit(power_law_history("E", noise=0.05))
    law = model.law("E")
    assert law is not None
    assert law.free == (True, True, False)
    assert law.size_slope == pytest.approx(1.2, abs=0.05)
    assert law.budget_slope == pytest.approx(0.8, abs=0.05)
    estimate = model.predict("E", 16000, 10)
    assert estimate.basis == "history"
    assert estimate.n_points == 20
    assert estimate.seconds == pytest.approx(truth(16000), rel=0.1)
    assert estimate.low < truth(16000) < estimate.high


def test_interval_widens_with_noise() -> None:
    quiet = CostModel.fit(power_law_history("E", noise=0.02)).predict("E", 4000, 10)
    noisy = CostModel.fit(power_law_history("E", noise=0.4)).predict("E", 4000, 10)
    assert noisy.high / noisy.low > 2 * (quiet.high / quiet.low)
    assert quiet.low < quiet.seconds < quiet.high


def test_interval_widens_when_extrapolating() -> None:
    model = CostModel.fit(power_law_history("E", noise=0.1))
    near = model.predict("E", 4000, 10)
    far = model.predict("E", 400_000, 10)
    assert far.high / far.low > near.high / near.low


def test_budget_fractions_are_accounted_for() -> None:
    # One size only: the size slope is fixed, the budget slope is still learned from rungs.
    rungs = [(b, 8.0 * b) for b in (0.25, 0.5, 1.0)]
    model = CostModel.fit([("E", trial(i, 1000, 10, rungs)) for i in range(4)])
    full = model.predict("E", 1000, 10, budget=1.0)
    quarter = model.predict("E", 1000, 10, budget=0.25)
    assert full.seconds == pytest.approx(8.0, rel=1e-6)
    assert quarter.seconds == pytest.approx(2.0, rel=1e-6)


def test_few_sizes_fix_the_size_slope_at_one_anchored_at_the_data() -> None:
    history = [("E", trial(i, n, 10, [(1.0, s)])) for i, (n, s) in enumerate([(1000, 2.0)] * 3)]
    history.append(("E", trial(3, 2000, 10, [(1.0, 4.0)])))
    model = CostModel.fit(history)
    law = model.law("E")
    assert law is not None
    assert law.size_slope == 1.0 and not law.free[0]
    assert model.predict("E", 1000, 10).seconds == pytest.approx(2.0, rel=1e-6)
    assert model.predict("E", 8000, 10).seconds == pytest.approx(16.0, rel=1e-6)
    assert model.predict("E", 1000, 40).seconds == pytest.approx(8.0, rel=1e-6)


def test_three_sizes_spanning_enough_fit_the_slope() -> None:
    history = [
        ("E", trial(i, n, 10, [(1.0, 1e-4 * (n * 10) ** 0.5)]))
        for i, n in enumerate((1000, 1500, 2250))
    ]
    law = CostModel.fit(history).law("E")
    assert law is not None
    assert law.free[0]
    assert law.size_slope == pytest.approx(0.5, abs=1e-6)


def test_fitted_slopes_are_clipped_to_plausible_values() -> None:
    history = [
        ("E", trial(i, n, 10, [(1.0, 1e-12 * (n * 10) ** 4)])) for i, n in enumerate((1, 2, 4, 8))
    ]
    law = CostModel.fit(history).law("E")
    assert law is not None
    assert law.size_slope == 2.5 and not law.free[0]


def test_varied_n_estimators_are_fitted() -> None:
    history = [
        ("rf", trial(i, 1000, 10, [(1.0, 0.01 * n)], params={"n_estimators": n}))
        for i, n in enumerate((50, 100, 200, 50, 100, 200))
    ]
    model = CostModel.fit(history)
    law = model.law("rf")
    assert law is not None
    assert law.work_param == "n_estimators"
    assert law.work_slope == pytest.approx(1.0, abs=1e-6)
    assert model.predict("rf", 1000, 10, params={"n_estimators": 400}).seconds == pytest.approx(
        4.0, rel=1e-6
    )


def test_constant_n_estimators_scale_linearly_and_a_query_without_it_is_typical() -> None:
    history = [
        ("rf", trial(i, 1000, 10, [(1.0, 1.0)], params={"n_estimators": 100})) for i in range(3)
    ]
    model = CostModel.fit(history)
    more = model.predict("rf", 1000, 10, params={"n_estimators": 300})
    typical = model.predict("rf", 1000, 10)
    assert more.seconds == pytest.approx(3.0, rel=1e-6)
    assert typical.seconds == pytest.approx(1.0, rel=1e-6)
    # The slope is assumed, not measured: the interval says so.
    assert more.high / more.low > typical.high / typical.low


def test_params_are_ignored_when_history_does_not_record_them() -> None:
    history = [("rf", trial(i, 1000, 10, [(1.0, 1.0)])) for i in range(3)]
    model = CostModel.fit(history)
    law = model.law("rf")
    assert law is not None and law.work_param is None
    assert model.predict("rf", 1000, 10, params={"n_estimators": 300}).seconds == pytest.approx(1.0)


def test_only_finished_trials_with_sizes_count() -> None:
    history = [
        ("E", trial(0, 1000, 10, [(1.0, 1.0)])),
        ("E", trial(1, 1000, 10, [(1.0, 1.0)], state=TrialState.PRUNED)),
        ("E", trial(2, 1000, 10, [(1.0, 50.0)], state=TrialState.FAILED)),
        ("E", trial(3, 1000, 10, [(1.0, 50.0)], state=TrialState.RUNNING)),
        ("E", trial(4, 0, 0, [(1.0, 50.0)])),
        ("E", trial(5, 1000, 10, [(1.0, 0.0)])),
    ]
    estimate = CostModel.fit(history).predict("E", 1000, 10)
    assert estimate.n_points == 2
    assert estimate.seconds == pytest.approx(1.0)


def test_a_trial_without_rungs_counts_its_fit_and_predict_seconds() -> None:
    record = trial(0, 1000, 10, [], fit_seconds=3.0)
    estimate = CostModel.fit([("E", record)]).predict("E", 1000, 10)
    assert estimate.basis == "history"
    assert estimate.seconds == pytest.approx(3.0)


def test_unknown_estimator_uses_calibration_first() -> None:
    model = CostModel.fit(
        power_law_history("E"),
        calibrations=[Calibration("new", rows=1000, features=10, seconds=2.0)],
    )
    estimate = model.predict("new", 2000, 10)
    assert estimate.basis == "calibration"
    assert estimate.n_points == 1
    assert estimate.seconds == pytest.approx(4.0)
    assert estimate.low < 4.0 < estimate.high


def test_history_wins_over_calibration() -> None:
    model = CostModel.fit(
        power_law_history("E"), calibrations=[Calibration("E", 1000, 10, seconds=1e6)]
    )
    assert model.predict("E", 1000, 10).basis == "history"


def test_failed_calibrations_are_ignored() -> None:
    model = CostModel.fit([], calibrations=[Calibration("new", 1000, 10, seconds=math.nan)])
    assert model.predict("new", 1000, 10).basis == "none"


def test_unknown_estimator_without_calibration_is_priced_like_the_median_estimator() -> None:
    history = [
        *power_law_history("cheap", scale=1e-6),
        *power_law_history("middle", scale=4e-6),
        *power_law_history("dear", scale=16e-6),
    ]
    model = CostModel.fit(history)
    guess = model.predict("new", 4000, 10)
    middle = model.predict("middle", 4000, 10)
    assert guess.basis == "global"
    assert guess.n_points == 60
    assert guess.seconds == pytest.approx(middle.seconds)
    assert guess.high / guess.low > middle.high / middle.low
    assert guess.low < model.predict("cheap", 4000, 10).seconds
    assert guess.high > model.predict("dear", 4000, 10).seconds


def test_nothing_known_gives_no_basis() -> None:
    estimate = CostModel.fit([]).predict("new", 1000, 10)
    assert estimate.basis == "none"
    assert estimate.n_points == 0
    assert math.isnan(estimate.seconds) and math.isnan(estimate.low) and math.isnan(estimate.high)


def test_estimators_lists_those_with_history() -> None:
    model = CostModel.fit([*power_law_history("b"), *power_law_history("a")])
    assert model.estimators == ("a", "b")
    assert model.law("c") is None


@pytest.mark.parametrize(
    ("rows", "features", "budget", "match"),
    [
        (0, 10, 1.0, "rows and features must be >= 1, but got rows=0"),
        (10, 0, 1.0, "features=0"),
        (10, 10, 0.0, "budget must be a positive fraction, but got 0.0"),
        (10, 10, math.nan, "budget must be a positive fraction"),
    ],
)
def test_predict_rejects_bad_queries(rows: int, features: int, budget: float, match: str) -> None:
    model = CostModel.fit(power_law_history("E"))
    with pytest.raises(ValueError, match=re.escape(match)):
        model.predict("E", rows, features, budget=budget)
