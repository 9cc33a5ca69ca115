"""Durations and windows as people type them on the command line: 90s, 10m, 1h30m, 2d, 1000."""

from __future__ import annotations

import typer

from loopml.spec import parse_seconds

__all__ = ["parse_duration", "parse_window"]


def parse_duration(text: str, *, option: str) -> float:
    """Return seconds; raise typer.BadParameter naming ``option`` when ``text`` is not one."""
    try:
        return parse_seconds(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def parse_window(text: str, *, option: str) -> int | float:
    """Return a window: rows (an int) for ``1000``, seconds (a float) for ``24h``.

    Raise typer.BadParameter naming ``option`` when ``text`` is neither.
    """
    if text.strip().isdigit():
        rows = int(text)
        if rows < 1:
            raise typer.BadParameter(
                f"a window is a number of rows >= 1 or a time span such as 24h, but got {text!r}",
                param_hint=option,
            )
        return rows
    return parse_duration(text, option=option)
