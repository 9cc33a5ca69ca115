"""The loop end to end on bundled data, through the `loopml` command a user types.

Copies examples/regions to ./demo-project (so the repository stays clean), then:
validate, plan, run, leaderboard, models; a new month of EU data arrives, plan shows
what changed, run registers a new EU champion; rollback and promote move it by hand;
`loopml serve` answers predictions over HTTP, takes late labels as feedback, and logs
every served row to the store.
"""

from __future__ import annotations

import json
import math
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from loopml.cli import churn_frame

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent / "demo-project"
LOOPML = str(Path(sys.executable).with_name("loopml"))


def step(*args: str, expect: int = 0) -> None:
    print(f"\n$ loopml {' '.join(args)}", flush=True)
    code = subprocess.call([LOOPML, *args], cwd=PROJECT)
    if code != expect:
        sys.exit(f"demo: `loopml {' '.join(args)}` exited {code}, expected {expect}")


def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return dict(json.load(answer))


def serve_traffic(rows: int = 200) -> None:
    """Start `loopml serve`, send single-row predictions and their labels, stop it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    print(f"\n$ loopml serve --port {port} &", flush=True)
    server = subprocess.Popen([LOOPML, "serve", "--port", str(port)], cwd=PROJECT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                sys.exit(f"demo: `loopml serve` exited {server.returncode}")
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    sys.exit("demo: `loopml serve` was not ready within 60 s")
                time.sleep(0.1)
        traffic = churn_frame(rows, seed=21)
        labels = traffic.pop("churned").tolist()
        records = traffic.drop(columns="customer_id").to_dict("records")
        feedback = []
        for i, row in enumerate(records):
            row = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
            answer = post(f"{base}/models/churn.eu/predict", {"rows": [row]})
            if i == 0:
                print(f"POST /models/churn.eu/predict {json.dumps({'rows': [row]})}")
                print(f"  -> {json.dumps(answer)}")
            feedback.append({"request_id": answer["request_id"], "row": 0, "label": labels[i]})
        accepted = post(f"{base}/models/churn.eu/feedback", {"feedback": feedback})["accepted"]
        print(f"{rows} predictions served one row at a time; {accepted} late labels sent back")
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as answer:
            lines = answer.read().decode().splitlines()
        print("GET /metrics (excerpt):")
        for line in lines:
            if line.startswith(("loopml_requests_total", "loopml_served_version")):
                print(f"  {line}")
    finally:
        server.send_signal(signal.SIGTERM)  # finishes in-flight requests, flushes the log
        server.wait(60)


def main() -> None:
    shutil.rmtree(PROJECT, ignore_errors=True)
    shutil.copytree(HERE / "regions", PROJECT)
    step("validate")
    step("plan")
    step("run")
    step("leaderboard", "--dataset", "eu")
    step("models")

    print("\n# a new month of EU data arrives", flush=True)
    churn_frame(900, seed=11, shift=0.4).to_csv(PROJECT / "data" / "eu.csv", index=False)
    step("plan")
    step("run", "--workers", "1")
    step("models", "show", "churn.eu")
    step("models", "rollback", "churn.eu", "--reason", "demo: back to last month's model")
    step("models", "promote", "churn.eu", "2", "--reason", "demo: the new month is fine")
    step("runs")
    serve_traffic()
    print("\ndemo finished: see demo-project/ (spec, .loopml/loopml.db, .loopml/artifacts/)")


if __name__ == "__main__":
    main()
