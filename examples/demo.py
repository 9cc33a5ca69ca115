"""The loop end to end on bundled data, through the `loopml` command a user types.

Copies examples/regions to ./demo-project (so the repository stays clean), then:
validate, plan, run, leaderboard, models; a new month of EU data arrives, plan shows
what changed, run registers a new EU champion; rollback and promote move it by hand.
Then the whole loop: `loopml serve` answers the EU customers over HTTP and takes their
late labels; the market moves (covariate and concept drift); `loopml monitor` sees it
(exit 3); `loopml update` retrains on the source plus the labelled served rows, and the
challenger beats the champion on rows neither trained on; the server swaps it in without
a restart, and accuracy recovers. `loopml history` tells the story; report.html shows it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loopml.cli import churn_frame

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent / "demo-project"
LOOPML = str(Path(sys.executable).with_name("loopml"))
# Output goes to a log more often than to a terminal here: give the tables room.
ENV = {**os.environ, "COLUMNS": os.environ.get("COLUMNS", "150")}


def step(*args: str, expect: int | tuple[int, ...] = 0) -> int:
    print(f"\n$ loopml {' '.join(args)}", flush=True)
    code = subprocess.call([LOOPML, *args], cwd=PROJECT, env=ENV)
    allowed = expect if isinstance(expect, tuple) else (expect,)
    if code not in allowed:
        sys.exit(f"demo: `loopml {' '.join(args)}` exited {code}, expected {expect}")
    return code


def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return dict(json.load(answer))


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return str(answer.read().decode())


@contextlib.contextmanager
def server() -> Iterator[str]:
    """Run `loopml serve` on a free port; yield its URL; stop it with SIGTERM."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    print(f"\n$ loopml serve --port {port} &", flush=True)
    process = subprocess.Popen([LOOPML, "serve", "--port", str(port)], cwd=PROJECT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                sys.exit(f"demo: `loopml serve` exited {process.returncode}")
            try:
                get(f"{base}/readyz")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    sys.exit("demo: `loopml serve` was not ready within 60 s")
                time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)  # finishes in-flight requests, flushes the log
        process.wait(60)


def traffic(
    base: str, what: str, n: int, *, seed: int, shift: float = 0.0, concept: float = 0.0
) -> None:
    """Send ``n`` EU customers one request each, then their true labels as feedback."""
    rows = churn_frame(n, seed=seed, shift=shift, concept=concept)
    labels = rows.pop("churned").tolist()
    records = rows.drop(columns="customer_id").to_dict("records")
    feedback, right, versions = [], 0, set()
    for i, row in enumerate(records):
        row = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        answer = post(f"{base}/models/churn.eu/predict", {"rows": [row]})
        if i == 0 and seed == 21:
            print(f"POST /models/churn.eu/predict {json.dumps({'rows': [row]})}")
            print(f"  -> {json.dumps(answer)}")
        versions.add(answer["version"])
        right += answer["predictions"][0] == labels[i]
        feedback.append({"request_id": answer["request_id"], "row": 0, "label": labels[i]})
    post(f"{base}/models/churn.eu/feedback", {"feedback": feedback})
    served = ", ".join(f"v{v}" for v in sorted(versions))
    print(
        f"{what}: {n} predictions by {served}, labels sent back; accuracy {right / n:.3f}",
        flush=True,
    )


def wait_for_champion(base: str, version: int) -> None:
    """Wait until the server has swapped in ``version`` (it polls the registry)."""
    deadline = time.monotonic() + 30
    while json.loads(get(f"{base}/readyz"))["models"].get("churn.eu") != version:
        if time.monotonic() > deadline:
            sys.exit(f"demo: the server did not pick up churn.eu v{version} within 30 s")
        time.sleep(0.2)
    print(f"the server now answers with churn.eu v{version} (hot swap, no restart)")


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

    print("\n# deploy: the champions answer over HTTP; monitor; update_if_needed", flush=True)
    with server() as base:
        traffic(base, "a normal week", 800, seed=21, shift=0.4)
        lines = get(f"{base}/metrics").splitlines()
        print("GET /metrics (excerpt):")
        for line in lines:
            if line.startswith(("loopml_requests_total", "loopml_served_version")):
                print(f"  {line}")
        step("monitor", "churn.eu")

        print("\n# the market moves: older customers, more tickets, and now price drives churn")
        traffic(base, "the week after", 1000, seed=22, shift=1.0, concept=1.0)
        step("monitor", "churn.eu", expect=3)
        step("update", "churn.eu", "--workers", "1")
        wait_for_champion(base, 3)
        traffic(base, "the next week", 600, seed=23, shift=1.0, concept=1.0)
        step("monitor", "churn.eu", "--window", "600", "--html", "report.html", expect=(0, 3))
    step("history", "churn.eu")
    print(
        "\ndemo finished: see demo-project/ (spec, .loopml/loopml.db, .loopml/artifacts/) "
        "and demo-project/report.html"
    )


if __name__ == "__main__":
    main()
