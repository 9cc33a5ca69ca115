"""The contract of served predictions and the feedback on them."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta, timezone

import pytest

from loopml.errors import StoreError
from loopml.tracking._base import BaseStore
from loopml.tracking._records import FeedbackRecord, PredictionRecord
from loopml.tracking.testing._builders import (
    T0,
    THREADS,
    is_utc,
    make_feedback,
    make_prediction,
    run_threads,
)

__all__ = ["PredictionContract"]


def _predictions(store: BaseStore, name: str = "shop.eu", **kw: object) -> list[PredictionRecord]:
    return [p for p, _ in store.list_predictions(name, **kw)]  # type: ignore[arg-type]


def _label(store: BaseStore, request_id: str = "req-1", row: int = 0) -> FeedbackRecord | None:
    """Return the feedback listed with a prediction of ``shop.eu``."""
    found = {(p.request_id, p.row): f for p, f in store.list_predictions("shop.eu")}
    return found[(request_id, row)]


class PredictionContract:
    """Tests of predictions and feedback every store must pass; needs a ``store`` fixture."""

    # -- predictions ------------------------------------------------------------------
    def test_predictions_round_trip_newest_first(self, store: BaseStore) -> None:
        older = [make_prediction("req-b", row, second=0) for row in (1, 0)]
        newer = make_prediction(
            "req-a",
            0,
            second=5,
            features={"tags": ["a", "b"], "nested": {"x": 1.5}},
            prediction=[0.5, 2],
            probabilities=None,
        )
        store.add_predictions([*older, newer])
        listed = store.list_predictions("shop.eu")
        assert [p for p, _ in listed] == [newer, older[1], older[0]]
        assert [f for _, f in listed] == [None, None, None]
        assert all(is_utc(p.at) for p, _ in listed)

    def test_prediction_times_are_kept_in_utc(self, store: BaseStore) -> None:
        paris = timezone(timedelta(hours=2))
        store.add_predictions([make_prediction(at=T0.astimezone(paris))])
        (stored,) = _predictions(store)
        assert stored.at == T0 and is_utc(stored.at)

    def test_non_finite_probabilities_survive(self, store: BaseStore) -> None:
        store.add_predictions([make_prediction(probabilities={"no": math.nan, "yes": 1.0})])
        (stored,) = _predictions(store)
        assert stored.probabilities is not None
        assert math.isnan(stored.probabilities["no"]) and stored.probabilities["yes"] == 1.0

    def test_adding_a_stored_prediction_again_is_a_no_op(self, store: BaseStore) -> None:
        batch = [make_prediction("req-1", row) for row in range(3)]
        store.add_predictions(batch)
        store.add_predictions(batch)
        changed = make_prediction("req-1", 0, prediction="no", version=4)
        store.add_predictions([changed, make_prediction("req-1", 3), make_prediction("req-1", 3)])
        assert store.count_predictions() == 4
        assert _predictions(store) == [*batch, make_prediction("req-1", 3)]

    def test_a_refused_prediction_batch_writes_nothing(self, store: BaseStore) -> None:
        good = make_prediction("req-1", 0)
        unjsonable = make_prediction("req-1", 1, features={"when": object()})
        with pytest.raises(StoreError, match="features must be JSON serializable"):
            store.add_predictions([good, unjsonable])
        naive = make_prediction("req-1", 2, at=datetime(2024, 5, 1, 12))
        with pytest.raises(StoreError, match="must be timezone-aware"):
            store.add_predictions([good, naive])
        assert store.count_predictions() == 0
        store.add_predictions([])
        assert store.count_predictions() == 0

    def test_list_and_count_by_model_since_and_limit(self, store: BaseStore) -> None:
        eu = [make_prediction(f"eu-{s}", second=s) for s in range(5)]
        us = [make_prediction(f"us-{s}", name="shop.us", second=s) for s in range(2)]
        store.add_predictions([*eu, *us])
        assert store.count_predictions() == 7
        assert store.count_predictions("shop.eu") == 5
        assert store.count_predictions("nope") == 0
        assert _predictions(store) == eu[::-1]
        assert _predictions(store, "shop.us") == us[::-1]
        assert _predictions(store, since=T0 + timedelta(seconds=3)) == [eu[4], eu[3]]
        assert _predictions(store, limit=2) == [eu[4], eu[3]]
        assert _predictions(store, since=T0 + timedelta(seconds=1), limit=10) == eu[:0:-1]
        assert store.list_predictions("nope") == []

    def test_list_the_predictions_of_one_version(self, store: BaseStore) -> None:
        v3 = [make_prediction(f"v3-{s}", second=s) for s in range(3)]
        v4 = [make_prediction(f"v4-{s}", second=s + 0.5, version=4) for s in range(3)]
        other = make_prediction("us-0", name="shop.us", version=4)
        store.add_predictions([*v3, *v4, other])
        store.add_feedback([make_feedback("v4-1"), make_feedback("v3-1")])
        assert _predictions(store, version=4) == v4[::-1]
        assert _predictions(store, version=3) == v3[::-1]
        assert _predictions(store, version=5) == []
        assert _predictions(store, version=4, since=T0 + timedelta(seconds=1), limit=1) == [v4[2]]
        labelled = store.list_predictions("shop.eu", version=4, with_feedback=True)
        assert labelled == [(v4[1], make_feedback("v4-1"))]

    def test_count_feedback_counts_labelled_predictions(self, store: BaseStore) -> None:
        store.add_predictions(
            [
                *(make_prediction("req-1", row, second=row) for row in range(4)),
                make_prediction("req-2", 0, second=10, version=4),
                make_prediction("req-3", 0, name="shop.us"),
            ]
        )
        store.add_feedback(
            [
                *(make_feedback("req-1", row) for row in (0, 2, 3)),
                make_feedback("req-1", 3, label="changed", second=90),  # one label per row
                make_feedback("req-2", 0),
                make_feedback("req-3", 0, name="shop.us"),
                make_feedback("req-9", 0),  # its prediction is not stored (yet)
            ]
        )
        assert store.count_feedback("shop.eu") == 4
        assert store.count_feedback("shop.eu", version=3) == 3
        assert store.count_feedback("shop.eu", version=4) == 1
        assert store.count_feedback("shop.eu", since=T0 + timedelta(seconds=2)) == 3
        assert store.count_feedback("shop.eu", since=T0 + timedelta(seconds=3), version=3) == 1
        assert store.count_feedback("shop.us") == 1
        assert store.count_feedback("nope") == 0
        for since, version in ((None, None), (T0 + timedelta(seconds=2), 3)):
            listed = store.list_predictions(
                "shop.eu", since=since, version=version, with_feedback=True
            )
            assert store.count_feedback("shop.eu", since=since, version=version) == len(listed)
        store.add_predictions([make_prediction("req-9", 0)])
        assert store.count_feedback("shop.eu") == 5
        with pytest.raises(StoreError, match="`since` must be timezone-aware"):
            store.count_feedback("shop.eu", since=datetime(2024, 5, 1))

    def test_bad_listing_arguments_raise(self, store: BaseStore) -> None:
        with pytest.raises(StoreError, match=r"`limit` must be >= 1, but got 0"):
            store.list_predictions("shop.eu", limit=0)
        with pytest.raises(StoreError, match="`since` must be timezone-aware"):
            store.list_predictions("shop.eu", since=datetime(2024, 5, 1))

    def test_concurrent_overlapping_batches_store_each_row_once(self, store: BaseStore) -> None:
        rows = 40

        def work(index: int) -> None:
            # Every thread writes the same rows, in its own order.
            batch = [make_prediction("req-1", row) for row in range(rows)]
            store.add_predictions(batch[index % 2 :: 1 if index % 2 else -1] + batch)

        run_threads(work, THREADS)
        assert store.count_predictions() == rows

    # -- feedback ---------------------------------------------------------------------
    def test_feedback_pairs_with_its_prediction(self, store: BaseStore) -> None:
        store.add_predictions([make_prediction("req-1", row) for row in range(3)])
        label = make_feedback("req-1", 1, label={"churned": True, "days": [3, 4]})
        store.add_feedback([label])
        assert _label(store, "req-1", 1) == label
        assert is_utc(label.at)
        assert _label(store, "req-1", 0) is None
        labelled = store.list_predictions("shop.eu", with_feedback=True)
        assert labelled == [(make_prediction("req-1", 1), label)]

    def test_the_latest_label_wins(self, store: BaseStore) -> None:
        store.add_predictions([make_prediction()])
        store.add_feedback([make_feedback(label="no", second=60)])
        store.add_feedback([make_feedback(label="yes", second=120)])
        store.add_feedback([make_feedback(label="stale", second=90)])  # older: ignored
        assert _label(store) == make_feedback(label="yes", second=120)
        store.add_feedback([make_feedback(label="again", second=120)])  # a tie: added last
        assert _label(store) == make_feedback(label="again", second=120)
        batch = [make_feedback(label=f"v{s}", second=s) for s in (300, 200, 300)]
        batch[2] = dataclasses.replace(batch[2], label="last")
        store.add_feedback(batch)  # in one batch: the greatest `at`, then the last one
        assert _label(store) == batch[2]

    def test_feedback_may_arrive_before_its_prediction(self, store: BaseStore) -> None:
        label = make_feedback("req-9", 0)
        store.add_feedback([label])
        assert store.list_predictions("shop.eu") == []
        store.add_predictions([make_prediction("req-9", 0)])
        assert store.list_predictions("shop.eu") == [(make_prediction("req-9", 0), label)]

    def test_a_refused_feedback_batch_writes_nothing(self, store: BaseStore) -> None:
        store.add_predictions([make_prediction("req-1", row) for row in range(2)])
        good = make_feedback("req-1", 0)
        with pytest.raises(StoreError, match="label must be JSON serializable"):
            store.add_feedback([good, make_feedback("req-1", 1, label={1, 2})])
        naive = dataclasses.replace(good, at=datetime(2024, 5, 1))
        with pytest.raises(StoreError, match="must be timezone-aware"):
            store.add_feedback([good, naive])
        assert store.list_predictions("shop.eu", with_feedback=True) == []

    def test_concurrent_feedback_keeps_the_latest_label(self, store: BaseStore) -> None:
        store.add_predictions([make_prediction("req-1", row) for row in range(10)])

        def work(index: int) -> None:
            batch = [make_feedback("req-1", row, label=index, second=index) for row in range(10)]
            store.add_feedback(batch if index % 2 else batch[::-1])

        run_threads(work, THREADS)
        labels = [f for _, f in store.list_predictions("shop.eu", with_feedback=True)]
        assert [f.label for f in labels if f is not None] == [THREADS - 1] * 10
