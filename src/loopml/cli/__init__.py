"""The `loopml` command line: a thin layer over the Python API.

Exit codes: 0 ok, 1 cells failed in the run (or another loopml error), 2 bad usage or spec,
3 an alert from `loopml monitor`.
"""

from __future__ import annotations

from loopml.cli import (  # noqa: F401 - they register commands
    _history,
    _models,
    _monitor,
    _project,
    _report,
    _serve,
    _update,
)
from loopml.cli._app import app
from loopml.cli._scaffold import churn_frame, scaffold

__all__ = ["app", "churn_frame", "main", "scaffold"]


def main() -> None:
    """Entry point of the `loopml` console script."""
    app()
