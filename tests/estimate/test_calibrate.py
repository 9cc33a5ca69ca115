"""Calibration: real fits on subsamples, extrapolated; NaN instead of an exception."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_classification

from loopml.estimate import calibrate

LOGREG = "sklearn.linear_model.LogisticRegression"
TREE = "sklearn.tree.DecisionTreeClassifier"


class ExplodingClassifier:
    """Fails in fit, as a broken estimator would."""

    def __init__(self, **params: Any) -> None:
        self.params = params

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return dict(self.params)

    def fit(self, X: np.ndarray, y: np.ndarray) -> ExplodingClassifier:
        raise RuntimeError("boom")


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(n_samples=40_000, n_features=20, random_state=0)
    return X, y


@pytest.mark.parametrize(("estimator", "params"), [(LOGREG, {"max_iter": 200}), (TREE, {})])
def test_gives_a_positive_finite_number(
    data: tuple[np.ndarray, np.ndarray], estimator: str, params: dict[str, Any]
) -> None:
    X, y = data
    seconds = calibrate(estimator, params, X[:3000], y[:3000], seconds=0.3)
    assert math.isfinite(seconds) and seconds > 0


def test_grows_with_rows(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    small = calibrate(TREE, {}, X[:1000], y[:1000], seconds=0.3)
    large = calibrate(TREE, {}, X, y, seconds=0.3)
    # 40x the rows: at least linear in theory; a loose bound survives noisy machines.
    assert large > 4 * small


def test_extrapolates_within_an_order_of_magnitude(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    estimate = calibrate(TREE, {"max_depth": 8}, X, y, seconds=0.2)
    started = time.perf_counter()
    from sklearn.tree import DecisionTreeClassifier

    model = DecisionTreeClassifier(max_depth=8, random_state=0).fit(X, y)
    model.predict(X)
    actual = time.perf_counter() - started
    assert actual / 10 < estimate < actual * 10


def test_stays_near_its_time_budget(data: tuple[np.ndarray, np.ndarray]) -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = data
    budget = 0.2
    started = time.perf_counter()
    calibrate(LOGREG, {"max_iter": 200}, X, y, seconds=budget)
    spent = time.perf_counter() - started
    started = time.perf_counter()
    LogisticRegression(max_iter=200).fit(X, y).predict(X)
    full = time.perf_counter() - started
    # The budget is soft (up to 3x to get three sizes), and the last fit, on a subsample,
    # may run past it: never more than a full run past it. Both sides slow down alike on
    # a busy machine, so the bound is about the work, not the machine.
    assert spent < 3 * budget + 2 * full


def test_small_data_is_timed_in_full(data: tuple[np.ndarray, np.ndarray]) -> None:
    from sklearn.tree import DecisionTreeClassifier

    X, y = data
    seconds = calibrate(TREE, {}, X[:150], y[:150], seconds=0.2)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        DecisionTreeClassifier(random_state=0).fit(X[:150], y[:150]).predict(X[:150])
        timings.append(time.perf_counter() - started)
    # Timed, not extrapolated: near what the fit takes (millisecond timings are noisy).
    assert 0 < seconds < 50 * sorted(timings)[2]


@pytest.mark.parametrize(
    ("estimator", "params"),
    [
        ("tests.estimate.test_calibrate.ExplodingClassifier", {}),
        ("sklearn.linear_model.Nope", {}),
        ("no_such_package.Model", {}),
        (LOGREG, {"penalty": "bogus"}),
        (LOGREG, {"no_such_param": 1}),
    ],
)
def test_a_failing_estimator_gives_nan(
    data: tuple[np.ndarray, np.ndarray], estimator: str, params: dict[str, Any]
) -> None:
    X, y = data
    assert math.isnan(calibrate(estimator, params, X[:500], y[:500], seconds=0.1))


def test_a_single_class_sample_gives_nan_not_an_exception(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    X, _ = data
    assert math.isnan(calibrate(LOGREG, {}, X[:500], np.zeros(500), seconds=0.1))


def test_rejects_a_non_positive_budget(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    with pytest.raises(ValueError, match="seconds must be > 0, but got 0"):
        calibrate(TREE, {}, X, y, seconds=0)
