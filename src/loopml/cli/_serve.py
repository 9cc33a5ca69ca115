"""`loopml serve`: the champions over HTTP."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from loopml import grid
from loopml.cli._app import SpecOption, app, friendly, make_console
from loopml.spec import load_spec


@app.command()
@friendly
def serve(
    spec_path: SpecOption = Path("loopml.yaml"),
    host: Annotated[str, typer.Option(help="Address to bind; 127.0.0.1 keeps it local.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
    models: Annotated[
        list[str] | None, typer.Option("--models", help="Serve only these registered models.")
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(help="File holding the bearer token (or set LOOPML_TOKEN)."),
    ] = None,
    poll: Annotated[float, typer.Option(help="Seconds between registry polls.")] = 2.0,
) -> None:
    """Serve each registered model's champion: loopml, MLflow and Open Inference protocols."""
    import uvicorn

    from loopml.serving._app import ServeConfig, create_app

    spec = load_spec(spec_path)
    token = os.environ.get("LOOPML_TOKEN") or None
    if token_file is not None:
        try:
            token = token_file.read_text().strip()
        except OSError as exc:
            raise typer.BadParameter(
                f"cannot read {token_file}: {exc}", param_hint="--token-file"
            ) from exc
        if not token:
            raise typer.BadParameter(f"{token_file} is empty", param_hint="--token-file")
    store = grid.open_store(spec)
    config = ServeConfig(
        artifacts_root=spec.artifacts_dir,
        spill_path=spec.state_dir / "prediction-log.spill.jsonl",
        models=tuple(models) if models else None,
        token=token,
        poll_seconds=poll,
    )
    make_console().print(
        f"serving on http://{host}:{port} ({'token required' if token else 'no token'})",
        soft_wrap=True,
    )
    try:
        uvicorn.run(create_app(config, store), host=host, port=port, log_level="warning")
    finally:
        store.close()
