"""Micro-batching: concurrent requests for one model version answered by one predict call.

The first request for a (name, version) opens a batch; requests arriving within
``max_wait_ms`` join it, until it holds ``max_batch_rows`` rows. The batch's frames are
concatenated, predicted, and the answers split back to each caller in order. A batch
of up to ``inline_rows`` rows is predicted on the event loop itself: a scikit-learn
pipeline holds the GIL for most of a small predict, so a worker thread would not free the
loop, only add two thread hops to every request. Larger batches go to a worker thread,
so that a big request does not hold up health checks for its whole predict. Versions
never share a batch, so a swap in :class:`~loopml.serving.ModelSlots` mid-traffic cannot
mix two models' answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from loopml.errors import LoopmlError
from loopml.serving._slots import LoadedModel

__all__ = ["MicroBatcher", "PredictFn", "Prediction"]

Prediction = tuple[Any, Any | None]
"""``(predictions, probabilities or None)``, row-aligned with the frame predicted."""

PredictFn = Callable[[LoadedModel, pd.DataFrame], Prediction]

_Key = tuple[str, int]


@dataclass
class _Request:
    frame: pd.DataFrame
    future: asyncio.Future[Prediction]


@dataclass
class _Queue:
    model: LoadedModel
    requests: list[_Request] = field(default_factory=list)
    rows: int = 0
    first_at: float = 0.0
    full: asyncio.Event = field(default_factory=asyncio.Event)


class MicroBatcher:
    """Gathers concurrent ``submit`` calls per model version into batched predict calls.

    Use it from one event loop. Counters: ``batches`` (predict calls), ``rows`` (rows
    predicted), ``requests`` and ``batch_sizes`` (a Counter of rows per batch).
    """

    def __init__(
        self,
        predict: PredictFn,
        *,
        max_batch_rows: int = 256,
        max_wait_ms: float = 2.0,
        inline_rows: int = 64,
    ) -> None:
        if max_batch_rows < 1:
            raise ValueError(f"max_batch_rows must be >= 1, but got {max_batch_rows}")
        if inline_rows < 0:
            raise ValueError(f"inline_rows must be >= 0, but got {inline_rows}")
        if not max_wait_ms >= 0:
            raise ValueError(f"max_wait_ms must be >= 0, but got {max_wait_ms}")
        self.predict = predict
        self.max_batch_rows = max_batch_rows
        self.max_wait = max_wait_ms / 1000
        self.inline_rows = inline_rows
        self.batches = 0
        self.rows = 0
        self.requests = 0
        self.batch_sizes: Counter[int] = Counter()
        self._queues: dict[_Key, _Queue] = {}
        self._workers: dict[_Key, asyncio.Task[None]] = {}

    async def submit(self, model: LoadedModel, frame: pd.DataFrame) -> Prediction:
        """Return ``(predictions, probabilities)`` for ``frame``'s rows, batched with others.

        An exception raised by ``predict`` is raised to every caller of that batch.
        """
        if len(frame) == 0:
            raise ValueError("frame has no rows: there is nothing to predict")
        loop = asyncio.get_running_loop()
        key = (model.name, model.version)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _Queue(model)
        if not queue.requests:
            queue.first_at = loop.time()
        request = _Request(frame, loop.create_future())
        queue.requests.append(request)
        queue.rows += len(frame)
        self.requests += 1
        if queue.rows >= self.max_batch_rows:
            queue.full.set()
        if key not in self._workers:
            self._workers[key] = loop.create_task(self._drain(key, queue))
        return await request.future

    async def _drain(self, key: _Key, queue: _Queue) -> None:
        """Predict batches for ``key`` until its queue is empty, then end."""
        try:
            while queue.requests:
                deadline = queue.first_at + self.max_wait
                delay = deadline - asyncio.get_running_loop().time()
                if delay > 0 and queue.rows < self.max_batch_rows:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(queue.full.wait(), delay)
                batch = self._take(queue)
                if batch:
                    await self._run(queue.model, batch)
        except BaseException:
            for request in queue.requests:
                request.future.cancel()
            queue.requests.clear()
            queue.rows = 0
            raise
        finally:
            del self._workers[key]
            if self._queues.get(key) is queue and not queue.requests:
                del self._queues[key]

    def _take(self, queue: _Queue) -> list[_Request]:
        """Remove and return the next batch: whole requests, up to max_batch_rows rows.

        A request larger than the limit forms a batch of its own; requests are never split.
        """
        batch: list[_Request] = []
        rows = 0
        while queue.requests:
            request = queue.requests[0]
            if batch and rows + len(request.frame) > self.max_batch_rows:
                break
            queue.requests.pop(0)
            queue.rows -= len(request.frame)
            if request.future.cancelled():  # its caller went away
                continue
            batch.append(request)
            rows += len(request.frame)
        queue.full.clear()
        if queue.rows >= self.max_batch_rows:
            queue.full.set()
        # The rest waited through this batch already: their window starts now at the latest.
        queue.first_at = asyncio.get_running_loop().time() - self.max_wait
        return batch

    async def _run(self, model: LoadedModel, batch: list[_Request]) -> None:
        frames = [request.frame for request in batch]
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        n = len(frame)
        self.batches += 1
        self.rows += n
        self.batch_sizes[n] += 1
        try:
            if n <= self.inline_rows:
                predictions, probabilities = self.predict(model, frame)
            else:
                predictions, probabilities = await asyncio.to_thread(self.predict, model, frame)
            if len(predictions) != n or (probabilities is not None and len(probabilities) != n):
                raise LoopmlError(
                    f"predict of {model.name} version {model.version} answered "
                    f"{len(predictions)} predictions for a batch of {n} rows"
                )
        except Exception as exc:
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(exc)
            return
        start = 0
        for request in batch:
            stop = start + len(request.frame)
            if not request.future.done():
                request.future.set_result(
                    (
                        predictions[start:stop],
                        None if probabilities is None else probabilities[start:stop],
                    )
                )
            start = stop
