"""The server never imports the training grid."""

from __future__ import annotations

import subprocess
import sys


def test_serving_does_not_import_the_grid() -> None:
    code = (
        "import sys\n"
        "import loopml.serving._slots, loopml.serving._batcher, loopml.serving._inputs\n"
        "import loopml.serving._guard, loopml.serving._predlog\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[:2] in "
        "(['loopml', 'grid'], ['loopml', 'tuning'], ['loopml', 'executors'], ['loopml', 'cli']))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
