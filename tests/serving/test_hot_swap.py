"""Hot swap under load on a real server: promotions and rollbacks, and a broken version."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable

import httpx2
import pandas as pd
import pytest

import loopml
from loopml.artifacts import ArtifactStore
from loopml.cli import churn_frame
from loopml.registry import Registry
from loopml.tracking import get_store
from tests.conftest import ProjectFactory, base_spec
from tests.serving.servers import free_port, start_server

pytestmark = pytest.mark.slow


def _metric(base: str, name: str) -> float:
    for line in httpx2.get(f"{base}/metrics").text.splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_swaps_under_load_and_a_broken_version_never_serves(
    make_project: ProjectFactory,
) -> None:
    spec = base_spec()
    spec["datasets"].pop("us")
    root = make_project(spec)
    loopml.run(loopml.load_spec(root), workers=1)
    churn_frame(220, seed=9).to_csv(root / "data" / "eu.csv", index=False)
    loopml.run(loopml.load_spec(root), workers=1)  # v2 is the champion
    rows = (
        pd.read_csv(root / "data" / "eu.csv")
        .drop(columns=["customer_id", "churned"])
        .dropna()
        .head(1)
        .to_dict("records")
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(root, port, "--poll", "0.1")
    statuses: Counter[int] = Counter()
    versions: Counter[int] = Counter()
    stop = threading.Event()

    def hammer() -> None:
        with httpx2.Client(timeout=10) as client:
            while not stop.is_set():
                answer = client.post(f"{base}/models/shop.eu/predict", json={"rows": rows})
                statuses[answer.status_code] += 1
                if answer.status_code == 200:
                    versions[answer.json()["version"]] += 1

    spec_obj = loopml.load_spec(root)
    try:
        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        with get_store(None, default_path=root / ".loopml" / "loopml.db") as store:
            registry = Registry(store, ArtifactStore(spec_obj.artifacts_dir))
            # The first swap is awaited, so that both versions answer however slow the
            # machine is; the next ones come faster than some polls.
            registry.rollback("shop.eu", reason="load test")
            _until(lambda: versions[1] > 0)
            registry.promote("shop.eu", 2, reason="load test")
            for _ in range(20):
                registry.rollback("shop.eu", reason="load test")
                time.sleep(0.15)
                registry.promote("shop.eu", 2, reason="load test")
                time.sleep(0.15)
            _until(lambda: httpx2.get(f"{base}/readyz").json()["models"] == {"shop.eu": 2})
            # a broken new version: its artifact bytes are corrupted after registration
            v1 = store.get_version("shop.eu", 1)
            cell = store.get_cell(v1.cell_id)
            assert cell is not None
            broken = store.register_version(
                name="shop.eu",
                cell_id=cell.cell_id,
                artifact_sha256=v1.artifact_sha256,
                metrics={},
                alias=None,
                actor="test",
                reason="broken on purpose",
            )
            artifact = store.get_artifact(v1.artifact_sha256)
            assert artifact is not None
            path = ArtifactStore(spec_obj.artifacts_dir).path_for(artifact.uri)
            good = path.read_bytes()
            path.write_bytes(good[: len(good) // 2])
            try:
                registry.promote("shop.eu", broken.version, reason="break it")
                _until(lambda: _metric(base, 'loopml_model_load_failures{model="shop.eu"}') >= 1)
                assert httpx2.get(f"{base}/readyz").json()["models"] == {"shop.eu": 2}
            finally:
                path.write_bytes(good)
        stop.set()
        for t in threads:
            t.join(30)
    finally:
        stop.set()
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    assert statuses[200] > 100
    assert set(statuses) == {200}, statuses  # zero 5xx, zero errors of any kind
    assert set(versions) <= {1, 2} and versions[1] and versions[2]
