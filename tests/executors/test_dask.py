"""The Dask executor: the conformance suite on a local cluster, dead workers, a missing Dask."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loopml.errors import ExecutorError, InputError
from loopml.executors import BaseExecutor, Completed, get_executor
from loopml.executors.testing import ExecutorFactory, PoolExecutorContract

distributed = pytest.importorskip("distributed")

from loopml.executors._dask import DaskExecutor  # noqa: E402 - needs distributed

PRELOAD = ["loopml.executors.testing"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two single-threaded worker processes: starting a cluster costs seconds, so one."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0", "allowed_failures": 1},
    ) as local:
        yield local


class TestDaskExecutor(PoolExecutorContract):
    @pytest.fixture
    def executor_factory(self, cluster: Any) -> ExecutorFactory:
        return lambda: DaskExecutor(address=cluster.scheduler_address, preload=PRELOAD)


def _write_pid_then_sleep(path: str) -> int:
    """Append this worker's pid to ``path``, then take long enough to be killed."""
    with open(path, "a") as f:
        f.write(f"{os.getpid()}\n")
    time.sleep(3.0)
    return os.getpid()


def _kill_first_runner(executor: BaseExecutor, path: Path) -> tuple[int, Completed[Any]]:
    """SIGKILL the worker process that starts the work; return its pid and the outcome."""
    deadline = time.monotonic() + 30
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, "the work never started"
        time.sleep(0.05)
    pid = int(path.read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    completed = executor.next_completed(timeout=60)
    assert completed is not None, "the work never came back"
    return pid, completed


@pytest.mark.slow
def test_work_whose_worker_dies_is_retried_on_another(cluster: Any, tmp_path: Path) -> None:
    path = tmp_path / "pids"
    with DaskExecutor(address=cluster.scheduler_address) as executor:
        pids = set(executor._connected().run(os.getpid).values())
        executor.submit(_write_pid_then_sleep, str(path))
        killed, completed = _kill_first_runner(executor, path)
    assert killed in pids  # a real worker process of the cluster
    assert completed.ok, completed.error
    assert completed.value != killed
    assert [int(p) for p in path.read_text().split()] == [killed, completed.value]


@pytest.mark.slow
def test_work_whose_workers_keep_dying_fails_after_max_retries(tmp_path: Path) -> None:
    path = tmp_path / "pids"
    # The cluster the executor starts itself, so that max_retries is its to set.
    with DaskExecutor(2, max_retries=0) as executor:
        killed_ticket = executor.submit(_write_pid_then_sleep, str(path))
        killed, completed = _kill_first_runner(executor, path)
        assert completed.ticket == killed_ticket
        assert completed.value is None
        assert "1 Dask workers died while running this work, more than max_retries=0" in (
            completed.error or ""
        )
        # The cluster goes on: the next work runs.
        executor.submit(abs, -3)
        assert executor.next_completed(timeout=30) == Completed(1, 3)
    assert killed > 0


def test_a_cluster_it_starts_is_closed_with_it() -> None:
    executor = DaskExecutor(1)
    executor.start()
    cluster = executor._cluster
    assert cluster is not None
    assert executor.workers == 1
    executor.close()
    assert cluster.status.name == "closed"


def test_an_existing_cluster_is_left_running(cluster: Any) -> None:
    with DaskExecutor(address=cluster.scheduler_address) as executor:
        assert executor.workers == 2
        assert executor._cluster is None
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        assert client.submit(abs, -1).result() == 1


def test_workers_caps_the_work_sent_to_an_existing_cluster(cluster: Any) -> None:
    with DaskExecutor(1, address=cluster.scheduler_address) as executor:
        assert executor.workers == 1


def test_get_executor_gives_a_dask_executor(cluster: Any) -> None:
    with get_executor(2, executor="dask") as local:
        assert isinstance(local, DaskExecutor)
        assert local.workers == 2
    with get_executor(None, executor=cluster.scheduler_address) as remote:
        assert isinstance(remote, DaskExecutor)
        assert remote.workers == 2


def test_an_unreachable_scheduler_is_a_clear_error() -> None:
    with pytest.raises(ExecutorError, match=r"could not connect to the Dask scheduler at tcp://"):
        DaskExecutor(address="tcp://127.0.0.1:9", connect_timeout=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": 0}, r"`workers` must be >= 1, but got 0"),
        ({"workers": 2, "max_retries": -1}, r"`max_retries` must be >= 0, but got -1"),
        ({}, r"a local Dask cluster needs `workers`"),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        DaskExecutor(**kwargs)


def test_missing_dask_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # None: "import distributed" fails
    with pytest.raises(ExecutorError, match=r"pip install 'loopml\[dask\]'"):
        DaskExecutor(2)
