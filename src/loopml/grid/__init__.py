"""The grid: d datasets x m models x t trials, run on an executor, recorded, registered."""

from __future__ import annotations

from loopml.grid._keys import CACHE_FORMAT, preparation_key, study_key, trial_key
from loopml.grid._lineage import collect_lineage, git_commit
from loopml.grid._observer import RunObserver
from loopml.grid._plan import RunPlan, StudyPlan, build_plan
from loopml.grid._results import ChampionChange, RunResult, summarize_failures
from loopml.grid._runner import Force, open_store, recover_abandoned, run, validate
from loopml.grid._select import best_cell, rank_cells, rank_trials

__all__ = [
    "CACHE_FORMAT",
    "ChampionChange",
    "Force",
    "RunObserver",
    "RunPlan",
    "RunResult",
    "StudyPlan",
    "best_cell",
    "build_plan",
    "collect_lineage",
    "git_commit",
    "open_store",
    "preparation_key",
    "rank_cells",
    "rank_trials",
    "recover_abandoned",
    "run",
    "study_key",
    "summarize_failures",
    "trial_key",
    "validate",
]
