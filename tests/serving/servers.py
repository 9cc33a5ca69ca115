"""Start `loopml serve` or `loopml ui` as a real process on a free loopback port (end to end)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    root: Path, port: int, *options: str, command: str = "serve", ready: str = "/readyz"
) -> subprocess.Popen[bytes]:
    """Start `loopml <command>` for the project at ``root``; return once ``ready`` answers 200."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd()), *sys.path])}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loopml.cli",
            command,
            "--spec",
            str(root),
            "--port",
            str(port),
            *options,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, f"loopml {command} exited with {server.returncode}"
        try:
            if httpx2.get(f"http://127.0.0.1:{port}{ready}", timeout=1).status_code == 200:
                return server
        except httpx2.HTTPError:
            pass
        assert time.monotonic() < deadline, f"loopml {command} was not ready within 60 s"
        time.sleep(0.1)
