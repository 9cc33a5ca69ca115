"""Is a champion still healthy? Drift of its served rows, and its score on late labels."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from loopml.errors import InputError, ModelNotFound
from loopml.monitoring import (
    DriftReport,
    DriftSettings,
    drift_report,
    metric_dropped,
    realized_metrics,
)
from loopml.policy._window import ServedWindow, describe_window, read_window
from loopml.registry import Registry, default_actor
from loopml.spec import Spec, metric_task
from loopml.tracking import ModelEvent, ModelEventKind, ModelVersion

log = logging.getLogger(__name__)

__all__ = [
    "Health",
    "Performance",
    "check_health",
    "record_event",
    "record_health",
    "score_version",
    "score_window",
]


@dataclass(frozen=True)
class Performance:
    """The champion's realized primary metric on labelled served rows, against its reference.

    ``realized`` is None until ``labelled >= needed`` (no verdict is guessed from a few
    labels); ``note`` then says how many are missing. ``dropped`` means the realized
    metric fell more than ``margin`` below ``reference``, the validation score.
    """

    metric: str
    reference: float | None
    realized: float | None
    labelled: int
    needed: int
    margin: float
    dropped: bool
    others: Mapping[str, float]
    note: str

    def describe(self) -> str:
        """Return the realized score in words, or why there is none."""
        if self.note:
            return self.note
        reference = (
            f"reference {self.reference:.4f}"
            if self.reference is not None
            else "no reference: the version was not scored on it"
        )
        return f"{self.metric} {self.realized:.4f} ({reference})"

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "reference": _finite(self.reference),
            "realized": _finite(self.realized),
            "labelled": self.labelled,
            "needed": self.needed,
            "margin": self.margin,
            "dropped": self.dropped,
            "others": {k: _finite(v) for k, v in self.others.items()},
            "note": self.note,
        }


@dataclass(frozen=True)
class Health:
    """One check of a model's champion: drift of the window and realized performance."""

    name: str
    version: int
    window: str
    rows: int
    drift: DriftReport | None
    performance: Performance
    checked_at: datetime
    note: str = ""

    @property
    def alerts(self) -> tuple[str, ...]:
        """Return what is wrong, in words; empty when nothing is."""
        out = []
        if self.drift is not None and self.drift.dataset_drift:
            out.append(
                f"dataset drift: {len(self.drift.drifted)} of {len(self.drift.features)} "
                f"features drifted ({', '.join(self.drift.drifted)}), share "
                f"{self.drift.share:.2f} >= {self.drift.settings.dataset_share:g}"
            )
        p = self.performance
        if p.dropped and p.realized is not None and p.reference is not None:
            out.append(
                f"{p.metric} dropped: {p.realized:.4f} on {p.labelled} labelled rows vs "
                f"{p.reference:.4f} at validation (more than {p.margin:g} lower)"
            )
        return tuple(out)

    @property
    def alert(self) -> bool:
        return bool(self.alerts)

    def summary(self) -> dict[str, Any]:
        """Return the numbers a timeline keeps of this check (JSON-safe, compact)."""
        drift = self.drift
        return {
            "window": self.window,
            "rows": self.rows,
            "share": None if drift is None or not drift.sufficient else drift.share,
            "dataset_drift": bool(drift and drift.dataset_drift),
            "drifted": list(drift.drifted) if drift else [],
            "performance": self.performance.to_json(),
            "alerts": list(self.alerts),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "checked_at": self.checked_at.isoformat(),
            "note": self.note,
            **self.summary(),
            "drift": None if self.drift is None else self.drift.to_json(),
        }


def check_health(
    spec: Spec,
    registry: Registry,
    name: str,
    *,
    window: int | float | None = None,
    now: datetime | None = None,
) -> Health:
    """Return the health of ``name``'s champion over ``window`` (default: the spec's).

    Drift compares the rows the champion served in the window with its reference
    profile; performance scores the labelled ones among them. Raises ModelNotFound when
    the model has no champion.
    """
    now = now or datetime.now(UTC)
    window = spec.monitor.window if window is None else window
    champion = registry.champion(name)
    if champion is None:
        registry.require_model(name)
        raise ModelNotFound(f"{name!r} has no champion to monitor; promote a version first")
    profile = registry.profile(name, champion.version)
    served = read_window(
        registry.store, name, window=window, now=now, version=champion.version, profile=profile
    )
    settings = DriftSettings(**spec.monitor.drift.settings())
    drift, note = None, ""
    if profile is None:
        note = f"version {champion.version} was registered without a reference profile"
    else:
        drift = drift_report(
            profile, served.features, predictions=served.predictions, settings=settings
        )
    labelled = served.take(served.labelled)
    return Health(
        name=name,
        version=champion.version,
        window=describe_window(window),
        rows=len(served),
        drift=drift,
        performance=_performance(spec, champion, labelled),
        checked_at=now,
        note=note,
    )


def score_window(spec: Spec, window: ServedWindow) -> dict[str, float]:
    """Return the spec's metrics of the window's logged answers against their labels."""
    primary = spec.metrics.primary
    task = metric_task(primary) or "classification"
    scores = realized_metrics(
        spec.metrics.all,
        task=task,
        y_true=window.labels,
        y_pred=window.predictions,
        probabilities=window.probabilities if task == "classification" else None,
    )
    return dict(scores)


def score_version(
    spec: Spec, registry: Registry, name: str, version: int, window: ServedWindow
) -> float:
    """Return a version's primary metric on the window's labelled rows, predicted afresh.

    The window's logged answers are ignored: this says how *that* version would have
    done on the same rows (a challenger on a holdout, an old champion on a new one's).
    """
    pipeline = registry.load(name, version)
    task = metric_task(spec.metrics.primary) or "classification"
    predictions = pipeline.predict(window.features)
    probabilities = None
    if task == "classification" and hasattr(pipeline, "predict_proba"):
        classes = [str(c) for c in pipeline.classes_]
        probabilities = [
            dict(zip(classes, map(float, row), strict=True))
            for row in np.asarray(pipeline.predict_proba(window.features))
        ]
    scores = realized_metrics(
        [spec.metrics.primary],
        task=task,
        y_true=window.labels,
        y_pred=list(predictions),
        probabilities=probabilities,
    )
    if spec.metrics.primary not in scores:
        raise InputError(
            f"{spec.metrics.primary} cannot be computed on the labelled rows of {name} v{version}: "
            f"{scores.notes.get(spec.metrics.primary, 'no reason given')}"
        )
    return float(scores[spec.metrics.primary])


def _performance(spec: Spec, champion: ModelVersion, labelled: ServedWindow) -> Performance:
    primary = spec.metrics.primary
    needed = spec.monitor.min_labels
    margin = spec.monitor.metric_drop
    reference = champion.metrics.get(primary)
    common: dict[str, Any] = {
        "metric": primary,
        "reference": reference,
        "labelled": len(labelled),
        "needed": needed,
        "margin": margin,
    }
    if len(labelled) < needed:
        return Performance(
            **common,
            realized=None,
            dropped=False,
            others={},
            note=f"no verdict yet: {len(labelled)} labelled rows, {needed} needed",
        )
    scores = score_window(spec, labelled)
    realized = scores.get(primary)
    if realized is None:
        return Performance(
            **common,
            realized=None,
            dropped=False,
            others=scores,
            note=f"{primary} could not be computed on the labelled rows",
        )
    dropped = reference is not None and metric_dropped(reference, realized, margin=margin)
    return Performance(
        **common,
        realized=realized,
        dropped=dropped,
        others={k: v for k, v in scores.items() if k != primary},
        note="",
    )


def record_health(registry: Registry, health: Health, *, actor: str | None = None) -> int:
    """Store the check as a drift_check event of the model's timeline; return its id."""
    reason = "; ".join(health.alerts) or _quiet(health)
    return registry.store.add_model_event(
        ModelEvent(
            name=health.name,
            kind=ModelEventKind.DRIFT_CHECK,
            at=health.checked_at,
            actor=actor or default_actor(),
            reason=reason,
            version=health.version,
            data=health.summary(),
        )
    )


def record_event(
    registry: Registry,
    name: str,
    kind: ModelEventKind,
    at: datetime,
    actor: str,
    reason: str,
    version: int | None,
    data: Mapping[str, Any],
) -> None:
    """Add a decision to the model's timeline, stamped when it happened.

    A retrain takes a while: the stamp orders the event right among the alias moves it
    caused; a decision "as of" a later time keeps that time.
    """
    at = max(at, datetime.now(UTC))
    registry.store.add_model_event(
        ModelEvent(
            name=name, kind=kind, at=at, actor=actor, reason=reason, version=version, data=data
        )
    )
    log.info("%s: %s: %s", name, kind.value, reason)


def _quiet(health: Health) -> str:
    drift = health.drift
    if drift is None:
        part = health.note or "drift not checked"
    elif not drift.sufficient:
        part = drift.reason
    else:
        part = f"no dataset drift (share {drift.share:.2f})"
    return f"{part}; {health.performance.describe()}"


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
