"""Hooks for watching a run as it goes (the CLI draws its progress bar with these)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loopml.tracking import CellRecord

if TYPE_CHECKING:
    from loopml.grid._results import RunResult

__all__ = ["RunObserver"]


class RunObserver:
    """Subclass and override what you need; every hook does nothing by default.

    Hooks are called from the driver's thread, in order: ``on_start``, then
    ``on_dataset_ready`` and ``on_cell`` as work finishes, then ``on_end``.
    """

    def on_start(self, run_id: str, total_cells: int) -> None:
        """The run is recorded and ``total_cells`` cells are about to run."""

    def on_dataset_ready(self, dataset: str, seconds: float) -> None:
        """A dataset was preprocessed (once, for all its models)."""

    def on_cell(self, cell: CellRecord) -> None:
        """A cell finished, COMPLETE or FAILED."""

    def on_end(self, result: RunResult) -> None:
        """The run is finished and champions are registered."""
