"""The `loopml` Typer app, its command groups and the options commands share."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from loopml.artifacts import ArtifactStore
from loopml.errors import LoopmlError
from loopml.registry import Registry
from loopml.spec import Spec
from loopml.tracking import BaseStore

__all__ = [
    "ExecutorOption",
    "HostOption",
    "JsonOption",
    "SpecOption",
    "TokenFileOption",
    "WorkersOption",
    "app",
    "friendly",
    "make_console",
    "make_registry",
    "models_app",
    "read_token",
    "runs_app",
]

app = typer.Typer(
    name="loopml",
    help="The ML loop in one install: d datasets x m models, tracked, registered, champions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="The registry: versions and the champion of each dataset.")
app.add_typer(models_app, name="models")
runs_app = typer.Typer(help="Past runs: list them, or show one against its plan.")
app.add_typer(runs_app, name="runs")

SpecOption = Annotated[
    Path,
    typer.Option("--spec", "-f", envvar="LOOPML_SPEC", help="The spec file (or its directory)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
WorkersOption = Annotated[
    int | None,
    typer.Option("--workers", "-w", min=1, help="Processes (default: cores; 1 = inline)."),
]

ExecutorOption = Annotated[
    str | None,
    typer.Option(
        "--executor",
        help="Where trials run: local (default), dask (a Dask cluster on this machine) or a "
        "Dask scheduler address tcp://host:8786. Default: the spec's executor section.",
    ),
]

HostOption = Annotated[str, typer.Option(help="Address to bind; 127.0.0.1 keeps it local.")]
TokenFileOption = Annotated[
    Path | None,
    typer.Option(help="File holding the bearer token (or set LOOPML_TOKEN)."),
]


def read_token(token_file: Path | None) -> str | None:
    """Return the bearer token: the file's content, else LOOPML_TOKEN, else None (open)."""
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
    return token


F = TypeVar("F", bound=Callable[..., Any])


def make_console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def make_registry(spec: Spec, store: BaseStore) -> Registry:
    """Return the registry of ``spec``'s models in ``store``."""
    return Registry(store, ArtifactStore(spec.artifacts_dir))


def model_names(spec: Spec, registry: Registry, names: list[str] | None) -> list[str]:
    """Return the models a command works on: those named (each must exist), else every
    model of the spec's pipeline that has a champion."""
    if names:
        for name in names:
            registry.require_model(name)
        return list(dict.fromkeys(names))
    prefix = f"{spec.name}."
    return [
        m.name for m in registry.models() if m.name.startswith(prefix) and m.champion is not None
    ]


def friendly(fn: F) -> F:
    """Turn loopml errors into a message on stderr and the error's exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except LoopmlError as exc:
            Console(stderr=True, highlight=False, soft_wrap=True).print(
                f"[red]error:[/] {escape(str(exc))}"
            )
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]
