"""The server never imports the training grid, the update policy or the report's plotting."""

from __future__ import annotations

import subprocess
import sys


def test_serving_does_not_import_the_grid_or_the_policy() -> None:
    code = (
        "import sys\n"
        "import loopml.serving._app, loopml.serving._metrics\n"
        "import loopml.serving._slots, loopml.serving._batcher, loopml.serving._inputs\n"
        "import loopml.serving._guard, loopml.serving._predlog\n"
        "layers = ('grid', 'tuning', 'executors', 'cli', 'policy', 'ui')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[:2] in "
        "[['loopml', layer] for layer in layers])\n"
        "if 'matplotlib' in sys.modules: bad.append('matplotlib')\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
