"""The registry commands: models, show, promote, rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loopml import grid
from loopml.cli._app import (
    JsonOption,
    SpecOption,
    friendly,
    make_console,
    make_registry,
    models_app,
)
from loopml.spec import load_spec
from loopml.ui import (
    events_table,
    models_table,
    to_json,
    versions_table,
)


@models_app.callback(invoke_without_command=True)
@friendly
def models(
    ctx: typer.Context, spec_path: SpecOption = Path("loopml.yaml"), as_json: JsonOption = False
) -> None:
    """List registered models with their champion version."""
    if ctx.invoked_subcommand is not None:
        return
    spec = load_spec(spec_path)
    with grid.open_store(spec) as store:
        summaries = make_registry(spec, store).models()
    if as_json:
        typer.echo(to_json(summaries))
    else:
        make_console().print(models_table(summaries, spec.metrics.primary))


@models_app.command("show")
@friendly
def models_show(
    name: str, spec_path: SpecOption = Path("loopml.yaml"), as_json: JsonOption = False
) -> None:
    """List every version of a model, its aliases and its alias history."""
    spec = load_spec(spec_path)
    with grid.open_store(spec) as store:
        registry = make_registry(spec, store)
        registry.require_model(name)
        versions = store.list_versions(name)
        aliases = store.list_aliases(name).get(name, {})
        events = store.list_events(name)
    if as_json:
        typer.echo(to_json({"versions": versions, "aliases": aliases, "events": events}))
        return
    console = make_console()
    console.print(versions_table(name, versions, aliases, spec.metrics.all))
    console.print(events_table(name, events))


@models_app.command("promote")
@friendly
def models_promote(
    name: str,
    version: int,
    spec_path: SpecOption = Path("loopml.yaml"),
    reason: Annotated[str, typer.Option(help="Why; kept in the history.")] = "promoted by hand",
) -> None:
    """Make VERSION the champion of NAME."""
    spec = load_spec(spec_path)
    with grid.open_store(spec) as store:
        event = make_registry(spec, store).promote(name, version, reason=reason)
    make_console().print(
        f"champion of {name}: v{event.from_version} -> [bold green]v{event.to_version}[/]"
    )


@models_app.command("rollback")
@friendly
def models_rollback(
    name: str,
    spec_path: SpecOption = Path("loopml.yaml"),
    reason: Annotated[str, typer.Option(help="Why; kept in the history.")] = "rolled back by hand",
) -> None:
    """Move the champion of NAME back to the version it held before."""
    spec = load_spec(spec_path)
    with grid.open_store(spec) as store:
        event = make_registry(spec, store).rollback(name, reason=reason)
    make_console().print(
        f"champion of {name}: v{event.from_version} -> [bold yellow]v{event.to_version}[/] "
        "(rolled back)"
    )
