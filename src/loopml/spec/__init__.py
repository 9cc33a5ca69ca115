"""The spec: ``loopml.yaml`` parsed, validated and explained when wrong."""

from __future__ import annotations

from loopml.spec._check import check_spec, task_problems
from loopml.spec._duration import parse_seconds
from loopml.spec._imports import import_object
from loopml.spec._load import load_spec, parse_spec, spec_hash
from loopml.spec._metrics import known_metrics, metric_task
from loopml.spec._policy import (
    DriftSpec,
    GuardSpec,
    MonitorSpec,
    PromotionSpec,
    TriggerSpec,
    UpdateSpec,
    Window,
)
from loopml.spec._schema import (
    DatasetSpec,
    ExecutorSpec,
    MetricsSpec,
    ModelSpec,
    PreprocessingSpec,
    Spec,
    SplitSpec,
    Step,
    Task,
    is_scheduler_address,
)
from loopml.spec._search import (
    CategoricalDimension,
    Choice,
    Dimension,
    FloatDimension,
    IntDimension,
    PrunerName,
    SamplerName,
    TuningSpec,
)

__all__ = [
    "CategoricalDimension",
    "Choice",
    "DatasetSpec",
    "Dimension",
    "DriftSpec",
    "ExecutorSpec",
    "FloatDimension",
    "GuardSpec",
    "IntDimension",
    "MetricsSpec",
    "ModelSpec",
    "MonitorSpec",
    "PreprocessingSpec",
    "PromotionSpec",
    "PrunerName",
    "SamplerName",
    "Spec",
    "SplitSpec",
    "Step",
    "Task",
    "TriggerSpec",
    "TuningSpec",
    "UpdateSpec",
    "Window",
    "check_spec",
    "import_object",
    "is_scheduler_address",
    "known_metrics",
    "load_spec",
    "metric_task",
    "parse_seconds",
    "parse_spec",
    "spec_hash",
    "task_problems",
]
