"""update_if_needed: evaluate the triggers, retrain, challenger vs champion, promote or not.

One call of :func:`update_model` is one decision for one model, recorded on its timeline
with the reasons and the numbers: the health check it started from, then a retrain
skipped (and why), or a retrain, the challenge on a recent labelled holdout neither model
trained on, and a promotion by compare-and-set (or the lost race).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from loopml.errors import AliasConflict, InputError
from loopml.grid import RunObserver, run
from loopml.policy._data import augmented_dataset
from loopml.policy._guard import GuardOutcome, guard_champion
from loopml.policy._health import (
    Health,
    check_health,
    record_event,
    record_health,
    score_version,
)
from loopml.policy._window import ServedWindow, read_window
from loopml.registry import CHALLENGER, Registry, default_actor
from loopml.spec import Spec
from loopml.tracking import ModelEventKind, ModelVersion

__all__ = ["UpdateOutcome", "dataset_of", "update_model"]


Action = Literal["skipped", "kept", "promoted", "lost", "rolled_back", "failed"]


@dataclass(frozen=True)
class UpdateOutcome:
    """What one ``loopml update`` decided for one model, and why."""

    name: str
    action: Action
    reason: str
    champion: int
    challenger: int | None = None
    health: Health | None = None
    guard: GuardOutcome | None = None
    scores: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action": self.action,
            "reason": self.reason,
            "champion": self.champion,
            "challenger": self.challenger,
            "scores": dict(self.scores),
            "health": None if self.health is None else self.health.summary(),
            "guard": None if self.guard is None else self.guard.to_json(),
        }


def dataset_of(spec: Spec, name: str) -> str:
    """Return the dataset of a registered model of this pipeline (``<pipeline>.<dataset>``)."""
    prefix = f"{spec.name}."
    dataset = name[len(prefix) :] if name.startswith(prefix) else ""
    if dataset not in spec.datasets:
        known = ", ".join(spec.registered_name(d) for d in spec.datasets)
        raise InputError(
            f"{name!r} is not a model of pipeline {spec.name!r}, whose models are {known}: "
            "update it from its own project's loopml.yaml"
        )
    return dataset


def update_model(
    spec: Spec,
    registry: Registry,
    name: str,
    *,
    actor: str | None = None,
    now: datetime | None = None,
    force: bool = False,
    workers: int | None = None,
    observer: RunObserver | None = None,
) -> UpdateOutcome:
    """Decide once for model ``name``: guard, triggers, retrain, challenge, promote.

    ``force`` retrains whatever the triggers and cooldown say (labels are still needed).
    Raises ModelNotFound when the model has no champion.
    """
    dataset = dataset_of(spec, name)
    actor = actor or default_actor()
    now = now or datetime.now(UTC)
    store = registry.store
    guard = guard_champion(spec, registry, name, now=now, actor=actor)
    if guard is not None and guard.rolled_back:
        return UpdateOutcome(name, "rolled_back", guard.reason, guard.champion_after, guard=guard)

    health = check_health(spec, registry, name, now=now)
    record_health(registry, health, actor=actor)
    champion = registry.champion(name)
    assert champion is not None  # check_health raised otherwise

    def skip(reason: str, **data: Any) -> UpdateOutcome:
        record_event(registry, name, ModelEventKind.RETRAIN_SKIPPED, now, actor, reason, None, data)
        return UpdateOutcome(name, "skipped", reason, champion.version, health=health, guard=guard)

    fired, quiet = _triggers(spec, registry, name, champion, health, now)
    if not fired and not force:
        return skip("no trigger fired: " + "; ".join(quiet), quiet=quiet)
    last = store.latest_model_event(name, ModelEventKind.RETRAIN)
    if last is not None and not force:
        since = (now - last.at).total_seconds()
        if since < spec.update.cooldown:
            return skip(
                f"cooldown: retrained {_ago(since)} ago, the cooldown is "
                f"{_ago(spec.update.cooldown)} ({'; '.join(fired)})",
                fired=fired,
            )
    profile = registry.profile(name, champion.version)
    recent = read_window(
        store, name, window=spec.update.recent, now=now, labelled_only=True, profile=profile
    )
    if len(recent) < spec.update.min_labels:
        return skip(
            f"waiting for labels: {len(recent)} labelled rows, {spec.update.min_labels} "
            f"needed to retrain and judge ({'; '.join(fired) or 'forced'})",
            fired=fired,
            labelled=len(recent),
        )
    n_holdout = max(1, round(len(recent) * spec.update.holdout))
    train, holdout = (
        recent.take(range(len(recent) - n_holdout)),
        recent.take(range(len(recent) - n_holdout, len(recent))),
    )
    return _retrain_and_challenge(
        spec,
        registry,
        name,
        dataset,
        champion,
        train,
        holdout,
        fired=fired or ["forced"],
        actor=actor,
        now=now,
        workers=workers,
        observer=observer,
        health=health,
        guard=guard,
    )


def _triggers(
    spec: Spec,
    registry: Registry,
    name: str,
    champion: ModelVersion,
    health: Health,
    now: datetime,
) -> tuple[list[str], list[str]]:
    """Return (the triggers that fired, why each other one did not), in words."""
    triggers = spec.update.triggers
    fired, quiet = [], []
    if triggers.drift:
        if health.drift is not None and health.drift.dataset_drift:
            fired.append(f"dataset drift (share {health.drift.share:.2f})")
        elif health.drift is not None and health.drift.sufficient:
            quiet.append(f"drift share {health.drift.share:.2f}")
        else:
            quiet.append(health.drift.reason if health.drift else "drift not checked")
    p = health.performance
    if triggers.metric_drop:
        if p.dropped:
            fired.append(f"{p.metric} dropped to {p.realized:.4f} from {p.reference:.4f}")
        else:
            quiet.append(p.describe())
    last = registry.store.latest_model_event(name, ModelEventKind.RETRAIN)
    last_at = last.at if last is not None else champion.created_at
    if triggers.new_labels is not None:
        new = registry.store.count_feedback(name, since=last_at)
        if new >= triggers.new_labels:
            fired.append(f"{new} new labelled rows (>= {triggers.new_labels})")
        else:
            quiet.append(f"{new} new labelled rows (< {triggers.new_labels})")
    if triggers.every is not None:
        since = (now - last_at).total_seconds()
        if since >= triggers.every:
            fired.append(f"schedule: last trained {_ago(since)} ago (every {_ago(triggers.every)})")
        else:
            quiet.append(f"schedule: next in {_ago(triggers.every - since)}")
    return fired, quiet


def _retrain_and_challenge(
    spec: Spec,
    registry: Registry,
    name: str,
    dataset: str,
    champion: ModelVersion,
    train: ServedWindow,
    holdout: ServedWindow,
    *,
    fired: list[str],
    actor: str,
    now: datetime,
    workers: int | None,
    observer: RunObserver | None,
    health: Health,
    guard: GuardOutcome | None,
) -> UpdateOutcome:
    store = registry.store
    cell = store.get_cell(champion.cell_id)
    models = spec.models
    if spec.update.retrain == "champion" and cell is not None and cell.model in models:
        models = {cell.model: models[cell.model]}
    data = augmented_dataset(spec, dataset, train)
    result = run(
        spec.model_copy(update={"models": models}),
        store=store,
        datasets={dataset: data},
        register_as=CHALLENGER,
        actor=actor,
        workers=workers,
        observer=observer,
    )
    numbers = {
        "run_id": result.run_id,
        "triggers": fired,
        "models": sorted(models),
        "rows": data.n_rows,
        "recent_rows": len(train),
        "holdout_rows": len(holdout),
    }
    change = result.champions.get(dataset)
    if change is None:
        reason = f"retrain failed: no cell of run {result.run_id[:8]} completed"
        record_event(registry, name, ModelEventKind.RETRAIN, now, actor, reason, None, numbers)
        return UpdateOutcome(name, "failed", reason, champion.version, health=health, guard=guard)
    if not change.changed:
        reason = (
            f"retrained on {data.n_rows} rows ({'; '.join(fired)}): the best model is the "
            f"champion v{champion.version} itself"
        )
        record_event(registry, name, ModelEventKind.RETRAIN, now, actor, reason, None, numbers)
        return UpdateOutcome(name, "kept", reason, champion.version, health=health, guard=guard)
    challenger = change.version.version
    record_event(
        registry,
        name,
        ModelEventKind.RETRAIN,
        now,
        actor,
        f"retrained on {data.n_rows} rows ({len(train)} recent): challenger v{challenger} "
        f"({'; '.join(fired)})",
        challenger,
        numbers,
    )
    return _challenge(
        spec, registry, name, champion, challenger, holdout, actor, now, health, guard
    )


def _challenge(
    spec: Spec,
    registry: Registry,
    name: str,
    champion: ModelVersion,
    challenger: int,
    holdout: ServedWindow,
    actor: str,
    now: datetime,
    health: Health,
    guard: GuardOutcome | None,
) -> UpdateOutcome:
    metric = spec.metrics.primary
    old = score_version(spec, registry, name, champion.version, holdout)
    new = score_version(spec, registry, name, challenger, holdout)
    rule = spec.update.promote
    needed = rule.margin * abs(old) if rule.relative else rule.margin
    beats = new - old >= needed and new > old
    scores = {
        "metric": metric,
        "champion": champion.version,
        "challenger": challenger,
        "champion_score": old,
        "challenger_score": new,
        "delta": new - old,
        "margin": rule.margin,
        "relative": rule.relative,
        "holdout_rows": len(holdout),
        "promoted": False,
    }
    verdict = (
        f"challenger v{challenger} {metric} {new:.4f} vs champion v{champion.version} "
        f"{old:.4f} on {len(holdout)} recent labelled rows neither trained on "
        f"(to win: +{needed:.4f} or more)"
    )
    common: dict[str, Any] = {"health": health, "guard": guard, "challenger": challenger}
    if not beats:
        reason = f"kept the champion: {verdict}"
        record_event(
            registry, name, ModelEventKind.CHALLENGE, now, actor, reason, challenger, scores
        )
        return UpdateOutcome(name, "kept", reason, champion.version, scores=scores, **common)
    try:
        registry.promote(
            name, challenger, expected=champion.version, actor=actor, reason=f"promoted: {verdict}"
        )
    except AliasConflict as exc:
        reason = f"lost the race: {exc} ({verdict})"
        record_event(
            registry, name, ModelEventKind.PROMOTION_LOST, now, actor, reason, challenger, scores
        )
        after = registry.champion(name)
        return UpdateOutcome(
            name, "lost", reason, after.version if after else champion.version, **common
        )
    scores["promoted"] = True
    reason = f"promoted: {verdict}"
    record_event(registry, name, ModelEventKind.CHALLENGE, now, actor, reason, challenger, scores)
    return UpdateOutcome(name, "promoted", reason, challenger, scores=scores, **common)


def _ago(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}".replace(".0", "")
    return f"{seconds:.0f}s"
