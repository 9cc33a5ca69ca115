"""Resolve ``package.module.Name`` (or ``package.module:Name``) import paths."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["import_object"]


def import_object(path: str) -> Any:
    """Return the object at ``path``; raise ImportError saying which part did not resolve."""
    if ":" in path:
        module_name, _, attr_path = path.partition(":")
        module = importlib.import_module(module_name)
        return _getattr_path(module, attr_path, path)
    parts = path.split(".")
    # Try the longest importable module prefix, then walk attributes.
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and not module_name.startswith(exc.name):
                raise  # the module exists but one of *its* imports is missing
            continue
        return _getattr_path(module, ".".join(parts[cut:]), path)
    raise ImportError(f"no module named {parts[0]!r}")


def _getattr_path(obj: Any, attr_path: str, full: str) -> Any:
    for attr in attr_path.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise ImportError(
                f"{getattr(obj, '__name__', obj)!r} has no attribute {attr!r}"
            ) from None
    return obj
