"""kill -9 of the driver mid-grid, then run again: nothing lost, nothing done twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import loopml
from loopml.tracking import RunState, TrialState, get_store
from tests.conftest import ProjectFactory, base_spec

pytestmark = pytest.mark.slow


def _complete_trials(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM trials WHERE state='COMPLETE'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # the schema is not there yet


def test_sigkill_of_the_driver_then_resume(make_project: ProjectFactory) -> None:
    spec = base_spec()
    spec["datasets"].pop("us")
    spec["models"] = {
        "sleepy": {
            "estimator": "tests.grid.helpers.SleepyClassifier",
            "params": {"depth": 2},
            "search": {"seconds": {"float": [0.3, 0.5]}},  # unique params: unique keys
            "trials": 10,
        }
    }
    root = make_project(spec)
    db = root / ".loopml" / "loopml.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd()), *sys.path])}
    driver = subprocess.Popen(
        [sys.executable, "-m", "loopml.cli", "run", "--workers", "1", "--spec", str(root)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while _complete_trials(db) < 3:
        assert driver.poll() is None, driver.stderr.read() if driver.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.6)  # let a RUNNING trial reach the store
    driver.send_signal(signal.SIGKILL)
    driver.wait(30)
    if driver.stderr:
        driver.stderr.close()

    with get_store(None, default_path=db) as store:
        [killed] = store.list_runs()
        assert killed.state is RunState.RUNNING
        before = store.list_trials()
        done_before = {t.trial_id for t in before if t.state is TrialState.COMPLETE}
        running_before = {t.trial_id for t in before if t.state is TrialState.RUNNING}
        assert len(done_before) >= 3

        result = loopml.run(loopml.load_spec(root), workers=1, store=store)
        assert result.ok and result.run.state is RunState.COMPLETE
        after = store.list_trials()
        assert store.get_run(killed.run_id).state is RunState.ABANDONED  # type: ignore[union-attr]

    by_id = {t.trial_id: t for t in after}
    assert all(by_id[i].state is TrialState.ABANDONED for i in running_before)
    assert all(by_id[i].state is TrialState.COMPLETE for i in done_before)
    complete = [t for t in after if t.state is TrialState.COMPLETE]
    assert len(complete) == 10  # exactly t trials, none twice
    assert max(Counter(t.key for t in complete).values()) == 1
    assert not {t.trial_id for t in result.trials} & done_before  # nothing recomputed
    assert len(result.trials) == 10 - len(done_before)
    assert not any(t.state is TrialState.RUNNING for t in after)
