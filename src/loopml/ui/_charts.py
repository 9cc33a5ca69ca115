"""Charts of the monitor report, drawn by matplotlib as SVG text to inline in a page.

Figures are made with ``matplotlib.figure.Figure`` on an Agg canvas, never through
``pyplot``: pyplot keeps every figure in a global registry and ``matplotlib.use`` changes
the process's backend, and a library must leave both to its caller. A figure here is an
ordinary object, gone when the function returns. Style settings apply inside
``rc_context`` only.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from loopml.monitoring import FeatureProfile, level_counts

__all__ = ["ChampionChange", "CheckPoint", "distribution_svg", "timeline_svg"]

_REFERENCE = "#1f77b4"
_WINDOW = "#ff7f0e"
_ALERT = "#d62728"
_BINS = 30
_MAX_LEVELS = 15
# With svg.fonttype "none" the browser draws the text: a glyph DejaVu Sans lacks (CJK,
# emoji in a level name) only makes matplotlib's estimate of the label's width rougher.
_MISSING_GLYPH = r"Glyph \d+ .* missing from font"


@dataclass(frozen=True)
class CheckPoint:
    """One drift check on the timeline; None where the check had no verdict."""

    at: datetime
    share: float | None
    dataset_drift: bool
    realized: float | None
    reference: float | None


@dataclass(frozen=True)
class ChampionChange:
    """The champion alias moved to ``version`` at ``at``."""

    at: datetime
    version: int


def distribution_svg(profile: FeatureProfile, current: pd.Series) -> str:
    """Return the reference against the window's values: densities, or level shares."""
    if profile.kind == "numeric":
        sample = np.asarray(profile.sample, dtype=np.float64)
        values = pd.to_numeric(current, errors="coerce").to_numpy(dtype=np.float64)
        return _histogram(sample, values[np.isfinite(values)])
    counts, _ = level_counts(current)
    window = {str(level): int(n) for level, n in counts.items()}
    reference = dict(profile.levels)
    if profile.other:
        # As the drift test does: levels pooled in the reference cannot be told from new
        # ones, so the window's levels the reference did not keep are pooled too.
        pooled = "(other levels)"
        reference[pooled] = profile.other
        window = {k: v for k, v in window.items() if k in profile.levels} | {
            pooled: sum(v for k, v in window.items() if k not in profile.levels)
        }
    return _levels(reference, window)


def timeline_svg(
    checks: Sequence[CheckPoint],
    changes: Sequence[ChampionChange],
    *,
    dataset_share: float | None = None,
) -> str:
    """Return drift share (top) and realized metric (bottom) against check time.

    The reference metric is drawn as a dashed step line, checks with dataset drift in
    red, and every champion change as a dotted vertical line.
    """
    times = [c.at for c in checks]
    with _drawing():
        fig = _figure(7.0, 4.4)
        top, bottom = fig.subplots(2, 1, sharex=True)
        top.plot(times, [_nan(c.share) for c in checks], marker="o", ms=3, label="drift share")
        alerts = [c for c in checks if c.dataset_drift]
        if alerts:
            top.scatter(
                [c.at for c in alerts],
                [_nan(c.share) for c in alerts],
                color=_ALERT,
                zorder=3,
                label="dataset drift",
            )
        if dataset_share is not None:
            top.axhline(
                dataset_share,
                color=_ALERT,
                ls="--",
                lw=0.8,
                label=f"dataset drift from {dataset_share:g}",
            )
        top.set_ylim(-0.02, 1.02)
        top.set_ylabel("drifted share of features")
        realized = [_nan(c.realized) for c in checks]
        bottom.plot(times, realized, marker="o", ms=3, color=_WINDOW, label="realized")
        bottom.step(
            times,
            [_nan(c.reference) for c in checks],
            where="post",
            color=_REFERENCE,
            ls="--",
            label="reference (validation)",
        )
        if all(math.isnan(r) for r in realized):
            bottom.text(
                0.5,
                0.5,
                "no verdict yet: too few labelled rows",
                transform=bottom.transAxes,
                ha="center",
                color="grey",
            )
        bottom.set_ylabel("primary metric")
        for change in changes:
            for ax in (top, bottom):
                ax.axvline(change.at, color="grey", ls=":", lw=1)
            top.annotate(
                f"champion v{change.version}",
                xy=(change.at, 1.0),
                xycoords=("data", "axes fraction"),
                rotation=90,
                ha="right",
                va="top",
                color="grey",
                fontsize=7,
            )
        bottom.set_xlabel("check time (UTC)")
        for ax in (top, bottom):
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        return _svg(fig)


def _histogram(reference: np.ndarray, current: np.ndarray) -> str:
    both = np.concatenate([reference, current])
    low, high = (0.0, 1.0) if not both.size else np.quantile(both, [0.005, 0.995])
    # Values beyond the 0.5-99.5 percentiles are counted in the outer bins: a few
    # outliers would otherwise squeeze the whole distribution into one bar.
    edges = np.histogram_bin_edges(both, bins=_BINS, range=(float(low), float(high)))
    with _drawing():
        fig = _figure(7.0, 2.6)
        ax = fig.subplots()
        for values, label, color in (
            (reference, "reference sample", _REFERENCE),
            (current, "window", _WINDOW),
        ):
            if values.size:
                density, _ = np.histogram(
                    np.clip(values, edges[0], edges[-1]), bins=edges, density=True
                )
                ax.stairs(
                    density,
                    edges,
                    fill=True,
                    alpha=0.45,
                    color=color,
                    label=f"{label} ({values.size:,} values)",
                )
        ax.set_ylabel("density")
        ax.legend(frameon=False)
        return _svg(fig)


def _levels(reference: Mapping[str, int], window: Mapping[str, int]) -> str:
    ref_total = sum(reference.values()) or 1
    win_total = sum(window.values()) or 1
    levels = [*reference, *(k for k in window if k not in reference)]
    shares = {k: (reference.get(k, 0) / ref_total, window.get(k, 0) / win_total) for k in levels}
    levels.sort(key=lambda k: -max(shares[k]))  # stable: ties keep the reference's order
    shown = levels[:_MAX_LEVELS]
    rows = [(k, *shares[k]) for k in shown]
    rest = levels[_MAX_LEVELS:]
    if rest:
        rows.append(
            (
                f"({len(rest)} more levels)",
                sum(shares[k][0] for k in rest),
                sum(shares[k][1] for k in rest),
            )
        )
    y = np.arange(len(rows))
    with _drawing():
        fig = _figure(7.0, 0.9 + 0.32 * len(rows))
        ax = fig.subplots()
        ax.barh(y - 0.2, [r[1] for r in rows], height=0.4, color=_REFERENCE, label="reference")
        ax.barh(y + 0.2, [r[2] for r in rows], height=0.4, color=_WINDOW, label="window")
        # Level names are data: never read them as mathtext ("$5-$10" is a price band).
        ax.set_yticks(y, [r[0] for r in rows], parse_math=False)
        ax.invert_yaxis()
        ax.set_xlabel("share of the rows with a value")
        ax.legend(frameon=False)
        return _svg(fig)


@contextlib.contextmanager
def _drawing() -> Iterator[None]:
    # svg.fonttype "none": text stays text, drawn by the browser's fonts (smaller pages).
    style = matplotlib.rc_context(
        {
            "svg.fonttype": "none",
            "date.converter": "concise",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    with style, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_MISSING_GLYPH, category=UserWarning)
        yield


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _svg(figure: Figure) -> str:
    """Return the figure as an ``<svg>`` element, without XML prolog or metadata."""
    buffer = io.StringIO()
    figure.savefig(
        buffer,
        format="svg",
        metadata={"Creator": None, "Date": None, "Format": None, "Type": None},
    )
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _nan(value: float | None) -> float:
    return math.nan if value is None else value
