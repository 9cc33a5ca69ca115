"""update_model: triggers, retrain, challenger vs champion, the guard, and the race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

import loopml
from loopml.cli import churn_frame
from loopml.policy import update_model
from loopml.registry import CHAMPION, Registry
from loopml.tracking import ModelEventKind
from tests.policy.helpers import serve

NAME = "shop.eu"


def _spec(registry: Registry, **update: Any) -> loopml.Spec:
    root = Path(registry.artifacts.root).parents[1]
    data = yaml.safe_load((root / "loopml.yaml").read_text())
    data["update"] = {"min_labels": 200, "cooldown": "1h", **update}
    (root / "loopml.yaml").write_text(yaml.safe_dump(data))
    return loopml.load_spec(root / "loopml.yaml")


def _serve(registry: Registry, n: int, *, seed: int, flip: bool = False, **kw: Any) -> None:
    frame = churn_frame(n, seed=seed)
    labels = frame.pop("churned")
    serve(
        registry,
        NAME,
        frame.drop(columns="customer_id"),
        labels=(1 - labels if flip else labels).tolist(),
        **kw,
    )


def _kinds(registry: Registry) -> list[str]:
    return [e.kind.value for e in registry.store.list_model_events(NAME)]


def test_quiet_traffic_fires_no_trigger_and_the_reason_is_recorded(registry: Registry) -> None:
    spec = _spec(registry)
    _serve(registry, 300, seed=41)
    outcome = update_model(spec, registry, NAME, actor="cron@test")
    assert outcome.action == "skipped" and outcome.champion == 2
    assert outcome.reason.startswith("no trigger fired: ")
    assert _kinds(registry) == ["drift_check", "retrain_skipped"]
    assert registry.store.get_alias(NAME, CHAMPION) == 2


def test_a_concept_change_retrains_and_the_better_challenger_is_promoted(
    registry: Registry,
) -> None:
    spec = _spec(registry, reference=False)
    _serve(registry, 600, seed=42, flip=True)
    outcome = update_model(spec, registry, NAME, actor="cron@test", workers=1)
    assert outcome.action == "promoted", outcome.reason
    assert outcome.challenger == 3 and registry.store.get_alias(NAME, CHAMPION) == 3
    assert outcome.scores["challenger_score"] > outcome.scores["champion_score"] + 0.2
    assert outcome.scores["holdout_rows"] == 180
    assert _kinds(registry) == ["drift_check", "retrain", "challenge"]
    event = registry.store.latest_model_event(NAME, ModelEventKind.CHALLENGE)
    assert event is not None and event.data["promoted"] is True
    assert "accuracy dropped" in registry.store.list_model_events(NAME)[1].reason
    # the promotion is an alias move with the same reason, for `loopml models show`
    assert registry.store.list_events(NAME)[-1].reason == event.reason

    # right after, the inputs drift: the cooldown holds the next retrain back, and says so
    shifted = churn_frame(600, seed=48, shift=2.0).drop(columns=["customer_id", "churned"])
    serve(registry, NAME, shifted)
    again = update_model(spec, registry, NAME, actor="cron@test")
    assert again.action == "skipped" and again.reason.startswith("cooldown: retrained")


def test_a_challenger_that_does_not_beat_the_margin_is_not_promoted(registry: Registry) -> None:
    spec = _spec(registry, reference=False, promote={"margin": 0.9})
    _serve(registry, 600, seed=43, flip=True)
    outcome = update_model(spec, registry, NAME, workers=1)
    assert outcome.action == "kept" and outcome.reason.startswith("kept the champion: ")
    assert "(to win: +0.9000 or more)" in outcome.reason
    assert registry.store.get_alias(NAME, CHAMPION) == 2
    assert registry.store.get_alias(NAME, "challenger") == 3


def test_without_enough_labels_nothing_is_retrained(registry: Registry) -> None:
    spec = _spec(registry, reference=False, triggers={"new_labels": 50})
    _serve(registry, 100, seed=44, flip=True)
    outcome = update_model(spec, registry, NAME)
    assert outcome.action == "skipped"
    assert outcome.reason.startswith("waiting for labels: 100 labelled rows, 200 needed")


def test_the_guard_rolls_back_a_champion_that_does_worse_live(registry: Registry) -> None:
    spec = _spec(registry, reference=False, guard={"rows": 200, "margin": 0.05})
    past = datetime.now(UTC) - timedelta(hours=3)
    _serve(registry, 600, seed=45, flip=True, at=past)
    promoted = update_model(spec, registry, NAME, workers=1, now=past + timedelta(minutes=5))
    assert promoted.action == "promoted"
    # the world flips back: v3 (trained on the flipped labels) now answers badly
    _serve(registry, 250, seed=46)
    outcome = update_model(spec, registry, NAME)
    assert outcome.action == "rolled_back", outcome.reason
    assert outcome.reason.startswith("rolled back to v2: accuracy ")
    assert registry.store.get_alias(NAME, CHAMPION) == 2
    guard = registry.store.latest_model_event(NAME, ModelEventKind.GUARD)
    assert guard is not None and guard.version == 3 and guard.data["rolled_back"] is True
    last = registry.store.list_events(NAME)[-1]
    assert (last.kind.value, last.to_version) == ("rollback", 2)


def test_two_updates_at_once_promote_once_and_the_loser_records_it(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _spec(registry, reference=False)
    _serve(registry, 600, seed=47, flip=True)
    both_decided = threading.Barrier(2, timeout=60)
    promote = Registry.promote

    def promote_together(self: Registry, *args: Any, **kwargs: Any) -> Any:
        both_decided.wait()  # both compared with champion v2 before either moves it
        return promote(self, *args, **kwargs)

    monkeypatch.setattr(Registry, "promote", promote_together)
    outcomes: list[Any] = []

    def one(actor: str) -> None:
        outcomes.append(update_model(spec, registry, NAME, actor=actor, force=True, workers=1))

    threads = [threading.Thread(target=one, args=(f"cron{i}@test",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(o.action for o in outcomes) == ["lost", "promoted"]
    winner = next(o for o in outcomes if o.action == "promoted")
    assert registry.store.get_alias(NAME, CHAMPION) == winner.challenger
    kinds = _kinds(registry)
    assert kinds.count("promotion_lost") == 1 and kinds.count("challenge") == 1
    assert [e.kind.value for e in registry.store.list_events(NAME)].count("promote") == 1


def test_a_primary_metric_the_champion_was_not_scored_on_is_said_not_crashed_on(
    registry: Registry,
) -> None:
    spec = _spec(registry)
    root = Path(registry.artifacts.root).parents[1]
    data = yaml.safe_load((root / "loopml.yaml").read_text())
    data["metrics"] = {"primary": "balanced_accuracy"}  # changed after v2 was registered
    (root / "loopml.yaml").write_text(yaml.safe_dump(data))
    spec = loopml.load_spec(root / "loopml.yaml")
    _serve(registry, 300, seed=49)
    outcome = update_model(spec, registry, NAME)
    assert outcome.action == "skipped"
    assert "balanced_accuracy" in outcome.reason and "no reference" in outcome.reason
