"""Load generator run in its own process: N POSTs at a concurrency; prints JSON.

The JSON holds the wall seconds, the latencies in ms and the number of non-200 answers.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import httpx2


def main() -> None:
    url, body_json, n, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    headers = {"content-type": "application/json"}
    body = body_json.encode()
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    remaining = [n]

    def worker() -> None:
        nonlocal errors
        with httpx2.Client(timeout=30) as client:
            while True:
                with lock:
                    if remaining[0] == 0:
                        return
                    remaining[0] -= 1
                started = time.perf_counter()
                answer = client.post(url, content=body, headers=headers)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    errors += answer.status_code != 200

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies_ms = [x * 1000 for x in latencies]
    print(json.dumps({"seconds": wall, "latencies_ms": latencies_ms, "errors": errors}))


if __name__ == "__main__":
    main()
