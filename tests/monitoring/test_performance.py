"""Realized metrics: scikit-learn's scores on logged outputs, whatever type the labels came in."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from sklearn import metrics

from loopml.errors import InputError
from loopml.monitoring import RealizedMetrics, metric_dropped, realized_metrics


def logged_binary(rows: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return labels, predicted labels and P(class 1) of a noisy binary classifier."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, size=rows)
    p1 = np.clip(0.5 + (y_true - 0.5) * 0.4 + rng.normal(0, 0.25, size=rows), 0.01, 0.99)
    return y_true, (p1 >= 0.5).astype(int), p1


def test_binary_classification_matches_sklearn() -> None:
    y_true, y_pred, p1 = logged_binary()
    probabilities = [{"0": 1 - p, "1": p} for p in p1]
    names = ["accuracy", "f1", "balanced_accuracy", "roc_auc", "neg_log_loss", "neg_brier_score"]
    result = realized_metrics(
        names,
        task="classification",
        y_true=y_true.tolist(),
        y_pred=y_pred.tolist(),
        probabilities=probabilities,
    )
    assert isinstance(result, RealizedMetrics) and result.rows == 300 and not result.notes
    assert list(result) == names
    proba = np.column_stack([1 - p1, p1])
    assert result["accuracy"] == metrics.accuracy_score(y_true, y_pred)
    assert result["f1"] == metrics.f1_score(y_true, y_pred)
    assert result["balanced_accuracy"] == metrics.balanced_accuracy_score(y_true, y_pred)
    assert result["roc_auc"] == pytest.approx(metrics.roc_auc_score(y_true, p1))
    assert result["neg_log_loss"] == pytest.approx(-metrics.log_loss(y_true, proba))
    assert result["neg_brier_score"] == pytest.approx(-metrics.brier_score_loss(y_true, p1))


def test_multiclass_probabilities_in_any_key_order() -> None:
    rng = np.random.default_rng(1)
    labels = np.array(["cat", "dog", "eel"])
    y_true = rng.choice(labels, size=200)
    raw = rng.dirichlet([1, 1, 1], size=200) + np.eye(3)[np.searchsorted(labels, y_true)]
    proba = raw / raw.sum(axis=1, keepdims=True)
    y_pred = labels[proba.argmax(axis=1)]
    logged = [{"eel": r[2], "cat": r[0], "dog": r[1]} for r in proba]
    result = realized_metrics(
        ["accuracy", "roc_auc_ovr", "neg_log_loss", "f1_macro"],
        task="classification",
        y_true=list(y_true),
        y_pred=list(y_pred),
        probabilities=logged,
    )
    assert result["roc_auc_ovr"] == pytest.approx(
        metrics.roc_auc_score(y_true, proba, multi_class="ovr")
    )
    assert result["neg_log_loss"] == pytest.approx(-metrics.log_loss(y_true, proba))
    assert result["f1_macro"] == pytest.approx(metrics.f1_score(y_true, y_pred, average="macro"))


def test_string_labels_of_an_integer_model_are_read_as_integers() -> None:
    y_true, y_pred, p1 = logged_binary(seed=2)
    result = realized_metrics(
        ["accuracy", "f1", "roc_auc"],
        task="classification",
        y_true=[str(v) for v in y_true],  # "1" as a client sent it
        y_pred=y_pred.tolist(),
        probabilities=[{"0": 1 - p, "1": p} for p in p1],
    )
    assert not result.as_strings
    assert result["accuracy"] == metrics.accuracy_score(y_true, y_pred)
    assert result["f1"] == metrics.f1_score(y_true, y_pred)  # pos_label=1 still found
    assert result["roc_auc"] == pytest.approx(metrics.roc_auc_score(y_true, p1))


def test_boolean_models_accept_true_false_and_one_zero_labels() -> None:
    result = realized_metrics(
        ["accuracy", "f1"],
        task="classification",
        y_true=["true", "False", 1, 0],
        y_pred=[True, False, False, False],
    )
    assert result["accuracy"] == 0.75 and result["f1"] == pytest.approx(2 / 3)


def test_labels_that_do_not_read_as_the_predictions_type_are_compared_as_strings() -> None:
    result = realized_metrics(
        ["accuracy"], task="classification", y_true=[1, "x", 0, 1], y_pred=[1, 0, 0, 0]
    )
    assert result.as_strings and result["accuracy"] == 0.5


def test_rows_without_a_label_or_prediction_are_left_out() -> None:
    result = realized_metrics(
        ["accuracy"], task="classification", y_true=[1, None, 0, 1], y_pred=[1, 1, 0, None]
    )
    assert result.rows == 2 and result["accuracy"] == 1.0


def test_regression_matches_sklearn() -> None:
    rng = np.random.default_rng(3)
    y_true = rng.normal(10, 3, size=100)
    y_pred = y_true + rng.normal(0, 1, size=100)
    names = ["r2", "neg_mean_absolute_error", "neg_root_mean_squared_error"]
    result = realized_metrics(
        names, task="regression", y_true=[str(v) for v in y_true], y_pred=y_pred
    )
    assert result["r2"] == pytest.approx(metrics.r2_score(y_true, y_pred))
    assert result["neg_mean_absolute_error"] == pytest.approx(
        -metrics.mean_absolute_error(y_true, y_pred)
    )
    assert result["neg_root_mean_squared_error"] == pytest.approx(
        -metrics.root_mean_squared_error(y_true, y_pred)
    )


def test_metrics_that_cannot_be_computed_are_left_out_with_a_reason() -> None:
    result = realized_metrics(
        ["accuracy", "roc_auc", "neg_log_loss"],
        task="classification",
        y_true=[1, 1, 1],
        y_pred=[1, 0, 1],
    )
    assert dict(result) == {"accuracy": pytest.approx(2 / 3)}
    assert result.notes["roc_auc"] == "needs class probabilities, and none were logged"
    one_class = realized_metrics(
        ["roc_auc", "neg_log_loss"],
        task="classification",
        y_true=[1, 1, 1],
        y_pred=[1, 0, 1],
        probabilities=[{"0": 0.2, "1": 0.8}, {"0": 0.6, "1": 0.4}, {"0": 0.1, "1": 0.9}],
    )
    assert "roc_auc" not in one_class
    assert one_class.notes["roc_auc"].startswith("came out nan on 3 rows: Only one class")
    assert one_class.notes["neg_log_loss"].startswith(
        "could not be computed on 3 rows: y_true contains only one label"
    )
    incomplete = realized_metrics(
        ["roc_auc"],
        task="classification",
        y_true=[1, 0],
        y_pred=[1, 0],
        probabilities=[{"0": 0.2, "1": 0.8}, None],
    )
    assert incomplete.notes["roc_auc"] == (
        "needs class probabilities, and the logged ones are incomplete (row 1 lacks "
        "a probability for some of the classes ['0', '1'])"
    )


def test_a_warning_is_kept_as_a_note_with_the_score() -> None:
    result = realized_metrics(
        ["precision"], task="classification", y_true=[1, 0, 1], y_pred=[0, 0, 0]
    )
    assert result["precision"] == 0.0
    assert result.notes["precision"].startswith("computed with a warning: Precision is")


def test_no_scored_rows_means_no_scores() -> None:
    result = realized_metrics(["r2"], task="regression", y_true=[None], y_pred=[1.0])
    assert result.rows == 0 and len(result) == 0
    assert result.notes == {"r2": "no row has both a label and a prediction"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"metrics": ["acc"], "task": "classification"},
            "`metrics` must be scikit-learn scorer names, but got 'acc': see "
            "sklearn.metrics.get_scorer_names() (e.g. 'accuracy', 'f1', 'r2')",
        ),
        (
            {"metrics": ["r2"], "task": "classification"},
            "metric 'r2' is a regression metric, but the task is 'classification': use a "
            "classification scorer such as 'accuracy'",
        ),
        (
            {"metrics": "accuracy", "task": "classification"},
            "`metrics` must be a sequence of scorer names, but got the string 'accuracy': "
            "pass ['accuracy']",
        ),
        (
            {"metrics": ["accuracy"], "task": "ranking"},
            "`task` must be 'classification' or 'regression', but got 'ranking'",
        ),
        (
            {"metrics": ["accuracy"], "task": "classification", "y_pred": [1]},
            "`y_true` and `y_pred` must be row-aligned, but got 2 labels and 1 predictions",
        ),
        (
            {"metrics": ["r2"], "task": "regression", "y_pred": ["a", 2]},
            "`y_pred` must hold numbers for a regression, but got 'a': log numeric "
            "predictions and labels",
        ),
    ],
)
def test_bad_input_is_refused(kwargs: dict[str, Any], message: str) -> None:
    arguments = {"y_true": [1, 0], "y_pred": [1, 1], **kwargs}
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        realized_metrics(arguments.pop("metrics"), **arguments)


@pytest.mark.parametrize(
    ("reference", "realized", "margin", "relative", "dropped"),
    [
        (0.90, 0.87, 0.02, False, True),
        (0.90, 0.89, 0.02, False, False),
        (0.90, 0.88, 0.02, False, False),  # exactly at the threshold: not a drop
        (0.90, 0.85, 0.05, True, True),  # 5% of 0.90 is 0.045
        (-0.30, -0.32, 0.1, True, False),  # a loss, negated: -0.33 is the threshold
        (-0.30, -0.34, 0.1, True, True),
        (0.5, 0.9, 0.0, False, False),
    ],
)
def test_metric_dropped(
    reference: float, realized: float, margin: float, relative: bool, dropped: bool
) -> None:
    assert metric_dropped(reference, realized, margin=margin, relative=relative) is dropped


def test_metric_dropped_refuses_nan_and_negative_margins() -> None:
    message = (
        "`realized` must be finite, but got nan: a metric that could not be computed cannot "
        "be compared (RealizedMetrics.notes says why it is missing)"
    )
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        metric_dropped(0.9, math.nan, margin=0.1)
    with pytest.raises(InputError, match=r"^`margin` must be >= 0, but got -0.1: it is how far"):
        metric_dropped(0.9, 0.8, margin=-0.1)
