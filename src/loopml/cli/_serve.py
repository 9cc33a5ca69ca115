"""`loopml serve` and `loopml ui`: the champions, and the store's pages, over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loopml import grid
from loopml.cli._app import (
    HostOption,
    SpecOption,
    TokenFileOption,
    app,
    friendly,
    make_console,
    read_token,
)
from loopml.spec import load_spec
from loopml.tracking import BaseStore

if TYPE_CHECKING:
    from starlette.types import ASGIApp

Port = Annotated[int, typer.Option(min=1, max=65535)]


@app.command()
@friendly
def serve(
    spec_path: SpecOption = Path("loopml.yaml"),
    host: HostOption = "127.0.0.1",
    port: Port = 8080,
    models: Annotated[
        list[str] | None, typer.Option("--models", help="Serve only these registered models.")
    ] = None,
    token_file: TokenFileOption = None,
    poll: Annotated[float, typer.Option(help="Seconds between registry polls.")] = 2.0,
) -> None:
    """Serve each registered model's champion: loopml, MLflow and Open Inference protocols."""
    from loopml.serving._app import ServeConfig, create_app

    spec = load_spec(spec_path)
    token = read_token(token_file)
    store = grid.open_store(spec)
    config = ServeConfig(
        artifacts_root=spec.artifacts_dir,
        spill_path=spec.state_dir / "prediction-log.spill.jsonl",
        models=tuple(models) if models else None,
        token=token,
        poll_seconds=poll,
    )
    _listen(create_app(config, store), store, host=host, port=port, what="serving", token=token)


@app.command()
@friendly
def ui(
    spec_path: SpecOption = Path("loopml.yaml"),
    host: HostOption = "127.0.0.1",
    port: Port = 8501,
    token_file: TokenFileOption = None,
) -> None:
    """Browse runs, leaderboards, searches, the registry and monitoring in a browser."""
    from loopml.ui.web import create_ui_app

    spec = load_spec(spec_path)
    token = read_token(token_file)
    store = grid.open_store(spec)
    ui_app = create_ui_app(spec, store, token=token)
    _listen(ui_app, store, host=host, port=port, what="loopml ui", token=token)


def _listen(
    asgi: ASGIApp, store: BaseStore, *, host: str, port: int, what: str, token: str | None
) -> None:
    """Serve ``asgi`` until interrupted, then close ``store``."""
    import uvicorn

    make_console().print(
        f"{what} on http://{host}:{port} ({'token required' if token else 'no token'})",
        soft_wrap=True,
    )
    try:
        uvicorn.run(asgi, host=host, port=port, log_level="warning")
    finally:
        store.close()
