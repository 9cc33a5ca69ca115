"""Commands that look back: runs, runs show, leaderboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from loopml import grid
from loopml.cli._app import (
    JsonOption,
    SpecOption,
    app,
    friendly,
    make_console,
    runs_app,
)
from loopml.estimate import format_duration
from loopml.grid import rank_cells
from loopml.registry import CHAMPION
from loopml.spec import load_spec
from loopml.ui import (
    leaderboard_table,
    run_detail_table,
    runs_table,
    to_json,
)


@runs_app.callback(invoke_without_command=True)
@friendly
def runs(
    ctx: typer.Context,
    spec_path: SpecOption = Path("loopml.yaml"),
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """List the runs of this pipeline, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    spec = load_spec(spec_path)
    with grid.open_store(spec) as store:
        records = store.list_runs(pipeline=spec.name, limit=limit)
    if as_json:
        typer.echo(to_json(records))
    else:
        make_console().print(runs_table(records))


@runs_app.command("show")
@friendly
def runs_show(
    run_id: Annotated[str, typer.Argument(help="A run id or a unique prefix (6+ chars).")],
    spec_path: SpecOption = Path("loopml.yaml"),
    as_json: JsonOption = False,
) -> None:
    """Show one run: lineage, its trials, and the plan's estimate against what happened."""
    spec = load_spec(spec_path)
    with grid.open_store(spec) as store:
        record = store.get_run(run_id)
        if record is None:
            raise typer.BadParameter(f"no run {run_id!r}; see `loopml runs`", param_hint="RUN_ID")
        trials = store.list_trials(run_id=record.run_id)
    actual = (
        (record.finished_at - record.started_at).total_seconds() if record.finished_at else None
    )
    estimated = float(record.estimate["seconds"]) if record.estimate else None
    if as_json:
        typer.echo(to_json({"run": record, "trials": trials, "actual_seconds": actual}))
        return
    console = make_console()
    lineage = record.lineage
    console.print(
        f"run {record.run_id} [bold]{record.state.value}[/]  pipeline {record.pipeline}  "
        f"workers {record.workers}\n"
        f"spec {lineage.spec_hash[:12]}  loopml {lineage.loopml_version}  "
        f"python {lineage.python_version}  git {lineage.git_commit or '-'}\n"
        + "  ".join(f"{k} {v}" for k, v in lineage.packages.items()),
        soft_wrap=True,
    )
    console.print(run_detail_table(record, trials))
    if actual is None:
        console.print("not finished")
    elif estimated is None or not estimated:
        console.print(f"took {format_duration(actual)} (no estimate was recorded)")
    else:
        console.print(
            f"estimated {format_duration(estimated)}, took {format_duration(actual)}: "
            f"actual/estimate = {actual / estimated:.2f} "
            f"(confidence was {record.estimate.get('confidence', '?') if record.estimate else '?'})"
        )


@app.command()
@friendly
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
                make_console().print("no runs yet: `loopml run` first")
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
    console = make_console()
    console.print(f"run {record.run_id[:12]} ({record.state.value})")
    for d, dcells in by_dataset.items():
        console.print(
            leaderboard_table(
                d, rank_cells(dcells, metrics), metrics, champion_key=champions.get(d)
            )
        )
