"""Fit preprocessing once per dataset (per fold), never on validation rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from loopml.data._dataset import Dataset
from loopml.spec import PreprocessingSpec, SplitSpec, Step, import_object

__all__ = ["Fold", "Prepared", "build_preprocessor", "column_kinds", "prepare", "split_rows"]


@dataclass(frozen=True, eq=False)
class Fold:
    """Transformed training and validation rows of one split."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray


@dataclass(frozen=True, eq=False)
class Prepared:
    """A dataset after preprocessing, shared by every model of the grid.

    ``folds`` score the models. ``final_preprocessor`` with ``X_final``/``y_final`` is what
    the deployable artifact is trained on: the holdout's training rows, or for k-fold every
    row (the folds only estimate the score, as ``GridSearchCV(refit=True)`` does).
    ``X_raw_final`` are those rows before preprocessing (for the input schema and samples);
    ``X_raw_valid`` the rows scored, before preprocessing (the holdout; for k-fold every
    row), whose predictions make the reference the monitor compares served answers with.
    """

    dataset: str
    task: str
    folds: tuple[Fold, ...]
    final_preprocessor: Any
    X_final: np.ndarray
    y_final: np.ndarray
    X_raw_final: pd.DataFrame
    X_raw_valid: pd.DataFrame
    seed: int

    @property
    def refit(self) -> bool:
        return len(self.folds) > 1


def column_kinds(X: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Return (numeric, categorical) column names; booleans and strings are categorical."""
    numeric, categorical = [], []
    for col in X.columns:
        dtype = X[col].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            categorical.append(str(col))
        else:
            numeric.append(str(col))
    return numeric, categorical


def build_preprocessor(recipe: PreprocessingSpec, X: pd.DataFrame) -> ColumnTransformer:
    """Return an unfitted ColumnTransformer applying the recipe to X's column kinds."""
    numeric, categorical = column_kinds(X)
    parts: list[tuple[str, Any, list[str]]] = []
    for label, steps, cols in (
        ("numeric", recipe.numeric, numeric),
        ("categorical", recipe.categorical, categorical),
    ):
        if cols:
            parts.append((label, _steps(steps), cols))
    # Dense output: several estimators (GaussianNB, HistGradientBoosting) refuse sparse input.
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)


def _steps(steps: list[Step]) -> Any:
    if not steps:
        return "passthrough"
    return Pipeline(
        [
            (f"{i}_{s.path.rsplit('.', 1)[-1]}", import_object(s.path)(**s.params))
            for i, s in enumerate(steps)
        ]
    )


def split_rows(split: SplitSpec, dataset: Dataset) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return (train, valid) row positions for each fold of the split."""
    n = dataset.n_rows
    y = dataset.y.to_numpy()
    stratify = dataset.task == "classification" and split.stratify is not False
    if split.scheme == "kfold":
        k = int(split.kfold or 0)
        splitter = (StratifiedKFold if stratify else KFold)(
            n_splits=k, shuffle=True, random_state=split.seed
        )
        return [(tr, va) for tr, va in splitter.split(np.zeros(n), y if stratify else None)]
    train, valid = train_test_split(
        np.arange(n),
        test_size=split.holdout_fraction,
        random_state=split.seed,
        stratify=y if stratify else None,
    )
    return [(np.sort(train), np.sort(valid))]


def prepare(dataset: Dataset, split: SplitSpec, recipe: PreprocessingSpec) -> Prepared:
    """Fit preprocessing on each fold's training rows and transform both sides."""
    X, y = dataset.X, dataset.y.to_numpy()
    folds = []
    preprocessor = None
    rows = split_rows(split, dataset)
    for train, valid in rows:
        preprocessor = build_preprocessor(recipe, X)
        X_train = _dense(preprocessor.fit_transform(X.iloc[train], y[train]))
        X_valid = _dense(preprocessor.transform(X.iloc[valid]))
        folds.append(Fold(X_train, y[train], X_valid, y[valid]))
    if len(rows) == 1:
        train = rows[0][0]
        final, X_final, y_final = preprocessor, folds[0].X_train, y[train]
        X_raw, X_raw_valid = X.iloc[train], X.iloc[rows[0][1]]
    else:
        final = build_preprocessor(recipe, X)
        X_final, y_final, X_raw, X_raw_valid = _dense(final.fit_transform(X, y)), y, X, X
    return Prepared(
        dataset=dataset.name,
        task=dataset.task,
        folds=tuple(folds),
        final_preprocessor=final,
        X_final=X_final,
        y_final=y_final,
        X_raw_final=X_raw,
        X_raw_valid=X_raw_valid,
        seed=split.seed,
    )


def _dense(X: Any) -> np.ndarray:
    if hasattr(X, "toarray"):
        X = X.toarray()
    return np.ascontiguousarray(X)
