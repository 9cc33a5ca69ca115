"""Estimators and transformers that misbehave on purpose, importable by worker processes."""

from __future__ import annotations

import os
import signal
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.preprocessing import StandardScaler


class ExplodingClassifier(ClassifierMixin, BaseEstimator):
    """Raises in fit."""

    def __init__(self, message: str = "boom") -> None:
        self.message = message

    def fit(self, X: Any, y: Any) -> ExplodingClassifier:
        raise RuntimeError(self.message)

    def predict(self, X: Any) -> Any:
        raise NotImplementedError


class SuicidalClassifier(ClassifierMixin, BaseEstimator):
    """Kills its own process with SIGKILL in fit, as the OOM killer would."""

    def __init__(self, signum: int = int(signal.SIGKILL)) -> None:
        self.signum = signum

    def fit(self, X: Any, y: Any) -> SuicidalClassifier:
        os.kill(os.getpid(), self.signum)
        return self

    def predict(self, X: Any) -> Any:
        return np.zeros(len(X))


class CountingScaler(TransformerMixin, BaseEstimator):
    """A StandardScaler that logs the row count of every fit to a file."""

    def __init__(self, log: str = "") -> None:
        self.log = log

    def fit(self, X: Any, y: Any = None) -> CountingScaler:
        self.scaler_ = StandardScaler().fit(X)
        if self.log:
            with open(self.log, "a") as fh:
                fh.write(f"{len(X)}\n")
        return self

    def transform(self, X: Any) -> Any:
        return self.scaler_.transform(X)


class SleepyClassifier(ClassifierMixin, BaseEstimator):
    """A decision stump that takes ``seconds`` to fit, for tests that need work in flight."""

    def __init__(self, seconds: float = 0.5, depth: int = 1) -> None:
        self.seconds = seconds
        self.depth = depth

    def fit(self, X: Any, y: Any) -> SleepyClassifier:
        import time

        from sklearn.tree import DecisionTreeClassifier

        time.sleep(self.seconds)
        self.tree_ = DecisionTreeClassifier(max_depth=self.depth, random_state=0).fit(X, y)
        self.classes_ = self.tree_.classes_
        return self

    def predict(self, X: Any) -> Any:
        return self.tree_.predict(X)
