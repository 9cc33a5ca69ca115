from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from loopml.artifacts import ArtifactStore

N_ROWS = 120


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "artifacts")


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    """Raw training rows: numbers with a gap, text, a category and a flag."""
    rng = np.random.default_rng(0)
    num = rng.normal(size=N_ROWS)
    num[::17] = np.nan
    return pd.DataFrame(
        {
            "num": num,
            "count": rng.integers(0, 10, N_ROWS),
            "city": rng.choice(["lyon", "nice", "paris"], N_ROWS),
            "tier": pd.Categorical(rng.choice(["gold", "silver"], N_ROWS)),
            "flag": rng.random(N_ROWS) < 0.5,
        }
    )


@pytest.fixture(scope="session")
def y_binary(frame: pd.DataFrame) -> np.ndarray:
    signal = frame["num"].fillna(0).to_numpy() + (frame["city"] == "nice").to_numpy()
    return (signal > 0.3).astype(int)


@pytest.fixture(scope="module")
def fitted(frame: pd.DataFrame, y_binary: np.ndarray) -> Pipeline:
    """A small deployable pipeline, fitted once per module."""
    return deployable(LogisticRegression()).fit(frame, y_binary)


@pytest.fixture(scope="session")
def y_multiclass(frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(frame["count"].to_numpy() % 3)


@pytest.fixture(scope="session")
def y_positive(frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(np.abs(frame["num"].fillna(0).to_numpy()) * 3 + frame["count"] + 0.5)


def preprocess(*, sparse: bool = False) -> ColumnTransformer:
    """The usual raw-feature preprocessor: impute and scale numbers, one-hot the rest."""
    return ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["num", "count"]),
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", sparse_output=sparse),
                ["city", "tier"],
            ),
            ("flag", "passthrough", ["flag"]),
        ],
        # Keep the output sparse whatever its density, so the model stores sparse arrays.
        sparse_threshold=1.0 if sparse else 0.0,
    )


def deployable(model: object, *, sparse: bool = False) -> Pipeline:
    return Pipeline([("preprocess", preprocess(sparse=sparse)), ("model", model)])


def same_predictions(expected: Pipeline, actual: Any, X: pd.DataFrame) -> None:
    """Assert ``actual`` predicts (and scores probabilities) exactly like ``expected``."""
    np.testing.assert_array_equal(actual.predict(X), expected.predict(X))
    if hasattr(expected, "predict_proba"):
        np.testing.assert_array_equal(actual.predict_proba(X), expected.predict_proba(X))
