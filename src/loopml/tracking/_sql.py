"""The tracking store on a SQL database through SQLAlchemy: SQLite files and PostgreSQL."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from loopml.errors import AliasConflict, ModelNotFound, StoreError
from loopml.tracking import (
    _checks,
    _sql_events,
    _sql_predictions,
    _sql_profiles,
    _sql_registry,
    _sql_trials,
)
from loopml.tracking._base import BaseStore
from loopml.tracking._engine import (
    WRITE,
    is_sqlite_memory,
    make_store_engine,
    parse_url,
    retried,
    shown,
    translated,
)
from loopml.tracking._migrate import upgrade_to_head
from loopml.tracking._records import (
    AliasEvent,
    ArtifactRecord,
    CellRecord,
    EventKind,
    FeedbackRecord,
    ModelEvent,
    ModelEventKind,
    ModelVersion,
    PredictionRecord,
    RunRecord,
    RunState,
    TrialRecord,
    TrialState,
)
from loopml.tracking._rows import (
    artifact_record,
    artifact_row,
    cell_record,
    cell_row,
    event_record,
    model_event_record,
    run_record,
    run_row,
    trial_record,
    version_record,
)
from loopml.tracking._schema import alias_events, aliases, model_versions, runs
from loopml.tracking._schema import artifacts as artifact_table
from loopml.tracking._schema import cells as cell_table

__all__ = ["SQLStore"]

# Concurrent registrations of one model lose the race for a version number to each other
# at most once per competitor; this bounds the retries well above realistic contention.
_VERSION_ATTEMPTS = 50
_PREFIX_MIN = 6

# The statements run on every cell or lookup, built once: building one costs about as
# much as running it.
_INSERT_CELLS = insert(cell_table)
_RUN = select(runs).where(runs.c.run_id == bindparam("run_id"))
_CELL = select(cell_table).where(cell_table.c.cell_id == bindparam("cell_id"))
_ARTIFACT = select(artifact_table).where(artifact_table.c.sha256 == bindparam("sha256"))
_VERSION = select(model_versions).where(
    model_versions.c.name == bindparam("name"), model_versions.c.version == bindparam("version")
)


class _BadBatch(Exception):
    """The database refused a batch of cells or trials; the cause is chained."""


class SQLStore(BaseStore):
    """A tracking store in any database SQLAlchemy reaches; the schema is migrated on open.

    ``url`` is a SQLAlchemy URL such as ``sqlite:///path/to/loopml.db`` (the folder is
    created) or ``postgresql+psycopg://user@host:5432/loopml``.
    """

    def __init__(self, url: str) -> None:
        self._url = parse_url(url)
        self._engine = make_store_engine(self._url)
        # An in-memory SQLite database is one shared connection: transactions take turns.
        self._turns: AbstractContextManager[Any] = (
            threading.Lock() if is_sqlite_memory(self._url) else nullcontext()
        )
        try:
            upgrade_to_head(self._engine)
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def url(self) -> str:
        """The store's URL, password masked."""
        return shown(self._url)

    def __repr__(self) -> str:
        return f"SQLStore({self.url!r})"

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _tx(self, action: str, *, write: bool = False) -> Iterator[Connection]:
        with self._turns, translated(self._url, action), self._engine.connect() as conn:
            if write:
                conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    # -- runs -------------------------------------------------------------------------
    @retried
    def create_run(self, run: RunRecord) -> None:
        run = _checks.normalize_run(run)
        with self._tx(f"create run {run.run_id!r}", write=True) as conn:
            if conn.execute(_RUN, {"run_id": run.run_id}).first() is not None:
                raise StoreError(f"run id {run.run_id!r} already exists; give the run a new id")
            conn.execute(insert(runs).values(run_row(run)))

    @retried
    def finish_run(self, run_id: str, *, state: RunState, n_cells: int, n_failed: int) -> None:
        _checks.check_finish(run_id, state)
        values = {
            "state": state.value,
            "finished_at": _checks.utcnow(),
            "n_cells": n_cells,
            "n_failed": n_failed,
        }
        with self._tx(f"finish run {run_id!r}", write=True) as conn:
            running = (runs.c.run_id == run_id) & (runs.c.state == RunState.RUNNING.value)
            if conn.execute(update(runs).where(running).values(values)).rowcount == 1:
                return
            row = conn.execute(_RUN, {"run_id": run_id}).first()
        if row is None:
            raise StoreError(f"cannot finish run {run_id!r}: no such run. Create it first")
        raise StoreError(
            f"cannot finish run {run_id!r}: it is already {row.state}; a run ends once"
        )

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._tx(f"read run {run_id!r}") as conn:
            rows = conn.execute(_RUN, {"run_id": run_id}).all()
            if not rows and len(run_id) >= _PREFIX_MIN:
                prefixed = runs.c.run_id.startswith(run_id, autoescape=True)
                rows = conn.execute(select(runs).where(prefixed).limit(2)).all()
        return run_record(rows[0]) if len(rows) == 1 else None

    def list_runs(self, *, pipeline: str | None = None, limit: int = 50) -> list[RunRecord]:
        _checks.check_limit(limit)
        query = select(runs).order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
        if pipeline is not None:
            query = query.where(runs.c.pipeline == pipeline)
        with self._tx("list runs") as conn:
            return [run_record(row) for row in conn.execute(query.limit(limit))]

    # -- cells ------------------------------------------------------------------------
    @retried
    def add_cells(self, cells: Sequence[CellRecord]) -> None:
        batch = _checks.check_cells(cells)
        if not batch:
            return
        try:
            with self._tx(f"add {len(batch)} cells", write=True) as conn:
                try:
                    conn.execute(_INSERT_CELLS, [cell_row(cell) for cell in batch])
                except IntegrityError as error:
                    raise _BadBatch from error
        except _BadBatch as bad:
            # The fast path is one INSERT; only a refused batch pays for finding out why.
            raise StoreError(self._why_refused(batch, bad.__cause__)) from bad.__cause__

    def _why_refused(self, batch: Sequence[CellRecord], cause: object) -> str:
        run_ids, cell_ids = {c.run_id for c in batch}, [c.cell_id for c in batch]
        with self._tx(f"check {len(batch)} refused cells") as conn:
            known = set(conn.scalars(select(runs.c.run_id).where(runs.c.run_id.in_(run_ids))))
            taken = conn.scalars(
                select(cell_table.c.cell_id).where(cell_table.c.cell_id.in_(cell_ids))
            )
            stored = sorted(taken)
        if missing := sorted(run_ids - known):
            return (
                f"cells refer to runs that do not exist: {missing}; nothing was written. "
                "Create the run before adding its cells"
            )
        if stored:
            return (
                f"cells {stored} are already stored and stored cells never change; "
                "nothing was written"
            )
        return f"the tracking store at {self.url} refused the cells: {cause}; nothing was written"

    def list_cells(
        self,
        *,
        run_id: str | None = None,
        pipeline: str | None = None,
        dataset: str | None = None,
    ) -> list[CellRecord]:
        query = select(cell_table).order_by(
            cell_table.c.finished_at.asc().nulls_last(), cell_table.c.id
        )
        for column, value in (("run_id", run_id), ("pipeline", pipeline), ("dataset", dataset)):
            if value is not None:
                query = query.where(cell_table.c[column] == value)
        with self._tx("list cells") as conn:
            return [cell_record(row) for row in conn.execute(query)]

    def get_cell(self, cell_id: str) -> CellRecord | None:
        with self._tx(f"read cell {cell_id!r}") as conn:
            row = conn.execute(_CELL, {"cell_id": cell_id}).first()
        return None if row is None else cell_record(row)

    # -- liveness ---------------------------------------------------------------------
    @retried
    def heartbeat(self, run_id: str) -> None:
        with self._tx(f"record a heartbeat of run {run_id!r}", write=True) as conn:
            _sql_trials.touch(conn, run_id, _checks.utcnow())

    @retried
    def abandon_run(self, run_id: str) -> int:
        with self._tx(f"abandon run {run_id!r}", write=True) as conn:
            return _sql_trials.abandon(conn, run_id, _checks.utcnow())

    # -- trials -----------------------------------------------------------------------
    @retried
    def add_trials(self, trials: Sequence[TrialRecord]) -> None:
        batch = _checks.check_trials(trials, finishing=False)
        if not batch:
            return
        try:
            with self._tx(f"add {len(batch)} trials", write=True) as conn:
                try:
                    _sql_trials.insert_trials(conn, batch)
                except IntegrityError as error:
                    raise _BadBatch from error
        except _BadBatch as bad:
            # The runs were checked under lock, so a refusal means the ids are taken.
            with self._tx(f"check {len(batch)} refused trials") as conn:
                taken = _sql_trials.stored_trial_ids(conn, [t.trial_id for t in batch])
            why = f"the tracking store at {self.url} refused the trials: {bad.__cause__}"
            if taken:
                why = f"trials {taken} are already stored; finish them with finish_trials"
            raise StoreError(f"{why}; nothing was written") from bad.__cause__

    @retried
    def finish_trials(self, trials: Sequence[TrialRecord]) -> None:
        batch = _checks.check_trials(trials, finishing=True)
        if batch:
            with self._tx(f"finish {len(batch)} trials", write=True) as conn:
                _sql_trials.finish(conn, batch)

    def list_trials(
        self,
        *,
        run_id: str | None = None,
        study_key: str | None = None,
        pipeline: str | None = None,
        states: Sequence[TrialState] | None = None,
    ) -> list[TrialRecord]:
        query = _sql_trials.trials_query(
            run_id=run_id, study_key=study_key, pipeline=pipeline, states=states
        )
        with self._tx("list trials") as conn:
            return [trial_record(row) for row in conn.execute(query)]

    def find_trials(self, keys: Sequence[str]) -> dict[str, TrialRecord]:
        if not keys:
            return {}
        with self._tx(f"find trials by {len(keys)} keys") as conn:
            return _sql_trials.find_complete(conn, keys)

    # -- artifacts --------------------------------------------------------------------
    @retried
    def add_artifacts(self, artifacts: Sequence[ArtifactRecord]) -> None:
        rows: dict[str, dict[str, Any]] = {}
        for artifact in artifacts:  # the first of a repeated sha256 wins, as in the table
            rows.setdefault(artifact.sha256, artifact_row(_checks.normalize_artifact(artifact)))
        if not rows:
            return
        dialect = self._engine.dialect.name
        with self._tx(f"add {len(rows)} artifacts", write=True) as conn:
            if dialect in ("postgresql", "sqlite"):
                make = pg_insert if dialect == "postgresql" else sqlite_insert
                # Idempotent even when another process adds the same artifact right now.
                conn.execute(make(artifact_table).on_conflict_do_nothing(), list(rows.values()))
                return
            present = artifact_table.c.sha256.in_(list(rows))
            for sha in conn.scalars(select(artifact_table.c.sha256).where(present)):
                del rows[sha]
            if rows:
                conn.execute(insert(artifact_table), list(rows.values()))

    def get_artifact(self, sha256: str) -> ArtifactRecord | None:
        with self._tx(f"read artifact {sha256}") as conn:
            row = conn.execute(_ARTIFACT, {"sha256": sha256}).first()
        return None if row is None else artifact_record(row)

    # -- registry ---------------------------------------------------------------------
    @retried
    def register_version(
        self,
        *,
        name: str,
        cell_id: str,
        artifact_sha256: str,
        metrics: Mapping[str, float],
        alias: str | None = None,
        expected: int | None = None,
        actor: str,
        reason: str,
    ) -> ModelVersion:
        _checks.check_expected(alias, expected)
        planned = None
        if alias is not None:
            planned = _sql_registry.planned(
                name, alias, expected, EventKind.REGISTER, actor, reason
            )
        try:
            for attempt in range(_VERSION_ATTEMPTS):
                try:
                    with self._tx(f"register a version of {name!r}", write=True) as conn:
                        version = _sql_registry.new_version(
                            conn, name, cell_id, artifact_sha256, metrics
                        )
                        if planned is not None:
                            _sql_registry.move(conn, version.version, planned)
                    return version
                except _sql_registry.VersionTaken:
                    # Jitter, so the losers of one race do not all collide again.
                    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        except _sql_registry.AliasRace as race:
            raise self._lost(race.event) from None
        raise StoreError(
            f"could not number a new version of {name!r} in {self.url}: {_VERSION_ATTEMPTS} "
            "concurrent registrations took every number first. Try again"
        )

    @retried
    def set_alias(
        self,
        *,
        name: str,
        alias: str,
        version: int,
        expected: int | None,
        kind: EventKind,
        actor: str,
        reason: str,
    ) -> AliasEvent:
        planned = _sql_registry.planned(name, alias, expected, kind, actor, reason)
        try:
            with self._tx(f"move alias {alias!r} of {name!r}", write=True) as conn:
                if conn.execute(_VERSION, {"name": name, "version": version}).first() is None:
                    raise ModelNotFound(
                        f"{name!r} has no version {version}; nothing was changed. "
                        "List the versions with list_versions"
                    )
                return _sql_registry.move(conn, version, planned)
        except _sql_registry.AliasRace as race:
            raise self._lost(race.event) from None

    def _lost(self, planned: AliasEvent) -> AliasConflict:
        """Return the conflict for a move that lost its race, with where the alias is now."""
        now = self.get_alias(planned.name, planned.alias)
        return AliasConflict(planned.name, planned.alias, planned.from_version, now)

    def get_alias(self, name: str, alias: str) -> int | None:
        with self._tx(f"read alias {alias!r} of {name!r}") as conn:
            return _sql_registry.alias_version(conn, name, alias)

    def get_version(self, name: str, version: int) -> ModelVersion:
        with self._tx(f"read version {version} of {name!r}") as conn:
            row = conn.execute(_VERSION, {"name": name, "version": version}).first()
        if row is None:
            raise ModelNotFound(
                f"{name!r} has no version {version}. List the versions with list_versions"
            )
        return version_record(row)

    def list_versions(self, name: str | None = None) -> list[ModelVersion]:
        mv = model_versions.c
        query = select(model_versions).order_by(mv.name, mv.version.desc())
        if name is not None:
            query = query.where(mv.name == name)
        with self._tx("list versions") as conn:
            return [version_record(row) for row in conn.execute(query)]

    def list_aliases(self, name: str | None = None) -> dict[str, dict[str, int]]:
        query = select(aliases.c.name, aliases.c.alias, aliases.c.version)
        if name is not None:
            query = query.where(aliases.c.name == name)
        out: dict[str, dict[str, int]] = {}
        with self._tx("list aliases") as conn:
            for row in conn.execute(query.order_by(aliases.c.name, aliases.c.alias)):
                out.setdefault(row.name, {})[row.alias] = int(row.version)
        return out

    def list_events(self, name: str, *, alias: str | None = None) -> list[AliasEvent]:
        query = select(alias_events).where(alias_events.c.name == name)
        if alias is not None:
            query = query.where(alias_events.c.alias == alias)
        with self._tx(f"list alias events of {name!r}") as conn:
            return [event_record(row) for row in conn.execute(query.order_by("event_id"))]

    # -- predictions ------------------------------------------------------------------
    @retried
    def add_predictions(self, records: Sequence[PredictionRecord]) -> None:
        batch = _checks.check_predictions(records)
        if batch:
            with self._tx(f"add {len(batch)} predictions", write=True) as conn:
                _sql_predictions.insert_predictions(conn, batch)

    @retried
    def add_feedback(self, records: Sequence[FeedbackRecord]) -> None:
        batch = _checks.check_feedback(records)
        if batch:
            with self._tx(f"add {len(batch)} feedback labels", write=True) as conn:
                _sql_predictions.upsert_feedback(conn, batch)

    def list_predictions(
        self,
        name: str,
        *,
        since: datetime | None = None,
        limit: int | None = None,
        with_feedback: bool = False,
        version: int | None = None,
    ) -> list[tuple[PredictionRecord, FeedbackRecord | None]]:
        since = _checks.check_listing(since, limit)
        query = _sql_predictions.predictions_query(
            name, since=since, limit=limit, with_feedback=with_feedback, version=version
        )
        with self._tx(f"list predictions of {name!r}") as conn:
            return _sql_predictions.listed(conn, query)

    def count_predictions(self, name: str | None = None) -> int:
        with self._tx("count predictions") as conn:
            return _sql_predictions.count(conn, name)

    def count_feedback(
        self, name: str, *, since: datetime | None = None, version: int | None = None
    ) -> int:
        since = _checks.check_listing(since, None)
        with self._tx(f"count the labelled predictions of {name!r}") as conn:
            return _sql_predictions.count_labelled(conn, name, since=since, version=version)

    # -- model events -----------------------------------------------------------------
    @retried
    def add_model_event(self, event: ModelEvent) -> int:
        event = _checks.check_model_event(event)
        with self._tx(f"add a {event.kind.value} event of {event.name!r}", write=True) as conn:
            return _sql_events.insert_event(conn, event)

    def list_model_events(
        self,
        name: str,
        *,
        kinds: Collection[ModelEventKind] | None = None,
        since: datetime | None = None,
    ) -> list[ModelEvent]:
        wanted = _checks.check_kinds(kinds)
        since = _checks.check_listing(since, None)
        query = _sql_events.events_query(name, kinds=wanted, since=since)
        with self._tx(f"list the model events of {name!r}") as conn:
            return [model_event_record(row) for row in conn.execute(query)]

    def latest_model_event(self, name: str, kind: ModelEventKind) -> ModelEvent | None:
        _checks.check_kind(kind)
        with self._tx(f"read the latest {kind.value} event of {name!r}") as conn:
            return _sql_events.latest(conn, name, kind)

    # -- reference profiles -----------------------------------------------------------
    @retried
    def put_profile(self, sha256: str, profile: Mapping[str, Any]) -> None:
        _checks.check_profile(sha256, profile)
        with self._tx(f"store the reference profile of {sha256}", write=True) as conn:
            _sql_profiles.insert_profile(conn, sha256, profile)

    def get_profile(self, sha256: str) -> Mapping[str, Any] | None:
        with self._tx(f"read the reference profile of {sha256}") as conn:
            return _sql_profiles.stored_profile(conn, sha256)
