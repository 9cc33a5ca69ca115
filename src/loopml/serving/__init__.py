"""Serving: answering prediction requests with registered models, and logging what was served.

:class:`PredictionLog` writes each served row to the tracking store in the background,
spilling to a local file while the store is unreachable.
"""

from __future__ import annotations

from loopml.serving._app import ServeConfig, create_app
from loopml.serving._batcher import MicroBatcher
from loopml.serving._inputs import InputRejected, rows_frame
from loopml.serving._predlog import PredictionLog
from loopml.serving._slots import LoadedModel, ModelLoadFailed, ModelSlots

__all__ = [
    "InputRejected",
    "LoadedModel",
    "MicroBatcher",
    "ModelLoadFailed",
    "ModelSlots",
    "PredictionLog",
    "ServeConfig",
    "create_app",
    "rows_frame",
]
