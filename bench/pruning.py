"""Pruning: 40 TPE trials without a pruner against 40 with one, same data, same run.

One dataset (make_classification(5000, 30)); HistGradientBoosting with 3 searched
hyperparameters and 200 boosting iterations as the budget (rungs of 1/9, 1/3, 1).
Prints the compute ratio (sum of trial seconds) and the two best scores.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import yaml
from sklearn.datasets import make_classification

import loopml

TRIALS = 40


def project(root: Path, pruner: str) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    X, y = make_classification(n_samples=5000, n_features=30, n_informative=12, random_state=7)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(30)])
    frame["y"] = y
    frame.to_csv(root / "data" / "d.csv", index=False)
    spec = {
        "name": f"prune-{pruner}",
        "datasets": {"d": {"path": "data/d.csv", "target": "y"}},
        "preprocessing": {"numeric": ["sklearn.preprocessing.StandardScaler"], "categorical": []},
        "tuning": {
            "sampler": "tpe",
            "pruner": pruner,
            "seed": 0,
            "rungs": 3,
            "reduction_factor": 3,
        },
        "models": {
            "hgb": {
                "estimator": "sklearn.ensemble.HistGradientBoostingClassifier",
                "params": {"max_iter": 200, "early_stopping": False},
                "search": {
                    "learning_rate": {"float": [0.005, 0.5], "log": True},
                    "max_leaf_nodes": {"int": [4, 64]},
                    "l2_regularization": {"float": [1e-4, 10.0], "log": True},
                },
                "trials": TRIALS,
            }
        },
        "metrics": {"primary": "accuracy"},
    }
    (root / "loopml.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return root


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pruner in ("none", "median", "successive-halving", "hyperband"):
            result = loopml.run(loopml.load_spec(project(Path(tmp) / pruner, pruner)), workers=2)
            compute = sum(t.seconds for t in result.trials)
            states = pd.Series([t.state.value for t in result.trials]).value_counts().to_dict()
            results[pruner] = (compute, result.cells[0].metrics["accuracy"], states)
    base_compute, base_best, _ = results["none"]
    print(f"pruning: {TRIALS} TPE trials of HistGradientBoosting on 5000x30, workers=2")
    for pruner, (compute, best, states) in results.items():
        print(
            f"  {pruner:20s} compute {compute:7.2f} s  ratio {compute / base_compute:5.2f}  "
            f"best accuracy {best:.4f}  (diff {best - base_best:+.4f})  {states}"
        )
    print("  target: compute ratio <= 0.5 with the best within 0.005 of the unpruned best")


if __name__ == "__main__":
    main()
