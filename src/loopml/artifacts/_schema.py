"""What the raw input of a pipeline looked like in training, as JSON-safe values.

The tracking store keeps both outputs as JSON (PostgreSQL ``jsonb`` included), so every
value is ``None``, ``bool``, ``int``, ``float``, ``str`` or a list/dict of them: missing
values and non-finite floats (which strict JSON cannot hold) become ``None``, timestamps
ISO strings, column names strings.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = ["input_schema", "sample_rows"]

JsonScalar = None | bool | int | float | str
ColumnKind = Literal["numeric", "categorical", "boolean", "datetime"]


def input_schema(X: pd.DataFrame, *, max_levels: int = 1000) -> dict[str, Any]:
    """Return the columns of ``X`` in order, each with its kind, dtype, nulls and values seen.

    A categorical column lists its sorted levels, at most ``max_levels`` of them; a longer
    list is cut and marked ``levels_truncated``. Numeric and datetime columns give min/max.
    """
    if max_levels < 0:
        raise ValueError(f"max_levels must be >= 0, but got {max_levels}")
    columns = [_column(str(name), X.iloc[:, i], max_levels) for i, name in enumerate(X.columns)]
    return {"columns": columns}


def sample_rows(X: pd.DataFrame, n: int = 5) -> list[dict[str, Any]]:
    """Return the first ``n`` rows of ``X`` as dicts of JSON-safe values keyed by column name.

    The values are ``JsonScalar``; the rows are typed ``dict[str, Any]`` so that callers can
    keep them as any mapping of JSON values (``dict`` is invariant in its value type).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, but got {n}")
    names = [str(name) for name in X.columns]
    return [
        dict(zip(names, (_json_value(v) for v in row), strict=True))
        for row in X.head(n).itertuples(index=False, name=None)
    ]


def _kind(dtype: Any) -> ColumnKind:
    if ptypes.is_bool_dtype(dtype):
        return "boolean"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if ptypes.is_numeric_dtype(dtype) and not ptypes.is_complex_dtype(dtype):
        return "numeric"
    # object, str/string (the pandas 3 default for text), category and anything rarer
    return "categorical"


def _column(name: str, series: pd.Series[Any], max_levels: int) -> dict[str, Any]:
    kind = _kind(series.dtype)
    column: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "dtype": str(series.dtype),
        "nullable": bool(series.isna().any()),
    }
    if kind in ("numeric", "datetime"):
        column["min"] = _json_value(series.min())
        column["max"] = _json_value(series.max())
    elif kind == "categorical":
        # Keyed by type name too, so that an object column mixing types still sorts.
        seen = {
            (type(level).__name__, level)
            for level in map(_json_value, series.dropna().unique())
            if level is not None
        }
        column["levels"] = [level for _, level in heapq.nsmallest(max_levels, seen)]
        column["levels_truncated"] = len(seen) > max_levels
        column["n_levels"] = len(seen)
    return column


def _json_value(value: Any) -> JsonScalar:
    """Return ``value`` as a JSON-safe scalar: missing/non-finite -> None, time -> ISO string."""
    if isinstance(value, np.generic) and not isinstance(value, np.datetime64 | np.timedelta64):
        value = value.item()
    if value is None or (ptypes.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date | np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, dt.timedelta | np.timedelta64):
        return pd.Timedelta(value).isoformat()
    return str(value)
