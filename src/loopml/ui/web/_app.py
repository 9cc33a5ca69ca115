"""The read-only web UI: server-rendered pages over the tracking store.

Pages are plain HTML with the package's stylesheet and server-drawn SVG charts: nothing
is fetched from elsewhere, so they render offline. Nothing here writes to the store.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from loopml.artifacts import ArtifactStore
from loopml.errors import InputError, ModelNotFound
from loopml.registry import Registry
from loopml.spec import Spec
from loopml.tracking import BaseStore
from loopml.ui.web._html import CSS_PATH, e, page, stylesheet
from loopml.ui.web._login import LoginGuard
from loopml.ui.web._models import (
    model_body,
    models_body,
    monitor_body,
    monitor_index_body,
    version_body,
)
from loopml.ui.web._runs import cell_body, run_body, runs_body

__all__ = ["create_ui_app"]


class _NotFound(Exception):
    """A page asked for something the store does not hold."""


def create_ui_app(spec: Spec, store: BaseStore, *, token: str | None = None) -> FastAPI:
    """Return the UI of ``spec``'s pipeline over ``store``; with ``token``, every page but
    ``/healthz`` needs ``Authorization: Bearer <token>``, as `loopml serve` does, or the
    session cookie the ``/login`` form hands out (see :mod:`loopml.ui.web._login`)."""
    registry = Registry(store, ArtifactStore(spec.artifacts_dir))
    app = FastAPI(title="loopml ui", docs_url=None, redoc_url=None, openapi_url=None)
    css = stylesheet()

    @app.exception_handler(_NotFound)
    @app.exception_handler(ModelNotFound)
    async def not_found(request: Request, exc: Exception) -> HTMLResponse:
        return HTMLResponse(page("not found", f"<p>{e(exc)}</p>"), status_code=404)

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: Exception) -> HTMLResponse:
        return HTMLResponse(page("bad request", f"<p>{e(exc)}</p>"), status_code=400)

    @app.get("/healthz")
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get(CSS_PATH)
    def styles() -> Response:
        return Response(css, media_type="text/css")

    @app.get("/", response_class=HTMLResponse)
    def runs(page_no: Annotated[int, Query(alias="page", ge=1)] = 1) -> str:
        return page(f"runs of {spec.name}", runs_body(spec, store, page=page_no))

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run(run_id: str, sort: str | None = None) -> str:
        record = store.get_run(run_id)
        if record is None:
            raise _NotFound(f"no run {run_id!r}")
        return page(f"run {record.run_id[:12]}", run_body(spec, store, record, sort=sort))

    @app.get("/cells/{cell_id}", response_class=HTMLResponse)
    def cell(cell_id: str, page_no: Annotated[int, Query(alias="page", ge=1)] = 1) -> str:
        record = store.get_cell(cell_id)
        if record is None:
            raise _NotFound(f"no cell {cell_id!r}")
        title = f"{record.dataset} × {record.model}"
        return page(title, cell_body(spec, store, record, page=page_no))

    @app.get("/models", response_class=HTMLResponse)
    def models() -> str:
        return page("registry", models_body(spec, registry))

    @app.get("/models/{name}", response_class=HTMLResponse)
    def model(name: str, page_no: Annotated[int, Query(alias="page", ge=1)] = 1) -> str:
        registry.require_model(name)
        return page(name, model_body(store, name, page=page_no))

    @app.get("/models/{name}/versions/{version}", response_class=HTMLResponse)
    def version(name: str, version: int) -> str:
        record = store.get_version(name, version)
        return page(f"{name} v{version}", version_body(store, record))

    @app.get("/monitor", response_class=HTMLResponse)
    def monitor_index() -> str:
        return page("monitoring", monitor_index_body(registry))

    @app.get("/monitor/{name}", response_class=HTMLResponse)
    def monitor(name: str) -> str:
        return page(f"monitoring {name}", monitor_body(spec, registry, name))

    if token:
        return _guarded(app, token)
    return app


def _guarded(app: FastAPI, token: str) -> FastAPI:
    app.add_middleware(LoginGuard, token=token)
    return app
