"""Workload W of the benchmarks: 10 datasets x 5 models, StandardScaler, 25% holdout."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from sklearn.datasets import make_classification

N_DATASETS = 10

MODELS = {
    "logreg": ("sklearn.linear_model.LogisticRegression", {}),
    "tree": ("sklearn.tree.DecisionTreeClassifier", {"max_depth": 5}),
    "nb": ("sklearn.naive_bayes.GaussianNB", {}),
    "knn": ("sklearn.neighbors.KNeighborsClassifier", {}),
    "ridge": ("sklearn.linear_model.RidgeClassifier", {}),
}
HEAVY_MODELS = {
    **{k: v for k, v in MODELS.items() if k != "knn"},
    "forest": ("sklearn.ensemble.RandomForestClassifier", {"n_estimators": 200, "n_jobs": 1}),
}


def make_dataset(seed: int, rows: int = 2000) -> pd.DataFrame:
    """Return dataset ``seed`` of W: make_classification(2000 rows, 20 features)."""
    X, y = make_classification(n_samples=rows, n_features=20, random_state=seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["y"] = y
    return frame


def write_spec(directory: Path, models: dict[str, tuple[str, dict[str, object]]]) -> Path:
    """Write W's loopml.yaml into ``directory`` and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    spec = {
        "name": "w",
        "datasets": {
            f"d{i}": {"python": "_workload:make_dataset", "options": {"seed": i}, "target": "y"}
            for i in range(N_DATASETS)
        },
        "preprocessing": {"numeric": ["sklearn.preprocessing.StandardScaler"], "categorical": []},
        "split": {"holdout": 0.25, "seed": 0},
        "models": {k: {"estimator": e, "params": p} for k, (e, p) in models.items()},
        "metrics": {"primary": "accuracy"},
    }
    path = directory / "loopml.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path
