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
  tasks name its future, and Dask hands each task the worker's copy.
* **Dispatch.** At most ``workers`` submissions are Dask tasks at a time; the rest wait in
  the driver. Every task handed to Dask is thus running or about to, which is what lets
  :meth:`DaskExecutor.cancel_queued` drop exactly the work no worker has started.
* **Dead workers.** The scheduler reschedules the task of a worker that died on another
  worker; after ``max_retries`` such deaths it gives up (``KilledWorker``), and the
  submission completes with an error. On a cluster this executor starts, ``max_retries``
  sets the scheduler's ``allowed_failures``; an existing scheduler keeps its own
  ``distributed.scheduler.allowed-failures`` setting.
"""

from __future__ import annotations

import contextlib
import importlib
import queue
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from loopml.errors import ExecutorError, InputError
from loopml.executors._base import BaseExecutor, Completed, Shared
from loopml.executors._worker import decode_reply, encode_work, serve, unpicklable_work

__all__ = ["DaskExecutor"]

# How long to wait for a scheduler to answer.
_CONNECT_SECONDS = 30.0


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
        self._queue: deque[tuple[int, bytes, tuple[Any, ...]]] = deque()
        self._running: dict[Any, int] = {}  # Dask future -> ticket
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
        try:
            [future] = self._connected().scatter([value], broadcast=True, hash=False)
        except Exception as exc:  # pickling errors, a lost connection: the value never left
            raise ExecutorError(
                f"could not send a {type(value).__qualname__} to the Dask workers: {exc!r}. "
                "Share plain data (arrays, frames, dataclasses of them)"
            ) from exc
        return Shared(value, future)

    def submit(self, fn: Callable[..., Any], arg: Any, *, shared: Shared | None = None) -> int:
        self._check_open()
        ticket = self._next_ticket
        self._next_ticket += 1
        # A handle this executor did not scatter travels inside the request, like `arg`.
        ref = None if shared is None else shared.ref
        scattered = isinstance(ref, self._dd.Future)
        args = (arg,) if shared is None or scattered else (arg, shared.value)
        try:
            request = encode_work(fn, args)
        except Exception as exc:  # PicklingError, TypeError, AttributeError: all "cannot send"
            self._done.append(Completed(ticket, None, unpicklable_work(fn, exc)))
            return ticket
        self.start()
        self._queue.append((ticket, request, (ref,) if scattered else ()))
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
            ticket = self._running.pop(future, None)
            if ticket is None:
                continue  # cancelled by close(): nobody waits for it
            completed = self._collect(ticket, future)
            self._dispatch()
            return completed

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._running) + len(self._done)

    def cancel_queued(self) -> list[int]:
        tickets = [ticket for ticket, _, _ in self._queue]
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
            ticket, request, refs = self._queue.popleft()
            future = client.submit(serve, request, *refs, pure=False)
            self._running[future] = ticket
            future.add_done_callback(self._finished.put)

    def _collect(self, ticket: int, future: Any) -> Completed[Any]:
        if future.status == "finished":
            try:
                return decode_reply(ticket, future.result())
            except Exception as exc:  # the result was lost before it could be fetched
                return Completed(ticket, None, f"the result was lost on the Dask cluster: {exc!r}")
        if future.status == "error":
            error = future.exception()
            if isinstance(error, self._dd.KilledWorker):
                return Completed(ticket, None, _killed(error))
            return Completed(ticket, None, f"the Dask task of this work failed: {error!r}")
        return Completed(
            ticket,
            None,
            f"the Dask task of this work was {future.status}: a worker holding its data "
            "left the cluster",
        )


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        # A module that fails to import here fails again in the work that needs it, where
        # the error is attributed to a submission.
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def _killed(exc: Any) -> str:
    tries = exc.allowed_failures + 1
    return (
        f"every Dask worker that ran this work died while running it ({tries} tries, the "
        f"last on {exc.last_worker.address}); a worker killed by the system often ran out "
        "of memory: try fewer workers"
    )
