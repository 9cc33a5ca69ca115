"""Many writers on one store: `loopml run` processes, and a server's prediction log.

Eight runs at once: four run pipelines of their own and four run one pipeline together.
Those four may all train the same trials (none sees another's finished yet): each run
records the trials it trained, so a trial key may appear in several runs, as it does when
a later run retrains with ``--force``. What must never happen is one record written
twice: a run's cell for a (dataset, model), a run's trial for a (study, number), a
version number of a model.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from loopml.cli import churn_frame
from loopml.serving import PredictionLog
from loopml.tracking import CellState, RunState, SQLStore, TrialState
from loopml.tracking._engine import make_store_engine, parse_url
from loopml.tracking.testing import make_prediction
from tests.conftest import base_spec

pytestmark = pytest.mark.slow

_SHARED = "shared"
_COPIES = 4
_OWN = [f"own{i}" for i in range(4)]
_MODELS = {"logreg", "tree"}

# Records that would be the same one written twice: each query must find none.
_DOUBLED = {
    "cells": "SELECT run_id, dataset, model FROM cells GROUP BY run_id, dataset, model "
    "HAVING COUNT(*) > 1",
    "trials": "SELECT run_id, study_key, number FROM trials "
    "GROUP BY run_id, study_key, number HAVING COUNT(*) > 1",
    "versions": "SELECT name, version FROM model_versions GROUP BY name, version "
    "HAVING COUNT(*) > 1",
}


def _project(folder: Path, name: str, store: str) -> Path:
    """Write a one-dataset, two-model project named ``name`` on ``store``; return it."""
    root = folder / name
    (root / "data").mkdir(parents=True)
    churn_frame(80, seed=len(name)).to_csv(root / "data" / "eu.csv", index=False)
    spec: dict[str, Any] = {**base_spec(), "name": name, "store": store}
    del spec["datasets"]["us"]
    (root / "loopml.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return root


def _start_run(root: Path) -> subprocess.Popen[bytes]:
    """Start `loopml run` on the project at ``root`` in a process of its own."""
    command = [sys.executable, "-m", "loopml.cli", "run", "--workers", "1", "--json"]
    return subprocess.Popen(
        [*command, "--spec", str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_eight_runs_at_once_all_finish_with_every_row_once(sql_url: str, tmp_path: Path) -> None:
    shared = _project(tmp_path, _SHARED, sql_url)
    roots = [shared] * _COPIES + [_project(tmp_path, name, sql_url) for name in _OWN]
    processes = [_start_run(root) for root in roots]
    outputs = [process.communicate(timeout=240) for process in processes]
    failures = [
        (root.name, process.returncode, err.decode()[-2000:])
        for root, process, (_, err) in zip(roots, processes, outputs, strict=True)
        if process.returncode != 0
    ]
    assert failures == []

    with SQLStore(sql_url) as store:
        runs = store.list_runs(limit=100)
        assert sorted(r.pipeline for r in runs) == sorted([_SHARED] * _COPIES + _OWN)
        assert {r.state for r in runs} == {RunState.COMPLETE}
        trained = {t.trial_id: t for t in store.list_trials()}
        for run in runs:
            cells = store.list_cells(run_id=run.run_id)
            assert sorted(c.model for c in cells) == sorted(_MODELS)
            assert {c.state for c in cells} == {CellState.COMPLETE}
            assert (run.n_cells, run.n_failed) == (len(_MODELS), 0)
            # One trial per cell: recorded in this run unless an earlier one had it.
            ours = store.list_trials(run_id=run.run_id)
            assert {t.state for t in ours} <= {TrialState.COMPLETE}
            best = [trained[c.trial_id or ""] for c in cells]
            assert sorted(t.trial_id for t in ours) == sorted(
                t.trial_id for t in best if t.run_id == run.run_id
            )
            assert all(c.key == t.key for c, t in zip(cells, best, strict=True))
        for name in [_SHARED, *_OWN]:
            # Every copy of the shared run found the same best cell: one version serves all.
            assert [v.version for v in store.list_versions(f"{name}.eu")] == [1]
            assert store.list_aliases(f"{name}.eu") == {f"{name}.eu": {"champion": 1}}
            assert len(store.list_events(f"{name}.eu")) == 1
    engine = make_store_engine(parse_url(sql_url))
    try:
        with engine.connect() as conn:
            doubled = {table: conn.execute(text(q)).all() for table, q in _DOUBLED.items()}
    finally:
        engine.dispose()
    assert doubled == {table: [] for table in _DOUBLED}


def test_the_prediction_log_and_a_run_share_the_store_without_waiting_on_each_other(
    sql_url: str, tmp_path: Path
) -> None:
    run = _start_run(_project(tmp_path, _SHARED, sql_url))
    spill = tmp_path / "spill.jsonl"
    requests = 0
    with SQLStore(sql_url) as store:
        log = PredictionLog(store, spill_path=spill, batch=16, interval=0.01)
        # A server answering a request of 4 rows every few milliseconds while the run lasts.
        while run.poll() is None:
            log.put(make_prediction(f"req-{requests}", row, second=requests) for row in range(4))
            requests += 1
            time.sleep(0.005)
        written_during_the_run = log.written
        log.close()
        _, err = run.communicate()
        assert run.returncode == 0, err.decode()[-2000:]
        # Rows went in while the run wrote; none waited in the spill file or was lost.
        assert written_during_the_run > 0
        assert (log.written, log.spilled, log.dropped, log.queued) == (4 * requests, 0, 0, 0)
        assert store.count_predictions() == 4 * requests
        (finished,) = store.list_runs()
        assert finished.state is RunState.COMPLETE
        assert len(store.list_cells(run_id=finished.run_id)) == len(_MODELS)
    assert not spill.exists() or spill.read_bytes() == b""
