"""Checks every store makes before writing, so all backends refuse the same things."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from loopml.errors import RegistryError, StoreError
from loopml.tracking._records import (
    ArtifactRecord,
    CellRecord,
    FeedbackRecord,
    ModelEvent,
    ModelEventKind,
    PredictionRecord,
    RunRecord,
    RunState,
    TrialRecord,
    TrialState,
)

__all__ = [
    "add_refused",
    "check_cells",
    "check_expected",
    "check_feedback",
    "check_finish",
    "check_kind",
    "check_kinds",
    "check_limit",
    "check_listing",
    "check_model_event",
    "check_predictions",
    "check_profile",
    "check_trials",
    "finish_refused",
    "normalize_artifact",
    "normalize_run",
    "utc",
    "utcnow",
]


_SHA256 = re.compile(r"[0-9a-f]{64}")


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


def utc(value: datetime, what: str) -> datetime:
    """Return ``value`` converted to UTC; a naive datetime is refused, not guessed at."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(
            f"{what} must be timezone-aware, but got the naive datetime {value.isoformat()}. "
            "Use datetime.now(timezone.utc)"
        )
    return value.astimezone(UTC)


def normalize_run(run: RunRecord) -> RunRecord:
    """Return the run with UTC timestamps; refuse one that is not a fresh RUNNING run."""
    if run.state is not RunState.RUNNING or run.finished_at is not None:
        raise StoreError(
            f"a new run must be RUNNING with no finished_at, but run {run.run_id!r} is "
            f"{run.state.value}. Create it RUNNING and call finish_run when it ends"
        )
    heartbeat = run.heartbeat_at
    return dataclasses.replace(
        run,
        started_at=utc(run.started_at, "RunRecord.started_at"),
        heartbeat_at=None if heartbeat is None else utc(heartbeat, "RunRecord.heartbeat_at"),
    )


def check_finish(run_id: str, state: RunState) -> None:
    """Refuse to 'finish' a run into RUNNING or ABANDONED."""
    if state in (RunState.RUNNING, RunState.ABANDONED):
        raise StoreError(
            f"finish_run needs a finished state (COMPLETE, FAILED or STOPPED), but got "
            f"{state.value} for run {run_id!r}. Only abandon_run marks a run ABANDONED"
        )


def check_cells(cells: Sequence[CellRecord]) -> list[CellRecord]:
    """Return the cells with UTC timestamps; refuse a batch with a running or repeated cell."""
    seen: set[str] = set()
    out: list[CellRecord] = []
    for cell in cells:
        if not cell.state.is_finished():
            raise StoreError(
                f"only finished cells can be stored, but cell {cell.cell_id!r} is "
                f"{cell.state.value}; nothing was written. Store it once it is COMPLETE or FAILED"
            )
        if cell.cell_id in seen:
            raise StoreError(
                f"cell id {cell.cell_id!r} appears twice in one batch; nothing was written"
            )
        seen.add(cell.cell_id)
        if cell.finished_at is not None and cell.finished_at.tzinfo is not UTC:
            cell = dataclasses.replace(
                cell, finished_at=utc(cell.finished_at, "CellRecord.finished_at")
            )
        out.append(cell)
    return out


def normalize_artifact(artifact: ArtifactRecord) -> ArtifactRecord:
    """Return the artifact record with a UTC ``created_at``."""
    created = utc(artifact.created_at, "ArtifactRecord.created_at")
    return dataclasses.replace(artifact, created_at=created)


def check_limit(limit: int) -> None:
    """Refuse a list limit below 1."""
    if limit < 1:
        raise StoreError(f"`limit` must be >= 1, but got {limit}")


def check_expected(alias: str | None, expected: int | None) -> None:
    """Refuse an ``expected`` version given without the alias it is about."""
    if alias is None and expected is not None:
        raise RegistryError(
            f"`expected` ({expected}) only makes sense with `alias`; pass the alias to move "
            "or drop `expected`"
        )


def check_trials(trials: Sequence[TrialRecord], *, finishing: bool) -> list[TrialRecord]:
    """Return the trials with UTC timestamps; refuse a batch the store must not write.

    No trial may be ABANDONED (only ``abandon_run`` marks trials so) or appear twice;
    when ``finishing``, none may be RUNNING either.
    """
    seen: set[str] = set()
    out: list[TrialRecord] = []
    for trial in trials:
        if trial.state is TrialState.ABANDONED or (finishing and not trial.state.is_finished()):
            wanted = "COMPLETE, PRUNED or FAILED" + ("" if finishing else " (or RUNNING)")
            raise StoreError(
                f"trial {trial.trial_id!r} must be {wanted}, but it is {trial.state.value}; "
                "nothing was written. Only abandon_run marks trials ABANDONED"
            )
        if trial.trial_id in seen:
            raise StoreError(
                f"trial id {trial.trial_id!r} appears twice in one batch; nothing was written"
            )
        seen.add(trial.trial_id)
        finished = trial.finished_at
        out.append(
            dataclasses.replace(
                trial,
                started_at=utc(trial.started_at, "TrialRecord.started_at"),
                finished_at=None if finished is None else utc(finished, "TrialRecord.finished_at"),
            )
        )
    return out


def add_refused(batch: Sequence[TrialRecord], runs: Mapping[str, str]) -> str | None:
    """Return why ``add_trials`` must refuse ``batch``, given ``{run_id: state}``, or None.

    ``runs`` holds the states of the batch's runs that exist. A RUNNING trial needs a
    RUNNING run: once a run is over, ``abandon_run`` could never give its trials up.
    """
    if missing := sorted({t.run_id for t in batch} - runs.keys()):
        return (
            f"trials refer to runs that do not exist: {missing}; nothing was written. "
            "Create the run before adding its trials"
        )
    over = sorted(
        {
            f"{t.run_id!r} ({runs[t.run_id]})"
            for t in batch
            if t.state is TrialState.RUNNING and runs[t.run_id] != RunState.RUNNING.value
        }
    )
    if over:
        return (
            f"RUNNING trials can only be added to a RUNNING run, but run {', '.join(over)} "
            "is over; nothing was written. Add the trials finished, or start a new run"
        )
    return None


def finish_refused(batch: Sequence[TrialRecord], stored: Mapping[str, tuple[str, str]]) -> str:
    """Return why ``finish_trials`` refused ``batch``, given ``{trial_id: (run_id, state)}``.

    ``stored`` holds what the store has of the batch's trials; the message names every
    trial that could not be finished.
    """
    unknown, moved, done = [], [], []
    for trial in batch:
        if trial.trial_id not in stored:
            unknown.append(trial.trial_id)
            continue
        run_id, state = stored[trial.trial_id]
        if run_id != trial.run_id:
            moved.append(f"{trial.trial_id!r} (of run {run_id!r}, not {trial.run_id!r})")
        elif state != TrialState.RUNNING.value:
            done.append(f"{trial.trial_id!r} ({state})")
    reasons = []
    if unknown:
        reasons.append(f"no such trials {sorted(unknown)}; add them with add_trials first")
    if moved:
        reasons.append(f"trials belong to another run: {', '.join(moved)}")
    if done:
        reasons.append(
            f"trials are no longer RUNNING: {', '.join(done)}; an ABANDONED trial was given up "
            "by a later run, and a finished trial never changes"
        )
    return f"cannot finish trials: {'; '.join(reasons)}. Nothing was written"


def check_predictions(records: Sequence[PredictionRecord]) -> list[PredictionRecord]:
    """Return the batch with UTC times, the first of each ``(request_id, row)`` only."""
    out: dict[tuple[str, int], PredictionRecord] = {}
    for record in records:
        key = (record.request_id, record.row)
        if key not in out:
            out[key] = dataclasses.replace(record, at=utc(record.at, "PredictionRecord.at"))
    return list(out.values())


def check_feedback(records: Sequence[FeedbackRecord]) -> list[FeedbackRecord]:
    """Return the batch with UTC times, the latest label of each ``(request_id, row)`` only.

    Latest: the greatest ``at``, then the last in the batch, as the stores decide between
    a stored label and a new one.
    """
    out: dict[tuple[str, int], FeedbackRecord] = {}
    for record in records:
        record = dataclasses.replace(record, at=utc(record.at, "FeedbackRecord.at"))
        key = (record.request_id, record.row)
        if key not in out or out[key].at <= record.at:
            out[key] = record
    return list(out.values())


def check_listing(since: datetime | None, limit: int | None) -> datetime | None:
    """Return ``since`` in UTC; refuse a naive ``since`` or a ``limit`` below 1."""
    if limit is not None:
        check_limit(limit)
    return None if since is None else utc(since, "`since`")


def check_model_event(event: ModelEvent) -> ModelEvent:
    """Return the event with a UTC ``at`` and no id; refuse a kind that is not an enum member."""
    check_kind(event.kind)
    return dataclasses.replace(event, at=utc(event.at, "ModelEvent.at"), event_id=None)


def check_kinds(kinds: Collection[ModelEventKind] | None) -> frozenset[ModelEventKind] | None:
    """Return the kinds a listing keeps (None: all); refuse any that is not an enum member."""
    if kinds is None:
        return None
    for kind in kinds:
        check_kind(kind)
    return frozenset(kinds)


def check_kind(kind: object) -> None:
    """Refuse a model event kind that is not a :class:`ModelEventKind` member."""
    if not isinstance(kind, ModelEventKind):
        raise StoreError(
            f"a model event kind must be a ModelEventKind, but got {kind!r}. "
            f"Use ModelEventKind({kind!r}) to look one up by its value"
        )


def check_profile(sha256: str, profile: Mapping[str, Any]) -> None:
    """Refuse a key that is not a sha256 hex digest, or a profile that is not a mapping."""
    if not isinstance(sha256, str) or _SHA256.fullmatch(sha256) is None:
        raise StoreError(
            f"a reference profile is keyed by its artifact's sha256, 64 lowercase hex digits, "
            f"but got {sha256!r}; nothing was written"
        )
    if not isinstance(profile, Mapping):
        raise StoreError(
            f"a reference profile must be a mapping (a JSON object), but got "
            f"{type(profile).__name__}; nothing was written"
        )
