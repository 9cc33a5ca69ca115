"""`loopml update`, `loopml watch` and `loopml history`: update_if_needed, and its record."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from loopml import grid
from loopml.cli._app import (
    JsonOption,
    SpecOption,
    WorkersOption,
    app,
    friendly,
    make_console,
    make_registry,
    model_names,
)
from loopml.cli._duration import parse_duration
from loopml.policy import UpdateOutcome, dataset_of, timeline, update_model
from loopml.spec import Spec, load_spec
from loopml.ui import ProgressObserver, timeline_table, to_json, update_table

NamesArgument = Annotated[
    list[str] | None,
    typer.Argument(help="Registered models (<pipeline>.<dataset>); default: every champion."),
]


def _update_all(
    spec: Spec, names: list[str] | None, *, force: bool, workers: int | None, quiet: bool
) -> list[UpdateOutcome]:
    with grid.open_store(spec) as store:
        registry = make_registry(spec, store)
        for name in names or ():
            dataset_of(spec, name)  # a model of another pipeline is refused before any work
        outcomes = []
        for name in model_names(spec, registry, names):
            observer = None if quiet else ProgressObserver(make_console())
            try:
                outcomes.append(
                    update_model(
                        spec, registry, name, force=force, workers=workers, observer=observer
                    )
                )
            finally:
                if observer is not None:
                    observer.stop()
        return outcomes


@app.command()
@friendly
def update(
    names: NamesArgument = None,
    spec_path: SpecOption = Path("loopml.yaml"),
    force: Annotated[
        bool, typer.Option("--force", help="Retrain whatever the triggers and cooldown say.")
    ] = False,
    workers: WorkersOption = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate the update policy once: retrain, challenge and promote, or say why not.

    Cron-able: each decision is recorded with its reasons (see `loopml history NAME`).
    Exits 1 if a retrain failed.
    """
    spec = load_spec(spec_path)
    outcomes = _update_all(spec, names, force=force, workers=workers, quiet=as_json)
    if as_json:
        typer.echo(to_json([o.to_json() for o in outcomes]))
    else:
        make_console().print(update_table(outcomes))
    if any(o.action == "failed" for o in outcomes):
        raise typer.Exit(1)


@app.command()
@friendly
def watch(
    names: NamesArgument = None,
    spec_path: SpecOption = Path("loopml.yaml"),
    every: Annotated[str, typer.Option(help="Time between updates: 90s, 10m, 1h.")] = "10m",
    rounds: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many updates (default: never).")
    ] = None,
    workers: WorkersOption = None,
) -> None:
    """Run `loopml update` on an interval until stopped (Ctrl-C)."""
    seconds = parse_duration(every, option="--every")
    console = make_console()
    done = 0
    try:
        while True:
            # the spec is read again each round: a changed policy applies without a restart
            spec = load_spec(spec_path)
            console.print(
                update_table(_update_all(spec, names, force=False, workers=workers, quiet=False))
            )
            done += 1
            if rounds is not None and done >= rounds:
                return
            console.print(f"[dim]next update in {every}; Ctrl-C stops[/]")
            time.sleep(seconds)
    except KeyboardInterrupt:
        console.print("stopped")


@app.command()
@friendly
def history(
    name: str, spec_path: SpecOption = Path("loopml.yaml"), as_json: JsonOption = False
) -> None:
    """Show a model's timeline: trained, drift seen, retrained, promoted, rolled back, why."""
    spec = load_spec(spec_path)
    with grid.open_store(spec) as store:
        make_registry(spec, store).require_model(name)
        entries = timeline(store, name)
    if as_json:
        typer.echo(to_json(entries))
    else:
        make_console().print(timeline_table(name, entries))
