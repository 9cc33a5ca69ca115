"""Scaling out: the same CPU-heavy grid on the local pool and on a local Dask cluster.

Workload S: 4 datasets (make_classification, 3000 rows x 20 features, 25% holdout) x
RandomForest(300 trees, one thread) x 6 trials sampled by Optuna (random sampler, seed 0,
no pruning) = 24 trials of about a second's fit each. Six trials a dataset rather than
two: preparing each dataset and registering its champion is the driver's serial work,
which no executor speeds up. It runs on the local executors
(inline for 1 worker, the process pool for 2), on a local Dask cluster the executor
starts (`--executor dask`, start-up included), and on a cluster started beforehand (as a
team's running scheduler: `--executor tcp://...`), 1 and 2 worker processes each, in
this process, interleaved; every run trains everything (a fresh store). The cell scores
must be the same everywhere: same seeds, same results.

Then the per-trial overhead: one dataset's 6 trials one after the other (1 worker, so a
trial's wall is its round trip), the median of trial wall minus its fit and predict time,
inline and on Dask (the median leaves out the first trial on a fresh worker, which
imports scikit-learn's forest). What inline leaves is the work's own (scoring, saving
the model); what Dask adds on top is the driver-side cost of a trial through the cluster.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from distributed import LocalCluster

import loopml
from loopml.executors import DaskExecutor
from loopml.tracking import InMemoryStore

DATASETS = 4
ROWS = 3000
TREES = 300
TRIALS = 6


def write_spec(directory: Path, *, datasets: int = DATASETS, trials: int = TRIALS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    spec = {
        "name": "s",
        "datasets": {
            f"d{i}": {
                "python": "_workload:make_dataset",
                "options": {"seed": i, "rows": ROWS},
                "target": "y",
            }
            for i in range(datasets)
        },
        "split": {"holdout": 0.25, "seed": 0},
        "tuning": {"sampler": "random", "pruner": "none", "seed": 0},
        "models": {
            "forest": {
                "estimator": "sklearn.ensemble.RandomForestClassifier",
                "params": {"n_estimators": TREES, "n_jobs": 1, "random_state": 0},
                "search": {"min_samples_leaf": {"int": [1, 8]}},
                "trials": trials,
            }
        },
        "metrics": {"primary": "accuracy"},
    }
    path = directory / "loopml.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def timed_run(spec: loopml.Spec, workers: int, executor: str) -> tuple[float, loopml.RunResult]:
    started = time.perf_counter()
    result = loopml.run(spec, workers=workers, executor=executor, store=InMemoryStore())
    elapsed = time.perf_counter() - started
    assert result.ok, result.failed
    return elapsed, result


def scores(result: loopml.RunResult) -> dict[str, dict[str, Any]]:
    return {c.dataset: dict(c.metrics) for c in result.cells}


def outside_the_work(result: loopml.RunResult) -> float:
    """Return the median of trial wall minus fit and predict time, in seconds."""
    spent = [
        (t.finished_at - t.started_at).total_seconds()
        - (t.fit_seconds or 0.0)
        - (t.predict_seconds or 0.0)
        for t in result.trials
        if t.finished_at is not None
    ]
    return statistics.median(spent)


def cluster_start_and_stop(workers: int) -> tuple[float, float]:
    """Return the seconds a local cluster takes to start, and to shut down."""
    started = time.perf_counter()
    executor = DaskExecutor(workers, preload=["loopml.tuning"])
    executor.start()
    ready = time.perf_counter()
    executor.close()
    return ready - started, time.perf_counter() - ready


def main() -> None:
    trials = DATASETS * TRIALS
    before = os.getloadavg()[0]
    print(
        f"workload S: {DATASETS} datasets ({ROWS} rows x 20 features) x RandomForest "
        f"({TREES} trees) x {TRIALS} trials = {trials} trials, no pruning"
    )
    with tempfile.TemporaryDirectory() as tmp:
        spec = loopml.load_spec(write_spec(Path(tmp) / "grid"))
        loopml.validate(spec)  # warm-up: imports, data generation
        walls: dict[tuple[str, int], float] = {}
        results: dict[tuple[str, int], loopml.RunResult] = {}
        for workers in (1, 2):
            for executor in ("local", "dask"):
                walls[executor, workers], results[executor, workers] = timed_run(
                    spec, workers, executor
                )
            # A team's running cluster: `--executor tcp://...`, no start-up in the run.
            with LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.CRITICAL,
            ) as cluster:
                walls["cluster", workers], results["cluster", workers] = timed_run(
                    spec, workers, cluster.scheduler_address
                )
        small = loopml.load_spec(write_spec(Path(tmp) / "one", datasets=1, trials=6))
        inline = outside_the_work(timed_run(small, 1, "local")[1])
        dask = outside_the_work(timed_run(small, 1, "dask")[1])
        start, stop = cluster_start_and_stop(2)
    reference = scores(results["local", 1])
    assert all(scores(r) == reference for r in results.values()), "results differ"
    assert all(len(r.trials) == trials for r in results.values())
    print("  same cell scores on every executor and worker count: yes")
    print("  wall, and the trials' fit and predict time summed (what workers share):")
    for (executor, workers), wall in sorted(walls.items(), key=lambda kv: kv[0][1]):
        label = "inline" if (executor, workers) == ("local", 1) else executor
        work = sum(
            (t.fit_seconds or 0.0) + (t.predict_seconds or 0.0)
            for t in results[executor, workers].trials
        )
        print(
            f"  {label:<7} {workers} worker{'s' if workers > 1 else ' '}  {wall:7.2f} s"
            f"   fit+predict {work:6.2f} s"
        )
    local_speedup = walls["local", 1] / walls["local", 2]
    print(f"  speedup local 2 vs 1 worker                 {local_speedup:5.2f}x")
    for executor, what in (("cluster", "a running cluster"), ("dask", "--executor dask")):
        speedup = walls[executor, 1] / walls[executor, 2]
        ratio = walls[executor, 2] / walls["local", 2]
        print(
            f"  Dask on {what:<18} 2 vs 1 worker {speedup:5.2f}x (target >= 1.6x); "
            f"/ local pool, 2 workers {ratio:5.2f}x (target <= 1.15x)"
        )
    print(
        f"  `--executor dask` starts a 2-worker cluster in {start:.2f} s and stops it in "
        f"{stop:.2f} s, inside its runs; `cluster` runs use one started beforehand"
    )
    print("per trial, trial wall minus fit and predict (1 dataset x 6 trials, 1 worker):")
    print(f"  inline {inline * 1000:6.0f} ms  (scoring, saving the model)")
    print(f"  Dask   {dask * 1000:6.0f} ms  (Dask adds {(dask - inline) * 1000:.0f} ms per trial)")
    print(
        f"load average before and after: {before:.1f}, {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs (other work on the machine skews the speedups)"
    )


if __name__ == "__main__":
    main()
