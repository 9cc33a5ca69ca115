"""monitoring is pure statistics: it imports no layer that stores, serves or runs."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import loopml.monitoring

FORBIDDEN = (
    "loopml.tracking",
    "loopml.registry",
    "loopml.grid",
    "loopml.serving",
    "loopml.cli",
    "loopml.ui",
)
ALLOWED_LOOPML = ("loopml.errors", "loopml.spec", "loopml.monitoring")


def test_importing_monitoring_loads_no_layer_above_it() -> None:
    code = (
        "import json, sys\n"
        "import loopml.monitoring\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('loopml'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = json.loads(done.stdout)
    assert "loopml.monitoring" in loaded
    assert [m for m in loaded if m.startswith(FORBIDDEN)] == []


def test_monitoring_modules_import_only_errors_and_spec_from_loopml() -> None:
    package = Path(loopml.monitoring.__file__).parent
    found = set()
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found.update(
                (module.name, n)
                for n in names
                if n.split(".")[0] == "loopml" and not n.startswith(ALLOWED_LOOPML)
            )
    assert found == set()
