"""The contract of tuning trials and of abandoning the runs whose driver died."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from loopml.errors import StoreError
from loopml.tracking._base import BaseStore
from loopml.tracking._records import Rung, RunRecord, RunState, TrialRecord, TrialState
from loopml.tracking.testing._builders import (
    T0,
    THREADS,
    is_utc,
    make_run,
    make_trial,
    run_threads,
    running,
)

__all__ = ["TrialContract"]

_FAILED, _PRUNED = TrialState.FAILED, TrialState.PRUNED


def _at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


class TrialContract:
    """Tests of trials and abandoned runs every store must pass; needs a ``store`` fixture."""

    def _started(self, store: BaseStore, **changes: Any) -> RunRecord:
        run = make_run(**changes)
        store.create_run(run)
        return run

    # -- writing ----------------------------------------------------------------------
    def test_trial_round_trips_every_field(self, store: BaseStore) -> None:
        run = self._started(store)
        paris = timezone(timedelta(hours=2))
        odd = make_trial(
            run,
            number=1,
            params={"missing_values": math.nan, "grid": [1.0, -math.inf], "kernel": None},
            rungs=(Rung(0, 0.1, math.nan, 0.25), Rung(1, 1.0, math.inf, 0.75)),
            metrics={"r2": math.nan, "loss": math.inf, "acc": 1.0},
            started_at=_at(1).astimezone(paris),
            finished_at=_at(2).astimezone(paris),
        )
        pruned = make_trial(run, number=2, state=_PRUNED, rungs=(Rung(0, 0.25, 0.5, 0.5),))
        failed = make_trial(run, number=3, state=_FAILED, error="boom", rungs=(), metrics={})
        plain = make_trial(run, number=4, artifact_sha256=None, rows=10**10, features=0)
        started = running(make_trial(run, number=5))
        store.add_trials([odd, pruned, failed, plain, started])
        got = store.list_trials(run_id=run.run_id)
        assert got[1:] == [pruned, failed, plain, started]
        assert dataclasses.replace(got[0], params={}, rungs=(), metrics={}) == dataclasses.replace(
            odd, params={}, rungs=(), metrics={}, started_at=_at(1), finished_at=_at(2)
        )
        assert (is_utc(got[0].started_at), is_utc(got[0].finished_at)) == (True, True)
        params, rungs, metrics = got[0].params, got[0].rungs, got[0].metrics
        assert math.isnan(params["missing_values"])
        assert (params["grid"], params["kernel"]) == ([1.0, -math.inf], None)
        assert [(r.step, r.budget, r.seconds) for r in rungs] == [(0, 0.1, 0.25), (1, 1.0, 0.75)]
        assert math.isnan(rungs[0].value)
        assert rungs[1].value == math.inf
        assert got[0].seconds == 1.0
        assert math.isnan(metrics["r2"])
        assert (metrics["loss"], metrics["acc"]) == (math.inf, 1.0)

    def test_add_trials_writes_all_or_nothing(self, store: BaseStore) -> None:
        run, over = self._started(store), self._started(store)
        stored = make_trial(run)
        store.add_trials([stored])
        store.finish_run(over.run_id, state=RunState.STOPPED, n_cells=0, n_failed=0)
        bad_batches: list[tuple[list[TrialRecord], str]] = [
            ([make_trial(run), make_trial(make_run("no-such-run"))], "do not exist"),
            ([make_trial(run), stored], "already stored"),
            ([make_trial(run, "twin"), make_trial(run, "twin")], "twice"),
            ([make_trial(run, state=TrialState.ABANDONED)], "Only abandon_run"),
            ([make_trial(run), make_trial(run, params={"f": object()})], "params must be JSON"),
            ([make_trial(run, started_at=datetime(2024, 1, 1))], "timezone-aware"),
            ([make_trial(run), running(make_trial(over))], "only be added to a RUNNING run"),
        ]
        for batch, message in bad_batches:
            with pytest.raises(StoreError, match=message):
                store.add_trials(batch)
        assert store.list_trials() == [stored]
        store.add_trials([])
        finished_late = make_trial(over, number=1)  # a finished trial may join a finished run
        store.add_trials([finished_late])
        assert store.list_trials() == [stored, finished_late]

    def test_finish_trials_replaces_running_trials(self, store: BaseStore) -> None:
        run = self._started(store)
        first, second = make_trial(run, number=1), make_trial(run, number=2, state=_PRUNED)
        store.add_trials([running(first), running(second)])
        assert store.list_trials(states=[TrialState.RUNNING]) == [running(first), running(second)]
        store.finish_trials([second, first])
        assert store.list_trials() == [first, second]
        store.finish_trials([])

    def test_finish_trials_refuses_and_writes_nothing(self, store: BaseStore) -> None:
        run, other = self._started(store), self._started(store)
        trial, done = make_trial(run, number=1), make_trial(run, number=2)
        store.add_trials([running(trial), done])
        before = store.list_trials()
        bad_batches: list[tuple[list[TrialRecord], str]] = [
            ([trial, make_trial(run, "ghost")], r"no such trials \['ghost'\]"),
            ([trial, done], "no longer RUNNING.*COMPLETE"),
            ([dataclasses.replace(trial, run_id=other.run_id)], "belong to another run"),
            ([running(trial)], "must be COMPLETE, PRUNED or FAILED, but it is RUNNING"),
            ([dataclasses.replace(trial, state=TrialState.ABANDONED)], "Only abandon_run"),
            ([trial, trial], "twice"),
            ([trial, dataclasses.replace(done, params={"f": object()})], "params must be JSON"),
        ]
        for batch, message in bad_batches:
            with pytest.raises(StoreError, match=message):
                store.finish_trials(batch)
            assert store.list_trials() == before

    # -- abandoning -------------------------------------------------------------------
    def test_abandon_run_gives_up_its_running_trials_at_once(self, store: BaseStore) -> None:
        run, other = self._started(store), self._started(store)
        stuck = [running(make_trial(run, number=n)) for n in (1, 2)]
        done, elsewhere = make_trial(run, number=3), running(make_trial(other, number=4))
        store.add_trials([*stuck, done, elsewhere])
        assert store.abandon_run(run.run_id) == 2
        got = store.get_run(run.run_id)
        assert got is not None
        assert got.state is RunState.ABANDONED
        assert is_utc(got.finished_at)
        assert store.list_trials(run_id=run.run_id) == [
            *(
                dataclasses.replace(t, state=TrialState.ABANDONED, finished_at=got.finished_at)
                for t in stuck
            ),
            done,
        ]
        assert store.list_trials(run_id=other.run_id) == [elsewhere]
        assert store.get_run(other.run_id) == other

    def test_abandon_run_is_idempotent_and_spares_finished_runs(self, store: BaseStore) -> None:
        run, stopped = self._started(store), self._started(store)
        store.add_trials([running(make_trial(run)), running(make_trial(stopped))])
        assert store.abandon_run(run.run_id) == 1
        after = (store.get_run(run.run_id), store.list_trials())
        assert store.abandon_run(run.run_id) == 0
        assert (store.get_run(run.run_id), store.list_trials()) == after
        store.finish_run(stopped.run_id, state=RunState.STOPPED, n_cells=0, n_failed=0)
        finished = (store.get_run(stopped.run_id), store.list_trials(run_id=stopped.run_id))
        assert store.abandon_run(stopped.run_id) == 0
        assert (store.get_run(stopped.run_id), store.list_trials(run_id=stopped.run_id)) == (
            finished
        )
        with pytest.raises(StoreError, match="no such run"):
            store.abandon_run("nope")

    def test_an_abandoned_run_takes_no_more_running_trials(self, store: BaseStore) -> None:
        run, other = self._started(store), self._started(store)
        given_up, alive = make_trial(run, number=1), make_trial(other, number=2)
        store.add_trials([running(given_up), running(alive)])
        store.abandon_run(run.run_id)
        before = store.list_trials()
        # The driver was only slow, not dead: what it writes now is refused, all of it.
        with pytest.raises(StoreError, match=r"no longer RUNNING: '.*' \(ABANDONED\)"):
            store.finish_trials([alive, given_up])
        with pytest.raises(StoreError, match="only be added to a RUNNING run"):
            store.add_trials([running(make_trial(run, number=3))])
        assert store.list_trials() == before

    def test_concurrent_abandons_let_exactly_one_win(self, store: BaseStore) -> None:
        run = self._started(store)
        store.add_trials([running(make_trial(run, number=n)) for n in range(3)])
        counts: list[int] = []
        run_threads(lambda _: counts.append(store.abandon_run(run.run_id)))
        assert sorted(counts) == [0] * (THREADS - 1) + [3]

    def test_abandon_racing_finish_trials_loses_no_trial(self, store: BaseStore) -> None:
        run = self._started(store)
        trials = [make_trial(run, number=n) for n in range(20)]
        store.add_trials([running(t) for t in trials])
        finished: list[str] = []
        refused: list[str] = []
        abandoned: list[int] = []

        def work(index: int) -> None:
            if index == 1:
                abandoned.append(store.abandon_run(run.run_id))
                return
            for trial in trials:
                try:
                    store.finish_trials([trial])
                except StoreError:
                    refused.append(trial.trial_id)
                else:
                    finished.append(trial.trial_id)

        run_threads(work, threads=2)
        states = {t.trial_id: t.state for t in store.list_trials(run_id=run.run_id)}
        assert {tid for tid, s in states.items() if s is TrialState.COMPLETE} == set(finished)
        assert {tid for tid, s in states.items() if s is TrialState.ABANDONED} == set(refused)
        assert abandoned == [len(refused)]

    # -- reading ----------------------------------------------------------------------
    def test_list_trials_filters_by_start_then_number(self, store: BaseStore) -> None:
        one, two = self._started(store, pipeline="p"), self._started(store, pipeline="q")
        late = make_trial(one, number=0, started_at=_at(9))
        early = make_trial(one, number=7, started_at=_at(1), study_key="t" * 64)
        tie_high = make_trial(two, number=5, started_at=_at(3), state=_FAILED)
        tie_low = make_trial(two, number=4, started_at=_at(3))
        twin = make_trial(one, number=4, started_at=_at(3), study_key="t" * 64, state=_PRUNED)
        store.add_trials([late, early, tie_high])
        store.add_trials([tie_low, twin])
        assert store.list_trials() == [early, tie_low, twin, tie_high, late]
        assert store.list_trials(run_id=one.run_id) == [early, twin, late]
        assert store.list_trials(pipeline="q") == [tie_low, tie_high]
        assert store.list_trials(study_key="t" * 64) == [early, twin]
        assert store.list_trials(states=[_FAILED, _PRUNED]) == [twin, tie_high]
        assert store.list_trials(run_id=two.run_id, states=[_PRUNED]) == []
        assert store.list_trials(states=[]) == []

    def test_find_trials_gives_the_most_recent_complete_per_key(self, store: BaseStore) -> None:
        old_run, new_run = self._started(store), self._started(store, minute=60)
        key, lone, missed = "1" * 64, "2" * 64, "3" * 64

        def trial(run: RunRecord, state: TrialState, content: str, finished: float) -> TrialRecord:
            return make_trial(run, state=state, key=content, finished_at=_at(finished))

        old = trial(old_run, TrialState.COMPLETE, key, 5)
        newest = trial(new_run, TrialState.COMPLETE, key, 65)
        only = trial(old_run, TrialState.COMPLETE, lone, 6)
        store.add_trials([newest, trial(new_run, _PRUNED, key, 90), only])
        store.add_trials(
            [old, trial(new_run, _FAILED, key, 95), trial(new_run, _FAILED, missed, 9)]
        )
        store.add_trials([running(trial(new_run, TrialState.COMPLETE, missed, 0))])
        assert store.find_trials([key, lone, missed, "unknown", key]) == {key: newest, lone: only}
        assert store.find_trials([]) == {}
        same_time = trial(old_run, TrialState.COMPLETE, lone, 6)  # ties: the one added last
        store.add_trials([same_time])
        assert store.find_trials([lone]) == {lone: same_time}

    def test_find_trials_takes_many_keys(self, store: BaseStore) -> None:
        run = self._started(store)
        hits = [make_trial(run, number=n) for n in (3, 600, 1100)]
        store.add_trials(hits)
        keys = [f"{n:064d}" for n in range(1200)]
        assert store.find_trials(keys) == {t.key: t for t in hits}
