"""Incremental runs: (a) from an empty store, (b) again with nothing changed, (c) again after
one of the 10 datasets' files changed. Workload W with 3 tuning trials for two models.

Each side runs in this process, in the same run, imports excluded (a warm-up run first).
Then the plan's accuracy: with the history of (a), plan a cold run of a second workload
(other sizes, other seeds) and compare the estimate with the wall time of running it.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import yaml
from sklearn.datasets import make_classification

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loopml
from _workload import MODELS, N_DATASETS, make_dataset
from loopml.grid import build_plan, open_store

TUNED = {
    "tree": {"max_depth": {"int": [2, 12]}, "min_samples_leaf": {"int": [1, 30]}},
    "knn": {"n_neighbors": {"int": [3, 40]}},
}


def write_project(
    root: Path, *, n: int = N_DATASETS, rows: int = 2000, features: int = 20, seed0: int = 0
) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        if rows == 2000 and features == 20:
            frame = make_dataset(seed0 + i)
        else:
            X, y = make_classification(n_samples=rows, n_features=features, random_state=seed0 + i)
            import pandas as pd

            frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(features)])
            frame["y"] = y
        frame.to_csv(root / "data" / f"d{i}.csv", index=False)
    models = {}
    for name, (estimator, params) in MODELS.items():
        models[name] = {"estimator": estimator, "params": params}
        if name in TUNED:
            fixed = {k: v for k, v in params.items() if k not in TUNED[name]}
            models[name] |= {"params": fixed, "search": TUNED[name], "trials": 3}
    spec = {
        "name": "w",
        "datasets": {f"d{i}": {"path": f"data/d{i}.csv", "target": "y"} for i in range(n)},
        "preprocessing": {"numeric": ["sklearn.preprocessing.StandardScaler"], "categorical": []},
        "split": {"holdout": 0.25, "seed": 0},
        "models": models,
        "metrics": {"primary": "accuracy"},
    }
    (root / "loopml.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return root


def timed_run(root: Path, workers: int = 1) -> tuple[float, loopml.RunResult]:
    spec = loopml.load_spec(root)
    started = time.perf_counter()
    result = loopml.run(spec, workers=workers)
    return time.perf_counter() - started, result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        timed_run(write_project(Path(tmp) / "warm", n=2))  # warm-up: imports, caches
        root = write_project(Path(tmp) / "w")
        a, ra = timed_run(root)
        b, rb = timed_run(root)
        make_dataset(99).to_csv(root / "data" / "d3.csv", index=False)
        c, rc = timed_run(root)
        print(
            f"incremental: workload W ({N_DATASETS} datasets x {len(MODELS)} models, "
            f"3 trials for {' and '.join(TUNED)}), workers=1"
        )
        print(
            f"  (a) empty store        {a:7.3f} s   {len(ra.trials):3d} trials run, "
            f"{ra.cached:3d} cached"
        )
        print(
            f"  (b) nothing changed    {b:7.3f} s   {len(rb.trials):3d} trials run, "
            f"{rb.cached:3d} cached   b/a = {b / a:6.1%}  (target <= 5%)"
        )
        print(
            f"  (c) one dataset change {c:7.3f} s   {len(rc.trials):3d} trials run, "
            f"{rc.cached:3d} cached   c/a = {c / a:6.1%}  (target <= 15%)"
        )

        # Plan accuracy: a second workload, cold, planned from (a)'s history in the same store.
        second = write_project(Path(tmp) / "w2", n=6, rows=3000, features=25, seed0=50)
        spec2 = loopml.load_spec(second)
        spec2 = spec2.model_copy(update={"store": f"sqlite:///{root / '.loopml' / 'loopml.db'}"})
        spec2 = spec2.bind(root=second, file=spec2.file)
        for workers in (1, 2):
            spec_w = spec2.model_copy(update={"name": f"w2x{workers}"}).bind(root=second)
            with open_store(spec_w) as store:
                plan = build_plan(spec_w, loopml.validate(spec_w), store, workers=workers)
            started = time.perf_counter()
            loopml.run(spec_w, workers=workers)
            actual = time.perf_counter() - started
            print(
                f"plan accuracy, second workload cold (6 datasets of 3000x25, {plan.to_run} "
                f"trials, {workers} worker{'s' if workers > 1 else ''}): estimated "
                f"{plan.seconds:.2f} s, actual {actual:.2f} s, estimate/actual = "
                f"{plan.seconds / actual:.2f} (target 0.67..1.5; confidence {plan.confidence})"
            )


if __name__ == "__main__":
    main()
