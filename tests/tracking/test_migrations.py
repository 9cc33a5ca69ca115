"""Databases written by an older loopml are upgraded on open and keep what they hold."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, Connection, Engine, bindparam, inspect, text

from loopml.tracking import (
    CellRecord,
    CellState,
    Lineage,
    ModelEventKind,
    RunRecord,
    RunState,
    SQLStore,
)
from loopml.tracking._engine import make_store_engine, parse_url
from loopml.tracking._migrate import SCRIPT_LOCATION, current_revision
from loopml.tracking._schema import UTCDateTime
from loopml.tracking.migrations import HEAD
from loopml.tracking.testing import (
    T0,
    make_artifact,
    make_cell,
    make_feedback,
    make_model_event,
    make_prediction,
    make_run,
    make_trial,
)

_OLD_RUN = RunRecord(
    run_id="old-run",
    pipeline="shop",
    state=RunState.COMPLETE,
    started_at=T0,
    finished_at=T0 + timedelta(minutes=5),
    lineage=Lineage("spec1", "0.0.9", "3.11.7", {"scikit-learn": "1.4.2"}, None),
    workers=4,
    n_cells=1,
    n_failed=0,
)
_OLD_CELL = CellRecord(
    cell_id="old-cell",
    run_id="old-run",
    pipeline="shop",
    dataset="eu",
    model="rf",
    state=CellState.COMPLETE,
    estimator="sklearn.ensemble.RandomForestClassifier",
    params={"n_estimators": 100},
    dataset_fingerprint="fp-eu",
    metrics={"accuracy": 0.9},
    fit_seconds=2.5,
    finished_at=T0 + timedelta(minutes=4),
    key="k" * 64,
)
_INSERT_RUN = text(
    "INSERT INTO runs (run_id, pipeline, state, started_at, finished_at, workers, n_cells, "
    "n_failed, lineage) VALUES ('old-run', 'shop', 'COMPLETE', :started, :finished, 4, 1, 0, "
    ":lineage)"
).bindparams(
    bindparam("started", type_=UTCDateTime()),
    bindparam("finished", type_=UTCDateTime()),
    bindparam("lineage", type_=JSON()),
)
_INSERT_CELL = text(
    "INSERT INTO cells (cell_id, run_id, pipeline, dataset, model, state, estimator, params, "
    "dataset_fingerprint, metrics, fit_seconds, finished_at, key) VALUES ('old-cell', "
    "'old-run', 'shop', 'eu', 'rf', 'COMPLETE', 'sklearn.ensemble.RandomForestClassifier', "
    ":params, 'fp-eu', :metrics, 2.5, :finished, :key)"
).bindparams(
    bindparam("params", type_=JSON()),
    bindparam("metrics", type_=JSON()),
    bindparam("finished", type_=UTCDateTime()),
)

# A registered version refers to the cell: the upgrade must not rebuild ``cells`` under it.
_INSERT_VERSION = [
    text(
        "INSERT INTO artifacts (sha256, uri, size_bytes, input_schema, sample_rows, created_at) "
        "VALUES (:sha, 'file:///a.skops', 10, :schema, :samples, :at)"
    ).bindparams(
        bindparam("schema", type_=JSON()),
        bindparam("samples", type_=JSON()),
        bindparam("at", type_=UTCDateTime()),
    ),
    text(
        "INSERT INTO model_versions (name, version, cell_id, run_id, artifact_sha256, metrics, "
        "created_at) VALUES ('shop.eu', 1, 'old-cell', 'old-run', :sha, :metrics, :at)"
    ).bindparams(bindparam("metrics", type_=JSON()), bindparam("at", type_=UTCDateTime())),
    text(
        "INSERT INTO aliases (name, alias, version, updated_at) "
        "VALUES ('shop.eu', 'champion', 1, :at)"
    ).bindparams(bindparam("at", type_=UTCDateTime())),
]

# Predictions and labels as loopml 0003 wrote them; "row" is quoted for PostgreSQL.
_INSERT_PREDICTION = text(
    'INSERT INTO predictions (request_id, "row", name, version, at, features, prediction, '
    "probabilities, latency_ms) VALUES (:request_id, :row, :name, :version, :at, :features, "
    ":prediction, :probabilities, :latency_ms)"
).bindparams(
    bindparam("at", type_=UTCDateTime()),
    bindparam("features", type_=JSON()),
    bindparam("prediction", type_=JSON()),
    bindparam("probabilities", type_=JSON()),
)
_INSERT_FEEDBACK = text(
    'INSERT INTO feedback (request_id, "row", name, label, at) '
    "VALUES (:request_id, :row, :name, :label, :at)"
).bindparams(bindparam("label", type_=JSON()), bindparam("at", type_=UTCDateTime()))


@pytest.fixture
def engine(sql_url: str) -> Iterator[Engine]:
    """Yield a raw engine on an empty database, configured as the store configures it."""
    engine = make_store_engine(parse_url(sql_url))
    yield engine
    engine.dispose()


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def _insert_0001_rows(conn: Connection) -> None:
    """Insert a finished run, its cell, and version 1 of ``shop.eu`` as ``champion``."""
    lineage = {
        "spec_hash": "spec1",
        "loopml_version": "0.0.9",
        "python_version": "3.11.7",
        "packages": {"scikit-learn": "1.4.2"},
        "git_commit": None,
    }
    conn.execute(_INSERT_RUN, {"started": T0, "finished": _OLD_RUN.finished_at, "lineage": lineage})
    cell = {"params": {"n_estimators": 100}, "metrics": {"accuracy": 0.9}, "key": "k" * 64}
    conn.execute(_INSERT_CELL, {**cell, "finished": _OLD_CELL.finished_at})
    values = {"sha": "a" * 64, "schema": {}, "samples": [], "metrics": {}, "at": T0}
    for insert in _INSERT_VERSION:
        conn.execute(insert, values)


def test_a_database_at_0001_is_upgraded_on_open_and_reads_back(
    engine: Engine, sql_url: str
) -> None:
    _migrate(engine, "0001")
    with engine.begin() as conn:
        _insert_0001_rows(conn)
    assert current_revision(engine) == "0001"

    with SQLStore(sql_url) as store:
        assert current_revision(engine) == HEAD
        assert store.get_run("old-run") == _OLD_RUN  # no host, pid, heartbeat or estimate
        assert store.get_cell("old-cell") == _OLD_CELL  # one trial, not cached
        assert store.get_version("shop.eu", 1).cell_id == "old-cell"
        assert store.get_alias("shop.eu", "champion") == 1
        assert store.list_trials() == []


def test_0002_downgrades_to_0001_and_back(engine: Engine, sql_url: str) -> None:
    with SQLStore(sql_url) as store:
        run = make_run()
        store.create_run(run)
        cell = make_cell(run)
        store.add_cells([cell])
        store.add_artifacts([make_artifact()])
        store.register_version(
            name="m",
            cell_id=cell.cell_id,
            artifact_sha256="a" * 64,
            metrics={},
            actor="a",
            reason="r",
        )
        store.add_trials([make_trial(run)])
    _migrate(engine, "0001", down=True)
    assert current_revision(engine) == "0001"
    with engine.connect() as conn:
        assert not inspect(conn).has_table("trials")
        assert "cached" not in {c["name"] for c in inspect(conn).get_columns("cells")}
    with SQLStore(sql_url) as store:
        assert current_revision(engine) == HEAD
        assert store.get_cell(cell.cell_id) == dataclasses.replace(
            cell, trial_id=None, n_trials=1, cached=False
        )
        assert store.get_version("m", 1).cell_id == cell.cell_id


def test_0003_downgrades_to_0002_and_back(engine: Engine, sql_url: str) -> None:
    with SQLStore(sql_url) as store:
        run = make_run()
        store.create_run(run)
        store.add_predictions([make_prediction()])
        store.add_feedback([make_feedback()])
    _migrate(engine, "0002", down=True)
    with engine.connect() as conn:
        assert not inspect(conn).has_table("predictions")
        assert not inspect(conn).has_table("feedback")
    with SQLStore(sql_url) as store:
        assert current_revision(engine) == HEAD
        assert store.get_run(run.run_id) is not None
        assert store.count_predictions() == 0


def test_a_database_at_0003_is_upgraded_on_open_and_keeps_its_predictions(
    engine: Engine, sql_url: str
) -> None:
    _migrate(engine, "0003")
    served = [make_prediction("old-req", row, second=row, version=1 + row % 2) for row in range(4)]
    labels = [make_feedback("old-req", row) for row in (1, 2, 3)]
    with engine.begin() as conn:
        _insert_0001_rows(conn)
        for prediction in served:
            conn.execute(_INSERT_PREDICTION, vars(prediction))
        for label in labels:
            conn.execute(_INSERT_FEEDBACK, vars(label))
    assert current_revision(engine) == "0003"

    with SQLStore(sql_url) as store:
        assert current_revision(engine) == HEAD
        assert store.get_run("old-run") == _OLD_RUN
        assert store.get_cell("old-cell") == _OLD_CELL
        assert store.get_alias("shop.eu", "champion") == 1
        assert store.count_predictions() == 4
        listed = store.list_predictions("shop.eu", version=2)
        assert listed == [(served[3], labels[2]), (served[1], labels[0])]
        assert store.count_feedback("shop.eu") == 3
        assert store.count_feedback("shop.eu", version=1) == 1
        assert store.list_model_events("shop.eu") == []
        assert store.get_profile("a" * 64) is None
        event = make_model_event(version=1)
        event_id = store.add_model_event(event)
        latest = store.latest_model_event("shop.eu", ModelEventKind.DRIFT_CHECK)
        assert latest == dataclasses.replace(event, event_id=event_id)
        store.put_profile("a" * 64, {"rows": 10})
        assert store.get_profile("a" * 64) == {"rows": 10}
    with engine.connect() as conn:
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("predictions")}
    assert "ix_predictions_name_version_at" in indexes


def test_0004_downgrades_to_0003_and_back(engine: Engine, sql_url: str) -> None:
    prediction = make_prediction(version=2)
    with SQLStore(sql_url) as store:
        store.add_predictions([prediction])
        store.add_feedback([make_feedback()])
        store.add_model_event(make_model_event())
        store.put_profile("a" * 64, {"rows": 10})
    _migrate(engine, "0003", down=True)
    with engine.connect() as conn:
        assert not inspect(conn).has_table("model_events")
        assert not inspect(conn).has_table("profiles")
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("predictions")}
        assert "ix_predictions_name_version_at" not in indexes
    with SQLStore(sql_url) as store:
        assert current_revision(engine) == HEAD
        assert store.list_predictions("shop.eu", version=2) == [(prediction, make_feedback())]
        assert store.list_model_events("shop.eu") == []
        assert store.get_profile("a" * 64) is None
