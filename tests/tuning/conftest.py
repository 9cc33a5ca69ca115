"""A small churn dataset, prepared once for holdout and once for 3-fold validation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopml.data import Dataset, Prepared, prepare
from loopml.spec import PreprocessingSpec, SplitSpec
from loopml.tuning import RungPlan, RungTask

METRICS = ("accuracy", "f1")


def churn(rows: int = 240) -> Dataset:
    """Return a churn-like table: numeric and categorical columns, a few missing values."""
    rng = np.random.default_rng(1)
    plan = rng.choice(["basic", "pro", "team"], size=rows, p=[0.5, 0.35, 0.15])
    tenure = rng.gamma(2.0, 12.0, rows).round(1)
    tickets = rng.poisson(1.5, rows).astype(float)
    logit = -1.0 + 0.6 * tickets - 0.05 * tenure + 0.8 * (plan == "team")
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    tickets[rng.random(rows) < 0.03] = np.nan
    X = pd.DataFrame({"tenure": tenure, "tickets": tickets, "plan": plan})
    return Dataset("eu", X, pd.Series(churned, name="churned"), "classification", "test")


@pytest.fixture(scope="session")
def holdout() -> Prepared:
    return prepare(churn(), SplitSpec(holdout=0.25, seed=0), PreprocessingSpec())


@pytest.fixture(scope="session")
def kfold() -> Prepared:
    return prepare(churn(), SplitSpec(kfold=3, seed=0), PreprocessingSpec())


TaskFactory = Callable[..., RungTask]


@pytest.fixture
def make_task(tmp_path: Path) -> TaskFactory:
    """Return a function building a RungTask with test defaults (artifacts in tmp_path)."""

    def make(
        prepared: Prepared,
        estimator: str,
        plan: RungPlan,
        *,
        step: int = 0,
        params: dict[str, Any] | None = None,
        **extra: Any,
    ) -> RungTask:
        return RungTask(
            dataset=prepared.dataset,
            model="m",
            number=0,
            estimator=estimator,
            params=params or {},
            prepared=prepared,
            metrics=METRICS,
            plan=plan,
            step=step,
            artifacts_root=str(tmp_path / "artifacts"),
            **extra,
        )

    return make
