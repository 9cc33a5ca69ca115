"""`loopml monitor`: is each champion still healthy? Exit code 3 when one is not."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from loopml import grid
from loopml.cli._app import (
    JsonOption,
    SpecOption,
    app,
    friendly,
    make_console,
    make_registry,
    model_names,
)
from loopml.cli._duration import parse_window
from loopml.policy import Health, check_health, record_health
from loopml.spec import load_spec
from loopml.ui import health_view, to_json

ALERT_EXIT_CODE = 3


@app.command()
@friendly
def monitor(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Registered models to check (default: every champion of the pipeline).",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    spec_path: SpecOption = Path("loopml.yaml"),
    window: Annotated[
        str | None,
        typer.Option(
            "--window",
            help="The last N served rows (1000) or a time span (90m, 24h, 7d); "
            "default: the spec's monitor.window.",
            metavar="ROWS|SPAN",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Also write a self-contained HTML page with plots to this file.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check drift and realized performance of each champion; record the check.

    Exit code 0 when no model has an alert, 3 when one has, so cron and CI can act.
    """
    spec = load_spec(spec_path)
    span = spec.monitor.window if window is None else parse_window(window, option="--window")
    with grid.open_store(spec) as store:
        registry = make_registry(spec, store)
        targets = model_names(spec, registry, names)
        healths = []
        for name in targets:
            health = check_health(spec, registry, name, window=span)
            record_health(registry, health)
            healths.append(health)
        if html is not None:
            # The report's charts load matplotlib: only when a report is asked for.
            from loopml.ui import gather_report, write_report

            write_report(html, [gather_report(registry, h, window=span) for h in healths])
    _show(healths, as_json=as_json, html=html)
    if any(h.alert for h in healths):
        raise typer.Exit(ALERT_EXIT_CODE)


def _show(healths: list[Health], *, as_json: bool, html: Path | None) -> None:
    if as_json:
        typer.echo(to_json([h.to_json() for h in healths]))
        return
    console = make_console()
    if not healths:
        console.print("no champion to monitor yet: `loopml run` registers them")
    for health in healths:
        console.print(health_view(health))
        console.print()
    if html is not None:
        console.print(f"report written to {escape(str(html))}")
