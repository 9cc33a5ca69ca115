"""`loopml serve` as a real uvicorn process on a free loopback port."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx2
import pandas as pd
import pytest

import loopml
from loopml.tracking import get_store
from tests.conftest import ProjectFactory, base_spec
from tests.serving.servers import free_port, start_server

pytestmark = pytest.mark.slow


def test_serve_answers_then_flushes_every_prediction_on_sigterm(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    spec = base_spec()
    spec["datasets"].pop("us")
    root = make_project(spec)
    loopml.run(loopml.load_spec(root), workers=1)
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    port = free_port()
    server = start_server(root, port, "--token-file", str(token))
    base = f"http://127.0.0.1:{port}"
    rows = (
        pd.read_csv(root / "data" / "eu.csv")
        .drop(columns=["customer_id", "churned"])
        .dropna()
        .head(2)
        .to_dict("records")
    )
    try:
        auth = {"Authorization": "Bearer s3cret"}
        assert httpx2.post(f"{base}/models/shop.eu/predict", json={"rows": rows}).status_code == 401
        n = 20
        with httpx2.Client(headers=auth, timeout=10) as client:
            for _ in range(n):
                answer = client.post(f"{base}/models/shop.eu/predict", json={"rows": rows})
                assert answer.status_code == 200 and answer.json()["version"] == 1
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells
    assert server.returncode in (0, -signal.SIGTERM)
    with get_store(None, default_path=root / ".loopml" / "loopml.db") as store:
        assert store.count_predictions("shop.eu") == 2 * n
