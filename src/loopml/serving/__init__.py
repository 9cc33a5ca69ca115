"""Serving: answering prediction requests with registered models, and logging what was served.

:class:`PredictionLog` writes each served row to the tracking store in the background,
spilling to a local file while the store is unreachable.
"""

from __future__ import annotations

from loopml.serving._predlog import PredictionLog

__all__ = ["PredictionLog"]
