"""The micro-batcher gathers concurrent requests per model version into one predict call."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from loopml.errors import LoopmlError
from loopml.serving._batcher import MicroBatcher, Prediction
from loopml.serving._slots import LoadedModel


def _model(version: int = 1) -> LoadedModel:
    rng = np.random.default_rng(version)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    y = (X["a"] + 0.5 * X["b"] + rng.normal(scale=0.5, size=200) > 0).astype(int)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    return LoadedModel(
        name="shop.eu",
        version=version,
        pipeline=pipeline,
        schema={"columns": []},
        sample_rows=(),
        classes=[0, 1],
        loaded_at=datetime.now(UTC),
    )


class Recorder:
    """A predict function calling the real pipeline and recording each batch it gets."""

    def __init__(self, fail: Callable[[pd.DataFrame], bool] = lambda frame: False) -> None:
        self.calls: list[tuple[int, int]] = []
        self.threads: set[int] = set()
        self.fail = fail

    def __call__(self, model: LoadedModel, frame: pd.DataFrame) -> Prediction:
        self.calls.append((model.version, len(frame)))
        self.threads.add(threading.get_ident())
        if self.fail(frame):
            raise ValueError(f"boom on {len(frame)} rows")
        time.sleep(0.005)  # a real model takes a while; requests pile up meanwhile
        return model.pipeline.predict(frame), model.pipeline.predict_proba(frame)


def _rows(n: int, seed: int = 0) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    return [pd.DataFrame({"a": [rng.normal()], "b": [rng.normal()]}) for _ in range(n)]


@pytest.mark.parametrize("inline_rows", [0, 256], ids=["worker-thread", "inline"])
def test_concurrent_single_rows_share_predict_calls_and_get_their_own_answers(
    inline_rows: int,
) -> None:
    model, predict = _model(), Recorder()
    frames = _rows(50)
    batcher = MicroBatcher(predict, max_batch_rows=256, max_wait_ms=20, inline_rows=inline_rows)

    async def main() -> list[Prediction]:
        return await asyncio.gather(*(batcher.submit(model, f) for f in frames))

    answers = asyncio.run(main())
    assert len(predict.calls) <= 5
    # batches over inline_rows rows are predicted off the event loop's thread
    assert (threading.get_ident() in predict.threads) == (inline_rows > 0)
    assert (batcher.batches, batcher.rows, batcher.requests) == (len(predict.calls), 50, 50)
    assert sum(size * n for size, n in batcher.batch_sizes.items()) == 50
    for frame, (labels, probabilities) in zip(frames, answers, strict=True):
        assert probabilities is not None
        np.testing.assert_array_equal(labels, model.pipeline.predict(frame))
        np.testing.assert_allclose(probabilities, model.pipeline.predict_proba(frame))


def test_batches_hold_at_most_max_batch_rows_and_never_split_a_request() -> None:
    model, predict = _model(), Recorder()
    frames = [*_rows(20), pd.concat(_rows(12, seed=1), ignore_index=True)]
    batcher = MicroBatcher(predict, max_batch_rows=8, max_wait_ms=20)

    async def main() -> list[Prediction]:
        return await asyncio.gather(*(batcher.submit(model, f) for f in frames))

    answers = asyncio.run(main())
    sizes = [rows for _, rows in predict.calls]
    assert sum(sizes) == 32 and 12 in sizes
    assert all(size <= 8 for size in sizes if size != 12)
    labels, probabilities = answers[-1]
    assert probabilities is not None
    assert len(labels) == 12 and probabilities.shape == (12, 2)
    np.testing.assert_array_equal(labels, model.pipeline.predict(frames[-1]))


def test_a_single_request_is_answered_after_about_max_wait() -> None:
    model = _model()

    async def timed(batcher: MicroBatcher) -> float:
        started = time.perf_counter()
        await batcher.submit(model, _rows(1)[0])
        return time.perf_counter() - started

    waited = asyncio.run(timed(MicroBatcher(Recorder(), max_wait_ms=100)))
    assert 0.05 < waited < 2.0
    # A full batch does not wait for the window to close.
    full = asyncio.run(timed(MicroBatcher(Recorder(), max_batch_rows=1, max_wait_ms=60_000)))
    assert full < waited


def test_versions_are_never_mixed_in_a_batch() -> None:
    old, new = _model(1), _model(2)
    predict = Recorder()
    batcher = MicroBatcher(predict, max_wait_ms=20)
    frames = _rows(40)

    async def main() -> list[Prediction]:
        return await asyncio.gather(
            *(batcher.submit(old if i % 2 else new, f) for i, f in enumerate(frames))
        )

    answers = asyncio.run(main())
    assert {version for version, _ in predict.calls} == {1, 2}
    assert sum(rows for version, rows in predict.calls if version == 1) == 20
    for i, (frame, (_, probabilities)) in enumerate(zip(frames, answers, strict=True)):
        model = old if i % 2 else new
        assert probabilities is not None
        np.testing.assert_allclose(probabilities, model.pipeline.predict_proba(frame))


def test_an_error_in_predict_reaches_every_caller_of_the_batch() -> None:
    model = _model()
    predict = Recorder(fail=lambda frame: len(frame) > 1)
    batcher = MicroBatcher(predict, max_wait_ms=20)

    async def main() -> tuple[list[Any], Prediction]:
        failed = await asyncio.gather(
            *(batcher.submit(model, f) for f in _rows(5)), return_exceptions=True
        )
        after = await batcher.submit(model, _rows(1)[0])
        return failed, after

    failed, after = asyncio.run(main())
    assert predict.calls[0] == (1, 5)
    assert all(isinstance(e, ValueError) and "boom on 5 rows" in str(e) for e in failed)
    assert len(after[0]) == 1  # the batcher keeps serving after a failed batch


def test_predict_answering_the_wrong_number_of_rows_is_an_error() -> None:
    batcher = MicroBatcher(lambda model, frame: (np.zeros(len(frame) + 1), None), max_wait_ms=1)
    with pytest.raises(LoopmlError, match="answered 2 predictions for a batch of 1 rows"):
        asyncio.run(batcher.submit(_model(), _rows(1)[0]))


def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    model, predict = _model(), Recorder()
    batcher = MicroBatcher(predict, max_wait_ms=50)

    async def main() -> list[Any]:
        tasks = [asyncio.ensure_future(batcher.submit(model, f)) for f in _rows(3)]
        await asyncio.sleep(0)
        tasks[0].cancel()
        return await asyncio.gather(*tasks, return_exceptions=True)

    results = asyncio.run(main())
    assert isinstance(results[0], asyncio.CancelledError)
    assert [len(r[0]) for r in results[1:]] == [1, 1]
    assert predict.calls == [(1, 2)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_batch_rows": 0}, "max_batch_rows must be >= 1"),
        ({"max_wait_ms": -1}, "max_wait"),
        ({"inline_rows": -1}, "inline_rows must be >= 0, but got -1"),
    ],
)
def test_options_are_checked_eagerly(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MicroBatcher(Recorder(), **kwargs)


def test_an_empty_frame_is_refused() -> None:
    batcher = MicroBatcher(Recorder())
    with pytest.raises(ValueError, match="no rows"):
        asyncio.run(batcher.submit(_model(), pd.DataFrame({"a": [], "b": []})))
