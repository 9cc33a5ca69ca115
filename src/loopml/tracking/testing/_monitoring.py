"""The contract of what monitoring keeps: model events and reference profiles."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from loopml.errors import StoreError
from loopml.tracking._base import BaseStore
from loopml.tracking._records import ModelEvent, ModelEventKind
from loopml.tracking.testing._builders import (
    T0,
    THREADS,
    is_utc,
    make_model_event,
    run_threads,
)

__all__ = ["MonitoringContract"]

_SHA = "a" * 64


def _added(store: BaseStore, *events: ModelEvent) -> list[ModelEvent]:
    """Add the events; return them as the store gives them back, with their ids."""
    return [dataclasses.replace(e, event_id=store.add_model_event(e)) for e in events]


def _profile(columns: int = 3) -> dict[str, Any]:
    """Return a reference profile: per column, a histogram and a few statistics."""
    return {
        "rows": 10_000,
        "columns": {
            f"c{i}": {"kind": "numeric", "edges": [0.0, 0.5, 1.0], "counts": [40, 60], "mean": i}
            for i in range(columns)
        },
    }


class MonitoringContract:
    """Tests of model events and profiles every store must pass; needs a ``store`` fixture."""

    # -- model events -----------------------------------------------------------------
    def test_model_events_round_trip_oldest_first(self, store: BaseStore) -> None:
        check = make_model_event(data={"psi": {"age": 0.2}, "drifted": ("age",)})
        skipped = make_model_event(
            ModelEventKind.RETRAIN_SKIPPED, second=60, version=None, data={}, actor="policy"
        )
        challenge = make_model_event(
            ModelEventKind.CHALLENGE,
            second=120,
            version=4,
            data={"promoted": False, "champion": {"f1": 0.8}, "challenger": {"f1": 0.79}},
        )
        ids = [store.add_model_event(e) for e in (check, skipped, challenge)]
        assert ids == sorted(set(ids))
        as_stored = dataclasses.replace(check, data={"psi": {"age": 0.2}, "drifted": ["age"]})
        listed = store.list_model_events("shop.eu")
        assert listed == [
            dataclasses.replace(e, event_id=i)
            for e, i in zip((as_stored, skipped, challenge), ids, strict=True)
        ]
        assert all(is_utc(e.at) for e in listed)
        assert store.list_model_events("nope") == []

    def test_events_need_no_registered_version(self, store: BaseStore) -> None:
        (event,) = _added(store, make_model_event(name="never.registered", version=7))
        assert store.list_model_events("never.registered") == [event]
        assert store.list_versions("never.registered") == []

    def test_events_are_ordered_by_time_then_by_addition(self, store: BaseStore) -> None:
        late, early, tie_a, tie_b = _added(
            store,
            make_model_event(second=300, reason="late"),
            make_model_event(second=0, reason="early"),
            make_model_event(second=100, reason="tie a"),
            make_model_event(second=100, reason="tie b"),
        )
        assert store.list_model_events("shop.eu") == [early, tie_a, tie_b, late]

    def test_event_times_are_kept_in_utc_and_given_ids_ignored(self, store: BaseStore) -> None:
        paris = timezone(timedelta(hours=2))
        event_id = store.add_model_event(make_model_event(at=T0.astimezone(paris), event_id=99))
        (stored,) = store.list_model_events("shop.eu")
        assert stored.at == T0 and is_utc(stored.at)
        assert stored.event_id == event_id

    def test_non_finite_numbers_in_event_data_survive(self, store: BaseStore) -> None:
        store.add_model_event(make_model_event(data={"psi": math.inf, "ks": [math.nan, 0.5]}))
        (stored,) = store.list_model_events("shop.eu")
        assert stored.data["psi"] == math.inf
        assert math.isnan(stored.data["ks"][0]) and stored.data["ks"][1] == 0.5

    def test_list_model_events_by_kind_and_since(self, store: BaseStore) -> None:
        kinds = list(ModelEventKind)
        events = _added(store, *(make_model_event(k, second=10 * i) for i, k in enumerate(kinds)))
        _added(store, make_model_event(name="shop.us"))
        by_kind = dict(zip(kinds, events, strict=True))
        retrain = {ModelEventKind.RETRAIN, ModelEventKind.RETRAIN_SKIPPED}
        assert store.list_model_events("shop.eu", kinds=retrain) == [
            by_kind[ModelEventKind.RETRAIN],
            by_kind[ModelEventKind.RETRAIN_SKIPPED],
        ]
        assert store.list_model_events("shop.eu", kinds=[]) == []
        assert store.list_model_events("shop.eu", since=T0 + timedelta(seconds=40)) == events[4:]
        assert store.list_model_events(
            "shop.eu", kinds=[ModelEventKind.DRIFT_CHECK, ModelEventKind.GUARD], since=T0
        ) == [by_kind[ModelEventKind.DRIFT_CHECK], by_kind[ModelEventKind.GUARD]]

    def test_latest_model_event_of_a_kind(self, store: BaseStore) -> None:
        guard = ModelEventKind.GUARD
        assert store.latest_model_event("shop.eu", guard) is None
        _, newest, _, _, _ = _added(
            store,
            make_model_event(guard, second=10, reason="old"),
            make_model_event(guard, second=50, reason="newest, added early"),
            make_model_event(guard, second=20, reason="added late, older"),
            make_model_event(ModelEventKind.DRIFT_CHECK, second=90),
            make_model_event(guard, second=90, name="shop.us"),
        )
        assert store.latest_model_event("shop.eu", guard) == newest
        (tie,) = _added(store, make_model_event(guard, second=50, reason="tie, added last"))
        assert store.latest_model_event("shop.eu", guard) == tie
        assert store.latest_model_event("shop.eu", ModelEventKind.CHALLENGE) is None

    def test_a_refused_model_event_writes_nothing(self, store: BaseStore) -> None:
        with pytest.raises(StoreError, match="data must be JSON serializable"):
            store.add_model_event(make_model_event(data={"when": object()}))
        with pytest.raises(StoreError, match=r"ModelEvent\.at must be timezone-aware"):
            store.add_model_event(make_model_event(at=datetime(2024, 5, 1, 12)))
        with pytest.raises(StoreError, match="must be a ModelEventKind, but got 'guard'"):
            store.add_model_event(make_model_event(kind="guard"))  # type: ignore[arg-type]
        assert store.list_model_events("shop.eu") == []

    def test_bad_event_listing_arguments_raise(self, store: BaseStore) -> None:
        with pytest.raises(StoreError, match="`since` must be timezone-aware"):
            store.list_model_events("shop.eu", since=datetime(2024, 5, 1))
        with pytest.raises(StoreError, match="must be a ModelEventKind, but got 'retrain'"):
            store.list_model_events("shop.eu", kinds=["retrain"])  # type: ignore[list-item]
        with pytest.raises(StoreError, match="must be a ModelEventKind, but got 'retrain'"):
            store.latest_model_event("shop.eu", "retrain")  # type: ignore[arg-type]

    def test_concurrent_events_all_get_distinct_ids(self, store: BaseStore) -> None:
        per_thread = 5
        ids: list[int] = []

        def work(index: int) -> None:
            for n in range(per_thread):
                ids.append(store.add_model_event(make_model_event(reason=f"t{index} n{n}")))

        run_threads(work)
        assert len(set(ids)) == THREADS * per_thread
        listed = store.list_model_events("shop.eu")
        assert sorted(e.event_id for e in listed if e.event_id is not None) == sorted(ids)

    # -- reference profiles -----------------------------------------------------------
    def test_profiles_round_trip(self, store: BaseStore) -> None:
        assert store.get_profile(_SHA) is None
        profile = {**_profile(), "quantiles": (0.1, 0.5), "std": math.nan}
        store.put_profile(_SHA, profile)
        stored = store.get_profile(_SHA)
        assert stored is not None
        assert {k: v for k, v in stored.items() if k != "std"} == {
            **_profile(),
            "quantiles": [0.1, 0.5],
        }
        assert math.isnan(stored["std"])
        assert store.get_profile("b" * 64) is None

    def test_the_first_profile_put_wins(self, store: BaseStore) -> None:
        store.put_profile(_SHA, _profile(2))
        store.put_profile(_SHA, _profile(2))  # a retry
        store.put_profile(_SHA, _profile(5))  # a different one: ignored
        assert store.get_profile(_SHA) == _profile(2)

    def test_a_profile_of_several_megabytes_fits(self, store: BaseStore) -> None:
        profile = {**_profile(400), "sample": ["x" * 1_000] * 4_000}
        store.put_profile(_SHA, profile)
        assert store.get_profile(_SHA) == profile

    def test_a_refused_profile_writes_nothing(self, store: BaseStore) -> None:
        with pytest.raises(StoreError, match="reference profile must be JSON serializable"):
            store.put_profile(_SHA, {"edges": {1.0, 2.0}})
        assert store.get_profile(_SHA) is None
        store.put_profile(_SHA, _profile())
        with pytest.raises(StoreError, match="reference profile must be JSON serializable"):
            store.put_profile(_SHA, {"edges": {1.0, 2.0}})
        for bad in ("A" * 64, "a" * 63, "sha256:" + "a" * 64):
            with pytest.raises(StoreError, match=f"64 lowercase hex digits, but got '{bad}'"):
                store.put_profile(bad, _profile())
        with pytest.raises(StoreError, match=r"must be a mapping \(a JSON object\), but got list"):
            store.put_profile("b" * 64, [1, 2])  # type: ignore[arg-type]
        assert store.get_profile("b" * 64) is None
        assert store.get_profile(_SHA) == _profile()

    def test_concurrent_puts_of_one_profile_keep_one(self, store: BaseStore) -> None:
        def work(index: int) -> None:
            store.put_profile(_SHA, {"writer": index, **_profile()})

        run_threads(work)
        stored = store.get_profile(_SHA)
        assert stored is not None
        assert stored == {"writer": stored["writer"], **_profile()}
        assert stored["writer"] in range(THREADS)
