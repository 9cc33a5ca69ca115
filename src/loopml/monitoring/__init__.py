"""Monitoring: has a served model's world moved since it was trained, and does it still score?

:func:`build_profile` captures a model version's reference at training time (its input
features, validation predictions and metrics) as a :class:`ReferenceProfile`, stored as
JSON. :func:`drift_report` compares a window of served rows with it, feature by feature,
with p-values corrected across features and effect sizes gating every flag
(:class:`DriftSettings`). :func:`realized_metrics` scores logged predictions against the
labels that came back, and :func:`metric_dropped` says whether a score fell too far.

Pure statistics: nothing here reads or writes a store.
"""

from __future__ import annotations

from loopml.monitoring._columns import level_counts
from loopml.monitoring._drift import drift_report
from loopml.monitoring._performance import RealizedMetrics, metric_dropped, realized_metrics
from loopml.monitoring._profile import FeatureProfile, ReferenceProfile, build_profile
from loopml.monitoring._report import DriftReport, FeatureDrift
from loopml.monitoring._settings import DriftSettings

__all__ = [
    "DriftReport",
    "DriftSettings",
    "FeatureDrift",
    "FeatureProfile",
    "RealizedMetrics",
    "ReferenceProfile",
    "build_profile",
    "drift_report",
    "level_counts",
    "metric_dropped",
    "realized_metrics",
]
