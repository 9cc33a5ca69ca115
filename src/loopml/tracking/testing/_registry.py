"""The contract of the model registry: versions, aliases and their events."""

from __future__ import annotations

from typing import Any

import pytest

from loopml.errors import AliasConflict, ModelNotFound, RegistryError
from loopml.tracking._base import BaseStore
from loopml.tracking._records import AliasEvent, CellRecord, EventKind
from loopml.tracking.testing._builders import (
    THREADS,
    is_utc,
    make_artifact,
    make_cell,
    make_run,
    run_threads,
)

__all__ = ["RegistryContract", "check_champion_chain", "register_champion"]


def _move(
    store: BaseStore, version: int, expected: int | None, name: str = "shop.eu", **kw: Any
) -> AliasEvent:
    """Move the ``champion`` alias of ``name`` (a PROMOTE by ``ci`` unless ``kw`` says)."""
    kw = {"alias": "champion", "kind": EventKind.PROMOTE, "actor": "ci", "reason": "r", **kw}
    return store.set_alias(name=name, version=version, expected=expected, **kw)


class RegistryContract:
    """Tests of the registry every store must pass; needs a ``store`` fixture."""

    # -- helpers ----------------------------------------------------------------------
    def _registrable(self, store: BaseStore) -> CellRecord:
        """Store a run, a cell and its artifact; return the cell."""
        run = make_run()
        store.create_run(run)
        cell = make_cell(run)
        store.add_cells([cell])
        store.add_artifacts([make_artifact()])
        return cell

    def _register(
        self, store: BaseStore, cell: CellRecord, name: str = "shop.eu", **kw: Any
    ) -> int:
        version = store.register_version(
            name=name,
            cell_id=cell.cell_id,
            artifact_sha256="a" * 64,
            metrics={"accuracy": 0.9},
            actor=kw.pop("actor", "ci"),
            reason=kw.pop("reason", "best"),
            **kw,
        )
        return version.version

    # -- registry ---------------------------------------------------------------------
    def test_register_numbers_versions_per_model(self, store: BaseStore) -> None:
        cell = self._registrable(store)
        assert [self._register(store, cell) for _ in range(3)] == [1, 2, 3]
        assert self._register(store, cell, name="shop.us") == 1
        version = store.get_version("shop.eu", 2)
        assert (version.cell_id, version.run_id) == (cell.cell_id, cell.run_id)
        assert version.metrics == {"accuracy": 0.9}
        assert is_utc(version.created_at)
        with pytest.raises(ModelNotFound, match="no version 4"):
            store.get_version("shop.eu", 4)

    def test_register_needs_the_cell_and_the_artifact(self, store: BaseStore) -> None:
        cell = self._registrable(store)
        with pytest.raises(ModelNotFound, match="no cell"):
            store.register_version(
                name="m", cell_id="x", artifact_sha256="a" * 64, metrics={}, actor="a", reason="r"
            )
        with pytest.raises(ModelNotFound, match="no artifact"):
            store.register_version(
                name="m",
                cell_id=cell.cell_id,
                artifact_sha256="f" * 64,
                metrics={},
                actor="a",
                reason="r",
            )
        with pytest.raises(RegistryError, match="only makes sense with `alias`"):
            self._register(store, cell, name="m", expected=1)
        assert store.list_versions() == []

    def test_register_with_alias_is_compare_and_set(self, store: BaseStore) -> None:
        cell = self._registrable(store)
        assert self._register(store, cell, alias="champion", expected=None) == 1
        assert store.get_alias("shop.eu", "champion") == 1
        with pytest.raises(AliasConflict) as conflict:
            self._register(store, cell, alias="champion", expected=None)
        assert (conflict.value.expected, conflict.value.actual) == (None, 1)
        assert [v.version for v in store.list_versions("shop.eu")] == [1]
        assert self._register(store, cell, alias="champion", expected=1, actor="bob") == 2
        events = store.list_events("shop.eu")
        assert [(e.kind, e.from_version, e.to_version, e.actor) for e in events] == [
            (EventKind.REGISTER, None, 1, "ci"),
            (EventKind.REGISTER, 1, 2, "bob"),
        ]

    def test_set_alias_moves_and_records_the_event(self, store: BaseStore) -> None:
        cell = self._registrable(store)
        for _ in range(3):
            self._register(store, cell)
        assert store.get_alias("shop.eu", "champion") is None
        first = _move(store, 2, None, actor="alice", reason="better f1")
        back = _move(store, 1, 2, kind=EventKind.ROLLBACK, actor="bob", reason="drift")
        assert store.get_alias("shop.eu", "champion") == 1
        assert isinstance(first, AliasEvent)
        assert (first.kind, first.from_version, first.to_version) == (EventKind.PROMOTE, None, 2)
        assert (back.actor, back.reason, back.from_version, back.to_version) == (
            "bob",
            "drift",
            2,
            1,
        )
        assert is_utc(back.at)
        assert first.event_id is not None
        assert back.event_id is not None
        assert back.event_id > first.event_id
        assert store.list_events("shop.eu") == [first, back]
        assert store.list_events("shop.eu", alias="challenger") == []
        assert store.list_events("other") == []

    def test_set_alias_conflict_or_missing_version_changes_nothing(self, store: BaseStore) -> None:
        cell = self._registrable(store)
        self._register(store, cell)
        self._register(store, cell, alias="champion", expected=None)
        before = (store.list_aliases(), store.list_events("shop.eu"), store.list_versions())
        for expected in (None, 1, 3):
            with pytest.raises(AliasConflict) as conflict:
                _move(store, 1, expected)
            assert (conflict.value.expected, conflict.value.actual) == (expected, 2)
        with pytest.raises(ModelNotFound, match="no version 9"):
            _move(store, 9, 2)
        with pytest.raises(ModelNotFound, match="no version 1"):
            _move(store, 1, None, name="nope")
        assert (store.list_aliases(), store.list_events("shop.eu"), store.list_versions()) == before

    def test_lists_of_versions_and_aliases(self, store: BaseStore) -> None:
        cell = self._registrable(store)
        self._register(store, cell, name="b", alias="champion", expected=None)
        self._register(store, cell, name="a")
        self._register(store, cell, name="a", alias="challenger", expected=None)
        self._register(store, cell, name="b")
        assert [(v.name, v.version) for v in store.list_versions()] == [
            ("a", 2),
            ("a", 1),
            ("b", 2),
            ("b", 1),
        ]
        assert [v.version for v in store.list_versions("b")] == [2, 1]
        assert store.list_versions("none") == []
        assert store.list_aliases() == {"a": {"challenger": 2}, "b": {"champion": 1}}
        assert store.list_aliases("b") == {"b": {"champion": 1}}
        assert store.list_aliases("none") == {}

    # -- thread safety ----------------------------------------------------------------
    def test_concurrent_registrations_get_contiguous_versions(self, store: BaseStore) -> None:
        cell = self._registrable(store)
        per_thread = 3
        numbers: list[int] = []

        def work(_: int) -> None:
            for _ in range(per_thread):
                numbers.append(self._register(store, cell))

        run_threads(work)
        assert sorted(numbers) == list(range(1, THREADS * per_thread + 1))

    def test_concurrent_alias_moves_let_exactly_one_win(self, store: BaseStore) -> None:
        cell = self._registrable(store)
        self._register(store, cell, alias="champion", expected=None)
        versions = [self._register(store, cell) for _ in range(THREADS)]
        won: list[int] = []
        lost: list[AliasConflict] = []

        def work(index: int) -> None:
            try:
                _move(store, versions[index], 1, actor=f"t{index}")
            except AliasConflict as conflict:
                lost.append(conflict)
            else:
                won.append(versions[index])

        run_threads(work)
        assert len(won) == 1
        assert [c.actual for c in lost] == won * (THREADS - 1)
        assert store.get_alias("shop.eu", "champion") == won[0]
        assert [e.to_version for e in store.list_events("shop.eu")] == [1, won[0]]

    def test_32_champion_registrations_at_once_number_and_chain_every_move(
        self, store: BaseStore
    ) -> None:
        cell = self._registrable(store)
        callers = 32
        numbers: list[int] = []

        def work(index: int) -> None:
            numbers.append(register_champion(store, cell.cell_id, actor=f"t{index}"))

        run_threads(work, callers)
        assert sorted(numbers) == list(range(1, callers + 1))
        check_champion_chain(store, "shop.eu", callers)


def register_champion(
    store: BaseStore, cell_id: str, *, actor: str, name: str = "shop.eu", attempts: int = 1000
) -> int:
    """Register a version of ``name`` as its champion, as a careful caller does; return it.

    The caller reads the champion, registers against it, and on a conflict reads again: a
    lost compare-and-set creates no version, so none is skipped or repeated.
    """
    for _ in range(attempts):
        expected = store.get_alias(name, "champion")
        try:
            version = store.register_version(
                name=name,
                cell_id=cell_id,
                artifact_sha256="a" * 64,
                metrics={"accuracy": 0.9},
                alias="champion",
                expected=expected,
                actor=actor,
                reason="best",
            )
        except AliasConflict:
            continue
        return version.version
    raise AssertionError(f"{actor} lost the champion's compare-and-set {attempts} times")


def check_champion_chain(store: BaseStore, name: str, versions: int) -> None:
    """Assert versions 1..``versions`` exist, each moved the champion once, none lost."""
    assert [v.version for v in store.list_versions(name)] == list(range(versions, 0, -1))
    events = store.list_events(name, alias="champion")
    assert sorted(e.to_version for e in events) == list(range(1, versions + 1))
    # Every move started where the one before it ended: none overwrote another.
    assert [e.from_version for e in events] == [None, *(e.to_version for e in events[:-1])]
    champion = store.get_alias(name, "champion")
    assert champion is not None and champion == events[-1].to_version
    assert store.get_version(name, champion).version == champion
