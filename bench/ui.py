"""UI: the server time of the leaderboard and registry pages with 100,000 trials stored.

The store (SQLite, as `loopml run` makes by default) is filled through the public store
API, a run at a time: 40 runs of workload W's pipeline (10 datasets x 5 models), each
cell a search of 50 trials with three rungs (a third of them pruned after the first),
and each run registering its best cell per dataset (400 versions, the champion alias
moving). Then each page is asked for through the app in process (TestClient: server
time, no network) a few times; prints the median against the 200 ms target. Also shown,
not targeted: the runs page, one model's page and a cell's page (its 2,000-trial search).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loopml
from _workload import MODELS, write_spec
from loopml.grid import open_store
from loopml.tracking import (
    ArtifactRecord,
    BaseStore,
    CellRecord,
    CellState,
    Lineage,
    Rung,
    RunRecord,
    RunState,
    TrialRecord,
    TrialState,
)
from loopml.ui.web import create_ui_app

RUNS = 40
TRIALS_PER_CELL = 50
REPEATS = 7
TARGET_MS = 200.0


def fill(spec: loopml.Spec, store: BaseStore) -> int:
    """Write RUNS runs of trials, cells and versions; return how many trials."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lineage = Lineage(spec_hash="0" * 64, loopml_version="bench", python_version="3.11")
    written = 0
    for r in range(RUNS):
        run_id = uuid.uuid4().hex
        at = start + timedelta(hours=r)
        store.create_run(RunRecord(run_id, spec.name, RunState.RUNNING, at, lineage, workers=2))
        trials, cells, artifacts = [], [], []
        for dataset in spec.datasets:
            for model in MODELS:
                study = f"{dataset}-{model}"
                best: TrialRecord | None = None
                for n in range(TRIALS_PER_CELL):
                    score = 0.5 + 0.4 * ((n * 7919 + r * 104729) % 1000) / 1000
                    pruned = n % 3 == 2
                    rungs = tuple(
                        Rung(
                            step=i,
                            budget=0.25 * (i + 1),
                            value=score - 0.05 * (2 - i),
                            seconds=0.01,
                        )
                        for i in range(1 if pruned else 3)
                    )
                    sha = uuid.uuid4().hex * 2
                    trial = TrialRecord(
                        trial_id=uuid.uuid4().hex,
                        run_id=run_id,
                        pipeline=spec.name,
                        dataset=dataset,
                        model=model,
                        study_key=study,
                        key=uuid.uuid4().hex,
                        number=r * TRIALS_PER_CELL + n,
                        state=TrialState.PRUNED if pruned else TrialState.COMPLETE,
                        params={"alpha": score / 10, "depth": n % 8},
                        started_at=at,
                        rungs=rungs,
                        metrics={} if pruned else {"accuracy": score},
                        fit_seconds=0.02,
                        predict_seconds=0.001,
                        artifact_sha256=None if pruned else sha,
                        finished_at=at + timedelta(seconds=1),
                    )
                    trials.append(trial)
                    if not pruned and (best is None or score > best.metrics["accuracy"]):
                        best = trial
                assert best is not None and best.artifact_sha256 is not None
                artifacts.append(
                    ArtifactRecord(
                        best.artifact_sha256, f"file:///{best.artifact_sha256}", 1, {}, (), at
                    )
                )
                cells.append(
                    CellRecord(
                        cell_id=uuid.uuid4().hex,
                        run_id=run_id,
                        pipeline=spec.name,
                        dataset=dataset,
                        model=model,
                        state=CellState.COMPLETE,
                        estimator=MODELS[model][0],
                        params=dict(best.params),
                        dataset_fingerprint="f" * 16,
                        metrics=dict(best.metrics),
                        fit_seconds=0.02,
                        predict_seconds=0.001,
                        artifact_sha256=best.artifact_sha256,
                        finished_at=at + timedelta(seconds=1),
                        key=best.key,
                        trial_id=best.trial_id,
                        n_trials=TRIALS_PER_CELL,
                    )
                )
        store.add_trials(trials)
        store.add_artifacts(artifacts)
        store.add_cells(cells)
        store.finish_run(run_id, state=RunState.COMPLETE, n_cells=len(cells), n_failed=0)
        for dataset in spec.datasets:
            name = spec.registered_name(dataset)
            top = max(
                (c for c in cells if c.dataset == dataset), key=lambda c: c.metrics["accuracy"]
            )
            assert top.artifact_sha256 is not None
            store.register_version(
                name=name,
                cell_id=top.cell_id,
                artifact_sha256=top.artifact_sha256,
                metrics=top.metrics,
                alias="champion",
                expected=store.get_alias(name, "champion"),
                actor="bench",
                reason=f"best of run {run_id[:8]}",
            )
        written += len(trials)
    return written


def median_ms(client: TestClient, path: str) -> float:
    assert client.get(path).status_code == 200, path  # warm: first-use imports, caches
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, path
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        spec = loopml.load_spec(write_spec(Path(folder) / "w", MODELS))
        with open_store(spec) as store:
            began = time.perf_counter()
            trials = fill(spec, store)
            took = time.perf_counter() - began
            print(f"store: {trials:,} trials, {RUNS} runs, filled in {took:.1f} s")
            latest = store.list_runs(pipeline=spec.name, limit=1)[0]
            cell = store.list_cells(run_id=latest.run_id)[0]
            name = spec.registered_name(next(iter(spec.datasets)))
            with TestClient(create_ui_app(spec, store)) as client:
                targeted = {
                    "leaderboard": f"/runs/{latest.run_id}",
                    "registry": "/models",
                }
                shown = {
                    "runs": "/",
                    "a model": f"/models/{name}",
                    "a cell (2,000-trial search)": f"/cells/{cell.cell_id}",
                }
                for label, path in targeted.items():
                    ms = median_ms(client, path)
                    verdict = "ok" if ms < TARGET_MS else "OVER"
                    print(f"{label:<28} {ms:8.1f} ms  (target < {TARGET_MS:.0f} ms: {verdict})")
                for label, path in shown.items():
                    print(f"{label:<28} {median_ms(client, path):8.1f} ms")


if __name__ == "__main__":
    main()
