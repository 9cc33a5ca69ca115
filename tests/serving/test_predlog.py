"""The prediction log: every served row reaches the store once, through outages and restarts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from loopml.errors import StoreError
from loopml.serving import PredictionLog
from loopml.tracking import BaseStore, InMemoryStore, PredictionRecord, SQLStore
from loopml.tracking.testing import make_prediction
from tests.conftest import sqlite_url

FAST: dict[str, Any] = {"batch": 16, "interval": 0.01}


class FlakyStore(InMemoryStore):
    """An in-memory store whose ``add_predictions`` fails while it is down, or waits at a gate."""

    def __init__(self, *, up: bool = True) -> None:
        super().__init__()
        self.up = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self.failures = 0
        if up:
            self.up.set()

    def add_predictions(self, records: Sequence[PredictionRecord]) -> None:
        self.gate.wait()
        if not self.up.is_set():
            self.failures += 1
            raise StoreError("the tracking store at test:// could not add predictions: down")
        super().add_predictions(records)


def _rows(n: int, request: str = "req") -> list[PredictionRecord]:
    return [make_prediction(f"{request}-{i // 4}", i % 4, second=i) for i in range(n)]


def _by_key(records: Sequence[PredictionRecord]) -> dict[tuple[str, int], PredictionRecord]:
    return {(r.request_id, r.row): r for r in records}


def _stored(store: BaseStore) -> dict[tuple[str, int], PredictionRecord]:
    """Return the stored predictions of ``shop.eu`` by key; fail on a duplicate key."""
    listed = [p for p, _ in store.list_predictions("shop.eu")]
    found = _by_key(listed)
    assert len(found) == len(listed)
    return found


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _spill_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines() if path.exists() else []


def test_every_record_put_reaches_the_store(tmp_path: Path) -> None:
    with SQLStore(sqlite_url(tmp_path)) as store:
        log = PredictionLog(store, spill_path=tmp_path / "spill.jsonl", **FAST)
        rows = _rows(400)
        threads = [threading.Thread(target=log.put, args=(rows[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        _until(lambda: log.written == 400)
        log.close()
        assert store.count_predictions() == 400
        assert _stored(store) == _by_key(rows)
        assert (log.written, log.spilled, log.dropped, log.queued) == (400, 0, 0, 0)
        assert _spill_lines(tmp_path / "spill.jsonl") == []


def test_an_outage_spills_then_everything_reaches_the_store_once(tmp_path: Path) -> None:
    store = FlakyStore(up=False)
    spill = tmp_path / "spill.jsonl"
    log = PredictionLog(store, spill_path=spill, **FAST)
    rows = _rows(200)
    log.put(rows[:100])
    _until(lambda: log.spilled == 100)
    assert len(_spill_lines(spill)) == 100
    assert store.count_predictions() == 0
    log.put(rows[100:])
    _until(lambda: log.spilled == 200)
    failures = store.failures
    store.up.set()
    _until(lambda: store.count_predictions() == 200)
    _until(lambda: _spill_lines(spill) == [])
    log.close()
    assert failures >= 1
    assert _stored(store) == _by_key(rows)
    assert (log.written, log.spilled, log.dropped) == (200, 200, 0)


def test_close_during_an_outage_spills_what_is_queued(tmp_path: Path) -> None:
    store = FlakyStore(up=False)
    spill = tmp_path / "spill.jsonl"
    log = PredictionLog(store, spill_path=spill, interval=5.0)
    log.put(_rows(50))
    log.close(timeout=10)
    assert (log.written, log.spilled, log.dropped, log.queued) == (0, 50, 0, 0)
    assert len(_spill_lines(spill)) == 50
    log.put(_rows(1, request="late"))  # after close: straight to the spill file
    assert len(_spill_lines(spill)) == 51


def test_a_spill_file_left_by_a_previous_process_is_replayed_on_start(tmp_path: Path) -> None:
    spill = tmp_path / "spill.jsonl"
    previous = PredictionLog(FlakyStore(up=False), spill_path=spill, **FAST)
    rows = _rows(30)
    previous.put(rows)
    previous.close()
    with spill.open("ab") as file:
        # The previous process stored one row itself, then died mid-append.
        file.write(b'{"request_id": "torn", "row"')
    store = FlakyStore()
    store.add_predictions(rows[:1])

    log = PredictionLog(store, spill_path=spill, **FAST)
    _until(lambda: store.count_predictions() == 30)
    log.put(_rows(1, request="new"))
    log.close()
    assert store.count_predictions() == 31
    assert _stored(store) == _by_key([*rows, *_rows(1, request="new")])
    assert (log.spilled, log.dropped) == (0, 1)  # the torn line, counted
    assert _spill_lines(spill) == []


def test_the_spill_file_is_json_lines_a_person_can_read(tmp_path: Path) -> None:
    spill = tmp_path / "spill.jsonl"
    line = {
        "request_id": "r",
        "row": 2,
        "name": "shop.eu",
        "version": 3,
        "at": "2024-05-01T12:00:00+02:00",
        "features": {"age": 31},
        "prediction": "yes",
        "probabilities": None,
        "latency_ms": 1.5,
    }
    spill.write_text(json.dumps(line) + "\n")
    store = InMemoryStore()
    PredictionLog(store, spill_path=spill, **FAST).close()
    ((stored, _),) = store.list_predictions("shop.eu")
    assert (stored.request_id, stored.row, stored.features) == ("r", 2, {"age": 31})
    assert stored.at.isoformat() == "2024-05-01T10:00:00+00:00"


def test_close_flushes_what_is_queued(tmp_path: Path) -> None:
    store = InMemoryStore()
    log = PredictionLog(store, spill_path=tmp_path / "spill.jsonl", batch=1000, interval=60.0)
    log.put(_rows(250))
    log.close()
    assert store.count_predictions() == 250
    assert (log.written, log.queued) == (250, 0)


def test_a_full_queue_spills_instead_of_dropping(tmp_path: Path) -> None:
    store = FlakyStore()
    store.gate.clear()  # the store hangs: the writer thread holds one batch, the queue fills
    spill = tmp_path / "spill.jsonl"
    log = PredictionLog(store, spill_path=spill, max_queue=10, batch=5, interval=0.01)
    rows = _rows(100)
    started = time.monotonic()
    for row in rows:
        log.put([row])
    assert time.monotonic() - started < 5  # put never waited for the store
    assert log.spilled >= 100 - 10 - 5
    assert log.dropped == 0
    store.gate.set()
    log.close()
    assert store.count_predictions() == 100
    assert _stored(store) == _by_key(rows)
    assert _spill_lines(spill) == []


def test_a_record_that_cannot_be_stored_or_spilled_is_dropped_and_counted(
    tmp_path: Path,
) -> None:
    store = InMemoryStore()
    log = PredictionLog(store, spill_path=tmp_path / "spill.jsonl", **FAST)
    bad = make_prediction("bad", features={"when": object()})
    log.put([bad, *_rows(3)])
    log.close()
    assert (store.count_predictions(), log.dropped, log.spilled) == (3, 1, 3)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("max_queue", 0, r"`max_queue` must be >= 1, but got 0"),
        ("batch", -1, r"`batch` must be >= 1, but got -1"),
        ("interval", 0.0, r"`interval` must be > 0 seconds, but got 0.0"),
    ],
)
def test_bad_options_are_refused_eagerly(
    tmp_path: Path, option: str, value: float, message: str
) -> None:
    options: dict[str, Any] = {option: value}
    with pytest.raises(ValueError, match=message):
        PredictionLog(InMemoryStore(), spill_path=tmp_path / "s.jsonl", **options)
