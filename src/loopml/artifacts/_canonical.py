"""Canonical bytes for a skops dump, so one fitted pipeline always gets one sha256.

skops stamps every zip member with the current time and names members and memo entries
after ``id()`` of the objects, so two dumps of the same pipeline (or of an identical one
refitted with the same seed in another process) differ byte for byte, and a
content-addressed store would never see the same content twice. The rewrite numbers the
memo ids and member files in the order the schema mentions them, fixes the timestamps and
writes the schema compactly (skops indents it, which triples its size for nothing).

What the rewrite cannot fix: a Python ``set`` inside a fitted object is written in hash
order, which changes between processes; such a pipeline still loads, under a new sha256.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

__all__ = ["CanonicalDump", "canonicalize"]

_SCHEMA = "schema.json"
# The skops layout this rewrite was checked against; another one is kept as skops wrote it.
_PROTOCOL = 2
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class CanonicalDump:
    """The bytes to store and the dotted type names the dump holds."""

    data: bytes
    type_names: frozenset[str]


def canonicalize(data: bytes) -> CanonicalDump:
    """Return ``data`` (a skops dump) rewritten in canonical form, with its type names."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        members = set(src.namelist())
        ids: dict[Any, int] = {}
        files: dict[str, str] = {}
        type_names: set[str] = set()

        def renumber(node: dict[str, Any]) -> dict[str, Any]:
            # Only skops nodes carry a loader; user dict keys live one level down, in "content".
            if "__loader__" not in node:
                return node
            type_names.add(f"{node.get('__module__')}.{node.get('__class__')}")
            saved_id = node.get("__id__")
            if isinstance(saved_id, int):
                node["__id__"] = ids.setdefault(saved_id, len(ids))
            file = node.get("file")
            if isinstance(file, str) and file in members:
                node["file"] = files.setdefault(file, f"{len(files)}{PurePosixPath(file).suffix}")
            return node

        schema = json.loads(src.read(_SCHEMA), object_hook=renumber)
        names = frozenset(type_names)
        if schema.get("protocol") != _PROTOCOL or set(files) != members - {_SCHEMA}:
            return CanonicalDump(data, names)

        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as dst:
            for old, new in files.items():
                dst.writestr(zipfile.ZipInfo(new, _EPOCH), src.read(old))
            compact = json.dumps(schema, separators=(",", ":"))
            dst.writestr(zipfile.ZipInfo(_SCHEMA, _EPOCH), compact)
    return CanonicalDump(out.getvalue(), names)
