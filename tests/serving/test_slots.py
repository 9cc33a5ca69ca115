"""Model slots load the champion, verify before swapping, and never expose half a model."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from loopml.artifacts import input_schema, sample_rows
from loopml.cli import churn_frame
from loopml.errors import ModelNotFound
from loopml.registry import CHAMPION, Registry
from loopml.serving._slots import LoadedModel, ModelLoadFailed, ModelSlots, SlotChange
from loopml.tracking import ArtifactRecord, BaseStore

NAME = "shop.eu"


@dataclass
class World:
    registry: Registry
    store: BaseStore


@pytest.fixture
def world(registry: Registry) -> World:
    """shop.eu with version 1 (first run) and version 2, the champion (a run on new data)."""
    assert registry.store.get_alias(NAME, CHAMPION) == 2
    return World(registry, registry.store)


def _register_broken(world: World) -> int:
    """Register (without promoting) a version whose pipeline cannot read its sample rows."""
    X = churn_frame(50, seed=3).drop(columns=["customer_id", "churned"])
    wrong = make_pipeline(LogisticRegression()).fit(pd.DataFrame({"x": range(50)}), [0, 1] * 25)
    ref = world.registry.artifacts.save(wrong)
    world.store.add_artifacts(
        [
            ArtifactRecord(
                sha256=ref.sha256,
                uri=ref.uri,
                size_bytes=ref.size_bytes,
                input_schema=input_schema(X),
                sample_rows=tuple(sample_rows(X)),
                created_at=pd.Timestamp.now(tz="UTC").to_pydatetime(),
            )
        ]
    )
    champion = world.store.get_version(NAME, 2)
    version = world.store.register_version(
        name=NAME,
        cell_id=champion.cell_id,
        artifact_sha256=ref.sha256,
        metrics={},
        actor="test",
        reason="broken on purpose",
    )
    return version.version


def test_load_serves_a_verified_champion(world: World) -> None:
    slots = ModelSlots()
    with pytest.raises(ModelNotFound, match=r"'shop\.eu' is being served.*none"):
        slots.get(NAME)
    model = slots.load(NAME, 2, world.registry, world.store)
    assert slots.get(NAME) is model
    assert (model.name, model.version, model.classes) == (NAME, 2, [0, 1])
    assert model.unknown_categories_ok  # the default recipe one-hot encodes with 'ignore'
    assert model.schema["columns"][0]["name"] == "age"
    assert len(model.sample_rows) == 5
    with pytest.raises(ModelNotFound, match=r"served models: shop\.eu"):
        slots.get("shop.us")


def test_sync_loads_then_follows_a_promotion(world: World) -> None:
    slots = ModelSlots()
    assert slots.sync(world.registry, world.store) == [SlotChange(NAME, None, 2)]
    assert slots.sync(world.registry, world.store) == []
    first = slots.get(NAME)
    world.registry.promote(NAME, 1, actor="test", reason="v2 misbehaves")
    assert slots.sync(world.registry, world.store, [NAME]) == [SlotChange(NAME, 2, 1)]
    assert slots.get(NAME).version == 1
    assert slots.get(NAME).pipeline is not first.pipeline
    assert slots.served().keys() == {NAME}
    assert slots.load_failures[NAME] == 0


def test_a_corrupt_artifact_never_replaces_the_served_model(world: World) -> None:
    slots = ModelSlots()
    slots.sync(world.registry, world.store)
    record = world.store.get_artifact(world.store.get_version(NAME, 1).artifact_sha256)
    assert record is not None
    path = world.registry.artifacts.path_for(record.uri)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    world.registry.promote(NAME, 1, actor="test", reason="try v1")

    [change] = slots.sync(world.registry, world.store)
    assert (change.ok, change.from_version, change.to_version) == (False, 2, 1)
    assert change.error is not None and "sha256" in change.error
    assert "version 2 keeps serving" in change.error
    assert slots.get(NAME).version == 2
    assert slots.load_failures[NAME] == 1


def test_a_version_failing_its_sample_rows_is_refused(world: World) -> None:
    slots = ModelSlots()
    served = slots.load(NAME, 2, world.registry, world.store)
    broken = _register_broken(world)
    with pytest.raises(ModelLoadFailed, match=f"version {broken} of 'shop.eu'.*feature names"):
        slots.load(NAME, broken, world.registry, world.store)
    assert slots.get(NAME) is served
    world.registry.promote(NAME, broken, actor="test", reason="try the broken one")
    [change] = slots.sync(world.registry, world.store)
    assert not change.ok
    assert slots.get(NAME) is served
    assert slots.load_failures[NAME] == 2


def test_a_missing_version_counts_as_a_failure_with_nothing_served(world: World) -> None:
    slots = ModelSlots()
    with pytest.raises(ModelLoadFailed, match="nothing is served under that name"):
        slots.load(NAME, 9, world.registry, world.store)
    assert slots.load_failures[NAME] == 1
    assert slots.served() == {}


def test_get_during_swaps_always_returns_a_whole_model(world: World) -> None:
    slots = ModelSlots()
    loaded = [slots.load(NAME, 1, world.registry, world.store)]
    seen: list[LoadedModel] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def hammer() -> None:
        try:
            while not stop.is_set():
                seen.append(slots.get(NAME))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for version in (2, 1, 2, 1, 2, 1):
            loaded.append(slots.load(NAME, version, world.registry, world.store))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert seen
    ids = {id(model) for model in loaded}
    assert all(id(model) in ids and model.version in (1, 2) for model in seen)
    by_version = {
        model.version: {id(m.pipeline) for m in loaded if m.version == model.version}
        for model in loaded
    }
    assert all(id(model.pipeline) in by_version[model.version] for model in seen)
    assert slots.get(NAME).version == 1
