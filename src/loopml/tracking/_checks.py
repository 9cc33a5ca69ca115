"""Checks every store makes before writing, so all backends refuse the same things."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime

from loopml.errors import RegistryError, StoreError
from loopml.tracking._records import ArtifactRecord, CellRecord, RunRecord, RunState

__all__ = [
    "check_cells",
    "check_expected",
    "check_finish",
    "check_limit",
    "normalize_artifact",
    "normalize_run",
    "utc",
    "utcnow",
]


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
    return dataclasses.replace(run, started_at=utc(run.started_at, "RunRecord.started_at"))


def check_finish(run_id: str, state: RunState) -> None:
    """Refuse to 'finish' a run into RUNNING."""
    if not state.is_finished():
        raise StoreError(
            f"finish_run needs a finished state (COMPLETE or FAILED), but got {state.value} "
            f"for run {run_id!r}"
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
