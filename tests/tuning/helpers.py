"""Estimators that log the work each fit does, importable by path as run_rung needs."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


def _log(path: str, line: str) -> None:
    if path:
        with open(path, "a") as fh:
            fh.write(line + "\n")


class Exploding(ClassifierMixin, BaseEstimator):
    """Raises in fit."""

    def __init__(self, message: str = "boom") -> None:
        self.message = message

    def fit(self, X: Any, y: Any) -> Exploding:
        raise RuntimeError(self.message)

    def predict(self, X: Any) -> Any:
        raise NotImplementedError


class TreeLogger(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; logs `<n_estimators> <rows>` for every fit."""

    def __init__(self, n_estimators: int = 27, log: str = "") -> None:
        self.n_estimators = n_estimators
        self.log = log

    def fit(self, X: Any, y: Any) -> TreeLogger:
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        _log(self.log, f"{self.n_estimators} {len(X)}")
        return self

    def predict(self, X: Any) -> Any:
        return np.full(len(X), self.majority_)


class RowLogger(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; logs `<rows> <classes>` for every fit."""

    def __init__(self, log: str = "") -> None:
        self.log = log

    def fit(self, X: Any, y: Any) -> RowLogger:
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        _log(self.log, f"{len(X)} {len(self.classes_)}")
        return self

    def predict(self, X: Any) -> Any:
        return np.full(len(X), self.majority_)
