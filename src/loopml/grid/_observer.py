"""Hooks for watching a run as it goes (the CLI draws its progress bar with these)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loopml.tracking import CellRecord, TrialRecord

if TYPE_CHECKING:
    from loopml.grid._results import RunResult

__all__ = ["RunObserver"]


class RunObserver:
    """Subclass and override what you need; every hook does nothing by default.

    Hooks are called from the driver's thread, in order: ``on_start``, then
    ``on_dataset_ready`` and ``on_trial`` as work finishes, ``on_cell`` once per cell at
    the end, then ``on_end``.
    """

    def on_start(self, run_id: str, total: int, cached: int = 0) -> None:
        """The run is recorded: ``total`` trials will run, ``cached`` are reused."""

    def on_dataset_ready(self, dataset: str, seconds: float) -> None:
        """A dataset was preprocessed (once, for all its models)."""

    def on_trial(self, trial: TrialRecord) -> None:
        """A trial of this run finished: COMPLETE, PRUNED, FAILED or ABANDONED (budget)."""

    def on_cell(self, cell: CellRecord) -> None:
        """A cell's result is known: its best trial, or FAILED."""

    def on_end(self, result: RunResult) -> None:
        """The run is finished and champions are registered."""
