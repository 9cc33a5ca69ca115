"""Say how long a run will take in words, and how far to trust it."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable

from loopml.estimate._cost import CostEstimate

__all__ = ["Confidence", "describe", "format_duration"]

_HIGH_POINTS = 10
_TIGHT = 1.5
"""An interval is tight when it stays within 1/1.5x..1.5x of the estimate (the benchmark's
target window)."""


class Confidence(enum.StrEnum):
    """How far to trust an estimate.

    HIGH: every estimate comes from >= 10 past trials of its estimator with a tight interval.
    MEDIUM: every estimate comes from history or calibration. LOW: at least one was guessed
    from other estimators (basis ``"global"``) or has no basis at all.
    """

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


def describe(estimates: Iterable[CostEstimate]) -> tuple[Confidence, str]:
    """Return the confidence and what it rests on, e.g. ``from 38 past trials of 3 estimators``.

    Estimates of the same estimator (one per dataset, say) count it once.
    """
    estimates = list(estimates)
    if not estimates:
        return Confidence.HIGH, "nothing to estimate"
    by_basis: dict[str, dict[str, int]] = {}
    for e in estimates:
        seen = by_basis.setdefault(e.basis, {})
        seen[e.estimator] = max(seen.get(e.estimator, 0), e.n_points)
    if "none" in by_basis or "global" in by_basis:
        label = Confidence.LOW
    elif all(_solid(e) for e in estimates):
        label = Confidence.HIGH
    else:
        label = Confidence.MEDIUM
    parts = []
    if "history" in by_basis:
        known = by_basis["history"]
        trials = _count(sum(known.values()), "past trial")
        parts.append(f"from {trials} of {_count(len(known), 'estimator')}")
    for basis, words in (
        ("calibration", "timed on a sample"),
        ("global", "guessed from other estimators"),
        ("none", "with no basis"),
    ):
        if basis in by_basis:
            parts.append(f"{_count(len(by_basis[basis]), 'estimator')} {words}")
    return label, ", ".join(parts)


def format_duration(seconds: float) -> str:
    """Return a short duration: ``0.8s``, ``45s``, ``4m10s``, ``1h02m``; ``?`` when unknown."""
    if math.isnan(seconds) or math.isinf(seconds):
        return "?"
    if seconds < 0:
        raise ValueError(f"seconds must be >= 0, but got {seconds!r}")
    if seconds == 0:
        return "0s"
    if seconds < 0.05:
        return "<0.1s"
    if round(seconds, 1) < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    minutes = round(seconds / 60)
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _solid(e: CostEstimate) -> bool:
    return (
        e.basis == "history"
        and e.n_points >= _HIGH_POINTS
        and e.high <= _TIGHT * e.seconds
        and e.low >= e.seconds / _TIGHT
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
