"""Model versions and aliases in SQL: version numbering and the alias compare-and-set.

The functions run inside a transaction :class:`SQLStore` opened; the races they lose are
raised as :class:`VersionTaken` and :class:`AliasRace`, which the store retries or
reports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from loopml.errors import AliasConflict, ModelNotFound
from loopml.tracking import _checks
from loopml.tracking._records import AliasEvent, EventKind, ModelVersion
from loopml.tracking._schema import alias_events, aliases, artifacts, cells, model_versions

__all__ = ["AliasRace", "VersionTaken", "alias_version", "move", "new_version", "planned"]

_CELL_RUN = select(cells.c.run_id).where(cells.c.cell_id == bindparam("cell_id"))
_ARTIFACT = select(artifacts.c.sha256).where(artifacts.c.sha256 == bindparam("sha256"))
_ALIAS = select(aliases.c.version).where(
    aliases.c.name == bindparam("name"), aliases.c.alias == bindparam("alias")
)
_LATEST = select(func.max(model_versions.c.version)).where(
    model_versions.c.name == bindparam("name")
)


class VersionTaken(Exception):
    """Another transaction inserted the version number this one computed."""


class AliasRace(Exception):
    """Another transaction moved the alias between this one's read and its write."""

    def __init__(self, event: AliasEvent) -> None:
        super().__init__(event)
        self.event = event


def planned(
    name: str, alias: str, expected: int | None, kind: EventKind, actor: str, reason: str
) -> AliasEvent:
    """Return the event of a planned move; its target and time are filled in on the move."""
    return AliasEvent(name, alias, kind, expected, 0, actor, reason, _checks.utcnow())


def alias_version(conn: Connection, name: str, alias: str) -> int | None:
    """Return the version the alias points at, or None when unset."""
    version = conn.scalar(_ALIAS, {"name": name, "alias": alias})
    return None if version is None else int(version)


def new_version(
    conn: Connection, name: str, cell_id: str, sha256: str, metrics: Mapping[str, float]
) -> ModelVersion:
    """Insert the next version of ``name``; raise VersionTaken if another took its number."""
    run_id = conn.scalar(_CELL_RUN, {"cell_id": cell_id})
    if run_id is None:
        raise ModelNotFound(
            f"cannot register {name!r}: no cell {cell_id!r} in the store. "
            "Register a cell that a run has stored"
        )
    if conn.execute(_ARTIFACT, {"sha256": sha256}).first() is None:
        raise ModelNotFound(
            f"cannot register {name!r}: no artifact {sha256} in the store. "
            "Add the artifact before registering it"
        )
    version = ModelVersion(
        name=name,
        version=(conn.scalar(_LATEST, {"name": name}) or 0) + 1,
        cell_id=cell_id,
        run_id=run_id,
        artifact_sha256=sha256,
        metrics={key: float(value) for key, value in metrics.items()},
        created_at=_checks.utcnow(),
    )
    try:
        conn.execute(insert(model_versions).values(vars(version)))
    except IntegrityError as error:
        raise VersionTaken from error
    return version


def move(conn: Connection, version: int, planned: AliasEvent) -> AliasEvent:
    """Move the alias from ``planned.from_version`` to ``version``; record the event."""
    name, alias, expected = planned.name, planned.alias, planned.from_version
    current = alias_version(conn, name, alias)
    if current != expected:
        raise AliasConflict(name, alias, expected, current)
    event = dataclasses.replace(planned, to_version=version, at=_checks.utcnow())
    row = {"name": name, "alias": alias, "version": version, "updated_at": event.at}
    if expected is None:
        try:
            conn.execute(insert(aliases).values(row))
        except IntegrityError as error:  # another transaction set it first
            raise AliasRace(event) from error
    else:
        # The compare-and-set: the alias moves only if it is still where we read it.
        still = (aliases.c.name == name) & (aliases.c.alias == alias)
        cas = update(aliases).where(still & (aliases.c.version == expected)).values(row)
        if conn.execute(cas).rowcount != 1:
            raise AliasRace(event)
    values = {**vars(event), "kind": event.kind.value}
    del values["event_id"]
    inserted = conn.execute(insert(alias_events).values(values)).inserted_primary_key
    return dataclasses.replace(event, event_id=None if inserted is None else int(inserted[0]))
