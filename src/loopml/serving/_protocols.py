"""Request bodies of the three protocols turned into rows, and answers turned into JSON.

* loopml: ``{"rows": [{...}, ...]}`` (records) or ``{"columns": {"age": [...], ...}}``
* MLflow scoring: exactly one of ``dataframe_split``, ``dataframe_records``,
  ``instances``, ``inputs`` (or a ``text/csv`` body); answers ``{"predictions": [...]}``
* Open Inference Protocol (KServe v2): named input tensors, one per column
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from loopml.serving._inputs import InputRejected

__all__ = [
    "json_body",
    "loopml_rows",
    "mlflow_rows",
    "plain",
    "v2_datatype",
    "v2_rows",
]

_MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_V2_TYPES = {"FP64", "FP32", "INT64", "INT32", "BYTES", "BOOL"}


def json_body(body: bytes) -> Any:
    """Return the parsed JSON body; raise a 400 InputRejected on malformed JSON."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputRejected(f"the body is not valid JSON: {exc}", status=400) from exc


def loopml_rows(payload: Any) -> Any:
    """Return records or columns from a loopml ``predict`` body."""
    if not isinstance(payload, dict) or len({"rows", "columns"} & payload.keys()) != 1:
        raise InputRejected(
            'the body must be an object with exactly one of "rows" (a list of records) or '
            f'"columns" (an object of lists), but got {_shape(payload)}',
            status=400,
            field="rows",
        )
    return payload["rows"] if "rows" in payload else payload["columns"]


def mlflow_rows(body: bytes, content_type: str) -> Any:
    """Return records or columns from an MLflow ``invocations`` body (JSON or CSV)."""
    if content_type.split(";")[0].strip() == "text/csv":
        try:
            frame = pd.read_csv(io.BytesIO(body))
        except (ValueError, pd.errors.ParserError) as exc:
            raise InputRejected(f"the CSV body cannot be read: {exc}", status=400) from exc
        return {c: frame[c].tolist() for c in frame.columns}
    payload = json_body(body)
    given = [k for k in _MLFLOW_KEYS if isinstance(payload, dict) and k in payload]
    if len(given) != 1:
        raise InputRejected(
            "the body must have exactly one of "
            f"{', '.join(_MLFLOW_KEYS)}, but got {given or _shape(payload)}",
            status=400,
        )
    key = given[0]
    value = payload[key]
    if key == "dataframe_split":
        if not isinstance(value, dict) or "columns" not in value or "data" not in value:
            raise InputRejected('dataframe_split needs "columns" and "data"', status=400, field=key)
        return [dict(zip(value["columns"], row, strict=False)) for row in value["data"]]
    if key == "inputs" and isinstance(value, dict):
        return value
    return value


def v2_rows(payload: Any) -> dict[str, list[Any]]:
    """Return columns from a v2 ``infer`` body: one 1-D input tensor per column."""
    inputs = payload.get("inputs") if isinstance(payload, dict) else None
    if not isinstance(inputs, list) or not inputs:
        raise InputRejected('the body needs a non-empty "inputs" list', status=400, field="inputs")
    columns: dict[str, list[Any]] = {}
    for i, tensor in enumerate(inputs):
        if not isinstance(tensor, dict) or not {"name", "datatype", "data"} <= tensor.keys():
            raise InputRejected(
                f"inputs[{i}] needs name, datatype, shape and data", status=400, field="inputs"
            )
        if tensor["datatype"] not in _V2_TYPES:
            raise InputRejected(
                f"inputs[{i}] ({tensor['name']}): datatype must be one of "
                f"{', '.join(sorted(_V2_TYPES))}, but got {tensor['datatype']!r}",
                status=400,
                field=str(tensor["name"]),
            )
        data = tensor["data"]
        shape = tensor.get("shape", [len(data) if isinstance(data, list) else 1])
        flat = np.asarray(data, dtype=object).reshape(-1).tolist()
        if math.prod(shape) != len(flat) or (len(shape) == 2 and shape[1] != 1):
            raise InputRejected(
                f"inputs[{i}] ({tensor['name']}): shape {shape} does not fit one column of "
                f"{len(flat)} values",
                status=400,
                field=str(tensor["name"]),
            )
        columns[str(tensor["name"])] = flat
    return columns


def v2_datatype(values: np.ndarray) -> str:
    """Return the v2 datatype of an output array."""
    if values.dtype.kind == "b":
        return "BOOL"
    if values.dtype.kind in "iu":
        return "INT64"
    if values.dtype.kind == "f":
        return "FP64"
    return "BYTES"


def plain(value: Any) -> Any:
    """Return numpy values as JSON-ready Python values (NaN as None)."""
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _shape(payload: Any) -> str:
    if isinstance(payload, dict):
        return f"an object with keys {sorted(payload)}"
    return f"a {type(payload).__name__}"
