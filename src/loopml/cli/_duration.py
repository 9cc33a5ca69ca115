"""Durations as people type them on the command line: 90s, 10m, 1h30m, 2d, or seconds."""

from __future__ import annotations

import typer

from loopml.spec import parse_seconds

__all__ = ["parse_duration"]


def parse_duration(text: str, *, option: str) -> float:
    """Return seconds; raise typer.BadParameter naming ``option`` when ``text`` is not one."""
    try:
        return parse_seconds(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None
