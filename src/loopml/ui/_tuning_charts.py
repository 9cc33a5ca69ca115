"""Charts of one search: its optimization history and a slice plot per parameter (SVG)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from loopml.tracking import TrialRecord, TrialState
from loopml.ui._charts import _drawing, _figure, _svg

__all__ = ["history_svg", "slices_svg"]

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


def slices_svg(trials: Sequence[TrialRecord], metric: str) -> str | None:
    """Return the score against each tuned parameter (one panel each), or None if none."""
    scored = [
        (t, v) for t in trials if t.state is TrialState.COMPLETE and (v := _value(t)) is not None
    ]
    names = sorted({k for t, _ in scored for k in t.params})
    # A parameter that never varies was fixed, not tuned: nothing to see.
    names = [n for n in names if len({repr(t.params.get(n)) for t, _ in scored}) > 1][:_MAX_SLICES]
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
