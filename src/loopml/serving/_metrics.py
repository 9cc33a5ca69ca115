"""Prometheus metrics of one server, in a registry of its own (no global state)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["ServerMetrics"]


class ServerMetrics:
    """Requests, errors, latency, batch sizes, swaps, prediction log, and drift checks.

    The drift gauges repeat each served model's latest drift-check event, which
    ``loopml monitor`` records: the server reads them, it never computes drift itself.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "loopml_requests",
            "Prediction requests answered",
            ["model", "version", "protocol"],
            registry=r,
        )
        self.errors = Counter(
            "loopml_request_errors",
            "Requests answered with an error",
            ["model", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "loopml_request_latency_seconds",
            "Time to answer a prediction request",
            ["model", "version"],
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self.batch_rows = Histogram(
            "loopml_batch_rows",
            "Rows per predict call after micro-batching",
            ["model"],
            registry=r,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
        )
        self.rejections = Counter(
            "loopml_rejected_inputs",
            "Requests refused by input validation",
            ["model", "status"],
            registry=r,
        )
        self.swap_failures = Gauge(
            "loopml_model_load_failures",
            "New versions that failed to load or verify",
            ["model"],
            registry=r,
        )
        self.served_version = Gauge(
            "loopml_served_version", "The version each model serves", ["model"], registry=r
        )
        self.log_queue = Gauge(
            "loopml_prediction_log_queue",
            "Prediction records waiting to be written",
            registry=r,
        )
        self.log_spilled = Gauge(
            "loopml_prediction_log_spilled",
            "Prediction records spilled to the local file",
            registry=r,
        )
        self.log_dropped = Gauge(
            "loopml_prediction_log_dropped",
            "Prediction records lost (even the spill failed)",
            registry=r,
        )
        self.drift_share = Gauge(
            "loopml_drift_share",
            "Drifted share of the features at the latest drift check (NaN: no verdict)",
            ["model"],
            registry=r,
        )
        self.dataset_drift = Gauge(
            "loopml_dataset_drift",
            "1 when the latest drift check found dataset drift, else 0",
            ["model"],
            registry=r,
        )
        self.realized_metric = Gauge(
            "loopml_realized_metric",
            "The primary metric on labelled served rows at the latest drift check "
            "(NaN: too few labels yet)",
            ["model", "metric"],
            registry=r,
        )
        self._metric_of: dict[str, str] = {}

    def set_drift_check(self, model: str, data: Mapping[str, Any]) -> None:
        """Set the drift gauges of ``model`` from a drift-check event's ``data``."""
        self.drift_share.labels(model).set(_number(data.get("share")))
        self.dataset_drift.labels(model).set(1 if data.get("dataset_drift") is True else 0)
        performance = data.get("performance")
        if not isinstance(performance, Mapping) or not isinstance(performance.get("metric"), str):
            return
        metric = performance["metric"]
        previous = self._metric_of.get(model)
        if previous is not None and previous != metric:
            # The spec's primary metric changed: the old series would look current forever.
            self.realized_metric.remove(model, previous)
        self._metric_of[model] = metric
        self.realized_metric.labels(model, metric).set(_number(performance.get("realized")))


def _number(value: object) -> float:
    """Return a JSON number as float; NaN for null or anything else (events are old data)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)
