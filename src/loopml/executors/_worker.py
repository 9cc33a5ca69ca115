"""The pool's wire protocol, and the loop each worker process runs.

Per worker, over one duplex pipe: the worker sends :data:`READY` once it has started; the
driver sends a pickled ``(fn, args)`` (:func:`encode_work`); the worker says :data:`STARTED`,
runs it and answers with a pickled ``(value, error)`` (:func:`serve`), which
:func:`decode_reply` turns into a :class:`Completed`. The driver closes the pipe to ask the
worker to exit. One submission at a time per pipe is what lets the driver pin a worker's
death on the one submission it was running. The Dask executor sends the same requests.
"""

from __future__ import annotations

import contextlib
import importlib
import pickle
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from threadpoolctl import threadpool_limits

from loopml.executors._base import Completed
from loopml.executors._inline import run_work

__all__ = [
    "READY",
    "STARTED",
    "decode_reply",
    "encode_work",
    "serve",
    "unpicklable_work",
    "worker_main",
]

READY = b""
# Sent on receiving work, before running it: a worker that dies before saying it started
# did not fail *this* work, which then goes to another worker.
STARTED = b"s"


def worker_main(
    conn: Connection,
    preload: tuple[str, ...],
    inherited: tuple[Connection, ...] = (),
    threads: int | None = None,
) -> None:
    """Serve work from ``conn`` until the driver closes it.

    ``inherited`` are the driver's ends of other workers' pipes, which a forked child holds
    copies of: they are closed first. ``threads`` caps the BLAS and OpenMP thread pools.
    """
    for other in inherited:
        other.close()
    if threads is not None:
        # N workers each running a CPU-wide OpenMP pool oversubscribe the machine; some
        # estimators (HistGradientBoosting) then run many times slower than with one thread.
        threadpool_limits(limits=threads)
    # Ctrl-C reaches the whole process group; the driver alone decides whether to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in preload:
        # A module that fails to import here fails again in the work that needs it, where
        # the traceback is attributed to a submission.
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    try:
        conn.send_bytes(READY)
        while True:
            request = conn.recv_bytes()
            conn.send_bytes(STARTED)
            conn.send_bytes(serve(request))
    except (EOFError, OSError):
        pass  # the driver closed the pipe or is gone: either way, stop


def encode_work(fn: Callable[..., Any], args: tuple[Any, ...]) -> bytes:
    """Return the request that runs ``fn(*args)``; raise if it cannot be pickled."""
    return pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)


def serve(request: bytes, *extra: Any) -> bytes:
    """Run the work a request holds, with ``extra`` arguments after its own; return the reply.

    Never raises: what goes wrong is the reply's error.
    """
    value: Any = None
    try:
        fn, args = pickle.loads(request)
    except Exception as exc:
        error: str | None = f"the work could not be unpickled in the worker: {exc!r}"
    else:
        value, error = run_work(fn, *args, *extra)
    try:
        return pickle.dumps((value, error), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        return pickle.dumps((None, _unpicklable_result(value, exc)))


def decode_reply(ticket: int, reply: bytes) -> Completed[Any]:
    """Return the :class:`Completed` a worker's reply describes."""
    try:
        value, error = pickle.loads(reply)
    except Exception as exc:
        return Completed(ticket, None, f"the result could not be unpickled in the driver: {exc!r}")
    return Completed(ticket, value, error)


def unpicklable_work(fn: Callable[..., Any], exc: Exception) -> str:
    """Return the error for work that cannot be sent to a worker."""
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
