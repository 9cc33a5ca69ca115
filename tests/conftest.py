"""Shared fixtures: a small project on disk (spec + CSV), fast to run end to end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import loopml
from loopml.artifacts import ArtifactStore
from loopml.cli import churn_frame
from loopml.registry import Registry
from loopml.tracking import InMemoryStore


def base_spec() -> dict[str, Any]:
    return {
        "name": "shop",
        "datasets": {
            "eu": {"path": "data/eu.csv", "target": "churned", "drop": ["customer_id"]},
            "us": {"path": "data/us.csv", "target": "churned", "drop": ["customer_id"]},
        },
        "split": {"holdout": 0.25, "seed": 0},
        "models": {
            "logreg": {
                "estimator": "sklearn.linear_model.LogisticRegression",
                "params": {"max_iter": 500},
            },
            "tree": {
                "estimator": "sklearn.tree.DecisionTreeClassifier",
                "params": {"max_depth": 3},
            },
        },
        "metrics": {"primary": "accuracy", "extra": ["f1"]},
    }


ProjectFactory = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """Return a function writing a project (spec dict or raw YAML, plus CSVs) into tmp_path."""

    def make(spec: dict[str, Any] | str | None = None, *, rows: int = 200) -> Path:
        root = tmp_path / "proj"
        (root / "data").mkdir(parents=True, exist_ok=True)
        churn_frame(rows, seed=1).to_csv(root / "data" / "eu.csv", index=False)
        churn_frame(rows, seed=2, shift=0.5).to_csv(root / "data" / "us.csv", index=False)
        text = (
            spec
            if isinstance(spec, str)
            else yaml.safe_dump(spec if spec is not None else base_spec(), sort_keys=False)
        )
        (root / "loopml.yaml").write_text(text)
        return root

    return make


@pytest.fixture
def project(make_project: ProjectFactory) -> Path:
    return make_project()


@pytest.fixture
def registry(make_project: ProjectFactory) -> Registry:
    """A registry where shop.eu has versions 1 (first run) and 2 (a run on new data)."""
    spec_dict = base_spec()
    spec_dict["datasets"].pop("us")
    root = make_project(spec_dict)
    spec = loopml.load_spec(root / "loopml.yaml")
    store = InMemoryStore()
    loopml.run(spec, workers=1, store=store)
    churn_frame(220, seed=9).to_csv(root / "data" / "eu.csv", index=False)
    loopml.run(loopml.load_spec(root / "loopml.yaml"), workers=1, store=store)
    return Registry(store, ArtifactStore(spec.artifacts_dir))
