"""loopml: the whole ML loop in one install.

::

    spec = loopml.load_spec("loopml.yaml")
    result = loopml.run(spec, workers=2)     # d datasets x m models, recorded, registered
    result.leaderboard("eu")                 # cells, best first
    result.champions["eu"].version           # the registered champion
"""

from __future__ import annotations

from loopml._version import __version__
from loopml.errors import LoopmlError
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
