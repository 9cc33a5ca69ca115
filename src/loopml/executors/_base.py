"""The executor contract: run picklable work on workers, hand results back to the driver.

The driver submits ``fn(arg)`` calls and collects them as they complete, in any order.
Work functions are expected to catch their own exceptions and return a value describing
the failure; the executor reports only what the work itself could not: a worker that
died (killed, out of memory, segfault), an argument that could not be sent, or an
exception that escaped ``fn``. Such a :class:`Completed` has ``error`` set and ``value``
``None``; the other work goes on.

A large value that many submissions need (a dataset's prepared folds) is handed to
:meth:`BaseExecutor.share` once; the :class:`Shared` handle it returns is passed to each
:meth:`BaseExecutor.submit`, and the work receives the value as a second argument. How
often the value travels is the executor's business: the inline executor never copies it,
the process pool sends it with each submission (as an argument would), the Dask executor
sends it to every worker once.

Executors are used from one driver thread; they are not thread-safe. Workers never touch
the tracking store: results travel back to the driver, which alone writes.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["BaseExecutor", "Completed", "Shared"]

R = TypeVar("R")


@dataclass(frozen=True)
class Completed(Generic[R]):
    """One finished submission: its ticket and either its value or why it has none."""

    ticket: int
    value: R | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, eq=False)
class Shared:
    """A value handed to :meth:`BaseExecutor.share`, to pass to many submissions.

    ``value`` is the driver's own copy. ``ref`` is the executor's reference to the copy
    its workers hold (a Dask future), or ``None`` when the value travels with each
    submission. Use a handle only with the executor that made it.
    """

    value: Any
    ref: Any = None


class BaseExecutor(abc.ABC):
    """Runs submitted calls on ``workers`` workers."""

    workers: int

    def start(self) -> None:  # noqa: B027 - optional hook; lazy executors need nothing
        """Get workers ready now rather than on the first submit (optional)."""

    def share(self, value: Any) -> Shared:
        """Return a handle to ``value`` for :meth:`submit`: the value is sent at most once.

        The default keeps the value in the handle, so it travels with each submission.
        Sharing does not copy ``value`` in the driver: do not change it afterwards.
        """
        return Shared(value)

    @abc.abstractmethod
    def submit(self, fn: Callable[..., Any], arg: Any, *, shared: Shared | None = None) -> int:
        """Queue ``fn(arg)``, or ``fn(arg, value)`` with ``shared``; return its ticket.

        Tickets are 0, 1, 2, ... in submission order. ``value`` is what ``shared``, a
        handle from this executor's :meth:`share`, refers to.
        """

    @abc.abstractmethod
    def next_completed(self, timeout: float | None = None) -> Completed[Any] | None:
        """Block until a submission finishes and return it; ``None`` on timeout.

        Raises ``LookupError`` when nothing is pending.
        """

    @property
    @abc.abstractmethod
    def pending(self) -> int:
        """How many submissions have not been returned by :meth:`next_completed` yet."""

    @abc.abstractmethod
    def cancel_queued(self) -> list[int]:
        """Drop submissions no worker has started; return their tickets."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the workers. Work still running is abandoned. Idempotent."""

    def __enter__(self) -> BaseExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
