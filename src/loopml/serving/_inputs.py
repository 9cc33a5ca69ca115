"""Request rows checked against a model's input schema, as the DataFrame its pipeline takes.

The schema is the artifact's ``input_schema`` (:func:`loopml.artifacts.input_schema`): its
columns in training order, each with a kind (numeric, categorical, boolean, datetime), the
training dtype, whether nulls were seen, and the categorical levels. Every rejection is an
:class:`InputRejected` carrying the HTTP status a server should answer with and the field
at fault, so that a bad request never reaches ``pipeline.predict``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopml.errors import LoopmlError

__all__ = ["CheckedRows", "InputRejected", "accepts_unknown_categories", "check_rows", "rows_frame"]

_MISSING = object()


class InputRejected(LoopmlError):
    """The request's rows break the model's input schema; nothing was predicted.

    ``status`` is the HTTP status to answer with (400 malformed, 413 too many rows, 422 a
    value breaks a rule) and ``field`` the column at fault, when there is one.
    """

    def __init__(self, message: str, *, status: int = 422, field: str | None = None) -> None:
        if status not in (400, 413, 422):
            raise ValueError(f"status must be 400, 413 or 422, but got {status}")
        self.status = status
        self.field = field
        super().__init__(message)


def accepts_unknown_categories(pipeline: Any) -> bool:
    """Return True when every category encoder of the fitted pipeline takes unseen levels.

    That is a OneHotEncoder with ``handle_unknown`` 'ignore' or 'infrequent_if_exist', an
    OrdinalEncoder with 'use_encoded_value', or a TargetEncoder (which always does). With
    no encoder in sight the answer is False: unknown levels are then refused up front
    rather than risked inside ``predict``.
    """
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, TargetEncoder

    parts = [pipeline]
    if hasattr(pipeline, "get_params"):
        parts.extend(pipeline.get_params(deep=True).values())
    verdicts = []
    for part in parts:
        if isinstance(part, OneHotEncoder):
            verdicts.append(part.handle_unknown in ("ignore", "infrequent_if_exist"))
        elif isinstance(part, OrdinalEncoder):
            verdicts.append(part.handle_unknown == "use_encoded_value")
        elif isinstance(part, TargetEncoder):
            verdicts.append(True)
    return bool(verdicts) and all(verdicts)


@dataclass(frozen=True)
class CheckedRows:
    """A request's rows after the schema check: the frame to predict, and the values logged.

    ``columns`` holds each column's checked values as plain Python (missing as NaN,
    date-times as Timestamps), in schema order; :meth:`records` turns them into the
    JSON-ready rows the prediction log keeps, without a round trip through pandas.
    """

    frame: pd.DataFrame
    columns: Mapping[str, list[Any]]

    def __len__(self) -> int:
        return len(self.frame)

    def records(self) -> list[dict[str, Any]]:
        """Return one JSON-ready ``{column: value}`` per row (NaN as None, ISO date-times)."""
        names = list(self.columns)
        values = [[_json_value(v) for v in column] for column in self.columns.values()]
        return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def rows_frame(
    payload_rows: list[dict[str, Any]] | dict[str, list[Any]],
    schema: Mapping[str, Any],
    *,
    allow_extra: bool = False,
    max_rows: int = 10_000,
    unknown_categories_ok: bool = False,
) -> pd.DataFrame:
    """Return the request's rows as a DataFrame in schema order and dtypes, ready to predict.

    The same checks as :func:`check_rows`, which also keeps the checked values.
    """
    return check_rows(
        payload_rows,
        schema,
        allow_extra=allow_extra,
        max_rows=max_rows,
        unknown_categories_ok=unknown_categories_ok,
    ).frame


def check_rows(
    payload_rows: list[dict[str, Any]] | dict[str, list[Any]],
    schema: Mapping[str, Any],
    *,
    allow_extra: bool = False,
    max_rows: int = 10_000,
    unknown_categories_ok: bool = False,
) -> CheckedRows:
    """Return the request's rows checked against ``schema``, as a frame ready to predict.

    ``payload_rows`` is records (``[{"age": 31, ...}, ...]``) or columnar
    (``{"age": [31, ...], ...}``). Numeric columns come back float64, categorical object
    (missing as NaN, which imputers recognise), boolean bool, datetime datetime64.
    Raises InputRejected (413 over ``max_rows``, 400 malformed, 422 for a broken rule).
    Unknown categorical levels are refused unless ``unknown_categories_ok`` (see
    :func:`accepts_unknown_categories`) or the schema's level list was truncated.
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be >= 1, but got {max_rows}")
    columns: Sequence[Mapping[str, Any]] = schema["columns"]
    names = [str(c["name"]) for c in columns]
    raw = _columnar(payload_rows, names, max_rows=max_rows)
    extra = sorted(set(raw) - set(names))
    if extra and not allow_extra:
        raise InputRejected(
            f"unexpected column(s) {', '.join(map(repr, extra))}: the model takes only "
            f"{', '.join(map(repr, names))}. Remove them",
            field=extra[0],
        )
    checked = {
        name: _check(c, raw[name], unknown_categories_ok)
        for c, name in zip(columns, names, strict=True)
    }
    return CheckedRows(_frame(columns, names, checked), checked)


def _frame(
    columns: Sequence[Mapping[str, Any]], names: list[str], checked: Mapping[str, list[Any]]
) -> pd.DataFrame:
    if all(c["kind"] == "numeric" for c in columns):
        # One float block: several times cheaper to build, and to select columns from,
        # than one array per column (the common all-numeric model, on every request).
        block = np.array([checked[name] for name in names], dtype=np.float64).T
        return pd.DataFrame(block, columns=names)
    data = {name: _array(c, checked[name]) for c, name in zip(columns, names, strict=True)}
    return pd.DataFrame(data, columns=names)


def _columnar(payload: Any, names: Sequence[str], *, max_rows: int) -> dict[str, list[Any]]:
    """Return ``{column: values}`` from records or columns; missing columns are refused."""
    if isinstance(payload, Mapping):
        lengths = {}
        for key, values in payload.items():
            if not isinstance(values, list):
                raise InputRejected(
                    f"column {key!r} must be a list of values (columnar rows), but got "
                    f"{type(values).__name__}",
                    status=400,
                    field=str(key),
                )
            lengths[str(key)] = len(values)
        n = max(lengths.values(), default=0)
        _check_size(n, max_rows)
        if len(set(lengths.values())) > 1:
            raise InputRejected(
                "every column must hold the same number of rows, but got "
                + ", ".join(f"{k}={v}" for k, v in lengths.items()),
                status=400,
            )
        missing = [name for name in names if name not in payload]
        if missing:
            raise InputRejected(
                f"missing column(s) {', '.join(map(repr, missing))}: the model needs every "
                f"one of {', '.join(map(repr, names))}",
                field=missing[0],
            )
        return {str(k): v for k, v in payload.items()}
    if not isinstance(payload, list):
        raise InputRejected(
            "rows must be a list of records or a mapping of column -> list, but got "
            f"{type(payload).__name__}",
            status=400,
        )
    _check_size(len(payload), max_rows)
    out: dict[str, list[Any]] = {name: [] for name in names}
    for i, row in enumerate(payload):
        if not isinstance(row, Mapping):
            raise InputRejected(
                f"row {i} must be an object of column -> value, but got {type(row).__name__}",
                status=400,
            )
        for name in names:
            value = row.get(name, _MISSING)
            if value is _MISSING:
                raise InputRejected(
                    f"row {i} is missing column {name!r}: the model needs every one of "
                    f"{', '.join(map(repr, names))} (send null for a missing value)",
                    field=name,
                )
            out[name].append(value)
        for key in row:
            if str(key) not in out:
                out[str(key)] = []
    return out


def _check_size(n: int, max_rows: int) -> None:
    if n == 0:
        raise InputRejected("the batch is empty: send at least one row")
    if n > max_rows:
        raise InputRejected(
            f"the batch has {n} rows, more than the limit of {max_rows}: split it",
            status=413,
        )


def _check(column: Mapping[str, Any], values: list[Any], unknown_ok: bool) -> list[Any]:
    """Return the column's values checked and converted (missing as NaN); raise if one breaks."""
    name = str(column["name"])
    kind = column["kind"]
    nullable = bool(column.get("nullable", False))
    levels = None
    if kind == "categorical" and not unknown_ok and not column.get("levels_truncated", False):
        levels = set(column.get("levels") or ())
    out: list[Any] = []
    for i, value in enumerate(values):
        if isinstance(value, np.generic):
            value = value.item()
        if value is None or (kind != "numeric" and _is_nan(value)):
            if not nullable:
                raise InputRejected(
                    f"column {name!r} may not be null (it had no missing values in "
                    f"training), but row {i} is null. Send a value",
                    field=name,
                )
            out.append(np.nan)
            continue
        if kind == "numeric":
            out.append(_number(name, i, value, nullable))
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise _wrong_type(name, i, value, "true or false")
            out.append(value)
        elif kind == "datetime":
            out.append(_timestamp(name, i, value))
        else:
            if not isinstance(value, str | int | float | bool):
                raise _wrong_type(name, i, value, "a string or number")
            if levels is not None and value not in levels:
                shown = sorted(map(str, levels))
                raise InputRejected(
                    f"column {name!r} got unknown category {value!r} in row {i}; the model "
                    f"knows only {', '.join(map(repr, shown[:20]))}"
                    + (", ..." if len(shown) > 20 else ""),
                    field=name,
                )
            out.append(value)
    return out


def _array(column: Mapping[str, Any], out: list[Any]) -> Any:
    """Return checked values as the column the pipeline was trained on."""
    kind = column["kind"]
    # numpy arrays, not Series: building one DataFrame from arrays is several times
    # cheaper per request than from Series
    if kind == "numeric":
        return np.asarray(out, dtype=np.float64)
    if kind == "boolean":
        return np.asarray(out, dtype=bool if not any(v is np.nan for v in out) else object)
    if kind == "datetime":
        return _datetimes(out, str(column.get("dtype", "")))
    # a Series keeps the object dtype (pandas would infer its `str` dtype from an array)
    return pd.Series(out, dtype="object")


def _number(name: str, i: int, value: Any, nullable: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _wrong_type(name, i, value, "a number")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise _wrong_type(name, i, value, "a number") from None
    if math.isinf(number):
        # Even a nullable column refuses infinity: imputers fill NaN, not inf.
        raise InputRejected(
            f"column {name!r} must be a finite number, but row {i} is {value!r}", field=name
        )
    if math.isnan(number) and not nullable:
        raise InputRejected(
            f"column {name!r} may not be missing (it had no missing values in training), "
            f"but row {i} is {value!r}. Send a finite number",
            field=name,
        )
    return number


def _timestamp(name: str, i: int, value: Any) -> pd.Timestamp:
    if not isinstance(value, str):
        raise _wrong_type(name, i, value, "an ISO 8601 date-time string")
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise _wrong_type(name, i, value, "an ISO 8601 date-time string") from None
    if pd.isna(stamp):
        raise _wrong_type(name, i, value, "an ISO 8601 date-time string")
    return stamp


def _datetimes(values: list[Any], dtype: str) -> pd.Series[Any]:
    """Return the timestamps in the training dtype: its unit, and its zone (naive as UTC)."""
    stamps = [
        v if v is np.nan else (v.tz_convert("UTC") if v.tzinfo else v.tz_localize("UTC"))
        for v in values
    ]
    series = pd.to_datetime(pd.Series(stamps, dtype="object"), utc=True)
    if "," in dtype:  # "datetime64[ns, UTC]"
        series = series.dt.tz_convert(dtype.split(",", 1)[1].strip(" ]"))
    else:
        series = series.dt.tz_localize(None)
    try:
        return series.astype(pd.api.types.pandas_dtype(dtype))
    except (TypeError, ValueError):  # a dtype string this pandas does not parse
        return series


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _wrong_type(name: str, i: int, value: Any, wanted: str) -> InputRejected:
    return InputRejected(
        f"column {name!r} must be {wanted}, but row {i} is {value!r} ({type(value).__name__})",
        field=name,
    )
