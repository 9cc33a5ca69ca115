"""The guard after a promotion: a new champion that does worse live is rolled back.

``loopml update`` promotes on a holdout; the guard then waits for the new champion's
first ``update.guard.rows`` labelled served rows and compares its realized metric with
what the previous champion scores on those very rows (predicted afresh from the logged
inputs, so both face the same traffic). Worse by more than ``update.guard.margin``: the
champion goes back, and the timeline says why. Each promotion is judged once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loopml.errors import AliasConflict
from loopml.monitoring import metric_dropped
from loopml.policy._health import record_event, score_version, score_window
from loopml.policy._window import read_window
from loopml.registry import Registry
from loopml.spec import Spec
from loopml.tracking import EventKind, ModelEvent, ModelEventKind

GUARD = ModelEventKind.GUARD

__all__ = ["GuardOutcome", "guard_champion"]


@dataclass(frozen=True)
class GuardOutcome:
    """The guard's verdict on the champion an update promoted (or why it waits)."""

    champion: int
    previous: int
    verdict: str  # "waiting", "kept" or "rolled_back"
    reason: str
    champion_after: int
    new_score: float | None = None
    old_score: float | None = None

    @property
    def rolled_back(self) -> bool:
        return self.verdict == "rolled_back"

    def to_json(self) -> dict[str, Any]:
        return {
            "champion": self.champion,
            "previous": self.previous,
            "verdict": self.verdict,
            "reason": self.reason,
            "champion_after": self.champion_after,
            "new_score": self.new_score,
            "old_score": self.old_score,
        }


def guard_champion(
    spec: Spec, registry: Registry, name: str, *, now: datetime, actor: str
) -> GuardOutcome | None:
    """Judge the champion if an update promoted it and it is not judged yet, else None."""
    store = registry.store
    champion = registry.champion(name)
    if champion is None:
        return None
    promotion = _promotion_of(registry, name, champion.version)
    if promotion is None:
        return None
    judged = store.list_model_events(name, kinds=[ModelEventKind.GUARD], since=promotion.at)
    if any(e.version == champion.version for e in judged):
        return None
    previous = int(promotion.data["champion"])
    rows = spec.update.guard.rows
    metric = spec.metrics.primary
    new = read_window(
        store, name, window=rows, now=now, version=champion.version, labelled_only=True
    )
    if len(new) < rows:
        return GuardOutcome(
            champion.version,
            previous,
            "waiting",
            f"guard waits: v{champion.version} has {len(new)} of {rows} labelled rows",
            champion.version,
        )
    new_score = score_window(spec, new).get(metric)
    if new_score is None:
        return GuardOutcome(
            champion.version,
            previous,
            "waiting",
            f"guard waits: {metric} cannot be computed on v{champion.version}'s labelled rows",
            champion.version,
        )
    old_score = score_version(spec, registry, name, previous, new)
    basis = f"v{previous} on the same rows"
    margin = spec.update.guard.margin
    numbers = (
        f"{metric} {new_score:.4f} on v{champion.version}'s first {len(new)} labelled rows "
        f"vs {old_score:.4f} for {basis} (margin {margin:g})"
    )
    verdict, after = "kept", champion.version
    reason = f"kept v{champion.version}: {numbers}"
    if metric_dropped(old_score, new_score, margin=margin):
        try:
            registry.promote(
                name,
                previous,
                expected=champion.version,
                actor=actor,
                reason=f"rolled back to v{previous}: {numbers}",
                kind=EventKind.ROLLBACK,
            )
            verdict, after = "rolled_back", previous
            reason = f"rolled back to v{previous}: {numbers}"
        except AliasConflict as exc:  # someone moved it meanwhile: their decision stands
            reason = f"did not roll back, the champion moved meanwhile: {exc}"
            moved = registry.champion(name)
            after = moved.version if moved else champion.version
    data = {
        "previous": previous,
        "new_score": new_score,
        "old_score": old_score,
        "rows": rows,
        "rolled_back": verdict == "rolled_back",
    }
    record_event(registry, name, GUARD, now, actor, reason, champion.version, data)
    return GuardOutcome(champion.version, previous, verdict, reason, after, new_score, old_score)


def _promotion_of(registry: Registry, name: str, version: int) -> ModelEvent | None:
    """Return the CHALLENGE event that promoted ``version``, if an update did."""
    for event in reversed(registry.store.list_model_events(name, kinds=[ModelEventKind.CHALLENGE])):
        if event.version == version and event.data.get("promoted"):
            return event
    return None
