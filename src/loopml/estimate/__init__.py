"""Estimates: what a trial costs, how long a run takes on n workers, and how sure we are.

:class:`CostModel` learns a power law per estimator from past trials (or from a short
:func:`calibrate` run when there is none); :func:`wall_time` packs the predicted trials
onto workers; :func:`describe` and :func:`format_duration` put the result in words.
"""

from __future__ import annotations

from loopml.estimate._calibrate import calibrate
from loopml.estimate._cost import Basis, Calibration, CostEstimate, CostModel
from loopml.estimate._powerlaw import PowerLaw
from loopml.estimate._schedule import wall_time
from loopml.estimate._summary import Confidence, describe, format_duration

__all__ = [
    "Basis",
    "Calibration",
    "Confidence",
    "CostEstimate",
    "CostModel",
    "PowerLaw",
    "calibrate",
    "describe",
    "format_duration",
    "wall_time",
]
