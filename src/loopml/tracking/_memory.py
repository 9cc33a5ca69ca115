"""The in-process tracking store: the test double of :class:`SQLStore`, same behaviour."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from loopml.errors import AliasConflict, ModelNotFound, StoreError
from loopml.tracking import _checks
from loopml.tracking._base import BaseStore
from loopml.tracking._memory_values import (
    as_json,
    floats,
    stored_artifact,
    stored_cell,
    stored_feedback,
    stored_model_event,
    stored_prediction,
    stored_run,
    stored_trial,
)
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

__all__ = ["InMemoryStore"]

_PREFIX_MIN = 6
_EPOCH = datetime.min.replace(tzinfo=UTC)


class InMemoryStore(BaseStore):
    """A tracking store held in this process's memory; everything is lost on exit.

    Every method holds one lock, which makes each one atomic and thread-safe. Values are
    copied in through JSON as the SQL store stores them (tuples come back as lists, a value
    JSON cannot hold is refused), so tests against this store see what a database shows.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, RunRecord] = {}
        self._cells: dict[str, CellRecord] = {}  # in insertion order
        self._trials: dict[str, TrialRecord] = {}  # in insertion order
        self._artifacts: dict[str, ArtifactRecord] = {}
        self._versions: dict[str, dict[int, ModelVersion]] = {}
        self._aliases: dict[str, dict[str, int]] = {}
        self._events: list[AliasEvent] = []
        self._predictions: dict[tuple[str, int], PredictionRecord] = {}
        self._feedback: dict[tuple[str, int], FeedbackRecord] = {}
        self._model_events: list[ModelEvent] = []  # in insertion order, ids 1, 2, ...
        self._profiles: dict[str, Mapping[str, Any]] = {}

    def __repr__(self) -> str:
        return "InMemoryStore()"

    # -- runs -------------------------------------------------------------------------
    def create_run(self, run: RunRecord) -> None:
        run = stored_run(_checks.normalize_run(run))
        with self._lock:
            if run.run_id in self._runs:
                raise StoreError(f"run id {run.run_id!r} already exists; give the run a new id")
            self._runs[run.run_id] = run

    def finish_run(self, run_id: str, *, state: RunState, n_cells: int, n_failed: int) -> None:
        _checks.check_finish(run_id, state)
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                raise StoreError(f"cannot finish run {run_id!r}: no such run. Create it first")
            if run.state.is_finished():
                raise StoreError(
                    f"cannot finish run {run_id!r}: it is already {run.state.value}; "
                    "a run ends once"
                )
            self._runs[run_id] = dataclasses.replace(
                run,
                state=state,
                finished_at=_checks.utcnow(),
                n_cells=n_cells,
                n_failed=n_failed,
            )

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            if run_id in self._runs:
                return self._runs[run_id]
            if len(run_id) < _PREFIX_MIN:
                return None
            found = [run for key, run in self._runs.items() if key.startswith(run_id)]
        return found[0] if len(found) == 1 else None

    def list_runs(self, *, pipeline: str | None = None, limit: int = 50) -> list[RunRecord]:
        _checks.check_limit(limit)
        with self._lock:
            found = [r for r in self._runs.values() if pipeline in (None, r.pipeline)]
        found.sort(key=lambda r: (r.started_at, r.run_id), reverse=True)
        return found[:limit]

    # -- cells ------------------------------------------------------------------------
    def add_cells(self, cells: Sequence[CellRecord]) -> None:
        batch = [stored_cell(cell) for cell in _checks.check_cells(cells)]
        with self._lock:
            if missing := sorted({c.run_id for c in batch} - self._runs.keys()):
                raise StoreError(
                    f"cells refer to runs that do not exist: {missing}; nothing was written. "
                    "Create the run before adding its cells"
                )
            if taken := [c.cell_id for c in batch if c.cell_id in self._cells]:
                raise StoreError(
                    f"cells {taken} are already stored and stored cells never change; "
                    "nothing was written"
                )
            self._cells.update((cell.cell_id, cell) for cell in batch)

    def list_cells(
        self,
        *,
        run_id: str | None = None,
        pipeline: str | None = None,
        dataset: str | None = None,
    ) -> list[CellRecord]:
        with self._lock:
            found = [
                (index, c)
                for index, c in enumerate(self._cells.values())
                if run_id in (None, c.run_id)
                and pipeline in (None, c.pipeline)
                and dataset in (None, c.dataset)
            ]
        # Like the SQL store: by finish time, cells without one last, ties in write order.
        found.sort(key=lambda ic: (ic[1].finished_at is None, ic[1].finished_at or _EPOCH, ic[0]))
        return [cell for _, cell in found]

    def get_cell(self, cell_id: str) -> CellRecord | None:
        with self._lock:
            return self._cells.get(cell_id)

    # -- liveness ---------------------------------------------------------------------
    def heartbeat(self, run_id: str) -> None:
        with self._lock:
            run = self._run(run_id, "record a heartbeat of")
            if run.state is RunState.RUNNING:
                self._runs[run_id] = dataclasses.replace(run, heartbeat_at=_checks.utcnow())

    def abandon_run(self, run_id: str) -> int:
        with self._lock:
            run = self._run(run_id, "abandon")
            if run.state is not RunState.RUNNING:
                return 0
            now = _checks.utcnow()
            self._runs[run_id] = dataclasses.replace(run, state=RunState.ABANDONED, finished_at=now)
            stuck = [
                t
                for t in self._trials.values()
                if t.run_id == run_id and t.state is TrialState.RUNNING
            ]
            for trial in stuck:
                self._trials[trial.trial_id] = dataclasses.replace(
                    trial, state=TrialState.ABANDONED, finished_at=now
                )
            return len(stuck)

    def _run(self, run_id: str, action: str) -> RunRecord:
        run = self._runs.get(run_id)
        if run is None:
            raise StoreError(f"cannot {action} run {run_id!r}: no such run. Create it first")
        return run

    # -- trials -----------------------------------------------------------------------
    def add_trials(self, trials: Sequence[TrialRecord]) -> None:
        batch = [stored_trial(t) for t in _checks.check_trials(trials, finishing=False)]
        with self._lock:
            runs = {r.run_id: r.state.value for t in batch if (r := self._runs.get(t.run_id))}
            if (why := _checks.add_refused(batch, runs)) is not None:
                raise StoreError(why)
            if taken := sorted(t.trial_id for t in batch if t.trial_id in self._trials):
                raise StoreError(
                    f"trials {taken} are already stored; finish them with finish_trials; "
                    "nothing was written"
                )
            self._trials.update((trial.trial_id, trial) for trial in batch)

    def finish_trials(self, trials: Sequence[TrialRecord]) -> None:
        batch = [stored_trial(t) for t in _checks.check_trials(trials, finishing=True)]
        with self._lock:
            known = [self._trials[t.trial_id] for t in batch if t.trial_id in self._trials]
            stored = {t.trial_id: (t.run_id, t.state.value) for t in known}
            if any(stored.get(t.trial_id) != (t.run_id, TrialState.RUNNING.value) for t in batch):
                raise StoreError(_checks.finish_refused(batch, stored))
            self._trials.update((trial.trial_id, trial) for trial in batch)

    def list_trials(
        self,
        *,
        run_id: str | None = None,
        study_key: str | None = None,
        pipeline: str | None = None,
        states: Sequence[TrialState] | None = None,
    ) -> list[TrialRecord]:
        with self._lock:
            found = [
                (index, t)
                for index, t in enumerate(self._trials.values())
                if run_id in (None, t.run_id)
                and study_key in (None, t.study_key)
                and pipeline in (None, t.pipeline)
                and (states is None or t.state in states)
            ]
        # Like the SQL store: ties in start time and number go in insertion order.
        found.sort(key=lambda it: (it[1].started_at, it[1].number, it[0]))
        return [trial for _, trial in found]

    def find_trials(self, keys: Sequence[str]) -> dict[str, TrialRecord]:
        wanted = set(keys)
        best: dict[str, tuple[tuple[bool, datetime, int], TrialRecord]] = {}
        with self._lock:
            for index, t in enumerate(self._trials.values()):
                if t.key not in wanted or t.state is not TrialState.COMPLETE:
                    continue
                # Like the SQL store: the latest finished, then the latest added.
                rank = (t.finished_at is not None, t.finished_at or _EPOCH, index)
                if t.key not in best or rank > best[t.key][0]:
                    best[t.key] = (rank, t)
        return {key: trial for key, (_, trial) in best.items()}

    # -- artifacts --------------------------------------------------------------------
    def add_artifacts(self, artifacts: Sequence[ArtifactRecord]) -> None:
        batch = [stored_artifact(_checks.normalize_artifact(a)) for a in artifacts]
        with self._lock:
            for artifact in batch:
                self._artifacts.setdefault(artifact.sha256, artifact)

    def get_artifact(self, sha256: str) -> ArtifactRecord | None:
        with self._lock:
            return self._artifacts.get(sha256)

    # -- registry ---------------------------------------------------------------------
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
        with self._lock:
            cell = self._cells.get(cell_id)
            if cell is None:
                raise ModelNotFound(
                    f"cannot register {name!r}: no cell {cell_id!r} in the store. "
                    "Register a cell that a run has stored"
                )
            if artifact_sha256 not in self._artifacts:
                raise ModelNotFound(
                    f"cannot register {name!r}: no artifact {artifact_sha256} in the store. "
                    "Add the artifact before registering it"
                )
            if alias is not None:
                self._check_alias(name, alias, expected)
            versions = self._versions.setdefault(name, {})
            version = ModelVersion(
                name=name,
                version=max(versions, default=0) + 1,
                cell_id=cell_id,
                run_id=cell.run_id,
                artifact_sha256=artifact_sha256,
                metrics=floats(metrics),
                created_at=_checks.utcnow(),
            )
            versions[version.version] = version
            if alias is not None:
                self._move(
                    name, alias, version.version, expected, EventKind.REGISTER, actor, reason
                )
            return version

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
        with self._lock:
            if version not in self._versions.get(name, {}):
                raise ModelNotFound(
                    f"{name!r} has no version {version}; nothing was changed. "
                    "List the versions with list_versions"
                )
            self._check_alias(name, alias, expected)
            return self._move(name, alias, version, expected, kind, actor, reason)

    def _check_alias(self, name: str, alias: str, expected: int | None) -> None:
        current = self._aliases.get(name, {}).get(alias)
        if current != expected:
            raise AliasConflict(name, alias, expected, current)

    def _move(
        self,
        name: str,
        alias: str,
        version: int,
        expected: int | None,
        kind: EventKind,
        actor: str,
        reason: str,
    ) -> AliasEvent:
        self._aliases.setdefault(name, {})[alias] = version
        event = AliasEvent(
            name=name,
            alias=alias,
            kind=kind,
            from_version=expected,
            to_version=version,
            actor=actor,
            reason=reason,
            at=_checks.utcnow(),
            event_id=len(self._events) + 1,
        )
        self._events.append(event)
        return event

    def get_alias(self, name: str, alias: str) -> int | None:
        with self._lock:
            return self._aliases.get(name, {}).get(alias)

    def get_version(self, name: str, version: int) -> ModelVersion:
        with self._lock:
            found = self._versions.get(name, {}).get(version)
        if found is None:
            raise ModelNotFound(
                f"{name!r} has no version {version}. List the versions with list_versions"
            )
        return found

    def list_versions(self, name: str | None = None) -> list[ModelVersion]:
        with self._lock:
            found = [
                v
                for model, vs in self._versions.items()
                if name in (None, model)
                for v in vs.values()
            ]
        found.sort(key=lambda v: (v.name, -v.version))
        return found

    def list_aliases(self, name: str | None = None) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                model: dict(sorted(moved.items()))
                for model, moved in sorted(self._aliases.items())
                if name in (None, model)
            }

    def list_events(self, name: str, *, alias: str | None = None) -> list[AliasEvent]:
        with self._lock:
            return [e for e in self._events if e.name == name and alias in (None, e.alias)]

    # -- predictions ------------------------------------------------------------------
    def add_predictions(self, records: Sequence[PredictionRecord]) -> None:
        batch = [stored_prediction(p) for p in _checks.check_predictions(records)]
        with self._lock:
            for record in batch:
                self._predictions.setdefault((record.request_id, record.row), record)

    def add_feedback(self, records: Sequence[FeedbackRecord]) -> None:
        batch = [stored_feedback(f) for f in _checks.check_feedback(records)]
        with self._lock:
            for record in batch:
                key = (record.request_id, record.row)
                stored = self._feedback.get(key)
                if stored is None or stored.at <= record.at:
                    self._feedback[key] = record

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
        with self._lock:
            found = [
                (p, self._feedback.get(key))
                for key, p in self._predictions.items()
                if p.name == name
                and (since is None or p.at >= since)
                and version in (None, p.version)
                and (not with_feedback or key in self._feedback)
            ]
        # Like the SQL store: newest first, ties by request id then row, ascending.
        found.sort(key=lambda pf: (pf[0].request_id, pf[0].row))
        found.sort(key=lambda pf: pf[0].at, reverse=True)
        return found if limit is None else found[:limit]

    def count_predictions(self, name: str | None = None) -> int:
        with self._lock:
            return sum(name in (None, p.name) for p in self._predictions.values())

    def count_feedback(
        self, name: str, *, since: datetime | None = None, version: int | None = None
    ) -> int:
        return len(self.list_predictions(name, since=since, version=version, with_feedback=True))

    # -- model events -----------------------------------------------------------------
    def add_model_event(self, event: ModelEvent) -> int:
        event = stored_model_event(_checks.check_model_event(event))
        with self._lock:
            event_id = len(self._model_events) + 1
            self._model_events.append(dataclasses.replace(event, event_id=event_id))
        return event_id

    def list_model_events(
        self,
        name: str,
        *,
        kinds: Collection[ModelEventKind] | None = None,
        since: datetime | None = None,
    ) -> list[ModelEvent]:
        wanted = _checks.check_kinds(kinds)
        since = _checks.check_listing(since, None)
        with self._lock:
            found = [
                e
                for e in self._model_events
                if e.name == name
                and (wanted is None or e.kind in wanted)
                and (since is None or e.at >= since)
            ]
        # Like the SQL store: by time, ties in insertion order (the sort is stable).
        found.sort(key=lambda e: e.at)
        return found

    def latest_model_event(self, name: str, kind: ModelEventKind) -> ModelEvent | None:
        found = self.list_model_events(name, kinds=[kind])
        return found[-1] if found else None

    # -- reference profiles -----------------------------------------------------------
    def put_profile(self, sha256: str, profile: Mapping[str, Any]) -> None:
        _checks.check_profile(sha256, profile)
        copy = as_json(dict(profile), "a reference profile")
        with self._lock:
            self._profiles.setdefault(sha256, copy)

    def get_profile(self, sha256: str) -> Mapping[str, Any] | None:
        with self._lock:
            return self._profiles.get(sha256)
