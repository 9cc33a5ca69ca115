"""Choose an executor from a worker count: the seam the CLI's ``--workers`` goes through."""

from __future__ import annotations

import os
from collections.abc import Sequence

from loopml.errors import InputError
from loopml.executors._base import BaseExecutor
from loopml.executors._inline import InlineExecutor
from loopml.executors._process import ProcessExecutor

__all__ = ["get_executor"]


def default_workers() -> int:
    """Return the default number of workers: one per CPU this process may run on."""
    return _usable_cpus()


def get_executor(workers: int | None, *, preload: Sequence[str] = ()) -> BaseExecutor:
    """Return an executor with ``workers`` workers: inline for 1, a process pool above.

    ``None`` means one worker per CPU this process may run on. ``preload`` names modules
    the pool's workers import before any work (ignored inline: the driver imports on use).
    """
    if workers is None:
        workers = default_workers()
    if workers < 1:
        raise InputError(
            f"`workers` must be >= 1, but got {workers}. Pass --workers 1 to run inline"
        )
    if workers == 1:
        return InlineExecutor()
    return ProcessExecutor(workers, preload=preload)


def _usable_cpus() -> int:
    # The affinity mask is what a container or `taskset` actually grants; cpu_count()
    # would report the whole machine.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
