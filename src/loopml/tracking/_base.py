"""The tracking store's contract.

A store keeps runs, cells, artifact metadata, registered model versions, aliases, alias
events, the predictions a model server made with the feedback on them, and for
monitoring, each model's timeline of decisions (model events) and the reference profiles
of artifacts. Every implementation passes :mod:`loopml.tracking.testing`.

Contract, for every implementation:

* **Thread safety.** Every method may be called from several threads of one process at
  once. Several processes may share one store (SQL backends); correctness then rests on
  the database's transactions, never on in-process locks. A write whose transaction loses
  a race to another writer (SQLite ``database is locked``, a PostgreSQL serialization
  failure or deadlock) was rolled back and is run again after a random backoff; only
  when retries run out does it raise StoreError.
* **Atomicity.** Each method is one transaction: it happens entirely or not at all.
  ``add_cells`` writes its whole batch or nothing; ``register_version`` creates the version
  and moves the alias together or does neither.
* **Immutability.** Finished cells, artifacts and model versions are never changed. A run
  or a trial changes only from RUNNING to a finished state, once. Only ``abandon_run``
  makes runs and trials ABANDONED.
* **Aliases.** An alias always points at an existing version. Moves are compare-and-set:
  ``expected`` is the version the caller believes the alias is at now (``None``: unset);
  if it is elsewhere, :class:`~loopml.errors.AliasConflict` is raised and nothing changes.
  Every move appends an :class:`AliasEvent`.
* **Errors.** Missing runs, cells, versions or artifacts raise
  :class:`~loopml.errors.ModelNotFound` (registry) or return ``None`` where the signature
  says so; database failures raise :class:`~loopml.errors.StoreError` chained to the cause.
* **Predictions** are keyed by ``(request_id, row)`` and written at least once by design
  (a server replays what it could not write), so adding one already stored is a no-op.
  Feedback may arrive before its prediction is stored.
* **Model events** are appended, never changed; the store numbers them. A model's name
  needs no registered version, so the monitor may write before or beside the registry.
* **Reference profiles** are keyed by the artifact's sha256 and never change: the first
  write wins and putting one already stored is a no-op, so retries are harmless.
* **Ordering.** Lists come newest first unless stated.
* **Timestamps** are timezone-aware UTC.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

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

__all__ = ["BaseStore"]


class BaseStore(abc.ABC):
    """Abstract tracking store; choose an implementation with :func:`get_store`."""

    # -- runs -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(self, run: RunRecord) -> None:
        """Record a new run (state RUNNING). Raises StoreError if the id exists."""

    @abc.abstractmethod
    def finish_run(self, run_id: str, *, state: RunState, n_cells: int, n_failed: int) -> None:
        """Mark a RUNNING run finished now (COMPLETE, FAILED or STOPPED).

        Raises StoreError if the run is unknown or already finished, or for any other state.
        """

    @abc.abstractmethod
    def get_run(self, run_id: str) -> RunRecord | None:
        """Return the run, or None. A unique prefix of at least 6 characters also matches."""

    @abc.abstractmethod
    def list_runs(self, *, pipeline: str | None = None, limit: int = 50) -> list[RunRecord]:
        """Return runs, newest first."""

    # -- cells ------------------------------------------------------------------------
    @abc.abstractmethod
    def add_cells(self, cells: Sequence[CellRecord]) -> None:
        """Write a batch of finished cells atomically. Their run must exist."""

    @abc.abstractmethod
    def list_cells(
        self,
        *,
        run_id: str | None = None,
        pipeline: str | None = None,
        dataset: str | None = None,
    ) -> list[CellRecord]:
        """Return cells matching every filter given, oldest first (the order they finished)."""

    @abc.abstractmethod
    def get_cell(self, cell_id: str) -> CellRecord | None:
        """Return the cell, or None."""

    @abc.abstractmethod
    def heartbeat(self, run_id: str) -> None:
        """Set the RUNNING run's ``heartbeat_at`` to now (the driver is alive).

        A run that is no longer RUNNING is left as it is; an unknown run raises StoreError.
        """

    @abc.abstractmethod
    def abandon_run(self, run_id: str) -> int:
        """Mark a RUNNING run ABANDONED and its RUNNING trials ABANDONED, atomically.

        Return how many trials were abandoned. A run that is no longer RUNNING is left as it
        is (another process got there first) and 0 is returned; an unknown run raises
        StoreError.
        """

    # -- trials -----------------------------------------------------------------------
    @abc.abstractmethod
    def add_trials(self, trials: Sequence[TrialRecord]) -> None:
        """Insert a batch of trials (RUNNING or finished) atomically; their run must exist.

        A RUNNING trial needs a RUNNING run: once a run is over, ``abandon_run`` could never
        give the trial up. That, an ABANDONED trial, or an id already stored raises
        StoreError and nothing of the batch is written.
        """

    @abc.abstractmethod
    def finish_trials(self, trials: Sequence[TrialRecord]) -> None:
        """Replace RUNNING trials by their finished versions (same ids), atomically.

        The finished versions are COMPLETE, PRUNED or FAILED and keep their ``run_id``. A
        trial that is not RUNNING any more (abandoned meanwhile) or unknown raises
        StoreError and nothing of the batch is written.
        """

    @abc.abstractmethod
    def list_trials(
        self,
        *,
        run_id: str | None = None,
        study_key: str | None = None,
        pipeline: str | None = None,
        states: Sequence[TrialState] | None = None,
    ) -> list[TrialRecord]:
        """Return trials matching every filter given, by ``started_at`` then ``number``.

        Ties keep the order the trials were added in.
        """

    @abc.abstractmethod
    def find_trials(self, keys: Sequence[str]) -> dict[str, TrialRecord]:
        """Return, per content key, the most recent COMPLETE trial with that key.

        Most recent: the latest ``finished_at`` (none counts as oldest), then the one added
        last. Keys with no COMPLETE trial are left out.
        """

    # -- artifacts --------------------------------------------------------------------
    @abc.abstractmethod
    def add_artifacts(self, artifacts: Sequence[ArtifactRecord]) -> None:
        """Record artifacts; one already present (same sha256) is left as it is."""

    @abc.abstractmethod
    def get_artifact(self, sha256: str) -> ArtifactRecord | None:
        """Return the artifact's record, or None."""

    # -- registry ---------------------------------------------------------------------
    @abc.abstractmethod
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
        """Create the next version of ``name`` (1, 2, ...), optionally moving ``alias`` to it.

        The cell and artifact must exist. With ``alias``, the move is compare-and-set
        against ``expected`` and an ``EventKind.REGISTER`` event is appended; a conflict
        raises AliasConflict and the version is not created.
        """

    @abc.abstractmethod
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
        """Move ``alias`` of ``name`` to ``version`` by compare-and-set; return the event.

        Raises ModelNotFound if the version does not exist, AliasConflict if the alias is
        not at ``expected``.
        """

    @abc.abstractmethod
    def get_alias(self, name: str, alias: str) -> int | None:
        """Return the version the alias points at, or None when unset."""

    @abc.abstractmethod
    def get_version(self, name: str, version: int) -> ModelVersion:
        """Return the version. Raises ModelNotFound."""

    @abc.abstractmethod
    def list_versions(self, name: str | None = None) -> list[ModelVersion]:
        """Return versions of one model (or all), by name then version descending."""

    @abc.abstractmethod
    def list_aliases(self, name: str | None = None) -> dict[str, dict[str, int]]:
        """Return ``{model name: {alias: version}}``."""

    @abc.abstractmethod
    def list_events(self, name: str, *, alias: str | None = None) -> list[AliasEvent]:
        """Return the alias events of a model, oldest first."""

    # -- predictions ------------------------------------------------------------------
    @abc.abstractmethod
    def add_predictions(self, records: Sequence[PredictionRecord]) -> None:
        """Write a batch of served predictions atomically; idempotent per ``(request_id, row)``.

        A record whose key is already stored, or appears earlier in the batch, is skipped:
        stored predictions never change, and replaying a batch (a spill file after an
        outage) never duplicates a row. A naive ``at`` or a value JSON cannot hold raises
        StoreError and nothing of the batch is written.
        """

    @abc.abstractmethod
    def add_feedback(self, records: Sequence[FeedbackRecord]) -> None:
        """Write a batch of labels atomically; per ``(request_id, row)`` the latest wins.

        Latest: the greatest ``at``; of equal ones, the one added last (later in the batch
        or in a later call). An older label added later is ignored, so replays are
        harmless. The prediction need not be stored yet. A naive ``at`` or a label JSON
        cannot hold raises StoreError and nothing of the batch is written.
        """

    @abc.abstractmethod
    def list_predictions(
        self,
        name: str,
        *,
        since: datetime | None = None,
        limit: int | None = None,
        with_feedback: bool = False,
        version: int | None = None,
    ) -> list[tuple[PredictionRecord, FeedbackRecord | None]]:
        """Return the predictions of model ``name``, each with its feedback or None.

        Newest ``at`` first; ties by ``request_id`` then ``row``, ascending. ``since`` keeps
        those at or after it (it must be timezone-aware), ``limit`` (>= 1, None: all) the
        first so many, ``with_feedback`` only those with a label, and ``version`` only
        those that version served. A bad ``since`` or ``limit`` raises StoreError.
        """

    @abc.abstractmethod
    def count_predictions(self, name: str | None = None) -> int:
        """Return how many predictions are stored for model ``name`` (None: all models)."""

    @abc.abstractmethod
    def count_feedback(
        self, name: str, *, since: datetime | None = None, version: int | None = None
    ) -> int:
        """Return how many predictions of model ``name`` have a label.

        A label counts once both it and its prediction are stored: the number is the length
        of ``list_predictions(name, since=since, version=version, with_feedback=True)``.
        ``since`` applies to the prediction's ``at`` and must be timezone-aware, or
        StoreError is raised.
        """

    # -- model events -----------------------------------------------------------------
    @abc.abstractmethod
    def add_model_event(self, event: ModelEvent) -> int:
        """Append an event to the timeline of model ``event.name``; return its ``event_id``.

        The store assigns the id (one given is ignored); ids grow in the order events are
        added. A naive ``at``, a kind that is not a :class:`ModelEventKind`, or ``data``
        JSON cannot hold raises StoreError and nothing is written.
        """

    @abc.abstractmethod
    def list_model_events(
        self,
        name: str,
        *,
        kinds: Collection[ModelEventKind] | None = None,
        since: datetime | None = None,
    ) -> list[ModelEvent]:
        """Return the events of model ``name``, oldest first: a timeline reads forward.

        By ``at``, ties in the order they were added. ``kinds`` keeps those of these kinds
        (None: all; empty: none) and ``since`` those at or after it. A naive ``since`` or a
        kind that is not a :class:`ModelEventKind` raises StoreError.
        """

    @abc.abstractmethod
    def latest_model_event(self, name: str, kind: ModelEventKind) -> ModelEvent | None:
        """Return the latest event of ``kind`` for model ``name``, or None.

        Latest: the greatest ``at``, then the one added last; the last event
        ``list_model_events`` would give for that kind.
        """

    # -- reference profiles -----------------------------------------------------------
    @abc.abstractmethod
    def put_profile(self, sha256: str, profile: Mapping[str, Any]) -> None:
        """Store the reference profile of the artifact ``sha256``; the first write wins.

        A profile already stored for ``sha256`` is left as it is, even if this one differs,
        so a retried write is harmless. The artifact need not be stored. A ``sha256`` that
        is not 64 lowercase hex digits or a profile JSON cannot hold raises StoreError and
        nothing is written. Profiles of a few MB are expected.
        """

    @abc.abstractmethod
    def get_profile(self, sha256: str) -> Mapping[str, Any] | None:
        """Return the reference profile of the artifact ``sha256``, or None."""

    # -- lifecycle --------------------------------------------------------------------
    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections. The store must not be used afterwards."""

    def __enter__(self) -> BaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
