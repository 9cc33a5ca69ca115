"""run_rung on a real prepared dataset: budgets, values, artifacts, folds and failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import Pipeline

from loopml.artifacts import ArtifactStore
from loopml.data import Fold, Prepared
from loopml.tuning import RungPlan, run_rung
from tests.tuning.conftest import METRICS, TaskFactory

FOREST = "sklearn.ensemble.RandomForestClassifier"
LOGREG = "sklearn.linear_model.LogisticRegression"
TREES = RungPlan("n_estimators", (1 / 9, 1 / 3, 1.0), 3)
ROWS = RungPlan("rows", (1 / 9, 1 / 3, 1.0), 3)
FOLDS = RungPlan("folds", (1 / 3, 2 / 3, 1.0), 3)
SINGLE = RungPlan("single", (1.0,), 3)


def _logged(path: Path) -> list[list[int]]:
    return [[int(x) for x in line.split()] for line in path.read_text().splitlines()]


def test_a_non_final_rung_gives_a_value_and_no_artifact(
    holdout: Prepared, make_task: TaskFactory
) -> None:
    params = {"n_estimators": 27, "random_state": 0, "n_jobs": 1}
    outcome = run_rung(make_task(holdout, FOREST, TREES, step=0, params=params))
    assert outcome.ok, outcome.error
    assert (outcome.dataset, outcome.model, outcome.number, outcome.step) == ("eu", "m", 0, 0)
    assert 0.0 <= outcome.value <= 1.0 and outcome.budget == pytest.approx(1 / 9)
    assert outcome.artifact is None and outcome.metrics == {} and outcome.carry == ()
    assert outcome.params == {**params, "n_estimators": 3}  # the trees this rung trained
    assert outcome.fit_seconds > 0 and outcome.predict_seconds > 0
    assert outcome.seconds == pytest.approx(outcome.fit_seconds + outcome.predict_seconds)


def test_rungs_scale_the_trees(holdout: Prepared, make_task: TaskFactory, tmp_path: Path) -> None:
    log = tmp_path / "fits.log"
    estimator = "tests.tuning.helpers.TreeLogger"
    for step in range(3):
        task = make_task(holdout, estimator, TREES, step=step, params={"log": str(log)})
        assert run_rung(task).ok
    train_rows = len(holdout.folds[0].y_train)
    assert _logged(log) == [[3, train_rows], [9, train_rows], [27, train_rows]]


def test_rungs_scale_the_rows(holdout: Prepared, make_task: TaskFactory, tmp_path: Path) -> None:
    log = tmp_path / "fits.log"
    params = {"log": str(log)}
    for step in range(3):
        task = make_task(holdout, "tests.tuning.helpers.RowLogger", ROWS, step=step, params=params)
        assert run_rung(task).ok
    assert _logged(log) == [[20, 2], [60, 2], [180, 2]]  # 180 training rows, both classes


def test_the_final_rung_saves_a_loadable_artifact(
    holdout: Prepared, make_task: TaskFactory
) -> None:
    params = {"n_estimators": 27, "max_depth": 4, "random_state": 0, "n_jobs": 1}
    outcome = run_rung(make_task(holdout, FOREST, TREES, step=2, params=params))
    assert outcome.ok, outcome.error
    assert set(outcome.metrics) == set(METRICS) and outcome.value == outcome.metrics["accuracy"]
    assert outcome.params == params and outcome.budget == 1.0
    assert outcome.artifact is not None
    root = ArtifactStore(make_task(holdout, FOREST, TREES).artifacts_root)
    pipeline = root.load(outcome.artifact.uri, sha256=outcome.artifact.sha256)
    assert isinstance(pipeline, Pipeline) and len(pipeline[-1].estimators_) == 27
    assert "predict_proba" not in vars(pipeline[-1])  # the timing wrappers are gone
    predictions = pipeline.predict(holdout.X_raw_final)
    assert len(predictions) == len(holdout.X_raw_final)


def _scores(model: Any, fold: Fold) -> dict[str, float]:
    fitted = clone(model).fit(fold.X_train, fold.y_train)
    predicted = fitted.predict(fold.X_valid)
    return {
        "accuracy": accuracy_score(fold.y_valid, predicted),
        "f1": f1_score(fold.y_valid, predicted),
    }


def test_a_single_rung_trains_the_full_model(holdout: Prepared, make_task: TaskFactory) -> None:
    params = {"n_estimators": 10, "random_state": 0, "n_jobs": 1}
    outcome = run_rung(make_task(holdout, FOREST, SINGLE, params=params))
    assert outcome.ok, outcome.error
    assert outcome.metrics == _scores(RandomForestClassifier(**params), holdout.folds[0])
    assert outcome.value == outcome.metrics["accuracy"] and outcome.artifact is not None


def test_folds_carry_their_scores_to_the_last_rung(kfold: Prepared, make_task: TaskFactory) -> None:
    params = {"C": 0.5, "max_iter": 500}
    outcomes = []
    carry: tuple[dict[str, float], ...] = ()
    for step in range(3):
        outcome = run_rung(make_task(kfold, LOGREG, FOLDS, step=step, params=params, carry=carry))
        assert outcome.ok, outcome.error
        outcomes.append(outcome)
        carry = outcome.carry  # type: ignore[assignment]
    first, second, last = outcomes
    assert len(first.carry) == 1 and len(second.carry) == 2 and len(last.carry) == 3
    assert first.value == first.carry[0]["accuracy"]
    scores = [fold["accuracy"] for fold in last.carry]
    assert second.value == pytest.approx(np.mean(scores[:2]))
    assert last.value == pytest.approx(np.mean(scores))
    assert first.artifact is None and second.artifact is None and last.artifact is not None
    assert [o.budget for o in outcomes] == pytest.approx([1 / 3, 2 / 3, 1.0])
    # Each fold is scored on every metric, and the last rung averages each of them.
    model = LogisticRegression(**params)
    assert list(last.carry) == [_scores(model, fold) for fold in kfold.folds]
    assert last.metrics["f1"] == pytest.approx(np.mean([fold["f1"] for fold in last.carry]))
    # The artifact is refitted on every row, as a k-fold grid cell's is.
    assert last.artifact is not None
    root = ArtifactStore(make_task(kfold, LOGREG, SINGLE).artifacts_root)
    pipeline = root.load(last.artifact.uri, sha256=last.artifact.sha256)
    refitted = clone(model).fit(kfold.X_final, kfold.y_final)
    assert np.allclose(pipeline[-1].coef_, refitted.coef_)


def test_a_folds_rung_needs_the_earlier_scores(kfold: Prepared, make_task: TaskFactory) -> None:
    with pytest.raises(ValueError, match="rung 1 of a folds plan needs the scores of the 1"):
        make_task(kfold, LOGREG, FOLDS, step=1)
    with pytest.raises(ValueError, match="one rung per fold, but got 2 rungs for 3 folds"):
        make_task(kfold, LOGREG, RungPlan("folds", (0.5, 1.0), 3))


def test_a_step_outside_the_plan_is_refused(holdout: Prepared, make_task: TaskFactory) -> None:
    with pytest.raises(ValueError, match="a rung index from 0 to 2, but got 3"):
        make_task(holdout, FOREST, TREES, step=3)


def test_a_raising_estimator_gives_the_traceback(holdout: Prepared, make_task: TaskFactory) -> None:
    task = make_task(
        holdout, "tests.tuning.helpers.Exploding", ROWS, step=1, params={"message": "kaput"}
    )
    outcome = run_rung(task)
    assert not outcome.ok and outcome.artifact is None
    assert outcome.error is not None
    assert outcome.error.startswith("Traceback") and "RuntimeError: kaput" in outcome.error
    assert np.isnan(outcome.value) and outcome.budget == pytest.approx(1 / 3)
