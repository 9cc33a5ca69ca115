"""The executor conformance suite: every executor must pass it. Requires pytest.

Subclass a suite in a test module and provide an ``executor_factory`` fixture that
returns a callable building a fresh executor::

    class TestMyExecutor(PoolExecutorContract):
        @pytest.fixture
        def executor_factory(self) -> ExecutorFactory:
            return lambda: MyExecutor(2)

:class:`ExecutorContract` holds what every executor guarantees. :class:`PoolExecutorContract`
adds what holds once work leaves the driver process: arguments, work functions and
results must pickle (a failure is that submission's error), and ``next_completed`` can
time out. An in-driver executor (:class:`~loopml.executors.InlineExecutor`) passes only
the first: it runs unpicklable work fine and never times out.

Work functions live at module level here so that they pickle by reference.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from loopml.errors import ExecutorError
from loopml.executors._base import BaseExecutor, Completed

__all__ = ["ExecutorContract", "ExecutorFactory", "PoolExecutorContract"]

ExecutorFactory = Callable[[], BaseExecutor]


def _square(x: int) -> int:
    return x * x


def _identity(x: Any) -> Any:
    return x


def _fail_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd input {x}")
    return x


def _sleep_then_return(x: float) -> float:
    time.sleep(x)
    return x


def _offset(x: int, shared: dict[str, int]) -> int:
    return x + shared["offset"]


def _make_lock(_: object) -> Any:
    return threading.Lock()


def _drain(executor: BaseExecutor) -> list[Completed[Any]]:
    """Collect until nothing is pending; fail rather than hang if the executor stalls."""
    results: list[Completed[Any]] = []
    while executor.pending:
        completed = executor.next_completed(timeout=30)
        assert completed is not None, "the executor stalled: nothing completed within 30 s"
        results.append(completed)
    return results


class ExecutorContract:
    """What every executor guarantees, from the contract in ``BaseExecutor``."""

    @pytest.fixture
    def executor_factory(self) -> ExecutorFactory:
        raise NotImplementedError("override the executor_factory fixture in the subclass")

    def test_has_at_least_one_worker(self, executor_factory: ExecutorFactory) -> None:
        with executor_factory() as executor:
            assert executor.workers >= 1

    def test_every_ticket_returns_once_with_its_value(
        self, executor_factory: ExecutorFactory
    ) -> None:
        with executor_factory() as executor:
            tickets = [executor.submit(_square, x) for x in range(50)]
            results = _drain(executor)
        assert tickets == list(range(50))
        assert sorted(r.ticket for r in results) == tickets  # any order, each once
        assert all(r.ok and r.error is None for r in results)
        assert {r.ticket: r.value for r in results} == {x: x * x for x in range(50)}

    def test_tickets_keep_counting_while_work_completes(
        self, executor_factory: ExecutorFactory
    ) -> None:
        with executor_factory() as executor:
            first = [executor.submit(_square, x) for x in range(5)]
            early = [executor.next_completed(timeout=30) for _ in range(3)]
            second = [executor.submit(_square, x) for x in range(5, 10)]
            results = [r for r in early if r is not None] + _drain(executor)
        assert first + second == list(range(10))
        assert sorted(r.ticket for r in results) == list(range(10))
        assert all(r.value == r.ticket**2 for r in results)

    def test_an_exception_in_the_work_fails_only_its_submission(
        self, executor_factory: ExecutorFactory
    ) -> None:
        with executor_factory() as executor:
            for x in range(6):
                executor.submit(_fail_on_odd, x)
            results = {r.ticket: r for r in _drain(executor)}
        assert sorted(results) == list(range(6))
        for x in (0, 2, 4):
            assert results[x].ok
            assert results[x].value == x
        for x in (1, 3, 5):
            assert not results[x].ok
            assert results[x].value is None
            error = results[x].error or ""
            assert "ValueError" in error
            assert f"odd input {x}" in error
            assert "_fail_on_odd" in error  # the traceback reaches into the work

    def test_pending_counts_submissions_not_yet_returned(
        self, executor_factory: ExecutorFactory
    ) -> None:
        with executor_factory() as executor:
            assert executor.pending == 0
            for x in range(3):
                executor.submit(_square, x)
            assert executor.pending == 3
            assert executor.next_completed(timeout=30) is not None
            assert executor.pending == 2
            _drain(executor)
            assert executor.pending == 0

    def test_cancel_queued_drops_work_no_worker_started(
        self, executor_factory: ExecutorFactory
    ) -> None:
        with executor_factory() as executor:
            # Keep every worker busy so that what follows must wait in the queue.
            busy = [executor.submit(_sleep_then_return, 0.2) for _ in range(executor.workers)]
            queued = [executor.submit(_square, x) for x in range(5)]
            cancelled = executor.cancel_queued()
            assert set(queued) <= set(cancelled) <= set(busy + queued)
            assert executor.pending == len(busy) + len(queued) - len(cancelled)
            assert executor.cancel_queued() == []
            returned = {r.ticket for r in _drain(executor)}
        assert returned == set(busy) - set(cancelled)

    def test_shared_values_reach_every_submission_that_passes_them(
        self, executor_factory: ExecutorFactory
    ) -> None:
        with executor_factory() as executor:
            small = executor.share({"offset": 100})
            large = executor.share({"offset": 1000, "payload": list(range(100_000))})
            tickets = {
                executor.submit(_offset, x, shared=small if x % 2 else large): x for x in range(10)
            }
            plain = executor.submit(_square, 4)
            results = {r.ticket: r for r in _drain(executor)}
        assert all(r.ok for r in results.values()), [r.error for r in results.values()]
        assert {t: results[t].value for t in tickets} == {
            t: x + (100 if x % 2 else 1000) for t, x in tickets.items()
        }
        assert results[plain].value == 16

    def test_next_completed_with_nothing_pending_raises_lookup_error(
        self, executor_factory: ExecutorFactory
    ) -> None:
        with executor_factory() as executor:
            with pytest.raises(LookupError, match="nothing is pending"):
                executor.next_completed()
            executor.submit(_square, 2)
            _drain(executor)
            with pytest.raises(LookupError, match="nothing is pending"):
                executor.next_completed(timeout=0)
            executor.submit(_square, 3)
            executor.cancel_queued()
            if executor.pending == 0:  # the submission was still queued, so it is gone
                with pytest.raises(LookupError, match="nothing is pending"):
                    executor.next_completed()

    def test_close_is_idempotent(self, executor_factory: ExecutorFactory) -> None:
        executor = executor_factory()
        executor.submit(_square, 2)
        executor.close()
        executor.close()
        with executor:
            pass  # __exit__ closes a third time

    def test_close_abandons_pending_work(self, executor_factory: ExecutorFactory) -> None:
        executor = executor_factory()
        for x in range(4):
            executor.submit(_square, x)
        executor.close()
        assert executor.pending == 0
        with pytest.raises(LookupError):
            executor.next_completed(timeout=0)

    def test_submit_after_close_raises_executor_error(
        self, executor_factory: ExecutorFactory
    ) -> None:
        executor = executor_factory()
        executor.close()
        with pytest.raises(ExecutorError, match="closed"):
            executor.submit(_square, 2)


class PoolExecutorContract(ExecutorContract):
    """What holds, besides the base contract, for executors that ship work elsewhere."""

    def test_next_completed_returns_none_on_timeout(
        self, executor_factory: ExecutorFactory
    ) -> None:
        with executor_factory() as executor:
            executor.submit(_sleep_then_return, 5.0)
            started = time.monotonic()
            assert executor.next_completed(timeout=0.1) is None
            assert time.monotonic() - started < 2.5  # returned near the timeout, not at 5 s
            assert executor.pending == 1  # still running, not lost
            executor.submit(_square, 3)
            assert executor.next_completed(timeout=30) == Completed(1, 9)

    @pytest.mark.parametrize(
        ("fn", "arg"),
        [
            pytest.param(_identity, threading.Lock(), id="argument"),
            pytest.param(lambda x: x, 1, id="lambda"),
        ],
    )
    def test_unpicklable_work_fails_only_its_submission(
        self, executor_factory: ExecutorFactory, fn: Callable[[Any], Any], arg: Any
    ) -> None:
        with executor_factory() as executor:
            before = executor.submit(_square, 2)
            bad = executor.submit(fn, arg)
            after = executor.submit(_square, 3)
            results = {r.ticket: r for r in _drain(executor)}
        assert results[before].value == 4
        assert results[after].value == 9
        assert results[bad].value is None
        assert "pickle" in (results[bad].error or "")

    def test_unpicklable_result_fails_only_its_submission(
        self, executor_factory: ExecutorFactory
    ) -> None:
        with executor_factory() as executor:
            bad = executor.submit(_make_lock, None)
            good = executor.submit(_square, 5)
            results = {r.ticket: r for r in _drain(executor)}
        assert results[good].value == 25
        assert results[bad].value is None
        assert "pickle" in (results[bad].error or "")
