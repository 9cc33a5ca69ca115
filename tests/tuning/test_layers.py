"""tuning sits below grid: it imports data, artifacts and spec, never the layers above."""

from __future__ import annotations

import ast
from pathlib import Path

import loopml.tuning

ABOVE = ("loopml.grid", "loopml.tracking", "loopml.registry", "loopml.cli", "loopml.executors")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_tuning_imports_no_layer_above_it() -> None:
    package = Path(loopml.tuning.__file__).parent
    found = {
        (module.name, name)
        for module in package.glob("*.py")
        for name in _imports(module)
        if name.startswith(ABOVE)
    }
    assert found == set()
