"""Grid overhead: a plain scikit-learn loop against loopml.run with everything recorded.

Workload W (bench/_workload.py): 10 datasets x 5 models. Both sides run in this process,
in the same run, imports excluded (a warm-up pass runs first), alternating repetitions;
the median of each side is compared. Then the 2-worker vs 1-worker speedup on W with a
200-tree RandomForest instead of KNeighbors.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loopml
from _workload import HEAVY_MODELS, MODELS, N_DATASETS, make_dataset, write_spec
from loopml.spec import import_object

REPEATS = 3


def plain_loop(models: dict[str, tuple[str, dict[str, object]]]) -> float:
    started = time.perf_counter()
    for i in range(N_DATASETS):
        frame = make_dataset(i)
        X, y = frame.drop(columns="y"), frame["y"]
        X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
        for path, params in models.values():
            pipe = Pipeline([("scale", StandardScaler()), ("model", import_object(path)(**params))])
            pipe.fit(X_tr, y_tr)
            accuracy_score(y_va, pipe.predict(X_va))
    return time.perf_counter() - started


def loopml_run(models: dict[str, tuple[str, dict[str, object]]], workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        spec = loopml.load_spec(write_spec(Path(tmp), models))
        started = time.perf_counter()
        result = loopml.run(spec, workers=workers)
        elapsed = time.perf_counter() - started
        assert result.ok and len(result.champions) == N_DATASETS, result.failed
    return elapsed


def main() -> None:
    cells = N_DATASETS * len(MODELS)
    plain_loop(MODELS)  # warm-up: imports, caches
    loopml_run(MODELS, workers=1)
    plain, ours = [], []
    for _ in range(REPEATS):
        plain.append(plain_loop(MODELS))
        ours.append(loopml_run(MODELS, workers=1))
    p, o = statistics.median(plain), statistics.median(ours)
    print(
        f"workload W: {N_DATASETS} datasets x {len(MODELS)} models = {cells} cells, "
        f"median of {REPEATS}"
    )
    print(f"  plain scikit-learn loop        {p:7.3f} s  ({p / cells * 1000:6.1f} ms/cell)")
    print(f"  loopml.run(workers=1), tracked {o:7.3f} s  ({o / cells * 1000:6.1f} ms/cell)")
    print(f"  ratio loopml/plain             {o / p:7.2f}x  (target <= 1.6x)")
    print(f"  overhead per cell              {(o - p) / cells * 1000:7.1f} ms")

    one = loopml_run(HEAVY_MODELS, workers=1)
    two = loopml_run(HEAVY_MODELS, workers=2)
    print("heavy W (RandomForest 200 trees instead of KNeighbors):")
    print(
        f"  1 worker {one:7.2f} s, 2 workers {two:7.2f} s, speedup {one / two:5.2f}x "
        "(target >= 1.6x)"
    )


if __name__ == "__main__":
    main()
