"""Commands that set up and run a project: init, validate, plan, run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from loopml import grid
from loopml.cli._app import (
    ExecutorOption,
    JsonOption,
    SpecOption,
    WorkersOption,
    app,
    friendly,
    make_console,
)
from loopml.cli._duration import parse_duration
from loopml.cli._scaffold import scaffold
from loopml.data import Dataset
from loopml.executors import check_executor, default_workers
from loopml.grid import ChampionChange, RunResult, summarize_failures
from loopml.spec import Spec, load_spec
from loopml.tracking import RunState
from loopml.ui import (
    ProgressObserver,
    leaderboard_table,
    plan_table,
    to_json,
    to_plain,
)


@app.command()
@friendly
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the project.")] = Path("."),
    name: Annotated[
        str | None, typer.Option(help="Pipeline name (default: the directory).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Create loopml.yaml and a small sample CSV to start from."""
    files = scaffold(directory, name=name, force=force)
    console = make_console()
    for f in files:
        console.print(f"created {f}")
    console.print(f"next: cd {directory} && loopml validate && loopml plan && loopml run")


@app.command()
@friendly
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
    console = make_console()
    console.print(f"[green]valid[/]: {spec.display_file}")
    for n, d in datasets.items():
        console.print(f"  dataset {n}: {d.n_rows} rows x {d.X.shape[1]} features, {d.task}")
    console.print(
        f"  {len(datasets)} datasets x {len(spec.models)} models = {summary['cells']} cells"
    )


@app.command()
@friendly
def plan(
    spec_path: SpecOption = Path("loopml.yaml"),
    workers: WorkersOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the cost before it is spent: d x m x t trials, what is cached, an estimated time."""
    spec = load_spec(spec_path)
    the_plan = _plan(spec, workers)
    if as_json:
        typer.echo(to_json({**to_plain(the_plan), "headline": the_plan.headline}))
        return
    console = make_console()
    console.print(plan_table(the_plan))
    console.print(the_plan.headline)
    console.print(f"estimate confidence: {the_plan.confidence} ({the_plan.basis})")


def _plan(
    spec: Spec,
    workers: int | None,
    *,
    force_all: bool = False,
    calibration: float = 1.0,
    datasets: dict[str, Dataset] | None = None,
) -> grid.RunPlan:
    datasets = datasets if datasets is not None else grid.validate(spec)
    # plan never creates the store: with none yet, there is no history to use
    exists = spec.store is not None or (spec.state_dir / "loopml.db").exists()
    store = grid.open_store(spec) if exists else None
    try:
        return grid.build_plan(
            spec,
            datasets,
            store,
            workers=default_workers() if workers is None else workers,
            force_all=force_all,
            calibration_seconds=calibration,
        )
    finally:
        if store is not None:
            store.close()


@app.command()
@friendly
def run(
    spec_path: SpecOption = Path("loopml.yaml"),
    workers: WorkersOption = None,
    executor: ExecutorOption = None,
    force: Annotated[bool, typer.Option("--force", help="Recompute everything.")] = False,
    force_dataset: Annotated[
        list[str] | None, typer.Option("--force-dataset", help="Recompute this dataset's cells.")
    ] = None,
    force_model: Annotated[
        list[str] | None, typer.Option("--force-model", help="Recompute this model's cells.")
    ] = None,
    budget: Annotated[
        str | None,
        typer.Option(help="Stop starting work after this long: 90s, 10m, 1h30m."),
    ] = None,
    max_trials: Annotated[
        int | None, typer.Option("--max-trials", min=1, help="Start at most this many trials.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the grid (only what is not cached), record every trial, register champions."""
    if executor is not None:
        check_executor(executor, where="--executor")
    spec = load_spec(spec_path)
    for name, known, option in (
        (force_dataset or [], spec.datasets, "--force-dataset"),
        (force_model or [], spec.models, "--force-model"),
    ):
        unknown = [n for n in name if n not in known]
        if unknown:
            raise typer.BadParameter(
                f"{unknown[0]!r} is not in the spec; choose from {', '.join(known)}",
                param_hint=option,
            )
    budget_seconds = parse_duration(budget, option="--budget") if budget else None
    # `run` records its plan to compare later; it calibrates briefly to start sooner.
    datasets = grid.validate(spec)
    the_plan = _plan(spec, workers, force_all=force, calibration=0.25, datasets=datasets)
    console = make_console()
    if not as_json:
        console.print(the_plan.headline, soft_wrap=True)
    observer = None if as_json else ProgressObserver(console)
    try:
        result = grid.run(
            spec,
            datasets=datasets,
            workers=workers,
            executor=executor,
            observer=observer,
            force=grid.Force(force, tuple(force_dataset or ()), tuple(force_model or ())),
            budget_seconds=budget_seconds,
            max_trials=max_trials,
            estimate=the_plan.as_estimate(),
        )
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
        "trials_run": len(result.trials),
        "trials_cached": result.cached,
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
    color = {RunState.COMPLETE: "green", RunState.STOPPED: "yellow"}.get(state, "red")
    console.print(
        f"run {result.run_id[:12]} [{color}]{state.value}[/]: {len(result.trials)} trials run, "
        f"{result.cached} cached"
    )
    if state is RunState.STOPPED:
        console.print("the budget is spent: `loopml run` again continues where this one stopped")
