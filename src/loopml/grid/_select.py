"""Rank cells: the primary metric, then the extra metrics, then faster predict."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from loopml.tracking import CellRecord, CellState

__all__ = ["best_cell", "rank_cells"]


def rank_cells(cells: Iterable[CellRecord], metrics: Sequence[str]) -> list[CellRecord]:
    """Return cells best first; failed cells come last, in their original order.

    scikit-learn scorers are all "greater is better" (errors are negated), so every
    metric sorts descending. A NaN score ranks below any number.
    """
    cells = list(cells)
    done = [c for c in cells if c.state is CellState.COMPLETE]
    rest = [c for c in cells if c.state is not CellState.COMPLETE]

    def key(cell: CellRecord) -> tuple[float, ...]:
        scores = []
        for name in metrics:
            value = cell.metrics.get(name, math.nan)
            scores.append(-value if not math.isnan(value) else math.inf)
        scores.append(cell.predict_seconds if cell.predict_seconds is not None else math.inf)
        return tuple(scores)

    return sorted(done, key=key) + rest


def best_cell(cells: Iterable[CellRecord], metrics: Sequence[str]) -> CellRecord | None:
    """Return the best finished cell with an artifact, or None when every cell failed."""
    for cell in rank_cells(cells, metrics):
        if cell.state is CellState.COMPLETE and cell.artifact_sha256 is not None:
            return cell
    return None
