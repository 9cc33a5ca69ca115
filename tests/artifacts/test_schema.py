from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopml.artifacts import input_schema, sample_rows


def _columns(X: pd.DataFrame, **options: Any) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in input_schema(X, **options)["columns"]}


def test_columns_keep_their_order() -> None:
    X = pd.DataFrame({"b": [1], "a": ["x"], "c": [True]})
    assert [c["name"] for c in input_schema(X)["columns"]] == ["b", "a", "c"]


def test_numeric_columns_give_their_range() -> None:
    X = pd.DataFrame({"price": [2.5, -1.0, 7.25], "count": np.array([3, 1, 2], dtype="int32")})
    columns = _columns(X)
    assert columns["price"] == {
        "name": "price",
        "kind": "numeric",
        "dtype": "float64",
        "nullable": False,
        "min": -1.0,
        "max": 7.25,
    }
    assert columns["count"]["dtype"] == "int32"
    assert (columns["count"]["min"], columns["count"]["max"]) == (1, 3)
    assert type(columns["count"]["min"]) is int


def test_missing_values_make_a_column_nullable() -> None:
    X = pd.DataFrame(
        {
            "gap": [1.0, np.nan, 3.0],
            "empty": [np.nan, np.nan, np.nan],
            "ints": pd.array([1, None, 3], dtype="Int64"),
            "text": ["a", None, "b"],
        }
    )
    columns = _columns(X)
    assert all(c["nullable"] for c in columns.values())
    assert (columns["gap"]["min"], columns["gap"]["max"]) == (1.0, 3.0)
    assert (columns["empty"]["min"], columns["empty"]["max"]) == (None, None)
    assert (columns["ints"]["kind"], columns["ints"]["dtype"]) == ("numeric", "Int64")
    assert columns["text"]["levels"] == ["a", "b"]


@pytest.mark.parametrize("dtype", ["str", "string", "object", "category"])
def test_text_columns_are_categorical_with_sorted_levels(dtype: str) -> None:
    X = pd.DataFrame({"city": pd.Series(["nice", "lyon", "nice", "paris"], dtype=dtype)})
    column = _columns(X)["city"]
    assert column == {
        "name": "city",
        "kind": "categorical",
        "dtype": str(X["city"].dtype),
        "nullable": False,
        "levels": ["lyon", "nice", "paris"],
        "levels_truncated": False,
        "n_levels": 3,
    }


def test_pandas_3_text_dtype_is_named_str() -> None:
    assert _columns(pd.DataFrame({"city": ["a"]}))["city"]["dtype"] == "str"


def test_category_lists_the_levels_seen_not_declared() -> None:
    tier = pd.Categorical(["gold", "gold"], categories=["bronze", "gold"])
    assert _columns(pd.DataFrame({"tier": tier}))["tier"]["levels"] == ["gold"]


def test_mixed_object_levels_sort_by_type_then_value() -> None:
    X = pd.DataFrame({"mixed": pd.Series(["b", 2, True, "a", 1.5, "a"], dtype=object)})
    assert _columns(X)["mixed"]["levels"] == [True, 1.5, 2, "a", "b"]


def test_long_level_lists_are_cut() -> None:
    X = pd.DataFrame({"id": [f"u{i:04d}" for i in range(1001)]})
    column = _columns(X)["id"]
    assert column["levels"] == [f"u{i:04d}" for i in range(1000)]
    assert (column["levels_truncated"], column["n_levels"]) == (True, 1001)
    assert _columns(X, max_levels=2)["id"]["levels"] == ["u0000", "u0001"]


def test_booleans_are_their_own_kind() -> None:
    X = pd.DataFrame({"flag": [True, False], "maybe": pd.array([True, None], dtype="boolean")})
    columns = _columns(X)
    assert columns["flag"] == {
        "name": "flag",
        "kind": "boolean",
        "dtype": "bool",
        "nullable": False,
    }
    assert (columns["maybe"]["kind"], columns["maybe"]["nullable"]) == ("boolean", True)


def test_datetimes_give_their_range_as_iso_strings() -> None:
    X = pd.DataFrame(
        {
            "day": pd.to_datetime(["2024-03-01", None, "2024-01-15"]),
            "at": pd.to_datetime(["2024-01-01T10:00:00Z", "2024-01-02T11:30:00Z", None]),
        }
    )
    columns = _columns(X)
    assert columns["day"] == {
        "name": "day",
        "kind": "datetime",
        "dtype": str(X["day"].dtype),
        "nullable": True,
        "min": "2024-01-15T00:00:00",
        "max": "2024-03-01T00:00:00",
    }
    assert columns["at"]["max"] == "2024-01-02T11:30:00+00:00"


def test_column_names_become_strings() -> None:
    X = pd.DataFrame({0: [1.0], 1: ["x"]})
    assert [c["name"] for c in input_schema(X)["columns"]] == ["0", "1"]
    assert sample_rows(X) == [{"0": 1.0, "1": "x"}]


def test_sample_rows_are_json_safe_python_values() -> None:
    X = pd.DataFrame(
        {
            "num": [1.5, np.nan, np.inf],
            "count": np.array([1, 2, 3], dtype="int64"),
            "ints": pd.array([1, None, 3], dtype="Int64"),
            "text": ["a", None, "c"],
            "tier": pd.Categorical(["gold", "silver", None]),
            "flag": np.array([True, False, True]),
            "day": pd.to_datetime(["2024-01-01 00:00", None, "2024-01-03 12:00"]),
            "wait": pd.to_timedelta(["1h", None, "90s"]),
        }
    )
    rows = sample_rows(X, n=2)
    assert rows == [
        {
            "num": 1.5,
            "count": 1,
            "ints": 1,
            "text": "a",
            "tier": "gold",
            "flag": True,
            "day": "2024-01-01T00:00:00",
            "wait": "P0DT1H0M0S",
        },
        {
            "num": None,
            "count": 2,
            "ints": None,
            "text": None,
            "tier": "silver",
            "flag": False,
            "day": None,
            "wait": None,
        },
    ]
    assert type(rows[0]["count"]) is int
    assert type(rows[0]["flag"]) is bool
    assert sample_rows(X)[2]["num"] is None  # inf has no strict-JSON form


def test_sample_rows_takes_at_most_n() -> None:
    X = pd.DataFrame({"a": range(10)})
    assert sample_rows(X) == [{"a": i} for i in range(5)]
    assert len(sample_rows(X, n=50)) == 10
    assert sample_rows(X, n=0) == []
    with pytest.raises(ValueError, match="n must be >= 0, but got -1"):
        sample_rows(X, n=-1)


def test_both_outputs_are_strict_json(frame: pd.DataFrame) -> None:
    X = frame.assign(
        day=pd.date_range("2024-01-01", periods=len(frame), freq="D"),
        wide=np.where(np.arange(len(frame)) == 3, -np.inf, 1.0),
    )
    schema, rows = input_schema(X), sample_rows(X)
    assert json.loads(json.dumps(schema, allow_nan=False)) == schema
    assert json.loads(json.dumps(rows, allow_nan=False)) == rows
    assert _columns(X)["wide"]["min"] is None
