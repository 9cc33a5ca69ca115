"""A local process pool that attributes every failure to the one submission it hit.

``concurrent.futures.ProcessPoolExecutor`` marks the whole pool broken when one worker
dies, failing every pending future. Here each worker has its own duplex pipe and runs one
submission at a time, so the driver always knows what a worker was running: when it dies
(out of memory, segfault, ``kill -9``) exactly that submission completes with an error, a
replacement worker starts, and the rest of the work goes on.

* **Start method.** On Linux, while the driver runs a single thread, workers are plain
  ``fork`` children: they start in milliseconds with every module the driver already
  imported (scikit-learn's import alone takes seconds), and with no other thread there
  is no lock a child could inherit held. Call :meth:`start` before starting threads
  (a progress bar) to get this. Otherwise ``forkserver`` where available: workers fork
  from a server that has already imported ``preload`` (e.g. ``sklearn``), so no thread
  state of the driver is forked. The fork server is one per driver process: the preload
  in effect when it first starts stays for the life of the process. Elsewhere ``spawn``;
  workers then import ``preload`` when they start.
* **Waiting.** One selector over every pipe and process sentinel: a reply and a death
  wake the driver alike, with no polling.
* **Lifetime.** Workers ignore SIGINT, so Ctrl-C leaves shutdown to the driver. They are
  daemonic, so they end with the driver (like ``multiprocessing.Pool``); work therefore
  cannot start processes of its own, and joblib inside a worker runs with ``n_jobs=1``.
* **Threads.** Each worker caps its BLAS and OpenMP thread pools (threadpoolctl) at its
  share of the CPUs, at least one: N workers each running a CPU-wide pool oversubscribe
  the machine, and estimators such as HistGradientBoosting then run many times slower.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import selectors
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any

from loopml.errors import ExecutorError, InputError
from loopml.executors._base import BaseExecutor, Completed, Shared
from loopml.executors._inline import work_args
from loopml.executors._worker import (
    READY,
    STARTED,
    decode_reply,
    encode_work,
    unpicklable_work,
    worker_main,
)

__all__ = ["ProcessExecutor"]

# A worker whose pipe reached EOF is exiting; give it this long before killing it.
_REAP_SECONDS = 1.0
# How long close() lets workers exit on their own before it kills them.
_CLOSE_SECONDS = 1.0


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    started: bool = False  # it acknowledged the work it holds, so it began running it
    # The submission it is running, kept until answered so a worker that dies at startup
    # can hand it back to the queue.
    work: tuple[int, bytes] | None = None
    gone: bool = False


class ProcessExecutor(BaseExecutor):
    """Runs submissions on ``workers`` local processes, started on the first submit."""

    def __init__(self, workers: int, *, preload: Sequence[str] = ()) -> None:
        if workers < 1:
            raise InputError(f"`workers` must be >= 1, but got {workers}")
        _check_preload(preload)
        self.workers = workers
        self._preload = tuple(preload)
        # Each worker's share of the CPUs for BLAS/OpenMP pools (at least one thread).
        self._threads = max(1, _usable_cpus() // workers)
        self._ctx = _context()
        self._workers: list[_Worker] = []
        self._idle: list[_Worker] = []
        # Every worker's pipe and process sentinel, each keyed to its worker. Kept across
        # calls: `multiprocessing.connection.wait` builds a selector per call, which cost a
        # third of the driver's time per submission.
        self._selector: selectors.BaseSelector | None = None
        self._queue: deque[tuple[int, bytes]] = deque()
        self._done: deque[Completed[Any]] = deque()
        self._running = 0  # workers holding a submission
        self._next_ticket = 0
        self._closed = False
        # Why the pool could not start; once set, every call raises it.
        self._broken: str | None = None

    def start(self) -> None:
        """Start the workers now instead of on the first submit."""
        self._check_usable()
        if not self._workers:
            self._start_pool()

    def submit(self, fn: Callable[..., Any], arg: Any, *, shared: Shared | None = None) -> int:
        """Queue the work; a shared value is pickled with each submission, like ``arg``."""
        self._check_usable()
        # Pickled now, not at dispatch: the worker runs on the argument as it was submitted,
        # and an unpicklable one is known at once.
        try:
            payload = encode_work(fn, work_args(arg, shared))
        except Exception as exc:  # PicklingError, TypeError, AttributeError: all "cannot send"
            ticket = self._take_ticket()
            self._done.append(Completed(ticket, None, unpicklable_work(fn, exc)))
            return ticket
        if not self._workers:
            self._start_pool()
        ticket = self._take_ticket()
        self._queue.append((ticket, payload))
        self._dispatch()
        return ticket

    def next_completed(self, timeout: float | None = None) -> Completed[Any] | None:
        if self._broken is not None:
            raise ExecutorError(self._broken)
        if self.pending == 0:
            raise LookupError("nothing is pending: submit work before asking for a result")
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._done:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            assert self._selector is not None, "the pool starts before anything is pending"
            events = self._selector.select(remaining)
            if not events:
                return None
            for key, _ in events:
                # A worker buried earlier in this loop: its sentinel's fd number may already
                # belong to its replacement, so the key's worker, not the fd, decides.
                worker: _Worker = key.data
                if worker.gone:
                    continue
                if key.fileobj is worker.conn:
                    self._receive(worker)
                else:
                    self._bury(worker)
            self._dispatch()
        return self._done.popleft()

    @property
    def pending(self) -> int:
        return len(self._queue) + self._running + len(self._done)

    def cancel_queued(self) -> list[int]:
        tickets = [ticket for ticket, _ in self._queue]
        self._queue.clear()
        return tickets

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.clear()
        self._done.clear()
        for worker in self._workers:
            worker.conn.close()  # an idle worker reads EOF and exits
            if worker.work is not None:
                worker.process.terminate()  # running work is abandoned, not awaited
        deadline = time.monotonic() + _CLOSE_SECONDS
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
        for worker in self._workers:
            _stop(worker.process)
        self._workers.clear()
        self._idle.clear()
        self._running = 0
        if self._selector is not None:
            self._selector.close()

    def _check_usable(self) -> None:
        if self._closed:
            raise ExecutorError("this executor is closed: create a new one to submit more work")
        if self._broken is not None:
            raise ExecutorError(self._broken)

    def _fail(self, message: str) -> ExecutorError:
        """Mark the pool unusable and return the error to raise."""
        self._broken = message
        return ExecutorError(message)

    def _take_ticket(self) -> int:
        ticket = self._next_ticket
        self._next_ticket += 1
        return ticket

    # -- workers ----------------------------------------------------------------------
    def _start_pool(self) -> None:
        if self._ctx.get_start_method() == "forkserver":
            # "__main__" is the standard library's default: it spares every worker re-running
            # the driver's main script. Python < 3.13.8 ignores it (CPython gh-126631), so
            # there the main script's heavy imports belong in `preload` too.
            self._ctx.set_forkserver_preload(["__main__", *self._preload])
        for _ in range(self.workers):
            self._workers.append(self._start_worker())
        self._index()

    def _start_worker(self) -> _Worker:
        ctx: ForkContext | ForkServerContext | SpawnContext = self._ctx
        if sys.platform.startswith("linux") and threading.active_count() == 1:
            ctx = multiprocessing.get_context("fork")
        conn, child_conn = ctx.Pipe(duplex=True)
        # A forked child inherits the driver's ends of its own and its siblings' pipes; it
        # closes them at once, or no worker would read EOF when the driver closes its end.
        driver_ends = (conn, *(w.conn for w in self._workers)) if ctx is not self._ctx else ()
        process = ctx.Process(
            target=worker_main,
            args=(child_conn, self._preload, driver_ends, self._threads),
            name="loopml-worker",
        )
        process.daemon = True
        try:
            process.start()
        except (OSError, EOFError) as exc:  # EOFError: the fork server died on us
            conn.close()
            raise self._fail(
                f"could not start a worker process: {exc}. "
                "Pass --workers 1 to run inline, in this process"
            ) from exc
        finally:
            # The worker holds its own copy; keeping ours open would hide its death (no EOF).
            child_conn.close()
        worker = _Worker(process, conn)
        self._idle.append(worker)
        return worker

    def _index(self) -> None:
        # Rebuilt, not patched: a closed fd's number can come back for a new worker.
        if self._selector is not None:
            self._selector.close()
        self._selector = selectors.DefaultSelector()
        for worker in self._workers:
            self._selector.register(worker.conn, selectors.EVENT_READ, worker)
            self._selector.register(worker.process.sentinel, selectors.EVENT_READ, worker)

    def _dispatch(self) -> None:
        while self._queue and self._idle:
            worker = self._idle.pop()
            work = self._queue.popleft()
            try:
                worker.conn.send_bytes(work[1])
            except OSError:
                # The worker died while idle: the work never reached it, so it goes back first.
                self._queue.appendleft(work)
                self._bury(worker)
                continue
            worker.work = work
            self._running += 1

    def _receive(self, worker: _Worker) -> None:
        try:
            message = worker.conn.recv_bytes()
        except (EOFError, OSError):
            self._bury(worker)
            return
        self._handle(worker, message)

    def _handle(self, worker: _Worker, message: bytes) -> None:
        if not worker.ready:
            assert message == READY, "a worker says it is ready before anything else"
            worker.ready = True
            return
        assert worker.work is not None, "a worker answers only the work it was sent"
        if message == STARTED:
            worker.started = True
            return
        self._done.append(decode_reply(worker.work[0], message))
        worker.work = None
        worker.started = False
        self._running -= 1
        self._idle.append(worker)

    def _bury(self, worker: _Worker) -> None:
        """Attribute a dead worker's work, release it and start its replacement."""
        try:
            # A reply sent just before dying still counts: read it before judging.
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv_bytes())
        except (EOFError, OSError):
            pass
        worker.gone = True
        pid, ready, work = worker.process.pid, worker.ready, worker.work
        if work is not None:
            self._running -= 1
        exitcode = _stop(worker.process, grace=_REAP_SECONDS)
        worker.conn.close()
        if worker in self._idle:
            self._idle.remove(worker)
        if not ready:
            # It died before running anything: a replacement would too, so stop here.
            self._workers.remove(worker)
            raise self._fail(
                f"worker process {pid} stopped ({_how(exitcode)}) before it was ready, so the "
                "pool cannot start. Pass --workers 1 to run inline and see the error"
            )
        if work is not None and not worker.started:
            # It died before it began this work (it was dying when the work was sent): the
            # work is not to blame, so it goes back to the front of the queue.
            self._queue.appendleft(work)
        elif work is not None:
            self._done.append(Completed(work[0], None, _died(pid, exitcode)))
        self._workers[self._workers.index(worker)] = self._start_worker()
        self._index()


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _context() -> ForkServerContext | SpawnContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def _check_preload(preload: Sequence[str]) -> None:
    if isinstance(preload, str):
        raise InputError(
            f"`preload` must be a list of module names, but got the string {preload!r}. "
            f"Pass [{preload!r}]"
        )
    for name in preload:
        if importlib.util.find_spec(name) is None:
            raise InputError(
                f"`preload` names a module that cannot be found: {name!r}. "
                "Check the spelling, or install the package that provides it"
            )


def _stop(process: BaseProcess, *, grace: float = 0.0) -> int | None:
    """Return the exit code of ``process`` after making sure it is gone and released."""
    process.join(grace)
    if process.exitcode is None:
        process.kill()
        process.join(_REAP_SECONDS)
    exitcode = process.exitcode
    if exitcode is not None:
        process.close()
    return exitcode


def _how(exitcode: int | None) -> str:
    if exitcode is None:
        return "exit status unknown"
    if exitcode < 0:
        try:
            return f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


def _died(pid: int | None, exitcode: int | None) -> str:
    message = f"worker process {pid} died ({_how(exitcode)}) while running this work"
    if exitcode == -signal.SIGKILL:
        message += "; SIGKILL often means the machine ran out of memory: try fewer workers"
    return message
