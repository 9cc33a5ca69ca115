"""The tracking store conformance suite: every store must pass it. Requires pytest.

Subclass :class:`StoreContract` in a test module and provide a ``store`` fixture that
yields a fresh, empty store and closes it afterwards::

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self) -> Iterator[BaseStore]:
            with MyStore(...) as store:
                yield store

The tests follow the contract in :mod:`loopml.tracking._base`, section by section.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from loopml.errors import AliasConflict, ModelNotFound, RegistryError, StoreError
from loopml.tracking._base import BaseStore
from loopml.tracking._records import (
    AliasEvent,
    ArtifactRecord,
    CellRecord,
    CellState,
    EventKind,
    Lineage,
    RunRecord,
    RunState,
)

__all__ = ["StoreContract", "make_artifact", "make_cell", "make_run"]

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
_THREADS = 8


def make_run(run_id: str | None = None, *, pipeline: str = "shop", minute: int = 0) -> RunRecord:
    """Return a new RUNNING run that started ``minute`` minutes after a fixed instant."""
    return RunRecord(
        run_id=run_id or uuid.uuid4().hex,
        pipeline=pipeline,
        state=RunState.RUNNING,
        started_at=T0 + timedelta(minutes=minute),
        lineage=Lineage("spec123", "0.1.0", "3.11.7", {"scikit-learn": "1.5.0"}, "abc1234"),
        workers=2,
    )


def make_cell(run: RunRecord, cell_id: str | None = None, **changes: Any) -> CellRecord:
    """Return a COMPLETE cell of ``run``; ``changes`` override any field."""
    cell = CellRecord(
        cell_id=cell_id or uuid.uuid4().hex,
        run_id=run.run_id,
        pipeline=run.pipeline,
        dataset="eu",
        model="logreg",
        state=CellState.COMPLETE,
        estimator="sklearn.linear_model.LogisticRegression",
        params={"C": 0.5, "max_iter": 500, "penalty": None, "layers": [10, 5]},
        dataset_fingerprint="fp-eu",
        metrics={"accuracy": 0.875, "f1": 0.8},
        fit_seconds=0.25,
        predict_seconds=0.01,
        artifact_sha256="a" * 64,
        finished_at=T0 + timedelta(minutes=1),
        key="k" * 64,
    )
    return dataclasses.replace(cell, **changes)


def make_artifact(sha256: str = "a" * 64, *, uri: str = "file:///tmp/a.skops") -> ArtifactRecord:
    """Return an artifact record."""
    return ArtifactRecord(
        sha256=sha256,
        uri=uri,
        size_bytes=12345,
        input_schema={"age": "int64", "plan": "object"},
        sample_rows=({"age": 31, "plan": "pro"}, {"age": 45, "plan": "free"}),
        created_at=T0,
    )


def _is_utc(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() == timedelta(0)


def _move(
    store: BaseStore, version: int, expected: int | None, name: str = "shop.eu", **kw: Any
) -> AliasEvent:
    """Move the ``champion`` alias of ``name`` (a PROMOTE by ``ci`` unless ``kw`` says)."""
    kw = {"alias": "champion", "kind": EventKind.PROMOTE, "actor": "ci", "reason": "r", **kw}
    return store.set_alias(name=name, version=version, expected=expected, **kw)


class StoreContract:
    """Tests every :class:`BaseStore` must pass; needs a ``store`` fixture."""

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

    def _run_threads(self, work: Callable[[int], None]) -> None:
        barrier = threading.Barrier(_THREADS)
        errors: list[BaseException] = []

        def target(index: int) -> None:
            barrier.wait()
            try:
                work(index)
            except BaseException as error:  # reported on the main thread below
                errors.append(error)

        threads = [threading.Thread(target=target, args=(i,)) for i in range(_THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors

    def test_methods_keep_the_contract_signatures(self, store: BaseStore) -> None:
        for name in BaseStore.__abstractmethods__:
            ours = inspect.signature(getattr(type(store), name)).parameters
            contract = inspect.signature(getattr(BaseStore, name)).parameters
            assert [(p.name, p.kind) for p in ours.values()] == [
                (p.name, p.kind) for p in contract.values()
            ], name

    # -- runs -------------------------------------------------------------------------
    def test_run_round_trips(self, store: BaseStore) -> None:
        run = make_run()
        store.create_run(run)
        assert store.get_run(run.run_id) == run

    def test_run_times_come_back_as_utc(self, store: BaseStore) -> None:
        paris = timezone(timedelta(hours=2))
        run = dataclasses.replace(make_run(), started_at=T0.astimezone(paris))
        store.create_run(run)
        got = store.get_run(run.run_id)
        assert got is not None
        assert got.started_at == T0
        assert _is_utc(got.started_at)

    def test_create_run_refuses_naive_time_existing_id_and_finished_run(
        self, store: BaseStore
    ) -> None:
        run = make_run()
        with pytest.raises(StoreError, match="timezone-aware"):
            store.create_run(dataclasses.replace(run, started_at=datetime(2024, 1, 1)))
        store.create_run(run)
        with pytest.raises(StoreError, match="already exists"):
            store.create_run(run)
        with pytest.raises(StoreError, match="must be RUNNING"):
            store.create_run(dataclasses.replace(make_run(), state=RunState.COMPLETE))

    def test_finish_run_once(self, store: BaseStore) -> None:
        run = make_run()
        store.create_run(run)
        store.finish_run(run.run_id, state=RunState.FAILED, n_cells=4, n_failed=1)
        got = store.get_run(run.run_id)
        assert got is not None
        assert (got.state, got.n_cells, got.n_failed) == (RunState.FAILED, 4, 1)
        assert got.finished_at is not None
        assert _is_utc(got.finished_at)
        with pytest.raises(StoreError, match="already FAILED"):
            store.finish_run(run.run_id, state=RunState.COMPLETE, n_cells=4, n_failed=0)
        with pytest.raises(StoreError, match="no such run"):
            store.finish_run("nope", state=RunState.COMPLETE, n_cells=0, n_failed=0)
        with pytest.raises(StoreError, match="finished state"):
            store.finish_run(run.run_id, state=RunState.RUNNING, n_cells=0, n_failed=0)

    def test_get_run_by_unique_prefix(self, store: BaseStore) -> None:
        first, second = make_run("abcdef1111"), make_run("abcdef2222")
        store.create_run(first)
        store.create_run(second)
        assert store.get_run("abcdef1") == first
        assert store.get_run("abcdef2") == second
        assert store.get_run("abcdef") is None  # ambiguous
        assert store.get_run("abcde") is None  # too short to be a prefix
        assert store.get_run("abcdef1111") == first
        assert store.get_run("zzzzzzzz") is None
        assert store.get_run("abc%__") is None  # wildcards are not patterns

    def test_list_runs_newest_first(self, store: BaseStore) -> None:
        runs = [make_run(minute=m, pipeline=p) for m, p in [(1, "a"), (3, "b"), (2, "a")]]
        for run in runs:
            store.create_run(run)
        assert store.list_runs() == [runs[1], runs[2], runs[0]]
        assert store.list_runs(pipeline="a") == [runs[2], runs[0]]
        assert store.list_runs(limit=1) == [runs[1]]
        assert store.list_runs(pipeline="none") == []
        with pytest.raises(StoreError, match="limit"):
            store.list_runs(limit=0)

    # -- cells ------------------------------------------------------------------------
    def test_cell_round_trips(self, store: BaseStore) -> None:
        run = make_run()
        store.create_run(run)
        cell = make_cell(run, metrics={"r2": math.nan, "loss": math.inf, "acc": 1.0})
        failed = make_cell(run, state=CellState.FAILED, error="boom", metrics={}, fit_seconds=None)
        store.add_cells([cell, failed])
        got = store.get_cell(cell.cell_id)
        assert got is not None
        assert dataclasses.replace(got, metrics={}) == dataclasses.replace(cell, metrics={})
        assert math.isnan(got.metrics["r2"])
        assert got.metrics["loss"] == math.inf
        assert got.finished_at is not None
        assert _is_utc(got.finished_at)
        assert store.get_cell(failed.cell_id) == failed
        odd = make_cell(run, params={"missing_values": math.nan, "grid": [1.0, -math.inf]})
        store.add_cells([odd])
        got = store.get_cell(odd.cell_id)
        assert got is not None
        assert math.isnan(got.params["missing_values"])
        assert got.params["grid"] == [1.0, -math.inf]
        assert store.get_cell("missing") is None

    def test_add_cells_writes_all_or_nothing(self, store: BaseStore) -> None:
        run = make_run()
        store.create_run(run)
        stored = make_cell(run)
        store.add_cells([stored])
        orphan = make_cell(make_run("no-such-run"))
        bad_batches: list[tuple[list[CellRecord], str]] = [
            ([make_cell(run), orphan, make_cell(run)], "do not exist"),
            ([make_cell(run), stored], "already stored"),
            ([make_cell(run), make_cell(run, state=CellState.RUNNING)], "only finished"),
            ([make_cell(run, "twin"), make_cell(run, "twin")], "twice"),
            ([make_cell(run), make_cell(run, params={"f": object()})], "params must be JSON"),
        ]
        for batch, message in bad_batches:
            with pytest.raises(StoreError, match=message):
                store.add_cells(batch)
        assert store.list_cells() == [stored]
        store.add_cells([])
        assert store.list_cells() == [stored]

    def test_list_cells_filters_oldest_first(self, store: BaseStore) -> None:
        one, two = make_run(pipeline="p"), make_run(pipeline="q")
        store.create_run(one)
        store.create_run(two)

        def at(minute: int) -> datetime:
            return T0 + timedelta(minutes=minute)

        late = make_cell(one, dataset="eu", finished_at=at(9))
        early = make_cell(one, dataset="us", finished_at=at(2))
        other = make_cell(two, dataset="eu", finished_at=at(5))
        store.add_cells([late, early])
        store.add_cells([other])
        assert store.list_cells() == [early, other, late]
        assert store.list_cells(run_id=one.run_id) == [early, late]
        assert store.list_cells(pipeline="q") == [other]
        assert store.list_cells(dataset="eu") == [other, late]
        assert store.list_cells(pipeline="p", dataset="eu") == [late]
        assert store.list_cells(run_id=two.run_id, dataset="us") == []

    # -- artifacts --------------------------------------------------------------------
    def test_artifacts_are_idempotent(self, store: BaseStore) -> None:
        first = make_artifact()
        store.add_artifacts([first, make_artifact(uri="file:///elsewhere")])
        store.add_artifacts([make_artifact(uri="file:///again"), make_artifact("b" * 64)])
        assert store.get_artifact("a" * 64) == first
        assert store.get_artifact("b" * 64) is not None
        assert store.get_artifact("c" * 64) is None
        got = store.get_artifact("a" * 64)
        assert got is not None
        assert _is_utc(got.created_at)

    # -- registry ---------------------------------------------------------------------
    def test_register_numbers_versions_per_model(self, store: BaseStore) -> None:
        cell = self._registrable(store)
        assert [self._register(store, cell) for _ in range(3)] == [1, 2, 3]
        assert self._register(store, cell, name="shop.us") == 1
        version = store.get_version("shop.eu", 2)
        assert (version.cell_id, version.run_id) == (cell.cell_id, cell.run_id)
        assert version.metrics == {"accuracy": 0.9}
        assert _is_utc(version.created_at)
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
        assert _is_utc(back.at)
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

        self._run_threads(work)
        assert sorted(numbers) == list(range(1, _THREADS * per_thread + 1))

    def test_concurrent_alias_moves_let_exactly_one_win(self, store: BaseStore) -> None:
        cell = self._registrable(store)
        self._register(store, cell, alias="champion", expected=None)
        versions = [self._register(store, cell) for _ in range(_THREADS)]
        won: list[int] = []
        lost: list[AliasConflict] = []

        def work(index: int) -> None:
            try:
                _move(store, versions[index], 1, actor=f"t{index}")
            except AliasConflict as conflict:
                lost.append(conflict)
            else:
                won.append(versions[index])

        self._run_threads(work)
        assert len(won) == 1
        assert [c.actual for c in lost] == won * (_THREADS - 1)
        assert store.get_alias("shop.eu", "champion") == won[0]
        assert [e.to_version for e in store.list_events("shop.eu")] == [1, won[0]]

    def test_concurrent_cell_batches_are_all_written(self, store: BaseStore) -> None:
        run = make_run()
        store.create_run(run)
        self._run_threads(
            lambda i: store.add_cells([make_cell(run, f"c{i}-{j}") for j in range(5)])
        )
        assert len(store.list_cells(run_id=run.run_id)) == _THREADS * 5
