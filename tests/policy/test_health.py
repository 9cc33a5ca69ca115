"""Health checks: drift of served rows, realized score on late labels, and the timeline."""

from __future__ import annotations

from pathlib import Path

import pytest

import loopml
from loopml.cli import churn_frame
from loopml.policy import check_health, record_health
from loopml.registry import Registry
from loopml.spec import MonitorSpec
from loopml.tracking import ModelEventKind
from tests.policy.helpers import serve

NAME = "shop.eu"


def _traffic(n: int, *, seed: int, shift: float = 0.0) -> tuple[object, list[int]]:
    frame = churn_frame(n, seed=seed, shift=shift)
    labels = frame.pop("churned").tolist()
    return frame.drop(columns="customer_id"), labels


@pytest.fixture
def spec(registry: Registry) -> loopml.Spec:
    root = Path(registry.artifacts.root).parents[1]
    return loopml.load_spec(root / "loopml.yaml")


def test_with_no_traffic_yet_nothing_is_judged(spec: loopml.Spec, registry: Registry) -> None:
    health = check_health(spec, registry, NAME)
    assert (health.version, health.rows, health.alert) == (2, 0, False)
    assert health.drift is not None and not health.drift.sufficient
    assert health.performance.realized is None
    assert health.performance.note == "no verdict yet: 0 labelled rows, 200 needed"


def test_traffic_like_the_training_data_stays_quiet(spec: loopml.Spec, registry: Registry) -> None:
    # The reference accuracy comes from 55 validation rows: allow for their noise.
    spec = spec.model_copy(update={"monitor": MonitorSpec(metric_drop=0.15)})
    frame, labels = _traffic(800, seed=31)
    serve(registry, NAME, frame, labels=labels)
    health = check_health(spec, registry, NAME)
    assert health.rows == 800 and health.drift is not None and health.drift.sufficient
    assert not health.drift.dataset_drift and health.alerts == ()
    p = health.performance
    assert p.labelled == 800 and p.realized is not None and p.reference is not None
    assert abs(p.realized - p.reference) < 0.15 and not p.dropped
    assert "f1" in p.others


def test_a_covariate_shift_is_found_in_one_window(spec: loopml.Spec, registry: Registry) -> None:
    frame, _ = _traffic(800, seed=32, shift=2.0)
    serve(registry, NAME, frame)
    health = check_health(spec, registry, NAME)
    assert health.drift is not None and health.drift.dataset_drift
    assert {"age", "support_tickets"} <= set(health.drift.drifted)
    assert health.alerts[0].startswith("dataset drift:")
    assert health.performance.note.startswith("no verdict yet: 0 labelled rows")


def test_a_concept_change_is_caught_by_performance_not_by_drift(
    spec: loopml.Spec, registry: Registry
) -> None:
    frame, labels = _traffic(800, seed=33)
    serve(registry, NAME, frame, labels=[1 - y for y in labels])  # same inputs, new labelling
    health = check_health(spec, registry, NAME)
    assert health.drift is not None and not health.drift.dataset_drift
    assert health.performance.dropped
    assert [a.split(":")[0] for a in health.alerts] == ["accuracy dropped"]


def test_the_window_is_the_last_rows_or_a_time_span(spec: loopml.Spec, registry: Registry) -> None:
    from datetime import UTC, datetime, timedelta

    old, _ = _traffic(300, seed=34, shift=2.0)
    serve(registry, NAME, old, at=datetime.now(UTC) - timedelta(days=2))
    new, _ = _traffic(600, seed=35)
    serve(registry, NAME, new)
    assert check_health(spec, registry, NAME, window=600).rows == 600
    assert check_health(spec, registry, NAME, window=86400.0).rows == 600
    assert check_health(spec, registry, NAME, window=10**6).rows == 900


def test_a_check_is_recorded_on_the_timeline(spec: loopml.Spec, registry: Registry) -> None:
    frame, _ = _traffic(800, seed=36, shift=2.0)
    serve(registry, NAME, frame)
    health = check_health(spec, registry, NAME)
    record_health(registry, health, actor="cron@test")
    event = registry.store.latest_model_event(NAME, ModelEventKind.DRIFT_CHECK)
    assert event is not None and event.version == 2 and event.actor == "cron@test"
    assert event.data["dataset_drift"] is True and event.data["rows"] == 800
    assert event.reason.startswith("dataset drift:")


def test_a_version_registered_before_profiles_existed_is_judged_by_its_score_only(
    spec: loopml.Spec, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a store upgraded from before profiles (migration 0004) has none for old artifacts
    monkeypatch.setattr(registry.store, "get_profile", lambda sha256: None)
    frame, labels = _traffic(300, seed=37)
    serve(registry, NAME, frame, labels=labels)
    health = check_health(spec, registry, NAME)
    assert health.version == 2 and health.drift is None
    assert health.note == "version 2 was registered without a reference profile"
    assert health.performance.labelled == 300 and health.performance.realized is not None
