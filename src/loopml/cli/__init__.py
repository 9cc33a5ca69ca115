"""The `loopml` command line."""

from __future__ import annotations

from loopml.cli._app import app
from loopml.cli._scaffold import churn_frame, scaffold

__all__ = ["app", "churn_frame", "main", "scaffold"]


def main() -> None:
    """Entry point of the `loopml` console script."""
    app()
