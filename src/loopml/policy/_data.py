"""Training data for a retrain: the reference dataset plus recent labelled served rows."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from loopml.data import Dataset, load_dataset
from loopml.errors import DataError, Problem
from loopml.policy._window import ServedWindow
from loopml.spec import Spec, metric_task

__all__ = ["augmented_dataset"]


def augmented_dataset(spec: Spec, dataset: str, recent: ServedWindow) -> Dataset:
    """Return ``dataset`` as the grid takes it: its source rows (unless the spec's
    ``update.reference`` is false) followed by the ``recent`` labelled rows.

    The fingerprint covers both, so the grid's cache retrains only when the rows change.
    """
    labels = pd.Series(recent.labels, name=None)
    if spec.update.reference:
        base = load_dataset(spec, dataset)
        X_recent = _columns_like(recent.features, base.X, spec, dataset)
        y_recent = _labels_like(labels, base.y, spec, dataset)
        X = pd.concat([base.X, X_recent], ignore_index=True)
        y = pd.concat([base.y, y_recent], ignore_index=True)
        task, seed = base.task, base.fingerprint
    else:
        X, y = recent.features.reset_index(drop=True), labels
        task, seed = (metric_task(spec.metrics.primary) or "classification"), "recent-only"
    # The source's own fingerprint, then the recent rows as text (a stable hash input).
    digest = hashlib.sha256(seed.encode())
    n = len(recent)
    for part in (X.tail(n).astype(str), y.tail(n).astype(str)):
        digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
    return Dataset(name=dataset, X=X, y=y, task=task, fingerprint=digest.hexdigest())


def _columns_like(
    recent: pd.DataFrame, reference: pd.DataFrame, spec: Spec, dataset: str
) -> pd.DataFrame:
    missing = [c for c in reference.columns if c not in recent.columns]
    if missing:
        raise DataError(
            [
                Problem(
                    f"datasets.{dataset}",
                    f"the served rows lack column(s) {missing} that the dataset has: the "
                    "champion was trained on other columns than the source holds now",
                    spec.line_of("datasets", dataset),
                    "Run `loopml run` on the current source first, then update",
                )
            ],
            file=spec.display_file,
        )
    out = recent[list(reference.columns)].copy()
    for column in reference.columns:
        if pd.api.types.is_numeric_dtype(reference[column].dtype) and not (
            pd.api.types.is_bool_dtype(reference[column].dtype)
        ):
            out[column] = pd.to_numeric(out[column], errors="coerce")
    return out


def _labels_like(labels: pd.Series, y: pd.Series, spec: Spec, dataset: str) -> pd.Series:
    """Return the feedback labels in the dataset's target dtype (JSON gives 1 or "1")."""
    try:
        if pd.api.types.is_numeric_dtype(y.dtype):
            converted: Any = pd.to_numeric(labels, errors="raise").astype(y.dtype)
        else:
            converted = labels.astype(str).astype(y.dtype)
    except (TypeError, ValueError) as exc:
        raise DataError(
            [
                Problem(
                    f"datasets.{dataset}.target",
                    f"feedback labels do not read as the target's type {y.dtype} "
                    f"({exc}); e.g. {labels.head(3).tolist()}",
                    spec.line_of("datasets", dataset, "target"),
                    "Send labels of the same kind as the training target",
                )
            ],
            file=spec.display_file,
        ) from exc
    return pd.Series(converted, name=y.name)
