"""`loopml report`: the leaderboards, charts and timelines in one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from loopml import grid
from loopml.cli._app import SpecOption, app, friendly, make_console, make_registry
from loopml.spec import load_spec


@app.command()
@friendly
def report(
    spec_path: SpecOption = Path("loopml.yaml"),
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The HTML file to write.", dir_okay=False)
    ] = Path("report.html"),
) -> None:
    """Write one HTML file to attach to a ticket or mail: it loads nothing, works offline."""
    from loopml.ui.web import write_pipeline_report

    spec = load_spec(spec_path)
    with grid.open_store(spec) as store:
        write_pipeline_report(out, spec, make_registry(spec, store))
    make_console().print(f"report written to {escape(str(out))}")
