"""The `loopml` command: a thin layer over the Python API.

Exit codes: 0 ok, 1 cells failed in the run (or another loopml error), 2 bad usage or spec.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from loopml import grid
from loopml.artifacts import ArtifactStore
from loopml.cli._plan import build_plan, plan_table
from loopml.cli._scaffold import scaffold
from loopml.errors import LoopmlError
from loopml.grid import ChampionChange, RunResult, rank_cells, summarize_failures
from loopml.registry import CHAMPION, Registry
from loopml.spec import Spec, load_spec
from loopml.tracking import BaseStore, RunState
from loopml.ui import (
    ProgressObserver,
    events_table,
    leaderboard_table,
    models_table,
    runs_table,
    to_json,
    versions_table,
)

__all__ = ["app"]

app = typer.Typer(
    name="loopml",
    help="The ML loop in one install: d datasets x m models, tracked, registered, champions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="The registry: versions and the champion of each dataset.")
app.add_typer(models_app, name="models")

SpecOption = Annotated[
    Path,
    typer.Option("--spec", "-f", envvar="LOOPML_SPEC", help="The spec file (or its directory)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

F = TypeVar("F", bound=Callable[..., Any])


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _friendly(fn: F) -> F:
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


def _registry(spec: Spec, store: BaseStore) -> Registry:
    return Registry(store, ArtifactStore(spec.artifacts_dir))


@app.command()
@_friendly
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the project.")] = Path("."),
    name: Annotated[
        str | None, typer.Option(help="Pipeline name (default: the directory).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Create loopml.yaml and a small sample CSV to start from."""
    files = scaffold(directory, name=name, force=force)
    console = _console()
    for f in files:
        console.print(f"created {f}")
    console.print(f"next: cd {directory} && loopml validate && loopml plan && loopml run")


@app.command()
@_friendly
def validate(spec_path: SpecOption = Path("loopml.yaml"), as_json: JsonOption = False) -> None:
    """Check the spec and its data; touch nothing."""
    spec = load_spec(spec_path)
    datasets = grid.validate(spec)
    summary = {
        "spec": str(spec.file),
        "pipeline": spec.name,
        "datasets": {
            n: {"rows": d.n_rows, "features": d.X.shape[1], "task": d.task}
            for n, d in datasets.items()
        },
        "models": list(spec.models),
        "cells": len(datasets) * len(spec.models),
    }
    if as_json:
        typer.echo(to_json(summary))
        return
    console = _console()
    console.print(f"[green]valid[/]: {spec.display_file}")
    for n, d in datasets.items():
        console.print(f"  dataset {n}: {d.n_rows} rows x {d.X.shape[1]} features, {d.task}")
    console.print(
        f"  {len(datasets)} datasets x {len(spec.models)} models = {summary['cells']} cells"
    )


@app.command()
@_friendly
def plan(spec_path: SpecOption = Path("loopml.yaml"), as_json: JsonOption = False) -> None:
    """Show the grid before running it: d datasets x m models, and which cells are new."""
    spec = load_spec(spec_path)
    the_plan = build_plan(spec)
    if as_json:
        typer.echo(to_json(the_plan))
        return
    console = _console()
    console.print(plan_table(the_plan))
    console.print(the_plan.headline)


@app.command()
@_friendly
def run(
    spec_path: SpecOption = Path("loopml.yaml"),
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", help="Processes (default: cores; 1 = inline).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the grid, record every cell, register each dataset's champion."""
    spec = load_spec(spec_path)
    console = _console()
    observer = None if as_json else ProgressObserver(console)
    try:
        result = grid.run(spec, workers=workers, observer=observer)
    finally:
        if observer is not None:
            observer.stop()
    if as_json:
        typer.echo(to_json(_result_json(result)))
    else:
        _print_result(console, spec, result)
    if not result.ok:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"[red]{len(result.failed)} of {len(result.cells)} cells failed[/]:\n"
            + escape(summarize_failures(result.failed))
            + f"\nsee `loopml leaderboard --run {result.run_id[:12]}` and the tracebacks "
            "in the store"
        )
        raise typer.Exit(1)


def _result_json(result: RunResult) -> dict[str, Any]:
    return {
        "run_id": result.run_id,
        "state": result.run.state.value,
        "cells": result.cells,
        "champions": {
            d: {
                "name": c.name,
                "version": c.version.version,
                "changed": c.changed,
                "previous": c.previous,
            }
            for d, c in result.champions.items()
        },
    }


def _champion_key(result: RunResult, change: ChampionChange | None) -> str | None:
    if change is None:
        return None
    for cell in result.cells:
        if cell.cell_id == change.version.cell_id:
            return cell.key
    # An unchanged champion comes from an earlier run: the best cell is the same work.
    return result.leaderboard(change.dataset)[0].key


def _print_result(console: Console, spec: Spec, result: RunResult) -> None:
    metrics = spec.metrics.all
    for dataset in result.datasets:
        change = result.champions.get(dataset)
        console.print(
            leaderboard_table(
                f"{dataset}",
                result.leaderboard(dataset),
                metrics,
                champion_key=_champion_key(result, change),
            )
        )
    for change in result.champions.values():
        if change.changed:
            was = f" (was v{change.previous})" if change.previous is not None else ""
            console.print(f"champion {change.name}: [bold green]v{change.version.version}[/]{was}")
        else:
            console.print(f"champion {change.name}: v{change.version.version} (unchanged)")
    state = result.run.state
    color = "green" if state is RunState.COMPLETE else "red"
    console.print(f"run {result.run_id[:12]} [{color}]{state.value}[/]")


@app.command()
@_friendly
def runs(
    spec_path: SpecOption = Path("loopml.yaml"),
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """List the runs of this pipeline, newest first."""
    spec = load_spec(spec_path)
    with grid.open_store(spec) as store:
        records = store.list_runs(pipeline=spec.name, limit=limit)
    if as_json:
        typer.echo(to_json(records))
    else:
        _console().print(runs_table(records))


@app.command()
@_friendly
def leaderboard(
    spec_path: SpecOption = Path("loopml.yaml"),
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="One dataset.")] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="A run id (default: latest).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show the cells of the latest run (or --run), best first, per dataset."""
    spec = load_spec(spec_path)
    if dataset is not None and dataset not in spec.datasets:
        raise typer.BadParameter(
            f"no dataset {dataset!r} in the spec; datasets: {', '.join(spec.datasets)}",
            param_hint="--dataset",
        )
    with grid.open_store(spec) as store:
        if run_id is not None:
            record = store.get_run(run_id)
            if record is None:
                raise typer.BadParameter(
                    f"no run {run_id!r}; see `loopml runs`", param_hint="--run"
                )
        else:
            latest = store.list_runs(pipeline=spec.name, limit=1)
            if not latest:
                _console().print("no runs yet: `loopml run` first")
                return
            record = latest[0]
        cells = store.list_cells(run_id=record.run_id, dataset=dataset)
        champions: dict[str, str | None] = {}
        for d in spec.datasets:
            version = store.get_alias(spec.registered_name(d), CHAMPION)
            if version is not None:
                cell = store.get_cell(store.get_version(spec.registered_name(d), version).cell_id)
                champions[d] = cell.key if cell else None
    metrics = spec.metrics.all
    by_dataset: dict[str, list[Any]] = {}
    for cell in cells:
        by_dataset.setdefault(cell.dataset, []).append(cell)
    if as_json:
        typer.echo(
            to_json(
                {
                    "run_id": record.run_id,
                    "leaderboards": {d: rank_cells(c, metrics) for d, c in by_dataset.items()},
                }
            )
        )
        return
    console = _console()
    console.print(f"run {record.run_id[:12]} ({record.state.value})")
    for d, dcells in by_dataset.items():
        console.print(
            leaderboard_table(
                d, rank_cells(dcells, metrics), metrics, champion_key=champions.get(d)
            )
        )


@models_app.callback(invoke_without_command=True)
@_friendly
def models(
    ctx: typer.Context, spec_path: SpecOption = Path("loopml.yaml"), as_json: JsonOption = False
) -> None:
    """List registered models with their champion version."""
    if ctx.invoked_subcommand is not None:
        return
    spec = load_spec(spec_path)
    with grid.open_store(spec) as store:
        summaries = _registry(spec, store).models()
    if as_json:
        typer.echo(to_json(summaries))
    else:
        _console().print(models_table(summaries, spec.metrics.primary))


@models_app.command("show")
@_friendly
def models_show(
    name: str, spec_path: SpecOption = Path("loopml.yaml"), as_json: JsonOption = False
) -> None:
    """List every version of a model, its aliases and its alias history."""
    spec = load_spec(spec_path)
    with grid.open_store(spec) as store:
        registry = _registry(spec, store)
        registry.require_model(name)
        versions = store.list_versions(name)
        aliases = store.list_aliases(name).get(name, {})
        events = store.list_events(name)
    if as_json:
        typer.echo(to_json({"versions": versions, "aliases": aliases, "events": events}))
        return
    console = _console()
    console.print(versions_table(name, versions, aliases, spec.metrics.all))
    console.print(events_table(name, events))


@models_app.command("promote")
@_friendly
def models_promote(
    name: str,
    version: int,
    spec_path: SpecOption = Path("loopml.yaml"),
    reason: Annotated[str, typer.Option(help="Why; kept in the history.")] = "promoted by hand",
) -> None:
    """Make VERSION the champion of NAME."""
    spec = load_spec(spec_path)
    with grid.open_store(spec) as store:
        event = _registry(spec, store).promote(name, version, reason=reason)
    _console().print(
        f"champion of {name}: v{event.from_version} -> [bold green]v{event.to_version}[/]"
    )


@models_app.command("rollback")
@_friendly
def models_rollback(
    name: str,
    spec_path: SpecOption = Path("loopml.yaml"),
    reason: Annotated[str, typer.Option(help="Why; kept in the history.")] = "rolled back by hand",
) -> None:
    """Move the champion of NAME back to the version it held before."""
    spec = load_spec(spec_path)
    with grid.open_store(spec) as store:
        event = _registry(spec, store).rollback(name, reason=reason)
    _console().print(
        f"champion of {name}: v{event.from_version} -> [bold yellow]v{event.to_version}[/] "
        "(rolled back)"
    )
