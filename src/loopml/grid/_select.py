"""Rank cells and trials: the primary metric, then the extra metrics, then faster predict."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol, TypeVar

from loopml.tracking import CellRecord, CellState, TrialRecord, TrialState

__all__ = ["best_cell", "rank_cells", "rank_trials"]


class _Scored(Protocol):
    @property
    def metrics(self) -> Mapping[str, float]: ...
    @property
    def predict_seconds(self) -> float | None: ...


S = TypeVar("S", bound=_Scored)


def _rank(items: Iterable[S], metrics: Sequence[str], done: Callable[[S], bool]) -> list[S]:
    """Return items best first; unfinished or failed ones last, in their original order.

    scikit-learn scorers are all "greater is better" (errors are negated), so every
    metric sorts descending. A NaN score ranks below any number.
    """
    items = list(items)

    def key(item: S) -> tuple[float, ...]:
        scores = []
        for name in metrics:
            value = item.metrics.get(name, math.nan)
            scores.append(-value if not math.isnan(value) else math.inf)
        scores.append(item.predict_seconds if item.predict_seconds is not None else math.inf)
        return tuple(scores)

    return sorted((i for i in items if done(i)), key=key) + [i for i in items if not done(i)]


def rank_cells(cells: Iterable[CellRecord], metrics: Sequence[str]) -> list[CellRecord]:
    """Return cells best first; failed cells come last."""
    return _rank(cells, metrics, lambda c: c.state is CellState.COMPLETE)


def rank_trials(trials: Iterable[TrialRecord], metrics: Sequence[str]) -> list[TrialRecord]:
    """Return trials best first; pruned, failed and abandoned ones come last."""
    return _rank(trials, metrics, lambda t: t.state is TrialState.COMPLETE)


def best_cell(cells: Iterable[CellRecord], metrics: Sequence[str]) -> CellRecord | None:
    """Return the best finished cell with an artifact, or None when every cell failed."""
    for cell in rank_cells(cells, metrics):
        if cell.state is CellState.COMPLETE and cell.artifact_sha256 is not None:
            return cell
    return None
