"""The server in process (TestClient): the three protocols, bad input, auth, hot swap."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

import loopml
from loopml.cli import churn_frame
from loopml.errors import StoreError
from loopml.registry import Registry
from loopml.serving._app import ServeConfig, create_app
from loopml.tracking import InMemoryStore, ModelEvent, ModelEventKind

NAME = "shop.eu"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[InMemoryStore, Path, list[dict]]:
    """A store with two versions of shop.eu (v2 champion) and sample feature rows."""
    import yaml

    from tests.conftest import base_spec as spec_dict

    root = tmp_path_factory.mktemp("serve") / "proj"
    (root / "data").mkdir(parents=True)
    spec = spec_dict()
    spec["datasets"].pop("us")
    churn_frame(200, seed=1).to_csv(root / "data" / "eu.csv", index=False)
    (root / "loopml.yaml").write_text(yaml.safe_dump(spec))
    store = InMemoryStore()
    loopml.run(loopml.load_spec(root), workers=1, store=store)
    churn_frame(220, seed=9).to_csv(root / "data" / "eu.csv", index=False)
    loopml.run(loopml.load_spec(root), workers=1, store=store)
    rows = (
        pd.read_csv(root / "data" / "eu.csv")
        .drop(columns=["customer_id", "churned"])
        .dropna()
        .head(3)
        .to_dict("records")
    )
    return store, loopml.load_spec(root).artifacts_dir, rows


def _client(served: Any, tmp_path: Path, **options: Any) -> TestClient:
    store, artifacts, _ = served
    options.setdefault("poll_seconds", 3600)
    config = ServeConfig(artifacts_root=artifacts, spill_path=tmp_path / "spill.jsonl", **options)
    return TestClient(create_app(config, store))


@pytest.fixture
def client(served: Any, tmp_path: Path) -> Iterator[TestClient]:
    with _client(served, tmp_path) as c:
        yield c


def test_loopml_protocol_records_and_columns(client: TestClient, served: Any) -> None:
    rows = served[2]
    answer = client.post(f"/models/{NAME}/predict", json={"rows": rows})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"] == NAME and body["version"] == 2 and len(body["request_id"]) == 32
    assert len(body["predictions"]) == 3 and set(body["predictions"]) <= {0, 1}
    assert all(abs(sum(p.values()) - 1) < 1e-9 for p in body["probabilities"])
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    same = client.post(f"/models/{NAME}/predict", json={"columns": columns}).json()
    assert same["predictions"] == body["predictions"]


def test_mlflow_protocol(client: TestClient, served: Any) -> None:
    rows = served[2]
    split = {"columns": list(rows[0]), "data": [list(r.values()) for r in rows]}
    expected = client.post(f"/models/{NAME}/predict", json={"rows": rows}).json()["predictions"]
    for body in (
        {"dataframe_split": split},
        {"dataframe_records": rows},
        {"instances": rows},
        {"inputs": {k: [r[k] for r in rows] for k in rows[0]}},
    ):
        answer = client.post(f"/models/{NAME}/invocations", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": expected}
    csv = pd.DataFrame(rows).to_csv(index=False)
    answer = client.post("/invocations", content=csv, headers={"content-type": "text/csv"})
    assert answer.json() == {"predictions": expected}
    bad = client.post(
        f"/models/{NAME}/invocations", json={"dataframe_records": rows, "instances": rows}
    )
    assert bad.status_code == 400 and bad.json()["error_code"] == "BAD_REQUEST"


def test_open_inference_protocol(client: TestClient, served: Any) -> None:
    rows = served[2]
    assert client.get("/v2").json()["name"] == "loopml"
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").status_code == 200
    meta = client.get(f"/v2/models/{NAME}").json()
    assert meta["versions"] == ["2"] and {i["name"] for i in meta["inputs"]} >= {"age", "plan"}
    assert client.get(f"/v2/models/{NAME}/versions/2/ready").status_code == 200
    assert client.get(f"/v2/models/{NAME}/versions/1/ready").status_code == 404
    inputs = [
        {
            "name": k,
            "shape": [3],
            "datatype": "BYTES" if isinstance(rows[0][k], str) else "FP64",
            "data": [r[k] for r in rows],
        }
        for k in rows[0]
    ]
    answer = client.post(f"/v2/models/{NAME}/infer", json={"id": "r1", "inputs": inputs})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model_version"] == "2" and body["id"] == "r1"
    assert body["outputs"][0]["shape"] == [3] and body["outputs"][1]["shape"] == [3, 2]
    wrong = client.post(f"/v2/models/{NAME}/versions/1/infer", json={"inputs": inputs})
    assert wrong.status_code == 404 and "error" in wrong.json()
    bad = client.post(f"/v2/models/{NAME}/infer", json={"inputs": [{"name": "age"}]})
    assert bad.status_code == 400 and "error" in bad.json()


@pytest.mark.parametrize(
    ("mutate", "status", "fragment"),
    [
        (lambda r: [{k: v for k, v in r[0].items() if k != "age"}], 422, "age"),
        (lambda r: [{**r[0], "age": "old"}], 422, "age"),
        (lambda r: [{**r[0], "extra": 1}], 422, "extra"),
        (lambda r: [], 422, "empty"),
    ],
    ids=["missing column", "wrong type", "extra column", "empty batch"],
)
def test_bad_rows_get_4xx_naming_the_field(
    client: TestClient, served: Any, mutate: Any, status: int, fragment: str
) -> None:
    answer = client.post(f"/models/{NAME}/predict", json={"rows": mutate(served[2])})
    assert answer.status_code == status, answer.text
    assert fragment in answer.json()["error"]
    assert client.get("/healthz").status_code == 200  # still up
    assert "loopml_rejected_inputs_total" in client.get("/metrics").text


def test_malformed_json_and_size_limits(served: Any, tmp_path: Path) -> None:
    with _client(served, tmp_path, max_body_bytes=2000, max_rows=2) as c:
        bad = c.post(
            f"/models/{NAME}/predict",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]
        big = c.post(f"/models/{NAME}/predict", content=b"x" * 3000)
        assert big.status_code == 413
        many = c.post(f"/models/{NAME}/predict", json={"rows": served[2]})
        assert many.status_code == 413
        unknown = c.post("/models/shop.mars/predict", json={"rows": served[2][:1]})
        assert unknown.status_code == 404 and "shop.eu" in unknown.json()["error"]


def test_every_route_needs_the_token_but_health(served: Any, tmp_path: Path) -> None:
    with _client(served, tmp_path, token="t0k") as c:
        app = c.app.state.server  # type: ignore[attr-defined]
        assert app is not None
        routes = [
            r
            for r in c.app.app.app.routes  # type: ignore[attr-defined]
            if hasattr(r, "methods")
        ]
        health = {"/healthz", "/readyz", "/v2/health/live", "/v2/health/ready"}
        checked = 0
        for route in routes:
            path = route.path.replace("{name}", NAME).replace("{version}", "2")
            for method in route.methods - {"HEAD", "OPTIONS"}:
                answer = c.request(method, path)
                if route.path in health:
                    assert answer.status_code in (200, 503)
                else:
                    assert answer.status_code == 401, (method, path)
                    checked += 1
        assert checked >= 12
        ok = c.post(
            f"/models/{NAME}/predict",
            json={"rows": served[2]},
            headers={"Authorization": "Bearer t0k"},
        )
        assert ok.status_code == 200


def test_promotion_is_picked_up_and_feedback_is_stored(client: TestClient, served: Any) -> None:
    store = served[0]
    registry = Registry(store, client.app.state.server.registry.artifacts)  # type: ignore[attr-defined]
    registry.promote(NAME, 1, reason="test")
    try:
        changes = client.post("/admin/reload").json()
        assert changes["models"] == {NAME: 1}
        body = client.post(f"/models/{NAME}/predict", json={"rows": served[2]}).json()
        assert body["version"] == 1
        fb = client.post(
            f"/models/{NAME}/feedback",
            json={"feedback": [{"request_id": body["request_id"], "row": 0, "label": 1}]},
        )
        assert fb.json() == {"accepted": 1}
    finally:
        registry.promote(NAME, 2, reason="test")
        client.post("/admin/reload")


def test_served_rows_reach_the_prediction_log(served: Any, tmp_path: Path) -> None:
    store = served[0]
    before = store.count_predictions(NAME)
    with _client(served, tmp_path) as c:
        for _ in range(5):
            assert c.post(f"/models/{NAME}/predict", json={"rows": served[2]}).status_code == 200
    # closing the app flushes the log
    assert store.count_predictions(NAME) == before + 15


def _until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _metric(client: TestClient, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not in /metrics")


def test_a_store_outage_keeps_serving_and_loses_no_prediction_across_a_restart(
    served: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _, rows = served
    before = store.count_predictions(NAME)
    stored = store.add_predictions

    def down(records: Any) -> None:
        raise StoreError("the tracking store at test:// cannot add predictions: it is down")

    monkeypatch.setattr(store, "add_predictions", down)
    with _client(served, tmp_path) as c:
        for _ in range(5):
            assert c.post(f"/models/{NAME}/predict", json={"rows": rows}).status_code == 200
    # stopped while the store was down: every row waits in the spill file, none dropped
    spill = tmp_path / "spill.jsonl"
    assert len(spill.read_bytes().splitlines()) == 15
    assert store.count_predictions(NAME) == before

    monkeypatch.setattr(store, "add_predictions", stored)
    with _client(served, tmp_path) as c:  # a restart replays the spill file
        assert c.post(f"/models/{NAME}/predict", json={"rows": rows}).status_code == 200
        assert _metric(c, "loopml_prediction_log_dropped") == 0
    assert store.count_predictions(NAME) == before + 18
    assert spill.read_bytes() == b""


def test_predictions_spill_while_the_store_is_down_and_arrive_when_it_returns(
    served: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _, rows = served
    before = store.count_predictions(NAME)
    stored = store.add_predictions
    up = threading.Event()

    def flaky(records: Any) -> None:
        if not up.is_set():
            raise StoreError("the tracking store at test:// cannot add predictions: it is down")
        stored(records)

    monkeypatch.setattr(store, "add_predictions", flaky)
    with _client(served, tmp_path) as c:
        for _ in range(4):
            assert c.post(f"/models/{NAME}/predict", json={"rows": rows}).status_code == 200
        _until(lambda: _metric(c, "loopml_prediction_log_spilled") == 12)
        assert store.count_predictions(NAME) == before
        up.set()
        _until(lambda: store.count_predictions(NAME) == before + 12)
        assert _metric(c, "loopml_prediction_log_dropped") == 0


def _check(at: datetime, share: float | None, realized: float | None) -> ModelEvent:
    """A drift-check event as `loopml monitor` records it (Health.summary())."""
    return ModelEvent(
        name=NAME,
        kind=ModelEventKind.DRIFT_CHECK,
        at=at,
        actor="cron@test",
        reason="test",
        version=2,
        data={
            "window": "last 1000 rows",
            "rows": 800,
            "share": share,
            "dataset_drift": share is not None and share >= 0.3,
            "drifted": [],
            "performance": {"metric": "accuracy", "reference": 0.8, "realized": realized},
            "alerts": [],
        },
    )


def _gauges(client: TestClient) -> dict[str, str]:
    names = ("loopml_drift_share{", "loopml_dataset_drift{", "loopml_realized_metric{")
    return {
        line.rsplit(" ", 1)[0]: line.rsplit(" ", 1)[1]
        for line in client.get("/metrics").text.splitlines()
        if line.startswith(names)
    }


def test_metrics_show_the_latest_drift_check_and_survive_a_store_failure(
    served: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = served[0]
    now = datetime.now(UTC)
    share = 'loopml_drift_share{model="shop.eu"}'
    drift = 'loopml_dataset_drift{model="shop.eu"}'
    realized = 'loopml_realized_metric{metric="accuracy",model="shop.eu"}'
    with _client(served, tmp_path, poll_seconds=0.02) as c:
        store.add_model_event(_check(now, share=0.6, realized=0.71))
        _until(lambda: _gauges(c).get(share) == "0.6")
        assert _gauges(c) == {share: "0.6", drift: "1.0", realized: "0.71"}

        store.add_model_event(_check(now + timedelta(minutes=5), share=None, realized=None))
        assert c.post("/admin/reload").status_code == 200
        assert _gauges(c) == {share: "NaN", drift: "0.0", realized: "NaN"}  # no verdict

        calls = []

        def down(name: str, kind: ModelEventKind) -> None:
            calls.append(name)
            raise StoreError("the tracking store at test:// cannot read events: it is down")

        monkeypatch.setattr(store, "latest_model_event", down)
        store.add_model_event(_check(now + timedelta(minutes=10), share=0.1, realized=0.8))
        _until(lambda: len(calls) >= 3)  # the poller kept polling
        assert c.post("/admin/reload").status_code == 200
        assert _gauges(c) == {share: "NaN", drift: "0.0", realized: "NaN"}  # the last values
        assert c.post(f"/models/{NAME}/predict", json={"rows": served[2]}).status_code == 200

        monkeypatch.undo()
        _until(lambda: _gauges(c).get(share) == "0.1")
        assert _gauges(c) == {share: "0.1", drift: "0.0", realized: "0.8"}
