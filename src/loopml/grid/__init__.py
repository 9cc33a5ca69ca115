"""The grid: d datasets x m models, run on an executor, recorded, champions registered."""

from __future__ import annotations

from loopml.grid._cell import CellOutcome, CellTask, run_cell
from loopml.grid._keys import cell_key
from loopml.grid._lineage import collect_lineage, git_commit
from loopml.grid._observer import RunObserver
from loopml.grid._results import ChampionChange, RunResult, summarize_failures
from loopml.grid._runner import open_store, run, validate
from loopml.grid._select import best_cell, rank_cells

__all__ = [
    "CellOutcome",
    "CellTask",
    "ChampionChange",
    "RunObserver",
    "RunResult",
    "best_cell",
    "cell_key",
    "collect_lineage",
    "git_commit",
    "open_store",
    "rank_cells",
    "run",
    "run_cell",
    "summarize_failures",
    "validate",
]
