"""The CLI as a user types it: in a working directory, with an expected exit code."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from loopml.cli import app

runner = CliRunner()


def run_cli(*args: str, cwd: Path, code: int = 0) -> str:
    """Run ``loopml ARGS`` in ``cwd``; assert its exit code; return what it printed."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = runner.invoke(app, list(args))
    finally:
        os.chdir(old)
    assert result.exit_code == code, result.output
    return result.output
