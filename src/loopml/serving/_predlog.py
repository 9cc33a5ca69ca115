"""The prediction log: served rows written to the tracking store off the request path.

``put`` only enqueues; a background thread writes batches with
:meth:`~loopml.tracking.BaseStore.add_predictions`. When the store fails, batches go to
a spill file (JSON lines, fsync'd, append-only) and the thread retries with exponential
backoff; once the store answers, the spill file is replayed first (the store skips rows
it already has) and then emptied by an atomic rename. A record is lost only when neither
the store nor the spill file takes it, and then it is counted in ``dropped`` and logged.

One process per spill file: a file left by a process that died is replayed on start.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from loopml.errors import StoreError
from loopml.tracking import BaseStore, PredictionRecord

__all__ = ["PredictionLog"]

log = logging.getLogger(__name__)

_MAX_BACKOFF_S = 5.0


def _encode(record: PredictionRecord) -> bytes:
    """Return the record as one JSON line; raise TypeError or ValueError if it cannot be."""
    if record.at.utcoffset() is None:
        # Replayed, it would be refused by the store for ever and hold up the file.
        raise ValueError(f"`at` must be timezone-aware, but got {record.at.isoformat()}")
    document = {
        "request_id": record.request_id,
        "row": record.row,
        "name": record.name,
        "version": record.version,
        "at": record.at.isoformat(),
        "features": dict(record.features),
        "prediction": record.prediction,
        "probabilities": None if record.probabilities is None else dict(record.probabilities),
        "latency_ms": record.latency_ms,
    }
    return json.dumps(document, separators=(",", ":")).encode() + b"\n"


def _decode(line: bytes) -> PredictionRecord:
    """Return the record of a spill line; raise ValueError, KeyError or TypeError if bad."""
    document: dict[str, Any] = json.loads(line)
    return PredictionRecord(
        request_id=document["request_id"],
        row=document["row"],
        name=document["name"],
        version=document["version"],
        at=datetime.fromisoformat(document["at"]),
        features=document["features"],
        prediction=document["prediction"],
        probabilities=document["probabilities"],
        latency_ms=document["latency_ms"],
    )


class PredictionLog:
    """Write served predictions to ``store`` in the background, never blocking the caller.

    ``max_queue`` records wait in memory at most; beyond that ``put`` appends to
    ``spill_path`` itself. A batch is written when it holds ``batch`` records or
    ``interval`` seconds after its first record arrived. The counters ``written`` (rows
    handed to the store, replays included), ``spilled``, ``dropped`` and ``queued`` (the
    current depth) are for metrics. Every method is thread-safe.
    """

    def __init__(
        self,
        store: BaseStore,
        *,
        spill_path: Path,
        max_queue: int = 10000,
        batch: int = 256,
        interval: float = 0.2,
    ) -> None:
        for what, value in (("max_queue", max_queue), ("batch", batch)):
            if value < 1:
                raise ValueError(f"`{what}` must be >= 1, but got {value}")
        if not interval > 0:
            raise ValueError(f"`interval` must be > 0 seconds, but got {interval}")
        try:
            spill_path.parent.mkdir(parents=True, exist_ok=True)
            leftover = spill_path.exists() and spill_path.stat().st_size > 0
        except OSError as error:
            raise StoreError(
                f"cannot use the prediction spill file {spill_path}: {error}. "
                "Choose a path loopml may write to"
            ) from error
        self.written = 0
        self.spilled = 0
        self.dropped = 0
        self._store = store
        self._path = spill_path
        self._batch = batch
        self._interval = interval
        # None is the wake-up close() sends the writer thread; it is never stored.
        self._queue: queue.Queue[PredictionRecord | None] = queue.Queue(maxsize=max_queue)
        self._counts = threading.Lock()
        self._spill_lock = threading.Lock()  # appends, and the swap of the emptied file
        self._state = threading.Lock()  # `closed` and enqueueing change together
        self._closed = False
        self._stop = threading.Event()
        self._pending_spill = leftover  # the spill file holds rows the store may lack
        self._thread = threading.Thread(target=self._run, name="loopml-prediction-log")
        self._thread.daemon = True  # close() drains; a daemon never holds up exit
        self._thread.start()

    @property
    def queued(self) -> int:
        """Return how many records wait in memory now."""
        return self._queue.qsize()

    def __repr__(self) -> str:
        return f"PredictionLog({self._store!r}, spill_path={str(self._path)!r})"

    def put(self, records: Iterable[PredictionRecord]) -> None:
        """Queue the records for the store; never blocks on the store.

        On a full queue, or after :meth:`close`, the records are appended to the spill
        file straight away (a later start replays them).
        """
        overflow: list[PredictionRecord] = []
        with self._state:
            for record in records:
                if self._closed:
                    overflow.append(record)
                    continue
                try:
                    self._queue.put_nowait(record)
                except queue.Full:
                    overflow.append(record)
        if overflow:
            self._spill(overflow)

    def close(self, timeout: float = 10.0) -> None:
        """Stop accepting, drain the queue to the store or the spill file, join the thread.

        If the store does not answer within ``timeout`` seconds, what is still queued is
        spilled from here and the batch the store holds is left to it (logged).
        """
        with self._state:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        # If the queue is full the thread is not waiting, and it checks _stop before it does.
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning(
                "the tracking store did not finish writing predictions within %s s; "
                "spilling what is queued to %s",
                timeout,
                self._path,
            )
            self._spill(list(self._drain()))

    def __enter__(self) -> PredictionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the writer thread ------------------------------------------------------------
    def _run(self) -> None:
        delay = 0.0  # the current backoff; 0 while the store answers
        retry_at = 0.0  # time.monotonic() of the next attempt at the store
        while True:
            stopping = self._stop.is_set()
            batch = self._take(wait=not stopping)
            # While the store is down, batches go to the spill file; _take's wait paces
            # the loop, so an idle log does not spin.
            if time.monotonic() < retry_at:
                self._spill(batch)
            elif self._write(batch):
                delay = 0.0
            else:
                delay = min(_MAX_BACKOFF_S, max(self._interval, 2 * delay))
                retry_at = time.monotonic() + delay
            if stopping and self._queue.empty():
                if self._pending_spill:
                    self._write([])  # one last try, so a clean stop leaves no spill file
                return

    def _take(self, *, wait: bool) -> list[PredictionRecord]:
        """Return up to ``batch`` queued records, waiting ``interval`` s to fill a batch."""
        records: list[PredictionRecord] = []
        deadline = time.monotonic() + self._interval
        while len(records) < self._batch:
            left = deadline - time.monotonic()
            try:
                if wait and left > 0 and not self._stop.is_set():
                    record = self._queue.get(timeout=left)
                else:
                    record = self._queue.get_nowait()
            except queue.Empty:
                break
            if record is not None:
                records.append(record)
        return records

    def _drain(self) -> Iterator[PredictionRecord]:
        while True:
            try:
                record = self._queue.get_nowait()
            except queue.Empty:
                return
            if record is not None:
                yield record

    def _write(self, batch: Sequence[PredictionRecord]) -> bool:
        """Replay the spill file, then write ``batch``; spill it and return False on failure."""
        try:
            if self._pending_spill:
                self._replay()
            if batch:
                self._store.add_predictions(batch)
                self._count(written=len(batch))
        except Exception as error:  # any failure of the store: the rows must not be lost
            log.warning(
                "cannot write %d predictions to the tracking store (%s); spilling them to %s "
                "and retrying later",
                len(batch),
                error,
                self._path,
            )
            self._spill(batch)
            return False
        return True

    # -- the spill file ---------------------------------------------------------------
    def _spill(self, records: Sequence[PredictionRecord]) -> None:
        """Append the records to the spill file and fsync it; count what cannot be."""
        if not records:
            return
        lines: list[bytes] = []
        for record in records:
            try:
                lines.append(_encode(record))
            except (TypeError, ValueError) as error:
                log.error("dropping prediction %r: it is not JSON: %s", record, error)
        unwritable = len(records) - len(lines)
        try:
            with self._spill_lock, self._path.open("a+b") as spill:
                # A process killed mid-append leaves a torn last line: end it first.
                if spill.seek(0, os.SEEK_END) > 0:
                    spill.seek(-1, os.SEEK_END)
                    if spill.read(1) != b"\n":
                        lines.insert(0, b"\n")
                spill.write(b"".join(lines))
                spill.flush()
                os.fsync(spill.fileno())
                self._pending_spill = True
        except OSError as error:
            log.error(
                "dropping %d predictions: the spill file %s cannot be written: %s",
                len(records),
                self._path,
                error,
            )
            self._count(dropped=len(records))
            return
        self._count(spilled=len(records) - unwritable, dropped=unwritable)

    def _replay(self) -> None:
        """Write the spill file's rows to the store, then empty it; the store's errors raise.

        The rows appended while the store was written to are kept, by renaming a new file
        holding only them over the old one.
        """
        with self._spill_lock:
            size = self._path.stat().st_size if self._path.exists() else 0
            if size == 0:  # emptied, or removed by hand
                self._pending_spill = False
                return
        bad = 0
        with self._path.open("rb") as spill:
            for chunk, unreadable in self._chunks(spill, size):
                bad += unreadable
                if chunk:
                    self._store.add_predictions(chunk)
                    self._count(written=len(chunk))
        if bad:
            log.error("dropping %d unreadable lines of the spill file %s", bad, self._path)
            self._count(dropped=bad)
        with self._spill_lock:
            emptied = self._path.with_name(self._path.name + ".tmp")
            with self._path.open("rb") as spill, emptied.open("wb") as fresh:
                spill.seek(size)
                tail = spill.read()
                fresh.write(tail)
                fresh.flush()
                os.fsync(fresh.fileno())
            os.replace(emptied, self._path)
            _fsync_folder(self._path.parent)
            self._pending_spill = bool(tail)

    def _chunks(self, spill: BinaryIO, size: int) -> Iterator[tuple[list[PredictionRecord], int]]:
        """Yield batches of the records in the first ``size`` bytes, and how many lines failed."""
        chunk: list[PredictionRecord] = []
        bad = 0
        while spill.tell() < size:
            line = spill.readline(size - spill.tell())
            if not line.strip():
                continue
            try:
                chunk.append(_decode(line))
            except (ValueError, KeyError, TypeError):
                bad += 1
            if len(chunk) >= self._batch:
                yield chunk, bad
                chunk, bad = [], 0
        yield chunk, bad

    def _count(self, *, written: int = 0, spilled: int = 0, dropped: int = 0) -> None:
        with self._counts:
            self.written += written
            self.spilled += spilled
            self.dropped += dropped


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows opening folders)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
