"""The model server: the champion of each registered model over HTTP.

Three protocols share one set of loaded models: loopml's own ``/models/{name}/predict``,
MLflow's ``/invocations`` and the Open Inference Protocol's ``/v2``. Alias moves are
picked up by polling the store (and ``POST /admin/reload``): a new version is loaded
beside the old one, verified, then swapped in; if it fails, the old one keeps serving.
The poll also copies each model's latest drift check (``loopml monitor``) into gauges.
Every served row goes to the prediction log, off the request path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from loopml._version import __version__
from loopml.artifacts import ArtifactStore
from loopml.errors import LoopmlError, ModelNotFound, StoreError
from loopml.registry import Registry
from loopml.serving._batcher import MicroBatcher, Prediction
from loopml.serving._guard import BodyLimit, TokenGuard
from loopml.serving._inputs import CheckedRows, InputRejected, check_rows
from loopml.serving._metrics import ServerMetrics
from loopml.serving._predlog import PredictionLog
from loopml.serving._protocols import (
    json_body,
    loopml_rows,
    mlflow_rows,
    plain,
    v2_datatype,
    v2_rows,
)
from loopml.serving._slots import LoadedModel, ModelSlots
from loopml.tracking import BaseStore, FeedbackRecord, ModelEventKind, PredictionRecord

__all__ = ["ServeConfig", "create_app"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeConfig:
    """How a server runs; every limit has a default a careful operator would pick."""

    artifacts_root: Path | str
    spill_path: Path
    models: tuple[str, ...] | None = None
    token: str | None = None
    poll_seconds: float = 2.0
    max_batch_rows: int = 256
    # 0: a request goes at once when the model is idle; requests that arrive while it
    # predicts are batched together. Raise it to trade latency for bigger batches.
    max_wait_ms: float = 0.0
    # batches up to this many rows are predicted on the event loop (see MicroBatcher)
    inline_rows: int = 64
    max_body_bytes: int = 10 * 1024 * 1024
    max_rows: int = 10_000
    allow_extra_columns: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class _Server:
    def __init__(self, config: ServeConfig, store: BaseStore) -> None:
        self.config = config
        self.store = store
        self.registry = Registry(store, ArtifactStore(config.artifacts_root))
        self.slots = ModelSlots()
        self.metrics = ServerMetrics()
        self.batcher = MicroBatcher(
            _predict,
            max_batch_rows=config.max_batch_rows,
            max_wait_ms=config.max_wait_ms,
            inline_rows=config.inline_rows,
        )
        self.log: PredictionLog | None = None

    def names(self) -> list[str] | None:
        return list(self.config.models) if self.config.models else None

    def sync(self) -> list[dict[str, Any]]:
        changes = self.slots.sync(self.registry, self.store, self.names())
        for c in changes:
            if c.ok:
                log.info(
                    "%s: now serving version %s (was %s)", c.name, c.to_version, c.from_version
                )
            else:
                log.warning("%s: version %s was not swapped in: %s", c.name, c.to_version, c.error)
        for name, model in self.slots.served().items():
            self.metrics.served_version.labels(name).set(model.version)
        for name, failures in self.slots.load_failures.items():
            self.metrics.swap_failures.labels(name).set(failures)
        self.read_drift_checks()
        return [
            {"model": c.name, "from": c.from_version, "to": c.to_version, "error": c.error}
            for c in changes
        ]

    def read_drift_checks(self) -> None:
        """Set the drift gauges from each served model's latest drift check.

        When the store fails, the gauges keep their last values until the next poll.
        """
        for name in self.slots.served():
            try:
                event = self.store.latest_model_event(name, ModelEventKind.DRIFT_CHECK)
            except StoreError:
                log.warning(
                    "reading the drift checks failed; gauges keep their values", exc_info=True
                )
                return
            if event is not None:
                self.metrics.set_drift_check(name, event.data)

    async def predict(
        self, name: str, payload_rows: Any, protocol: str, version: int | None = None
    ) -> Served:
        started = time.perf_counter()
        model = self.slots.get(name)
        if version is not None and version != model.version:
            raise ModelNotFound(
                f"{name!r} serves version {model.version}, not {version}: the server only "
                "serves each model's champion"
            )
        try:
            rows = check_rows(
                payload_rows,
                model.schema,
                allow_extra=self.config.allow_extra_columns,
                max_rows=self.config.max_rows,
                unknown_categories_ok=model.unknown_categories_ok,
            )
        except InputRejected as exc:
            self.metrics.rejections.labels(name, str(exc.status)).inc()
            raise
        result = await self.batcher.submit(model, rows.frame)
        request_id = uuid.uuid4().hex
        latency = time.perf_counter() - started
        self.metrics.requests.labels(name, str(model.version), protocol).inc()
        self.metrics.latency.labels(name, str(model.version)).observe(latency)
        self.metrics.batch_rows.labels(name).observe(len(rows))
        served = Served(model, request_id, result, *_answers(model, result))
        if self.log is not None:
            self.log.put(_records(served, rows, latency))
        return served


@dataclass(frozen=True)
class Served:
    """One answered request: the version that answered, its id, and the answers.

    ``raw`` is what ``predict`` gave; ``predictions`` and ``probabilities`` (one
    ``{class: p}`` per row, None for a regressor) are the same made JSON-ready once, for
    the response and the prediction log alike.
    """

    model: LoadedModel
    request_id: str
    raw: Prediction
    predictions: list[Any]
    probabilities: list[dict[str, float]] | None


def _answers(
    model: LoadedModel, result: Prediction
) -> tuple[list[Any], list[dict[str, float]] | None]:
    predictions, probabilities = result
    labels = plain(np.asarray(predictions))
    if probabilities is None or model.classes is None:
        return labels, None
    return labels, [
        {str(c): float(p) for c, p in zip(model.classes, row, strict=True)} for row in probabilities
    ]


def _predict(model: LoadedModel, frame: pd.DataFrame) -> Prediction:
    # Preprocess once, then ask the model for labels and probabilities: calling the
    # pipeline's predict and predict_proba would run the preprocessing twice.
    # The rows passed the schema check (finite where the schema says so, known columns),
    # so scikit-learn's own per-call validation would only repeat it, on every batch.
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        pipeline = model.pipeline
        features = pipeline[:-1].transform(frame)
        estimator = pipeline[-1]
        predictions = estimator.predict(features)
        probabilities = None
        if model.classes is not None and hasattr(estimator, "predict_proba"):
            probabilities = estimator.predict_proba(features)
    return predictions, probabilities


def _records(served: Served, rows: CheckedRows, latency: float) -> list[PredictionRecord]:
    now = datetime.now(UTC)
    probas = served.probabilities
    return [
        PredictionRecord(
            request_id=served.request_id,
            row=i,
            name=served.model.name,
            version=served.model.version,
            at=now,
            features=features,
            prediction=served.predictions[i],
            probabilities=None if probas is None else probas[i],
            latency_ms=latency * 1000,
        )
        for i, features in enumerate(rows.records())
    ]


def create_app(config: ServeConfig, store: BaseStore) -> Any:
    """Return the ASGI app (FastAPI, behind the token and body-size guards)."""
    server = _Server(config, store)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        server.log = PredictionLog(store, spill_path=config.spill_path)
        await asyncio.to_thread(server.sync)
        poller = asyncio.create_task(_poll(server))
        try:
            yield
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
            await asyncio.to_thread(server.log.close)

    app = FastAPI(title="loopml", version=__version__, lifespan=lifespan)
    app.state.server = server

    @app.exception_handler(InputRejected)
    async def rejected(request: Request, exc: InputRejected) -> JSONResponse:
        name = request.path_params.get("name", "-")
        server.metrics.errors.labels(str(name), str(exc.status)).inc()
        return JSONResponse({"error": str(exc), "field": exc.field}, status_code=exc.status)

    @app.exception_handler(ModelNotFound)
    async def missing(request: Request, exc: ModelNotFound) -> JSONResponse:
        server.metrics.errors.labels(str(request.path_params.get("name", "-")), "404").inc()
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.exception_handler(LoopmlError)
    async def failed(request: Request, exc: LoopmlError) -> JSONResponse:
        server.metrics.errors.labels(str(request.path_params.get("name", "-")), "500").inc()
        return JSONResponse({"error": str(exc)}, status_code=500)

    # -- health, metrics, admin --------------------------------------------------------
    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        served = server.slots.served()
        wanted = server.names() or sorted(served)
        missing_models = [n for n in wanted if n not in served]
        ready = bool(served) and not missing_models
        body = {
            "ready": ready,
            "models": {n: m.version for n, m in served.items()},
            "missing": missing_models,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        if server.log is not None:
            server.metrics.log_queue.set(server.log.queued)
            server.metrics.log_spilled.set(server.log.spilled)
            server.metrics.log_dropped.set(server.log.dropped)
        return Response(generate_latest(server.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/admin/reload")
    async def reload() -> dict[str, Any]:
        changes = await asyncio.to_thread(server.sync)
        return {
            "changes": changes,
            "models": {n: m.version for n, m in server.slots.served().items()},
        }

    # -- loopml's protocol ---------------------------------------------------------------
    @app.post("/models/{name}/predict")
    async def predict(name: str, request: Request) -> JSONResponse:
        rows = loopml_rows(json_body(await request.body()))
        served = await server.predict(name, rows, "loopml")
        # A JSONResponse of plain values: FastAPI's encoder would walk them again.
        return JSONResponse(
            {
                "model": served.model.name,
                "version": served.model.version,
                "request_id": served.request_id,
                "predictions": served.predictions,
                "probabilities": served.probabilities,
            }
        )

    @app.post("/models/{name}/feedback")
    async def feedback(name: str, request: Request) -> dict[str, Any]:
        server.slots.get(name)
        payload = json_body(await request.body())
        items = payload.get("feedback") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            raise InputRejected(
                'the body needs a non-empty "feedback" list of {"request_id", "row", "label"}',
                status=400,
                field="feedback",
            )
        now = datetime.now(UTC)
        records = []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or "request_id" not in item or "label" not in item:
                raise InputRejected(
                    f"feedback[{i}] needs request_id and label (and row, default 0)",
                    status=422,
                    field=f"feedback[{i}]",
                )
            records.append(
                FeedbackRecord(
                    str(item["request_id"]), int(item.get("row", 0)), name, item["label"], now
                )
            )
        await asyncio.to_thread(store.add_feedback, records)
        return {"accepted": len(records)}

    # -- MLflow's scoring protocol -----------------------------------------------------
    async def invocations_for(name: str, request: Request) -> JSONResponse:
        try:
            rows = mlflow_rows(await request.body(), request.headers.get("content-type", ""))
            served = await server.predict(name, rows, "mlflow")
        except InputRejected as exc:
            server.metrics.errors.labels(name, "400").inc()
            # MLflow answers a bad body with 400 and this shape
            return JSONResponse({"error_code": "BAD_REQUEST", "message": str(exc)}, status_code=400)
        return JSONResponse(
            {"predictions": served.predictions},
            headers={
                "x-loopml-model": served.model.name,
                "x-loopml-version": str(served.model.version),
                "x-request-id": served.request_id,
            },
        )

    @app.post("/models/{name}/invocations")
    async def invocations(name: str, request: Request) -> JSONResponse:
        return await invocations_for(name, request)

    @app.post("/invocations")
    async def invocations_single(request: Request) -> JSONResponse:
        served = sorted(server.slots.served())
        if len(served) != 1:
            return JSONResponse(
                {
                    "error_code": "BAD_REQUEST",
                    "message": f"/invocations needs exactly one served model, but {len(served)} "
                    f"are served ({', '.join(served)}): use /models/NAME/invocations",
                },
                status_code=400,
            )
        return await invocations_for(served[0], request)

    # -- Open Inference Protocol (KServe v2) -------------------------------------------
    @app.get("/v2")
    async def v2_server() -> dict[str, Any]:
        return {"name": "loopml", "version": __version__, "extensions": []}

    @app.get("/v2/health/live")
    async def v2_live() -> dict[str, bool]:
        return {"live": True}

    @app.get("/v2/health/ready")
    async def v2_ready() -> JSONResponse:
        ready = bool(server.slots.served())
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    def v2_metadata(name: str, version: int | None) -> JSONResponse:
        try:
            model = server.slots.get(name)
        except ModelNotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        if version is not None and version != model.version:
            return JSONResponse(
                {"error": f"{name!r} serves version {model.version}, not {version}"},
                status_code=404,
            )
        inputs = [
            {"name": c["name"], "datatype": _v2_input_type(c), "shape": [-1]}
            for c in model.schema.get("columns", [])
        ]
        outputs = [
            {"name": "predict", "datatype": "BYTES" if model.classes else "FP64", "shape": [-1]}
        ]
        if model.classes is not None:
            outputs.append(
                {"name": "predict_proba", "datatype": "FP64", "shape": [-1, len(model.classes)]}
            )
        return JSONResponse(
            {
                "name": name,
                "versions": [str(model.version)],
                "platform": "sklearn",
                "inputs": inputs,
                "outputs": outputs,
            }
        )

    @app.get("/v2/models/{name}")
    async def v2_model(name: str) -> JSONResponse:
        return v2_metadata(name, None)

    @app.get("/v2/models/{name}/versions/{version}")
    async def v2_model_version(name: str, version: int) -> JSONResponse:
        return v2_metadata(name, version)

    def v2_ready_for(name: str, version: int | None) -> JSONResponse:
        served = server.slots.served().get(name)
        ready = served is not None and (version is None or version == served.version)
        return JSONResponse({"name": name, "ready": ready}, status_code=200 if ready else 404)

    @app.get("/v2/models/{name}/ready")
    async def v2_model_ready(name: str) -> JSONResponse:
        return v2_ready_for(name, None)

    @app.get("/v2/models/{name}/versions/{version}/ready")
    async def v2_model_version_ready(name: str, version: int) -> JSONResponse:
        return v2_ready_for(name, version)

    async def v2_infer(name: str, version: int | None, request: Request) -> JSONResponse:
        try:
            payload = json_body(await request.body())
            columns = v2_rows(payload)
            served = await server.predict(name, columns, "v2", version)
        except InputRejected as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except ModelNotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        predictions, probabilities = served.raw
        values = np.asarray(predictions)
        outputs = [
            {
                "name": "predict",
                "shape": [len(values)],
                "datatype": v2_datatype(values),
                "data": served.predictions,
            }
        ]
        if probabilities is not None:
            proba = np.asarray(probabilities, dtype=float)
            outputs.append(
                {
                    "name": "predict_proba",
                    "shape": list(proba.shape),
                    "datatype": "FP64",
                    "data": proba.reshape(-1).tolist(),
                }
            )
        return JSONResponse(
            {
                "model_name": served.model.name,
                "model_version": str(served.model.version),
                "id": str(payload.get("id", served.request_id)),
                "outputs": outputs,
            }
        )

    @app.post("/v2/models/{name}/infer")
    async def v2_model_infer(name: str, request: Request) -> JSONResponse:
        return await v2_infer(name, None, request)

    @app.post("/v2/models/{name}/versions/{version}/infer")
    async def v2_model_version_infer(name: str, version: int, request: Request) -> JSONResponse:
        return await v2_infer(name, version, request)

    guarded: Any = BodyLimit(app, config.max_body_bytes)
    if config.token:
        guarded = TokenGuard(guarded, config.token)
    guarded.state = app.state  # for tests and embedding: reach the server's parts
    return guarded


def _v2_input_type(column: dict[str, Any]) -> str:
    kind = column.get("kind")
    return {"numeric": "FP64", "boolean": "BOOL"}.get(str(kind), "BYTES")


async def _poll(server: _Server) -> None:
    """Pick up alias moves and drift checks: sync every ``poll_seconds`` until cancelled."""
    while True:
        await asyncio.sleep(server.config.poll_seconds)
        try:
            await asyncio.to_thread(server.sync)
        except Exception:  # a store hiccup must not stop the server; next poll retries
            log.exception("polling the registry failed")
