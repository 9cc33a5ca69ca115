"""The loop end to end on bundled data, through the `loopml` command a user types.

Copies examples/regions to ./demo-project (so the repository stays clean), then:
validate, plan, run, leaderboard, models; a new month of EU data arrives, plan shows
what changed, run registers a new EU champion; rollback and promote move it by hand.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from loopml.cli import churn_frame

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent / "demo-project"
LOOPML = str(Path(sys.executable).with_name("loopml"))


def step(*args: str, expect: int = 0) -> None:
    print(f"\n$ loopml {' '.join(args)}", flush=True)
    code = subprocess.call([LOOPML, *args], cwd=PROJECT)
    if code != expect:
        sys.exit(f"demo: `loopml {' '.join(args)}` exited {code}, expected {expect}")


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
    print("\ndemo finished: see demo-project/ (spec, .loopml/loopml.db, .loopml/artifacts/)")


if __name__ == "__main__":
    main()
