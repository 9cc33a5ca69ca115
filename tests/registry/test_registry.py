"""Promote and rollback move the champion by compare-and-set and keep a history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import loopml
from loopml.errors import AliasConflict, ModelNotFound, RegistryError
from loopml.registry import CHALLENGER, CHAMPION, Registry, previous_champion
from loopml.tracking import AliasEvent, EventKind


def _event(kind: EventKind, to: int) -> AliasEvent:
    return AliasEvent("m", CHAMPION, kind, None, to, "me", "why", datetime.now(UTC))


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([], None),
        ([("register", 1)], None),
        ([("register", 1), ("register", 2)], 1),
        ([("register", 1), ("register", 2), ("rollback", 1)], None),
        ([("register", 1), ("register", 2), ("register", 3), ("rollback", 2)], 1),
        ([("register", 1), ("promote", 3), ("promote", 2)], 3),
        ([("register", 1), ("register", 2), ("rollback", 1), ("promote", 2)], 1),
    ],
)
def test_previous_champion_walks_the_history(
    history: list[tuple[str, int]], expected: int | None
) -> None:
    events = [_event(EventKind(kind), to) for kind, to in history]
    assert previous_champion(events) == expected


def test_new_data_registers_a_new_champion(registry: Registry) -> None:
    assert [v.version for v in registry.store.list_versions("shop.eu")] == [2, 1]
    assert registry.store.get_alias("shop.eu", CHAMPION) == 2


def test_rollback_then_promote(registry: Registry) -> None:
    event = registry.rollback("shop.eu", actor="ops@test", reason="v2 misbehaves")
    assert (event.from_version, event.to_version, event.kind) == (2, 1, EventKind.ROLLBACK)
    assert registry.champion("shop.eu").version == 1  # type: ignore[union-attr]
    with pytest.raises(RegistryError, match="no earlier champion"):
        registry.rollback("shop.eu")
    registry.promote("shop.eu", 2, actor="ops@test", reason="fixed")
    events = registry.store.list_events("shop.eu")
    assert [(e.kind.value, e.to_version, e.actor) for e in events] == [
        ("register", 1, events[0].actor),
        ("register", 2, events[1].actor),
        ("rollback", 1, "ops@test"),
        ("promote", 2, "ops@test"),
    ]
    assert events[2].reason == "v2 misbehaves"


def test_promote_refuses_missing_versions_and_models(registry: Registry) -> None:
    with pytest.raises(ModelNotFound):
        registry.promote("shop.eu", 7)
    with pytest.raises(ModelNotFound, match=r"registered models: shop\.eu"):
        registry.promote("shop.nowhere", 1)
    with pytest.raises(RegistryError, match="already the champion"):
        registry.promote("shop.eu", 2)
    assert registry.store.get_alias("shop.eu", CHAMPION) == 2


def test_alias_move_is_compare_and_set(registry: Registry) -> None:
    store = registry.store
    with pytest.raises(AliasConflict):
        store.set_alias(
            name="shop.eu",
            alias=CHAMPION,
            version=1,
            expected=1,
            kind=EventKind.PROMOTE,
            actor="a",
            reason="stale read",
        )
    assert store.get_alias("shop.eu", CHAMPION) == 2


def test_load_verifies_the_artifact_hash(registry: Registry, tmp_path: Path) -> None:
    version = registry.champion("shop.eu")
    assert version is not None
    record = registry.store.get_artifact(version.artifact_sha256)
    assert record is not None
    path = registry.artifacts.path_for(record.uri)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(loopml.LoopmlError, match="sha256"):
        registry.load("shop.eu")


def test_every_registered_version_carries_its_reference_profile(registry: Registry) -> None:
    profile = registry.profile("shop.eu", 2)
    assert profile is not None
    assert list(profile.names) == ["age", "tenure_months", "monthly_fee", "support_tickets", "plan"]
    assert profile.feature("plan").kind == "categorical"
    assert profile.feature("age").kind == "numeric"
    # the answers on the validation rows (a quarter of 220), and the metrics they scored
    assert profile.prediction is not None and profile.prediction.count == 55
    assert dict(profile.metrics) == dict(registry.store.get_version("shop.eu", 2).metrics)


@pytest.mark.parametrize("alias", [CHAMPION, CHALLENGER])
def test_register_against_a_stale_expectation_conflicts_and_creates_nothing(
    registry: Registry, alias: str
) -> None:
    store = registry.store
    cell = store.get_cell(store.get_version("shop.eu", 1).cell_id)
    assert cell is not None
    now = store.get_alias("shop.eu", alias)
    with pytest.raises(AliasConflict, match=r"shop\.eu"):
        registry.register("shop.eu", cell, alias=alias, expected=5, reason="decided on v5")
    assert [v.version for v in store.list_versions("shop.eu")] == [2, 1]
    version = registry.register("shop.eu", cell, alias=alias, expected=now, reason="fresh")
    assert (version.version, store.get_alias("shop.eu", alias)) == (3, 3)


def test_a_challenger_is_registered_beside_the_champion_and_promoted_by_compare_and_set(
    registry: Registry,
) -> None:
    store = registry.store
    cell = store.get_cell(store.get_version("shop.eu", 1).cell_id)
    assert cell is not None
    version = registry.register("shop.eu", cell, alias=CHALLENGER, reason="retrained")
    assert store.list_aliases("shop.eu")["shop.eu"] == {CHAMPION: 2, CHALLENGER: 3}
    with pytest.raises(AliasConflict):  # decided while 1 was champion: stale
        registry.promote("shop.eu", version.version, expected=1, reason="beat v1")
    assert store.get_alias("shop.eu", CHAMPION) == 2
    registry.promote("shop.eu", version.version, expected=2, reason="beat v2")
    assert store.get_alias("shop.eu", CHAMPION) == 3
