"""loopml: the whole ML loop in one install.

::

    spec = loopml.load_spec("loopml.yaml")
    result = loopml.run(spec, workers=2)     # d datasets x m models x t trials, recorded
    result.leaderboard("eu")                 # cells, best first
    result.champions["eu"].version           # the registered champion

Names are imported on first use, so that importing one layer (the model server, say)
does not load the others (the training grid).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from loopml._version import __version__
from loopml.errors import LoopmlError

if TYPE_CHECKING:
    from loopml.grid import RunObserver, RunResult, run, validate
    from loopml.spec import Spec, load_spec

__all__ = [
    "LoopmlError",
    "RunObserver",
    "RunResult",
    "Spec",
    "__version__",
    "load_spec",
    "run",
    "validate",
]

_LAZY = {
    "RunObserver": "loopml.grid",
    "RunResult": "loopml.grid",
    "run": "loopml.grid",
    "validate": "loopml.grid",
    "Spec": "loopml.spec",
    "load_spec": "loopml.spec",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'loopml' has no attribute {name!r}")
