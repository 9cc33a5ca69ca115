"""Plain JSON for `--json`: records as dicts, enums as values, times as ISO 8601."""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = ["to_json", "to_plain"]


def to_plain(obj: Any) -> Any:
    """Return ``obj`` as JSON-ready builtins."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, Mapping):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_plain(v) for v in obj]
    return obj


def to_json(obj: Any) -> str:
    return json.dumps(to_plain(obj), indent=2, default=str)
