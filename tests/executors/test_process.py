"""What the process pool adds to the contract: failure attribution, parallelism, cleanup."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from loopml.errors import ExecutorError, InputError
from loopml.executors import BaseExecutor, Completed, ProcessExecutor

# See test_executor_contract.py: spares each worker re-importing pytest.
PRELOAD = ["pytest", "loopml.executors.testing"]


def _pool(workers: int = 2) -> ProcessExecutor:
    return ProcessExecutor(workers, preload=PRELOAD)


# -- work: module level so that it pickles by reference ------------------------------
def _times_ten(x: int) -> int:
    return x * 10


def _kill_self_on_three(x: int) -> int:
    if x == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return x * 10


def _exit_hard(code: int) -> None:
    os._exit(code)


def _exit_politely(code: int) -> None:
    sys.exit(code)


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _announce_then_sleep(args: tuple[str, float]) -> str:
    """Write this worker's pid to a file, then sleep: lets a test signal running work."""
    path, seconds = args
    Path(path + ".tmp").write_text(str(os.getpid()))
    os.replace(path + ".tmp", path)  # atomic, so the test never reads half a pid
    time.sleep(seconds)
    return "done"


def _deaf_to_sigterm(args: tuple[str, float]) -> str:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return _announce_then_sleep(args)


def _has_module(name: str) -> bool:
    return name in sys.modules


# -- helpers ----------------------------------------------------------------------------
def _wait_for_pid(path: Path) -> int:
    deadline = time.monotonic() + 10
    while not path.exists():
        assert time.monotonic() < deadline, "the work never started"
        time.sleep(0.005)
    return int(path.read_text())


def _is_alive(pid: int) -> bool:
    """Return whether ``pid`` runs; a zombie (dead, not yet reaped by a forking parent) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _drain(executor: BaseExecutor) -> dict[int, Completed[object]]:
    results: dict[int, Completed[object]] = {}
    while executor.pending:
        completed = executor.next_completed(timeout=30)
        assert completed is not None
        results[completed.ticket] = completed
    return results


# -- a worker that dies fails only its own submission ---------------------------------
def test_work_that_kills_its_worker_fails_alone_and_the_pool_goes_on() -> None:
    with _pool() as executor:
        for x in range(8):
            executor.submit(_kill_self_on_three, x)
        results = _drain(executor)
        assert sorted(results) == list(range(8))
        dead = results.pop(3)
        assert dead.value is None
        assert dead.error is not None
        assert "died (killed by signal SIGKILL) while running this work" in dead.error
        assert {t: r.value for t, r in results.items()} == {x: x * 10 for x in results}

        # The replacement worker takes new work.
        after = [executor.submit(_times_ten, x) for x in range(4)]
        assert {t: r.value for t, r in _drain(executor).items()} == {
            t: x * 10 for t, x in zip(after, range(4), strict=True)
        }


def test_a_worker_killed_from_outside_is_named_by_its_pid(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    with _pool() as executor:
        victim = executor.submit(_announce_then_sleep, (str(pid_file), 30.0))
        others = [executor.submit(_times_ten, x) for x in range(5)]
        pid = _wait_for_pid(pid_file)
        os.kill(pid, signal.SIGKILL)  # what the out-of-memory killer does
        results = _drain(executor)
    error = results[victim].error or ""
    assert error.startswith(f"worker process {pid} died (killed by signal SIGKILL)")
    assert "out of memory" in error
    assert [results[t].value for t in others] == [0, 10, 20, 30, 40]


@pytest.mark.parametrize("exit_work", [_exit_hard, _exit_politely])
def test_work_that_exits_reports_the_exit_code(exit_work: object) -> None:
    with _pool() as executor:
        bad = executor.submit(exit_work, 3)  # type: ignore[arg-type]
        good = executor.submit(_times_ten, 1)
        results = _drain(executor)
    assert "died (exited with code 3) while running this work" in (results[bad].error or "")
    assert results[good].value == 10


def test_an_idle_worker_that_dies_is_replaced_without_failing_anything() -> None:
    with _pool() as executor:
        first = executor.submit(_pid_after, 0.05)
        second = executor.submit(_pid_after, 0.05)
        results = _drain(executor)
        pids = {results[first].value, results[second].value}
        assert len(pids) == 2  # one per worker
        for pid in pids:
            assert isinstance(pid, int)
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_is_alive(pid) for pid in pids if isinstance(pid, int)):
            assert time.monotonic() < deadline
            time.sleep(0.005)
        tickets = [executor.submit(_times_ten, x) for x in range(6)]
        results = _drain(executor)
    assert [(results[t].value, results[t].error) for t in tickets] == [
        (x * 10, None) for x in range(6)
    ]


def test_workers_ignore_ctrl_c_because_the_driver_decides(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    with _pool() as executor:
        ticket = executor.submit(_announce_then_sleep, (str(pid_file), 0.3))
        os.kill(_wait_for_pid(pid_file), signal.SIGINT)
        assert executor.next_completed(timeout=30) == Completed(ticket, "done")


def test_a_worker_that_cannot_start_raises_executor_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _pool(1) as warm:  # the fork server must already run, without the module below
        warm.submit(_times_ten, 1)
        _drain(warm)
    (tmp_path / "loopml_broken_preload.py").write_text(
        "import multiprocessing, os\n"
        "if multiprocessing.current_process().name == 'loopml-worker':\n"
        "    os._exit(7)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with ProcessExecutor(1, preload=["loopml_broken_preload"]) as executor:
        executor.submit(_times_ten, 1)
        with pytest.raises(ExecutorError, match=r"exited with code 7\) before it was ready"):
            executor.next_completed(timeout=30)
        # Broken for good: later calls say why instead of waiting on a pool that is not there.
        with pytest.raises(ExecutorError, match="pool cannot start"):
            executor.submit(_times_ten, 2)
        with pytest.raises(ExecutorError, match="pool cannot start"):
            executor.next_completed(timeout=0)


# -- parallelism and lifecycle --------------------------------------------------------
def test_workers_really_run_in_parallel() -> None:
    with _pool() as executor:
        for _ in range(2):  # start both workers before timing
            executor.submit(_times_ten, 0)
        _drain(executor)
        started = time.monotonic()
        executor.submit(_sleep, 0.5)
        executor.submit(_sleep, 0.5)
        _drain(executor)
        elapsed = time.monotonic() - started
    serial = 2 * 0.5
    assert elapsed < 0.75 * serial


def test_workers_start_on_the_first_submit_not_before() -> None:
    before = set(multiprocessing.active_children())
    with _pool() as executor:
        assert set(multiprocessing.active_children()) == before
        executor.submit(_times_ten, 1)
        assert len(set(multiprocessing.active_children()) - before) == executor.workers
        _drain(executor)


def test_close_leaves_no_worker_alive() -> None:
    executor = _pool()
    executor.submit(_pid_after, 0.05)
    executor.submit(_pid_after, 0.05)
    pids = [r.value for r in _drain(executor).values()]
    executor.close()
    assert multiprocessing.active_children() == []
    assert not any(_is_alive(pid) for pid in pids if isinstance(pid, int))


def test_close_abandons_running_work_promptly(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    executor = _pool()
    executor.submit(_announce_then_sleep, (str(pid_file), 30.0))
    pid = _wait_for_pid(pid_file)
    started = time.monotonic()
    executor.close()
    assert time.monotonic() - started < 5
    assert not _is_alive(pid)


def test_close_kills_a_worker_that_ignores_sigterm(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    executor = _pool()
    executor.submit(_deaf_to_sigterm, (str(pid_file), 30.0))
    pid = _wait_for_pid(pid_file)
    started = time.monotonic()
    executor.close()
    assert time.monotonic() - started < 10
    assert not _is_alive(pid)


# -- options --------------------------------------------------------------------------
def test_preloaded_modules_are_imported_in_every_worker() -> None:
    with ProcessExecutor(2, preload=[*PRELOAD, "colorsys"]) as executor:
        for _ in range(2):
            executor.submit(_has_module, "colorsys")
        assert [r.value for r in _drain(executor).values()] == [True, True]


@pytest.mark.parametrize(
    ("preload", "message"),
    [
        ("sklearn", r"must be a list of module names, but got the string 'sklearn'\. Pass \["),
        (["no_such_module_loopml"], r"cannot be found: 'no_such_module_loopml'\. Check"),
    ],
)
def test_preload_is_checked_before_any_process_starts(preload: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ProcessExecutor(2, preload=preload)  # type: ignore[arg-type]


def test_at_least_one_worker_is_required() -> None:
    with pytest.raises(InputError, match=r"`workers` must be >= 1, but got 0"):
        ProcessExecutor(0)
