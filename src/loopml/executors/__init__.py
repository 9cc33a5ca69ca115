"""Executors run a grid's cells on workers and hand the results back to the driver.

:func:`get_executor` picks one from a worker count and where to run: :class:`InlineExecutor`
runs the work in this process (``--workers 1``, tests, debugging); :class:`ProcessExecutor`
is a local process pool that pins each failure on the one submission it hit;
:class:`DaskExecutor` runs on a Dask cluster, local or remote (``pip install
'loopml[dask]'``). Every executor passes the conformance suite in
:mod:`loopml.executors.testing`.
"""

from __future__ import annotations

from loopml.executors._base import BaseExecutor, Completed, Shared
from loopml.executors._dask import DaskExecutor
from loopml.executors._factory import (
    check_executor,
    default_workers,
    get_executor,
)
from loopml.executors._inline import InlineExecutor
from loopml.executors._process import ProcessExecutor

__all__ = [
    "BaseExecutor",
    "Completed",
    "DaskExecutor",
    "InlineExecutor",
    "ProcessExecutor",
    "Shared",
    "check_executor",
    "default_workers",
    "get_executor",
]
