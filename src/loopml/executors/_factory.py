"""Choose an executor: the seam the CLI's ``--workers`` and ``--executor`` go through."""

from __future__ import annotations

import os
from collections.abc import Sequence

from loopml.errors import InputError
from loopml.executors._base import BaseExecutor
from loopml.executors._dask import DaskExecutor
from loopml.executors._inline import InlineExecutor
from loopml.executors._process import ProcessExecutor
from loopml.spec import is_scheduler_address

__all__ = ["check_executor", "get_executor"]


def default_workers() -> int:
    """Return the default number of workers: one per CPU this process may run on."""
    return _usable_cpus()


def check_executor(executor: str | None, *, where: str = "`executor`") -> str:
    """Return ``executor`` as ``"local"``, ``"dask"`` or a scheduler address; raise if none.

    ``where`` names the option or key the value came from, for the message.
    """
    if executor is None or executor == "local":
        return "local"
    if executor == "dask" or is_scheduler_address(executor):
        return executor
    raise InputError(
        f"{where} must be 'local', 'dask' (a local Dask cluster) or a Dask scheduler address "
        f"such as tcp://host:8786, but got {executor!r}"
    )


def get_executor(
    workers: int | None,
    *,
    preload: Sequence[str] = (),
    executor: str | None = None,
    max_retries: int = 2,
) -> BaseExecutor:
    """Return the executor that runs work where ``executor`` says, on ``workers`` workers.

    ``executor`` is ``None`` or ``"local"`` (inline for 1 worker, a process pool above),
    ``"dask"`` (a local Dask cluster of ``workers`` processes) or a Dask scheduler's address
    ``tcp://host:port`` (its workers; ``workers``, when given, caps the work running at
    once). ``workers=None`` means one per CPU this process may run on, for a local executor.
    ``preload`` names modules workers import before any work (ignored inline: the driver
    imports on use). ``max_retries``: how often a Dask task whose worker died runs again
    on another before it fails (a cluster loopml starts; a running scheduler keeps its own
    setting).
    """
    where = check_executor(executor)
    if workers is not None and workers < 1:
        raise InputError(
            f"`workers` must be >= 1, but got {workers}. Pass --workers 1 to run inline"
        )
    if where not in ("local", "dask"):
        return DaskExecutor(workers, address=where, preload=preload)
    if workers is None:
        workers = default_workers()
    if where == "dask":
        return DaskExecutor(workers, preload=preload, max_retries=max_retries)
    if workers == 1:
        return InlineExecutor()
    return ProcessExecutor(workers, preload=preload)


def _usable_cpus() -> int:
    # The affinity mask is what a container or `taskset` actually grants; cpu_count()
    # would report the whole machine.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
