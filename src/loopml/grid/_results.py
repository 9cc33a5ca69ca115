"""What a run gives back: immutable records of every cell and of the champions chosen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from loopml.grid._select import rank_cells
from loopml.tracking import CellRecord, CellState, ModelVersion, RunRecord, TrialRecord

__all__ = ["ChampionChange", "RunResult", "summarize_failures"]


@dataclass(frozen=True)
class ChampionChange:
    """The champion of one dataset after a run: the version, and whether it is new."""

    dataset: str
    name: str
    version: ModelVersion
    previous: int | None
    changed: bool


@dataclass(frozen=True)
class RunResult:
    """One finished run of the grid."""

    run: RunRecord
    cells: tuple[CellRecord, ...]
    champions: Mapping[str, ChampionChange]
    metrics: tuple[str, ...]
    trials: tuple[TrialRecord, ...] = ()
    """The trials this run trained (cached ones are not repeated here)."""
    cached: int = 0
    """How many finished trials were reused from earlier runs."""

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def failed(self) -> tuple[CellRecord, ...]:
        return tuple(c for c in self.cells if c.state is CellState.FAILED)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def datasets(self) -> list[str]:
        return list(dict.fromkeys(c.dataset for c in self.cells))

    def leaderboard(self, dataset: str) -> list[CellRecord]:
        """Return the dataset's cells, best first (failed last)."""
        return rank_cells((c for c in self.cells if c.dataset == dataset), self.metrics)

    def cell(self, dataset: str, model: str) -> CellRecord:
        for c in self.cells:
            if c.dataset == dataset and c.model == model:
                return c
        raise KeyError(f"no cell {dataset}/{model} in run {self.run_id}")


def summarize_failures(failed: Sequence[CellRecord]) -> str:
    """Return one line per failed cell: where, and the last line of its traceback."""
    lines = []
    for c in failed:
        last = (c.error or "").strip().splitlines()[-1:] or ["(no error text)"]
        lines.append(f"{c.dataset}/{c.model}: {last[0]}")
    return "\n".join(lines)
