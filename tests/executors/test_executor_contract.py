"""Run the executor conformance suite against every executor loopml ships."""

from __future__ import annotations

import os
import threading

import pytest

from loopml.errors import InputError
from loopml.executors import (
    Completed,
    InlineExecutor,
    ProcessExecutor,
    check_executor,
    get_executor,
)
from loopml.executors.testing import ExecutorContract, ExecutorFactory, PoolExecutorContract

# Workers re-run pytest's launcher as their main module (on Python < 3.13.8 the fork
# server ignores "__main__", CPython gh-126631): preloading pytest makes that instant.
PRELOAD = ["pytest", "loopml.executors.testing"]


def _identity(x: object) -> object:
    return x


def _interrupt(_: object) -> None:
    raise KeyboardInterrupt


class TestInlineExecutor(ExecutorContract):
    @pytest.fixture
    def executor_factory(self) -> ExecutorFactory:
        return InlineExecutor

    # Where the inline executor differs from a pool, because nothing leaves the process.
    def test_runs_unpicklable_work(self) -> None:
        lock = threading.Lock()
        with InlineExecutor() as executor:
            executor.submit(_identity, lock)
            executor.submit(lambda x: x + 1, 1)
            assert executor.next_completed() == Completed(0, lock)
            assert executor.next_completed() == Completed(1, 2)

    def test_never_times_out_because_asking_runs_the_work(self) -> None:
        with InlineExecutor() as executor:
            executor.submit(_identity, 7)
            assert executor.next_completed(timeout=0) == Completed(0, 7)

    def test_lets_keyboard_interrupt_through(self) -> None:
        with InlineExecutor() as executor:
            executor.submit(_interrupt, None)
            with pytest.raises(KeyboardInterrupt):
                executor.next_completed()


class TestProcessExecutor(PoolExecutorContract):
    @pytest.fixture
    def executor_factory(self) -> ExecutorFactory:
        return lambda: ProcessExecutor(2, preload=PRELOAD)


# -- choosing an executor -------------------------------------------------------------
def test_one_worker_runs_inline() -> None:
    with get_executor(1) as executor:
        assert isinstance(executor, InlineExecutor)


def test_several_workers_get_a_process_pool() -> None:
    with get_executor(3, preload=["json"]) as executor:
        assert isinstance(executor, ProcessExecutor)
        assert executor.workers == 3


def test_no_worker_count_means_one_per_usable_cpu() -> None:
    with get_executor(None) as executor:
        assert executor.workers == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("workers", [0, -2])
def test_fewer_than_one_worker_is_refused(workers: int) -> None:
    with pytest.raises(InputError, match=rf"`workers` must be >= 1, but got {workers}\. Pass"):
        get_executor(workers)


@pytest.mark.parametrize("executor", [None, "local"])
def test_local_means_loopmls_own_executors(executor: str | None) -> None:
    with get_executor(1, executor=executor) as inline, get_executor(2, executor=executor) as pool:
        assert isinstance(inline, InlineExecutor)
        assert isinstance(pool, ProcessExecutor)


@pytest.mark.parametrize(
    "executor", ["Dask", "threads", "http://host:8786", "tcp://host", "tcp://host:port", "tcp://"]
)
def test_an_unknown_executor_is_refused_naming_the_option(executor: str) -> None:
    with pytest.raises(
        InputError,
        match=r"^--executor must be 'local', 'dask' \(a local Dask cluster\) or a Dask "
        rf"scheduler address such as tcp://host:8786, but got '{executor}'$",
    ):
        check_executor(executor, where="--executor")
    with pytest.raises(InputError, match=r"^`executor` must be 'local', 'dask'"):
        get_executor(2, executor=executor)


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "tls://scheduler.example:8786"])
def test_a_scheduler_address_is_an_executor(address: str) -> None:
    assert check_executor(address) == address
