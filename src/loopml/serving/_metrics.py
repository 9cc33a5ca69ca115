"""Prometheus metrics of one server, in a registry of its own (no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["ServerMetrics"]


class ServerMetrics:
    """Requests, errors, latency, batch sizes, rejections, swaps and prediction-log health."""

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
