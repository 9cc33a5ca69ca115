"""Run work in the driver process: the executor for ``--workers 1``, tests and debugging.

It follows the pool's code path minus the processes: submissions wait in a FIFO and run
one at a time when :meth:`InlineExecutor.next_completed` asks for a result, through the
same :func:`run_work` the pool's workers call. What differs, because nothing leaves the
process: arguments and results need not pickle, ``timeout`` never expires (the call *is*
the work), and ``KeyboardInterrupt`` or ``SystemExit`` raised by the work propagate to the
caller instead of being reported.
"""

from __future__ import annotations

import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from loopml.errors import ExecutorError
from loopml.executors._base import BaseExecutor, Completed, Shared

__all__ = ["InlineExecutor", "run_work", "work_args"]


def run_work(fn: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """Return ``(fn(*args), None)``, or ``(None, traceback text)`` if an exception escaped.

    Only ``Exception`` is caught: in the driver, Ctrl-C and ``sys.exit`` must still stop
    the program; in a worker, a ``SystemExit`` ends the process and is reported as a death.
    """
    try:
        return fn(*args), None
    except Exception as exc:
        # Start the traceback at ``fn``: this frame is noise to the person reading it.
        tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
        return None, "".join(traceback.format_exception(type(exc), exc, tb))


def work_args(arg: Any, shared: Shared | None) -> tuple[Any, ...]:
    """Return the arguments a submission's work is called with."""
    return (arg,) if shared is None else (arg, shared.value)


class InlineExecutor(BaseExecutor):
    """Runs each submission in this process, when :meth:`next_completed` is called."""

    def __init__(self) -> None:
        self.workers = 1
        self._queue: deque[tuple[int, Callable[..., Any], tuple[Any, ...]]] = deque()
        self._next_ticket = 0
        self._closed = False

    def submit(self, fn: Callable[..., Any], arg: Any, *, shared: Shared | None = None) -> int:
        if self._closed:
            raise ExecutorError("this executor is closed: create a new one to submit more work")
        ticket = self._next_ticket
        self._next_ticket += 1
        self._queue.append((ticket, fn, work_args(arg, shared)))
        return ticket

    def next_completed(self, timeout: float | None = None) -> Completed[Any] | None:
        """Run the oldest submission now and return it; ``timeout`` is ignored."""
        if not self._queue:
            raise LookupError("nothing is pending: submit work before asking for a result")
        ticket, fn, args = self._queue.popleft()
        value, error = run_work(fn, *args)
        return Completed(ticket, value, error)

    @property
    def pending(self) -> int:
        return len(self._queue)

    def cancel_queued(self) -> list[int]:
        tickets = [ticket for ticket, _, _ in self._queue]
        self._queue.clear()
        return tickets

    def close(self) -> None:
        self._queue.clear()
        self._closed = True
