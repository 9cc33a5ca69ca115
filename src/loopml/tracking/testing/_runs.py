"""The contract of runs, run liveness, cells and artifacts."""

from __future__ import annotations

import dataclasses
import inspect
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from loopml.errors import StoreError
from loopml.tracking._base import BaseStore
from loopml.tracking._records import CellRecord, CellState, RunState
from loopml.tracking.testing._builders import (
    T0,
    THREADS,
    is_utc,
    make_artifact,
    make_cell,
    make_run,
    run_threads,
)

__all__ = ["RunContract"]


class RunContract:
    """Tests of runs, cells and artifacts every store must pass; needs a ``store`` fixture."""

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
        assert is_utc(got.started_at)

    def test_run_liveness_and_estimate_round_trip(self, store: BaseStore) -> None:
        paris = timezone(timedelta(hours=2))
        bare = make_run(host=None, pid=None, heartbeat_at=None, estimate=None)
        estimate = {"seconds": math.nan, "per_model": {"rf": [1.5, 2.5]}, "note": None}
        odd = make_run(heartbeat_at=T0.astimezone(paris), estimate=estimate)
        store.create_run(bare)
        store.create_run(odd)
        assert store.get_run(bare.run_id) == bare
        got = store.get_run(odd.run_id)
        assert got is not None
        assert (got.host, got.pid, got.heartbeat_at) == ("ci-runner-3", 4242, T0)
        assert is_utc(got.heartbeat_at)
        assert got.estimate is not None
        assert math.isnan(got.estimate["seconds"])
        assert (got.estimate["per_model"], got.estimate["note"]) == ({"rf": [1.5, 2.5]}, None)

    def test_create_run_refuses_naive_time_existing_id_and_finished_run(
        self, store: BaseStore
    ) -> None:
        run = make_run()
        with pytest.raises(StoreError, match="timezone-aware"):
            store.create_run(dataclasses.replace(run, started_at=datetime(2024, 1, 1)))
        with pytest.raises(StoreError, match=r"RunRecord\.heartbeat_at must be timezone-aware"):
            store.create_run(dataclasses.replace(run, heartbeat_at=datetime(2024, 1, 1)))
        with pytest.raises(StoreError, match="estimate must be JSON serializable"):
            store.create_run(dataclasses.replace(run, estimate={"model": object()}))
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
        assert is_utc(got.finished_at)
        with pytest.raises(StoreError, match="already FAILED"):
            store.finish_run(run.run_id, state=RunState.COMPLETE, n_cells=4, n_failed=0)
        with pytest.raises(StoreError, match="no such run"):
            store.finish_run("nope", state=RunState.COMPLETE, n_cells=0, n_failed=0)
        with pytest.raises(StoreError, match="finished state"):
            store.finish_run(run.run_id, state=RunState.RUNNING, n_cells=0, n_failed=0)

    def test_finish_run_stops_a_run_but_does_not_abandon_it(self, store: BaseStore) -> None:
        stopped, other = make_run(), make_run()
        store.create_run(stopped)
        store.create_run(other)
        store.finish_run(stopped.run_id, state=RunState.STOPPED, n_cells=3, n_failed=0)
        got = store.get_run(stopped.run_id)
        assert got is not None
        assert (got.state, got.n_cells) == (RunState.STOPPED, 3)
        assert is_utc(got.finished_at)
        with pytest.raises(StoreError, match="already STOPPED"):
            store.finish_run(stopped.run_id, state=RunState.COMPLETE, n_cells=3, n_failed=0)
        with pytest.raises(StoreError, match=r"finished state.*Only abandon_run"):
            store.finish_run(other.run_id, state=RunState.ABANDONED, n_cells=0, n_failed=0)
        assert store.get_run(other.run_id) == other

    def test_heartbeat_moves_only_a_running_run(self, store: BaseStore) -> None:
        run = make_run()
        store.create_run(run)
        before = datetime.now(UTC)
        store.heartbeat(run.run_id)
        got = store.get_run(run.run_id)
        assert got is not None
        assert got.heartbeat_at is not None
        assert is_utc(got.heartbeat_at)
        assert got.heartbeat_at >= before - timedelta(seconds=1)
        assert dataclasses.replace(got, heartbeat_at=run.heartbeat_at) == run
        store.finish_run(run.run_id, state=RunState.COMPLETE, n_cells=0, n_failed=0)
        finished = store.get_run(run.run_id)
        store.heartbeat(run.run_id)  # a last beat after the end changes nothing
        assert store.get_run(run.run_id) == finished
        with pytest.raises(StoreError, match="no such run"):
            store.heartbeat("nope")

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
        assert is_utc(got.finished_at)
        assert store.get_cell(failed.cell_id) == failed
        odd = make_cell(run, params={"missing_values": math.nan, "grid": [1.0, -math.inf]})
        store.add_cells([odd])
        got = store.get_cell(odd.cell_id)
        assert got is not None
        assert math.isnan(got.params["missing_values"])
        assert got.params["grid"] == [1.0, -math.inf]
        assert store.get_cell("missing") is None

    def test_cell_trial_fields_round_trip(self, store: BaseStore) -> None:
        run = make_run()
        store.create_run(run)
        single = make_cell(run, trial_id=None, n_trials=1, cached=False)
        reused = make_cell(run, trial_id="t-best", n_trials=30, cached=True)
        store.add_cells([single, reused])
        assert store.get_cell(single.cell_id) == single
        assert store.get_cell(reused.cell_id) == reused

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
        assert is_utc(got.created_at)

    def test_concurrent_cell_batches_are_all_written(self, store: BaseStore) -> None:
        run = make_run()
        store.create_run(run)
        run_threads(lambda i: store.add_cells([make_cell(run, f"c{i}-{j}") for j in range(5)]))
        assert len(store.list_cells(run_id=run.run_id)) == THREADS * 5
