"""Durations as people type them: 90s, 10m, 1h30m, 2d, or plain seconds."""

from __future__ import annotations

import re

__all__ = ["parse_seconds"]

_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_UNIT = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_seconds(text: str | float) -> float:
    """Return the seconds ``text`` spells; raise ValueError (saying the form) if it is none."""
    if isinstance(text, bool):
        raise ValueError(f"a duration looks like 90s, 10m, 1h30m or 2d, but got {text!r}")
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        value = text.strip().lower()
        try:
            seconds = float(value)
        except ValueError:
            parts = _PART.findall(value)
            if not parts or "".join(n + u for n, u in parts) != value:
                raise ValueError(
                    f"a duration looks like 90s, 10m, 1h30m or 2d, but got {text!r}"
                ) from None
            seconds = sum(float(n) * _UNIT[u] for n, u in parts)
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"a duration must be > 0 and finite, but got {text!r}")
    return seconds
