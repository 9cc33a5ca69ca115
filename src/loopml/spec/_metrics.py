"""Which scikit-learn scorers fit which task."""

from __future__ import annotations

from sklearn.metrics import get_scorer_names

from loopml.spec._schema import Task

__all__ = ["known_metrics", "metric_task"]

_REGRESSION_EXACT = frozenset({"r2", "explained_variance", "max_error", "neg_max_error"})
# d2 scores of probabilistic classifiers, despite the regression-looking prefix
_CLASSIFICATION_D2 = frozenset({"d2_brier_score", "d2_log_loss_score"})
_REGRESSION_PREFIXES = ("neg_mean_", "neg_root_mean_", "neg_median_", "d2_")
_CLUSTERING = frozenset(
    {
        "adjusted_mutual_info_score",
        "adjusted_rand_score",
        "completeness_score",
        "fowlkes_mallows_score",
        "homogeneity_score",
        "mutual_info_score",
        "normalized_mutual_info_score",
        "rand_score",
        "v_measure_score",
    }
)


def known_metrics() -> list[str]:
    """Return the scorer names loopml accepts (scikit-learn's, less clustering ones)."""
    return sorted(set(get_scorer_names()) - _CLUSTERING)


def metric_task(name: str) -> Task | None:
    """Return the task a scorer name fits, or None when it is not a supervised scorer."""
    if name in _CLUSTERING or name not in get_scorer_names():
        return None
    if name in _CLASSIFICATION_D2:
        return "classification"
    if name in _REGRESSION_EXACT or name.startswith(_REGRESSION_PREFIXES):
        return "regression"
    return "classification"
