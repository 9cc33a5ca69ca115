"""Charts of one search: its optimization history, parameter importance and slices (SVG)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from loopml.tracking import TrialRecord, TrialState
from loopml.ui._charts import _drawing, _figure, _svg

__all__ = ["history_svg", "importance", "importance_svg", "slices_svg"]

_COMPLETE = "#1f77b4"
_PRUNED = "#aaaaaa"
_BEST = "#d62728"
_MAX_SLICES = 6


def _value(trial: TrialRecord) -> float | None:
    """Return the trial's score: its last rung's value (pruned ones stop early)."""
    if not trial.rungs or trial.state not in (TrialState.COMPLETE, TrialState.PRUNED):
        return None
    value = trial.rungs[-1].value
    return None if math.isnan(value) else value


def history_svg(trials: Sequence[TrialRecord], metric: str) -> str:
    """Return each trial's score against its number, and the best so far (greater wins)."""
    with _drawing():
        fig = _figure(7.0, 2.8)
        ax = fig.subplots()
        for state, color in ((TrialState.COMPLETE, _COMPLETE), (TrialState.PRUNED, _PRUNED)):
            shown = [
                (t.number, v) for t in trials if t.state is state and (v := _value(t)) is not None
            ]
            if shown:
                ax.scatter(
                    [n for n, _ in shown],
                    [v for _, v in shown],
                    s=10,
                    color=color,
                    label=f"{state.value.lower()} ({len(shown)})",
                )
        best, steps = -math.inf, []
        for t in sorted(trials, key=lambda t: t.number):
            v = _value(t)
            if t.state is TrialState.COMPLETE and v is not None and v > best:
                best = v
            if best > -math.inf:
                steps.append((t.number, best))
        if steps:
            ax.step(
                [n for n, _ in steps],
                [b for _, b in steps],
                where="post",
                color=_BEST,
                label="best so far",
            )
        ax.set_xlabel("trial number")
        ax.set_ylabel(metric)
        ax.legend(frameon=False, loc="lower right")
        return _svg(fig)


def _scored(trials: Sequence[TrialRecord]) -> list[tuple[TrialRecord, float]]:
    return [
        (t, v) for t in trials if t.state is TrialState.COMPLETE and (v := _value(t)) is not None
    ]


def _tuned(scored: Sequence[tuple[TrialRecord, float]]) -> list[str]:
    """Return the params that took more than one value (the others were fixed)."""
    names = sorted({k for t, _ in scored for k in t.params})
    return [n for n in names if len({repr(t.params.get(n)) for t, _ in scored}) > 1]


def importance(trials: Sequence[TrialRecord], *, bins: int = 4) -> dict[str, float]:
    """Return each tuned param's share of the score's variance it explains, summing to 1.

    Per param, the finished trials are grouped by its value (numbers in ``bins``
    quantile bins) and the variance between the groups' mean scores is taken against
    the total: a first-order, fANOVA-like reading that needs no model. Empty when fewer
    than three trials or no variance.
    """
    scored = _scored(trials)
    if len(scored) < 3:
        return {}
    scores = np.array([v for _, v in scored])
    total = float(scores.var())
    if total == 0:
        return {}
    raw = {}
    for name in _tuned(scored):
        values = [t.params.get(name) for t, _ in scored]
        if all(isinstance(x, int | float) and not isinstance(x, bool) for x in values):
            numbers = np.array(values, dtype=np.float64)
            edges = np.unique(np.quantile(numbers, np.linspace(0, 1, bins + 1)[1:-1]))
            groups = np.searchsorted(edges, numbers).tolist()
        else:
            groups = [repr(x) for x in values]
        means = {
            g: float(scores[[i for i, h in enumerate(groups) if h == g]].mean())
            for g in set(groups)
        }
        between = float(np.mean([(means[g] - scores.mean()) ** 2 for g in groups]))
        raw[name] = between / total
    norm = sum(raw.values())
    return {} if norm == 0 else {k: v / norm for k, v in sorted(raw.items(), key=lambda kv: -kv[1])}


def importance_svg(shares: dict[str, float]) -> str:
    """Return the params' importance as horizontal bars, most important on top."""
    names = list(shares)
    with _drawing():
        fig = _figure(7.0, 0.8 + 0.3 * len(names))
        ax = fig.subplots()
        ax.barh(range(len(names)), [shares[n] for n in names], color=_COMPLETE)
        ax.set_yticks(range(len(names)), names, parse_math=False)
        ax.invert_yaxis()
        ax.set_xlabel("share of the score's variance explained")
        return _svg(fig)


def slices_svg(trials: Sequence[TrialRecord], metric: str) -> str | None:
    """Return the score against each tuned parameter (one panel each), or None if none."""
    scored = _scored(trials)
    names = _tuned(scored)[:_MAX_SLICES]
    if not names:
        return None
    with _drawing():
        fig = _figure(7.0, 2.2 * math.ceil(len(names) / 2))
        axes = fig.subplots(math.ceil(len(names) / 2), 2, squeeze=False).ravel()
        for ax, name in zip(axes, names, strict=False):
            xs = [t.params.get(name) for t, _ in scored]
            ys = [v for _, v in scored]
            if all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs):
                ax.scatter(xs, ys, s=10, color=_COMPLETE)
            else:
                levels = sorted({str(x) for x in xs})
                ax.scatter([levels.index(str(x)) for x in xs], ys, s=10, color=_COMPLETE)
                ax.set_xticks(range(len(levels)), levels, parse_math=False)
            ax.set_xlabel(name)
            ax.set_ylabel(metric)
        for ax in axes[len(names) :]:
            ax.set_visible(False)
        return _svg(fig)
