"""A local process pool that attributes every failure to the one submission it hit.

``concurrent.futures.ProcessPoolExecutor`` marks the whole pool broken when one worker
dies, failing every pending future. Here each worker has its own duplex pipe and runs one
submission at a time, so the driver always knows what a worker was running: when it dies
(out of memory, segfault, ``kill -9``) exactly that submission completes with an error, a
replacement worker starts, and the rest of the work goes on.

Protocol, per worker: the worker sends an empty message once it is ready; the driver
sends a pickled ``(fn, arg)``; the worker answers with a pickled ``(value, error)``. The
driver closes the pipe to ask a worker to exit.

* **Start method.** ``forkserver`` where available: workers fork from a server that has
  already imported ``preload`` (e.g. ``sklearn``), so neither a new worker nor its first
  work pays that import, and no thread state of the driver is forked. The fork server is
  one per driver process: the preload in effect when it first starts stays for the life
  of the process. Elsewhere ``spawn``; workers then import ``preload`` when they start.
* **Signals.** Workers ignore SIGINT: a Ctrl-C reaches the whole process group, and the
  driver alone decides whether to stop. Workers are daemonic, so they end with the driver
  (like ``multiprocessing.Pool``); work therefore cannot start processes of its own and
  joblib inside a worker runs with ``n_jobs=1``.
* **Threads.** BLAS and OpenMP thread pools are left as they are: N workers doing
  numpy-heavy work may oversubscribe the CPUs. Set ``OMP_NUM_THREADS`` (or use
  threadpoolctl in the work) when that matters.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import multiprocessing
import pickle
import signal
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any

from loopml.errors import ExecutorError, InputError
from loopml.executors._base import BaseExecutor, Completed
from loopml.executors._inline import run_work

__all__ = ["ProcessExecutor"]

# A worker whose pipe reached EOF is exiting; give it this long before killing it.
_REAP_SECONDS = 1.0
# How long close() lets workers exit on their own before it kills them.
_CLOSE_SECONDS = 1.0
_READY = b""


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
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
        self._ctx = _context()
        self._workers: list[_Worker] = []
        self._idle: list[_Worker] = []
        # Connections and process sentinels, as `wait` hands them back, to their worker.
        self._handles: dict[object, _Worker] = {}
        self._waitables: list[Connection | int] = []
        self._queue: deque[tuple[int, bytes]] = deque()
        self._done: deque[Completed[Any]] = deque()
        self._next_ticket = 0
        self._closed = False

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> int:
        if self._closed:
            raise ExecutorError("this executor is closed: create a new one to submit more work")
        # Pickled now, not at dispatch: the worker runs on the argument as it was submitted,
        # and an unpicklable one is known at once.
        try:
            payload = pickle.dumps((fn, arg), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # PicklingError, TypeError, AttributeError: all "cannot send"
            ticket = self._take_ticket()
            self._done.append(Completed(ticket, None, _unpicklable_work(fn, exc)))
            return ticket
        if not self._workers:
            self._start_pool()
        ticket = self._take_ticket()
        self._queue.append((ticket, payload))
        self._dispatch()
        return ticket

    def next_completed(self, timeout: float | None = None) -> Completed[Any] | None:
        if self.pending == 0:
            raise LookupError("nothing is pending: submit work before asking for a result")
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._done:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = wait(self._waitables, remaining)
            if not ready:
                return None
            # Resolve handles against the index as `wait` saw it: a sentinel is a bare fd
            # number, which a replacement started in this loop may already reuse.
            handles = self._handles
            for handle in ready:
                worker = handles[handle]
                if worker.gone:
                    continue
                if handle is worker.conn:
                    self._receive(worker)
                else:
                    self._bury(worker)
            self._dispatch()
        return self._done.popleft()

    @property
    def pending(self) -> int:
        running = sum(1 for worker in self._workers if worker.work is not None)
        return len(self._queue) + running + len(self._done)

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
        self._handles.clear()
        self._waitables.clear()

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
        conn, child_conn = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=_worker_main, args=(child_conn, self._preload), name="loopml-worker"
        )
        process.daemon = True
        try:
            process.start()
        except (OSError, EOFError) as exc:  # EOFError: the fork server died on us
            conn.close()
            raise ExecutorError(
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
        self._handles = {w.conn: w for w in self._workers}
        self._handles.update({w.process.sentinel: w for w in self._workers})
        self._waitables = [w.conn for w in self._workers]
        self._waitables += [w.process.sentinel for w in self._workers]

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

    def _receive(self, worker: _Worker) -> None:
        try:
            message = worker.conn.recv_bytes()
        except (EOFError, OSError):
            self._bury(worker)
            return
        self._handle(worker, message)

    def _handle(self, worker: _Worker, message: bytes) -> None:
        if not worker.ready:
            worker.ready = True  # the first message is the worker saying it started
            return
        assert worker.work is not None, "a worker answers only the work it was sent"
        self._done.append(_decode(worker.work[0], message))
        worker.work = None
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
        exitcode = _stop(worker.process, grace=_REAP_SECONDS)
        worker.conn.close()
        if worker in self._idle:
            self._idle.remove(worker)
        if not ready:
            # It died before running anything: the next one would too, so stop here.
            if work is not None:
                self._queue.appendleft(work)
            self._workers.remove(worker)
            self._index()
            raise ExecutorError(
                f"worker process {pid} stopped ({_how(exitcode)}) before it was ready, so the pool "
                "cannot start. Pass --workers 1 to run inline and see the error"
            )
        if work is not None:
            self._done.append(Completed(work[0], None, _died(pid, exitcode)))
        self._workers[self._workers.index(worker)] = self._start_worker()
        self._index()


def _worker_main(conn: Connection, preload: tuple[str, ...]) -> None:
    """Serve work from ``conn`` until the driver closes it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in preload:
        # A module that fails to import here fails again in the work that needs it, where
        # the traceback is attributed to a submission.
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    try:
        conn.send_bytes(_READY)
        while True:
            request = conn.recv_bytes()
            value: Any = None
            error: str | None = None
            try:
                fn, arg = pickle.loads(request)
            except Exception as exc:
                error = f"the work could not be unpickled in the worker: {exc!r}"
            else:
                value, error = run_work(fn, arg)
            try:
                reply = pickle.dumps((value, error), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                reply = pickle.dumps((None, _unpicklable_result(value, exc)))
            conn.send_bytes(reply)
    except (EOFError, OSError):
        pass  # the driver closed the pipe or is gone: either way, stop


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


def _decode(ticket: int, reply: bytes) -> Completed[Any]:
    try:
        value, error = pickle.loads(reply)
    except Exception as exc:
        return Completed(ticket, None, f"the result could not be unpickled in the driver: {exc!r}")
    return Completed(ticket, value, error)


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


def _unpicklable_work(fn: Callable[[Any], Any], exc: Exception) -> str:
    name = getattr(fn, "__qualname__", repr(fn))
    return (
        f"the work {name}(...) cannot be pickled to send it to a worker process: {exc!r}. "
        "Define work functions at module level and pass picklable arguments"
    )


def _unpicklable_result(value: Any, exc: Exception) -> str:
    return (
        f"the result ({type(value).__qualname__}) cannot be pickled to send it back from the "
        f"worker process: {exc!r}. Return plain data (numbers, strings, lists, dicts, arrays)"
    )
