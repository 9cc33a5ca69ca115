"""Durations as people type them: 90s, 10m, 1h30m, 2h, or plain seconds."""

from __future__ import annotations

import re

import typer

__all__ = ["parse_duration"]

_PART = re.compile(r"(\d+(?:\.\d+)?)([hms])")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str, *, option: str) -> float:
    """Return seconds; raise typer.BadParameter naming ``option`` when ``text`` is not one."""
    value = text.strip().lower()
    try:
        seconds = float(value)
    except ValueError:
        parts = _PART.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise typer.BadParameter(
                f"a duration looks like 90s, 10m or 1h30m, but got {text!r}", param_hint=option
            ) from None
        seconds = sum(float(n) * _UNIT[u] for n, u in parts)
    if seconds <= 0:
        raise typer.BadParameter(f"must be > 0, but got {text!r}", param_hint=option)
    return seconds
