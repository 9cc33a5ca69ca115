"""Trials and run liveness in SQL: the statements behind :class:`SQLStore`'s trial methods.

Each function runs inside a transaction the store opened and gives the store what to
return; the store owns connections, locking and error translation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from loopml.errors import StoreError
from loopml.tracking import _checks
from loopml.tracking._records import RunState, TrialRecord, TrialState
from loopml.tracking._rows import trial_record, trial_row
from loopml.tracking._schema import runs, trials

__all__ = [
    "abandon",
    "find_complete",
    "finish",
    "insert_trials",
    "stored_trial_ids",
    "touch",
    "trials_query",
]

# Values per IN list: far below every database's limit on bound parameters (SQLite: 32766).
_CHUNK = 500
_T = TypeVar("_T")
_RUNNING = RunState.RUNNING.value
_TRIAL_RUNNING = TrialState.RUNNING.value
_TRIAL_ABANDONED = TrialState.ABANDONED.value

# Built once: building a statement costs about as much as running it.
_INSERT = insert(trials)
# Executed with rows, it sets every column a row names. Its own parameters are named
# ``b_...``: an UPDATE's WHERE may not bind the name of a column it sets.
_FINISH = update(trials).where(
    trials.c.trial_id == bindparam("b_trial_id"),
    trials.c.run_id == bindparam("b_run_id"),
    trials.c.state == _TRIAL_RUNNING,
)


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """Yield ``items`` in slices of at most ``_CHUNK``, to keep SQL IN lists short."""
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def touch(conn: Connection, run_id: str, now: datetime) -> None:
    """Set the heartbeat of the run if it is RUNNING; raise StoreError if there is no run."""
    running = (runs.c.run_id == run_id) & (runs.c.state == _RUNNING)
    if conn.execute(update(runs).where(running).values(heartbeat_at=now)).rowcount == 0:
        _require_run(conn, run_id, "record a heartbeat of")


def abandon(conn: Connection, run_id: str, now: datetime) -> int:
    """Mark the run and its RUNNING trials ABANDONED if it is RUNNING; return the count."""
    running = (runs.c.run_id == run_id) & (runs.c.state == _RUNNING)
    gone = {"state": RunState.ABANDONED.value, "finished_at": now}
    # The conditional UPDATE is the lock: of two processes abandoning one run at once, the
    # second waits for the first and then finds the run no longer RUNNING.
    if conn.execute(update(runs).where(running).values(gone)).rowcount == 0:
        _require_run(conn, run_id, "abandon")
        return 0
    stuck = (trials.c.run_id == run_id) & (trials.c.state == _TRIAL_RUNNING)
    given_up = {"state": _TRIAL_ABANDONED, "finished_at": now}
    return int(conn.execute(update(trials).where(stuck).values(given_up)).rowcount)


def _require_run(conn: Connection, run_id: str, action: str) -> None:
    if conn.execute(select(runs.c.run_id).where(runs.c.run_id == run_id)).first() is None:
        raise StoreError(f"cannot {action} run {run_id!r}: no such run. Create it first")


def insert_trials(conn: Connection, batch: Sequence[TrialRecord]) -> None:
    """Insert the batch after checking its runs; raise StoreError if they refuse it.

    The runs' rows are share-locked until the transaction ends, so a concurrent
    ``abandon`` cannot end a run between the check and the insert.
    """
    states: dict[str, str] = {}
    for chunk in _chunks(sorted({t.run_id for t in batch})):
        query = select(runs.c.run_id, runs.c.state).where(runs.c.run_id.in_(chunk))
        for run_id, state in conn.execute(query.with_for_update(read=True)):
            states[run_id] = state
    if (why := _checks.add_refused(batch, states)) is not None:
        raise StoreError(why)
    conn.execute(_INSERT, [trial_row(trial) for trial in batch])


def stored_trial_ids(conn: Connection, trial_ids: Sequence[str]) -> list[str]:
    """Return which of ``trial_ids`` the store holds, sorted."""
    found: list[str] = []
    for chunk in _chunks(trial_ids):
        found += conn.scalars(select(trials.c.trial_id).where(trials.c.trial_id.in_(chunk)))
    return sorted(found)


def finish(conn: Connection, batch: Sequence[TrialRecord]) -> None:
    """Replace the batch's RUNNING trials; raise StoreError if any is not RUNNING.

    The raise rolls the transaction back, so the batch is written whole or not at all.
    """
    # One order for every writer: two batches locking the same rows cannot deadlock.
    ordered = sorted(batch, key=lambda trial: trial.trial_id)
    rows: list[dict[str, Any]] = []
    for trial in ordered:
        row = trial_row(trial)
        row["b_trial_id"], row["b_run_id"] = row.pop("trial_id"), row.pop("run_id")
        rows.append(row)
    if conn.execute(_FINISH, rows).rowcount == len(rows):
        return
    stored: dict[str, tuple[str, str]] = {}
    for chunk in _chunks([trial.trial_id for trial in ordered]):
        query = select(trials.c.trial_id, trials.c.run_id, trials.c.state)
        for trial_id, run_id, state in conn.execute(query.where(trials.c.trial_id.in_(chunk))):
            stored[trial_id] = (run_id, state)
    raise StoreError(_checks.finish_refused(batch, stored))


def trials_query(
    *,
    run_id: str | None,
    study_key: str | None,
    pipeline: str | None,
    states: Sequence[TrialState] | None,
) -> Select[Any]:
    """Return the query of ``list_trials``: the filters given, by start, number, insertion."""
    t = trials.c
    query = select(trials).order_by(t.started_at, t.number, t.id)
    for column, value in (("run_id", run_id), ("study_key", study_key), ("pipeline", pipeline)):
        if value is not None:
            query = query.where(t[column] == value)
    if states is not None:
        query = query.where(t.state.in_([state.value for state in states]))
    return query


def find_complete(conn: Connection, keys: Sequence[str]) -> dict[str, TrialRecord]:
    """Return the most recent COMPLETE trial per key: latest finished, then latest added."""
    t = trials.c
    recent = t.finished_at.desc().nulls_last(), t.id.desc()
    rank = func.row_number().over(partition_by=t.key, order_by=recent).label("rank")
    found: dict[str, TrialRecord] = {}
    for chunk in _chunks(sorted(set(keys))):
        complete = (t.key.in_(chunk)) & (t.state == TrialState.COMPLETE.value)
        ranked = select(trials, rank).where(complete).subquery()
        for row in conn.execute(select(ranked).where(ranked.c.rank == 1)):
            found[row.key] = trial_record(row)
    return found
