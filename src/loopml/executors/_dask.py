"""Run work on a Dask cluster: a local one it starts, or an existing scheduler's.

``pip install 'loopml[dask]'`` provides ``distributed``; it is imported only when a
:class:`DaskExecutor` is created.

* **Cluster.** Without an address, a ``LocalCluster`` of ``workers`` processes with one
  thread each, bound to 127.0.0.1, dashboard off, closed with the executor. With an
  address (``tcp://host:8786``) the executor connects to that scheduler, takes its thread
  count as ``workers``, and leaves the cluster running when it closes.
* **Requests.** Work is pickled at submit with the standard library, as the process pool
  does (:func:`~loopml.executors._worker.encode_work`), so both executors accept and refuse
  the same work; a worker runs it through :func:`~loopml.executors._worker.serve`, which
  never raises. A Dask task that errs therefore failed for a reason outside the work.
* **Shared values.** :meth:`DaskExecutor.share` scatters a value to every worker once;
  tasks name its future, and Dask hands each task the worker's copy. Scattered data
  cannot be recomputed: when the workers holding it have all died, the driver scatters
  its own copy again.
* **Dispatch.** At most ``workers`` submissions are Dask tasks at a time; the rest wait in
  the driver. Every task handed to Dask is thus running or about to, which is what lets
  :meth:`DaskExecutor.cancel_queued` drop exactly the work no worker has started.
* **Dead workers.** The scheduler reschedules the task of a worker that died on another
  worker; after ``max_retries`` such deaths it gives up (``KilledWorker``), and the
  submission completes with an error. On a cluster this executor starts, ``max_retries``
  sets the scheduler's ``allowed_failures``; an existing scheduler keeps its own
  ``distributed.scheduler.allowed-failures`` setting. When dead workers took a task's
  data with them (its shared value, or its result before the driver fetched it), Dask
  cancels the task: it is sent again, and the deaths the scheduler's events pin on it
  count toward ``max_retries``. The scheduler counts afresh for the task sent again, so
  work that kills every worker it runs on may take a few workers more than
  ``max_retries`` allows before it fails (each worker may die once more per resend).
  Work that merely lost its data is sent again at most :data:`_MAX_RESENDS` times.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import queue
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from loopml.errors import ExecutorError, InputError
from loopml.executors._base import BaseExecutor, Completed, Shared
from loopml.executors._worker import decode_reply, encode_work, serve, unpicklable_work

__all__ = ["DaskExecutor"]

log = logging.getLogger(__name__)

# How long to wait for a scheduler to answer.
_CONNECT_SECONDS = 30.0
# How often a submission whose data the cluster lost is sent again before it fails.
_MAX_RESENDS = 10


@dataclass(eq=False)
class _Scattered:
    """A shared value and its future on the cluster, replaced if the cluster loses it."""

    value: Any
    future: Any


@dataclass(eq=False)
class _Task:
    """A submission as the driver keeps it until it completes, to send it again if lost."""

    ticket: int
    request: bytes
    shared: tuple[_Scattered, ...]
    resent: int = 0
    deaths: int = 0  # workers that died running it, under the keys it had before


def _distributed() -> Any:
    try:
        return importlib.import_module("distributed")
    except ImportError as exc:
        raise ExecutorError(
            "the Dask executor needs the `distributed` package, which is not installed: "
            f"{exc}. Install it with pip install 'loopml[dask]', or pass --executor local"
        ) from exc


class DaskExecutor(BaseExecutor):
    """Runs submissions as tasks on a Dask cluster: a local one, or ``address``'s."""

    def __init__(
        self,
        workers: int | None = None,
        *,
        address: str | None = None,
        max_retries: int = 2,
        preload: Sequence[str] = (),
        connect_timeout: float = _CONNECT_SECONDS,
    ) -> None:
        """Start nothing yet for a local cluster; connect now to ``address``.

        ``workers`` is the local cluster's worker count; with ``address``, at most that
        many submissions run at once (default: every thread of the cluster).
        ``connect_timeout`` is how long to wait for the scheduler to answer.
        """
        if workers is not None and workers < 1:
            raise InputError(f"`workers` must be >= 1, but got {workers}")
        if address is None and workers is None:
            raise InputError("a local Dask cluster needs `workers`: pass --workers N")
        if max_retries < 0:
            raise InputError(f"`max_retries` must be >= 0, but got {max_retries}")
        self._dd = _distributed()
        self._address = address
        self._max_retries = max_retries
        self._connect_timeout = connect_timeout
        self._preload = tuple(preload)
        # distributed is imported lazily and only partly typed: its objects are Any here.
        self._cluster: Any = None
        self._client: Any = None
        self._queue: deque[_Task] = deque()
        self._running: dict[Any, _Task] = {}  # by Dask future
        # Filled by Dask's callback thread with each future that finished, erred or was
        # cancelled; read by the driver.
        self._finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._done: deque[Completed[Any]] = deque()
        self._next_ticket = 0
        self._closed = False
        if address is not None:
            self._connect()
            available = sum(self._connected().nthreads().values())
            if available < 1:
                self.close()
                raise ExecutorError(
                    f"the Dask scheduler at {address} has no workers. Start some with "
                    f"`dask worker {address}`, then run again"
                )
            self.workers = min(workers or available, available)
        else:
            assert workers is not None
            self.workers = workers

    def start(self) -> None:
        """Start the local cluster (or use the connection) and import ``preload`` on it."""
        self._check_open()
        if self._client is None:
            self._connect()

    def share(self, value: Any) -> Shared:
        """Send ``value`` to every worker now; tasks that pass the handle use their copy."""
        self.start()
        return Shared(value, _Scattered(value, self._scatter(value)))

    def submit(self, fn: Callable[..., Any], arg: Any, *, shared: Shared | None = None) -> int:
        self._check_open()
        ticket = self._next_ticket
        self._next_ticket += 1
        # A handle this executor did not scatter travels inside the request, like `arg`.
        ref = None if shared is None else shared.ref
        scattered = (ref,) if isinstance(ref, _Scattered) else ()
        args = (arg,) if shared is None or scattered else (arg, shared.value)
        try:
            request = encode_work(fn, args)
        except Exception as exc:  # PicklingError, TypeError, AttributeError: all "cannot send"
            self._done.append(Completed(ticket, None, unpicklable_work(fn, exc)))
            return ticket
        self.start()
        self._queue.append(_Task(ticket, request, scattered))
        self._dispatch()
        return ticket

    def next_completed(self, timeout: float | None = None) -> Completed[Any] | None:
        if self.pending == 0:
            raise LookupError("nothing is pending: submit work before asking for a result")
        if self._done:
            return self._done.popleft()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                future = self._finished.get(timeout=remaining)
            except queue.Empty:
                return None
            task = self._running.pop(future, None)
            if task is None:
                continue  # cancelled by close(): nobody waits for it
            completed = self._collect(task, future)
            self._dispatch()
            if completed is not None:
                return completed

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._running) + len(self._done)

    def cancel_queued(self) -> list[int]:
        tickets = [task.ticket for task in self._queue]
        self._queue.clear()
        return tickets

    def close(self) -> None:
        """Cancel the tasks and release shared values; stop the cluster if it started it."""
        if self._closed:
            return
        self._closed = True
        self._queue.clear()
        self._done.clear()
        running, self._running = list(self._running), {}
        if self._client is not None:
            if running:
                self._client.cancel(running)
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    # -- internals --------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise ExecutorError("this executor is closed: create a new one to submit more work")

    def _connected(self) -> Any:
        assert self._client is not None, "the executor connects before it sends work"
        return self._client

    def _connect(self) -> None:
        dd = self._dd
        if self._address is None:
            try:
                self._cluster = dd.LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    # Dask logs a traceback for each worker it loses, and for heartbeats
                    # cut short at shutdown; what matters reaches the driver as errors.
                    silence_logs=logging.CRITICAL,
                    # The scheduler serves health checks over HTTP even with the dashboard
                    # off: on a free port, not 8787, which another cluster may hold.
                    scheduler_kwargs={
                        "dashboard_address": "127.0.0.1:0",
                        "allowed_failures": self._max_retries,
                    },
                )
            except Exception as exc:
                raise ExecutorError(
                    f"could not start a local Dask cluster of {self.workers} workers: "
                    f"{exc!r}. Pass --executor local to use loopml's own process pool"
                ) from exc
            address = self._cluster.scheduler_address
        else:
            address = self._address
        try:
            self._client = dd.Client(address, timeout=self._connect_timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(
                f"could not connect to the Dask scheduler at {address}: {exc}. Check that it "
                "runs (`dask scheduler`) and is reachable, or pass --executor dask to start "
                "a local cluster"
            ) from exc
        if self._preload:
            # What every task imports anyway (scikit-learn takes seconds): once per worker
            # now rather than in the first trial each worker runs.
            self._client.run(_import_all, self._preload)

    def _dispatch(self) -> None:
        client = self._connected()
        while self._queue and len(self._running) < self.workers:
            task = self._queue.popleft()
            refs = [shared.future for shared in task.shared]
            future = client.submit(serve, task.request, *refs, pure=False)
            self._running[future] = task
            future.add_done_callback(self._finished.put)

    def _scatter(self, value: Any) -> Any:
        try:
            [future] = self._connected().scatter([value], broadcast=True, hash=False)
        except Exception as exc:  # pickling errors, a lost connection: the value never left
            raise ExecutorError(
                f"could not send a {type(value).__qualname__} to the Dask workers: {exc!r}. "
                "Share plain data (arrays, frames, dataclasses of them)"
            ) from exc
        return future

    def _collect(self, task: _Task, future: Any) -> Completed[Any] | None:
        """Return the submission's outcome, or ``None`` when it was lost and sent again."""
        ticket = task.ticket
        if future.status == "error":
            error = future.exception()
            if isinstance(error, self._dd.KilledWorker):
                deaths = task.deaths + error.allowed_failures + 1
                return Completed(ticket, None, _killed(deaths, self._max_retries))
            return Completed(ticket, None, f"the Dask task of this work failed: {error!r}")
        if future.status == "finished":
            try:
                return decode_reply(ticket, future.result())
            except Exception:  # the result left with its worker: run the work again
                pass
        # Dask cancels a task whose data (a shared value, its result) left with dead workers.
        task.deaths += self._deaths(future.key)
        if task.deaths > self._max_retries:
            return Completed(ticket, None, _killed(task.deaths, self._max_retries))
        if task.resent >= _MAX_RESENDS:
            return Completed(
                ticket,
                None,
                f"the Dask cluster lost this work's data {task.resent + 1} times as its "
                "workers died: try fewer workers",
            )
        task.resent += 1
        for shared in task.shared:
            if shared.future.status != "finished":
                shared.future = self._scatter(shared.value)
        self._queue.appendleft(task)
        return None

    def _deaths(self, key: Any) -> int:
        """Return how many workers died while running the task ``key``, per the scheduler.

        Counted on the scheduler: some of its events cannot be sent to a client. A
        scheduler that cannot run loopml's code counts none, leaving _MAX_RESENDS to stop.
        """
        try:
            return int(self._connected().run_on_scheduler(_deaths_of, key))
        except Exception:
            log.warning("could not ask the Dask scheduler which workers died", exc_info=True)
            return 0


def _deaths_of(key: Any, dask_scheduler: Any) -> int:
    """On the scheduler: return how many workers died while running the task ``key``."""
    return sum(
        1
        for _, event in dask_scheduler.get_events("all")
        if isinstance(event, dict)
        and event.get("action") == "remove-worker"
        and not event.get("expected")
        and key in event.get("processing-tasks", ())
    )


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        # A module that fails to import here fails again in the work that needs it, where
        # the error is attributed to a submission.
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def _killed(deaths: int, max_retries: int) -> str:
    return (
        f"{deaths} Dask workers died while running this work, more than max_retries="
        f"{max_retries} allows; a worker killed by the system often ran out of memory: try "
        "fewer workers"
    )
