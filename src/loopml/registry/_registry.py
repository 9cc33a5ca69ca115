"""Registered models: immutable versions, the `champion` alias, promote and rollback."""

from __future__ import annotations

import enum
import getpass
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loopml.artifacts import ArtifactStore
from loopml.errors import AliasConflict, ModelNotFound, RegistryError
from loopml.tracking import AliasEvent, BaseStore, CellRecord, EventKind, ModelVersion

if TYPE_CHECKING:  # the statistics (scipy) load only where profiles are read
    from loopml.monitoring import ReferenceProfile

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "UNREAD",
    "ModelSummary",
    "Registry",
    "Unread",
    "default_actor",
]

CHAMPION = "champion"
CHALLENGER = "challenger"


class Unread(enum.Enum):
    """The type of :data:`UNREAD`: an alias's version the registry reads for the caller."""

    UNREAD = "unread"


UNREAD = Unread.UNREAD


def default_actor() -> str:
    """Return ``user@host``, recorded with every alias move."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class ModelSummary:
    """One registered model as `loopml models` lists it."""

    name: str
    versions: int
    latest: int
    champion: int | None
    champion_metrics: dict[str, float]


class Registry:
    """Versions and aliases of registered models, kept in a tracking store."""

    def __init__(self, store: BaseStore, artifacts: ArtifactStore) -> None:
        self.store = store
        self.artifacts = artifacts

    def champion(self, name: str) -> ModelVersion | None:
        """Return the version the champion alias points at, or None."""
        version = self.store.get_alias(name, CHAMPION)
        return None if version is None else self.store.get_version(name, version)

    def register(
        self,
        name: str,
        cell: CellRecord,
        *,
        alias: str = CHAMPION,
        expected: int | Unread | None = UNREAD,
        profile: ReferenceProfile | None = None,
        actor: str | None = None,
        reason: str,
    ) -> ModelVersion:
        """Register the cell's artifact as the next version of ``name``, under ``alias``.

        ``alias`` is the champion unless the version must first prove itself (a
        challenger). ``profile``, the reference the monitor compares served rows with, is
        stored before the version exists, so no version is ever without it. Compare-and-set:
        if the alias is not at ``expected`` (the version the caller's decision was based
        on, None: unset; by default where it is when read here), AliasConflict is raised
        and no version is created.
        """
        if cell.artifact_sha256 is None:
            raise RegistryError(
                f"cell {cell.dataset}/{cell.model} has no artifact (state {cell.state.value}), "
                "so it cannot be registered"
            )
        if profile is not None:
            self.store.put_profile(cell.artifact_sha256, profile.to_json())
        # A champion moved by someone else since our read is a conflict the caller must
        # see; a challenger alias only marks the latest candidate, so we read again.
        # A caller's own expectation is never read again over its head.
        attempts = 1 if alias == CHAMPION or not isinstance(expected, Unread) else 5
        while True:
            attempts -= 1
            try:
                return self.store.register_version(
                    name=name,
                    cell_id=cell.cell_id,
                    artifact_sha256=cell.artifact_sha256,
                    metrics=dict(cell.metrics),
                    alias=alias,
                    expected=(
                        self.store.get_alias(name, alias)
                        if isinstance(expected, Unread)
                        else expected
                    ),
                    actor=actor or default_actor(),
                    reason=reason,
                )
            except AliasConflict:
                if attempts == 0:
                    raise

    def promote(
        self,
        name: str,
        version: int,
        *,
        expected: int | None = None,
        actor: str | None = None,
        reason: str = "promoted by hand",
        kind: EventKind = EventKind.PROMOTE,
    ) -> AliasEvent:
        """Move the champion to ``version`` (which must exist) by compare-and-set.

        ``expected`` is the champion the caller's decision was based on; if the alias has
        moved since, AliasConflict is raised and nothing changes. None: the champion now.
        ``kind`` is how the move is recorded: ROLLBACK when it goes back to an older one.
        """
        self.require_model(name)
        current = self.store.get_alias(name, CHAMPION) if expected is None else expected
        if current == version:
            raise RegistryError(f"version {version} of {name!r} is already the champion")
        return self.store.set_alias(
            name=name,
            alias=CHAMPION,
            version=version,
            expected=current,
            kind=kind,
            actor=actor or default_actor(),
            reason=reason,
        )

    def rollback(
        self, name: str, *, actor: str | None = None, reason: str = "rolled back by hand"
    ) -> AliasEvent:
        """Move the champion back to the version it held before its current one."""
        self.require_model(name)
        current = self.store.get_alias(name, CHAMPION)
        previous = previous_champion(self.store.list_events(name, alias=CHAMPION))
        if current is None or previous is None:
            raise RegistryError(
                f"{name!r} has no earlier champion to roll back to (champion history: "
                f"{current if current is not None else 'none'}). Use `loopml models promote "
                f"{name} VERSION` to choose a version"
            )
        return self.store.set_alias(
            name=name,
            alias=CHAMPION,
            version=previous,
            expected=current,
            kind=EventKind.ROLLBACK,
            actor=actor or default_actor(),
            reason=reason,
        )

    def models(self) -> list[ModelSummary]:
        """Return every registered model with its version count and champion."""
        aliases = self.store.list_aliases()
        by_name: dict[str, list[ModelVersion]] = {}
        for v in self.store.list_versions():
            by_name.setdefault(v.name, []).append(v)
        out = []
        for name in sorted(by_name):
            versions = by_name[name]
            champion = aliases.get(name, {}).get(CHAMPION)
            metrics = next((dict(v.metrics) for v in versions if v.version == champion), {})
            out.append(
                ModelSummary(
                    name=name,
                    versions=len(versions),
                    latest=max(v.version for v in versions),
                    champion=champion,
                    champion_metrics=metrics,
                )
            )
        return out

    def load(
        self, name: str, version: int | None = None, *, extra_trusted: Iterable[str] = ()
    ) -> Any:
        """Return the fitted pipeline of a version (default: the champion), hash-checked."""
        if version is None:
            version = self.store.get_alias(name, CHAMPION)
            if version is None:
                raise ModelNotFound(f"{name!r} has no champion; register or promote a version")
        mv = self.store.get_version(name, version)
        record = self.store.get_artifact(mv.artifact_sha256)
        if record is None:
            raise ModelNotFound(f"version {version} of {name!r} has no artifact record")
        return self.artifacts.load(record.uri, sha256=record.sha256, extra_trusted=extra_trusted)

    def profile(self, name: str, version: int) -> ReferenceProfile | None:
        """Return the reference profile of a version, or None if it was registered without."""
        from loopml.monitoring import ReferenceProfile

        document = self.store.get_profile(self.store.get_version(name, version).artifact_sha256)
        return None if document is None else ReferenceProfile.from_json(document)

    def require_model(self, name: str) -> None:
        """Raise ModelNotFound, listing the registered models, unless `name` is one."""
        if not self.store.list_versions(name):
            known = sorted({v.name for v in self.store.list_versions()})
            raise ModelNotFound(
                f"no registered model named {name!r}; registered models: "
                f"{', '.join(known) or 'none yet (run `loopml run`)'}"
            )


def previous_champion(events: list[AliasEvent]) -> int | None:
    """Return the version a rollback goes back to, from the alias's history.

    Promotions and registrations push the new version; a rollback pops the current one.
    So repeated rollbacks walk further back, and a rollback never returns to the version
    it just left.
    """
    stack: list[int] = []
    for event in events:
        if event.kind is EventKind.ROLLBACK:
            if stack:
                stack.pop()
            if not stack or stack[-1] != event.to_version:
                stack.append(event.to_version)
        else:
            stack.append(event.to_version)
    return stack[-2] if len(stack) >= 2 else None
