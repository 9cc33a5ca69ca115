"""Serving: `loopml serve` against a minimal FastAPI + uvicorn app calling the same pipeline.

One model (StandardScaler + LogisticRegression on 20 numeric features). A load generator
in a separate process sends 2000 single-row requests at concurrency 1 and 16 to each
server, on loopback, in the same run. Both servers run at once and take the load in
alternating rounds, so that a burst of noise on this shared machine hits both alike.
Also: in-process predict of 1 and 1000 rows, and the cold start of `loopml serve`
(process launch to first 200).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx2
import pandas as pd
import yaml
from sklearn.datasets import make_classification

import loopml
from loopml.artifacts import ArtifactStore
from loopml.grid import open_store
from loopml.registry import Registry

HERE = Path(__file__).resolve().parent
REQUESTS = 2000
ROUNDS = 4
WARMUP = 200

MINIMAL_APP = """
import os
import pandas as pd
from fastapi import FastAPI, Request
from loopml.artifacts import ArtifactStore
from loopml.registry import Registry
from loopml.tracking import get_store

store = get_store(os.environ["BENCH_STORE"])
pipeline = Registry(store, ArtifactStore(os.environ["BENCH_ARTIFACTS"])).load("bench.d")
app = FastAPI()

@app.post("/predict")
async def predict(request: Request):
    body = await request.json()
    return {"predictions": pipeline.predict(pd.DataFrame(body["rows"])).tolist()}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], started: float) -> float:
    while True:
        if process.poll() is not None:
            sys.exit(f"server exited with {process.returncode}")
        try:
            if httpx2.get(url, timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx2.HTTPError:
            pass
        time.sleep(0.02)


def load(url: str, body: dict[str, object], requests: int, concurrency: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            str(HERE / "_loadgen.py"),
            url,
            json.dumps(body),
            str(requests),
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout))


def summary(parts: list[dict[str, Any]]) -> dict[str, float]:
    """Return requests/s, p50, p99 and errors over the rounds of one setting."""
    latencies = sorted(x for p in parts for x in p["latencies_ms"])
    return {
        "rps": len(latencies) / sum(p["seconds"] for p in parts),
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "errors": sum(p["errors"] for p in parts),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        X, y = make_classification(n_samples=2000, n_features=20, random_state=0)
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(20)])
        frame["y"] = y
        frame.to_csv(root / "data" / "d.csv", index=False)
        (root / "loopml.yaml").write_text(
            yaml.safe_dump(
                {
                    "name": "bench",
                    "datasets": {"d": {"path": "data/d.csv", "target": "y"}},
                    "preprocessing": {
                        "numeric": ["sklearn.preprocessing.StandardScaler"],
                        "categorical": [],
                    },
                    "models": {"logreg": {"estimator": "sklearn.linear_model.LogisticRegression"}},
                    "metrics": {"primary": "accuracy"},
                }
            )
        )
        spec = loopml.load_spec(root)
        loopml.run(spec, workers=1)
        row = frame.drop(columns="y").head(1).to_dict("records")
        body = {"rows": row}

        with open_store(spec) as store:
            pipeline = Registry(store, ArtifactStore(spec.artifacts_dir)).load("bench.d")
        one, many = frame.drop(columns="y").head(1), frame.drop(columns="y").head(1000)
        for f in (one, many):
            pipeline.predict(f)
        timings = {}
        for label, f in (("1 row", one), ("1000 rows", many)):
            started = time.perf_counter()
            for _ in range(200):
                pipeline.predict(f)
            timings[label] = (time.perf_counter() - started) / 200

        env = {
            **os.environ,
            "BENCH_STORE": f"sqlite:///{spec.state_dir / 'loopml.db'}",
            "BENCH_ARTIFACTS": str(spec.artifacts_dir),
        }
        (root / "minimal_app.py").write_text(textwrap.dedent(MINIMAL_APP))
        servers: dict[str, subprocess.Popen[bytes]] = {}
        urls: dict[str, str] = {}
        cold = 0.0
        try:
            for name in ("loopml", "minimal"):
                port = free_port()
                if name == "loopml":
                    cmd = [
                        sys.executable,
                        "-m",
                        "loopml.cli",
                        "serve",
                        "--spec",
                        str(root),
                        "--port",
                        str(port),
                    ]
                    ready, path = f"http://127.0.0.1:{port}/readyz", "/models/bench.d/predict"
                else:
                    cmd = [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "minimal_app:app",
                        "--port",
                        str(port),
                        "--log-level",
                        "warning",
                    ]
                    ready, path = f"http://127.0.0.1:{port}/docs", "/predict"
                started = time.perf_counter()
                servers[name] = subprocess.Popen(
                    cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                seconds = wait_ready(ready, servers[name], started)
                if name == "loopml":
                    cold = seconds
                urls[name] = f"http://127.0.0.1:{port}{path}"
                load(urls[name], body, WARMUP, 4)
            parts: dict[tuple[str, int], list[dict[str, Any]]] = {}
            for c in (1, 16):
                for _ in range(ROUNDS):
                    for name, url in urls.items():
                        parts.setdefault((name, c), []).append(
                            load(url, body, REQUESTS // ROUNDS, c)
                        )
            results = {name: {c: summary(parts[name, c]) for c in (1, 16)} for name in urls}
        finally:
            for server in servers.values():
                server.send_signal(signal.SIGTERM)
                server.wait(30)

    print(f"serve: {REQUESTS} single-row requests per setting, load generator in its own process")
    for c in (1, 16):
        a, b = results["loopml"][c], results["minimal"][c]
        print(
            f"  concurrency {c:2d}: loopml serve {a['rps']:7.0f} req/s (p50 {a['p50_ms']:.1f} "
            f"ms, p99 {a['p99_ms']:.1f} ms, errors {a['errors']:.0f}) | minimal FastAPI "
            f"{b['rps']:7.0f} req/s (p50 {b['p50_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms) | "
            f"a/b = {a['rps'] / b['rps']:.2f}"
        )
    print("  targets: a/b >= 1.5 at concurrency 16 (micro-batching), >= 0.8 at concurrency 1")
    print(
        f"  in-process predict: 1 row {timings['1 row'] * 1000:.2f} ms, 1000 rows "
        f"{timings['1000 rows'] * 1000:.2f} ms"
    )
    print(f"  cold start of loopml serve (launch to first 200): {cold:.2f} s")


if __name__ == "__main__":
    main()
