"""Request rows are checked against the input schema and shaped for pipeline.predict."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from loopml.artifacts import input_schema
from loopml.serving._inputs import InputRejected, accepts_unknown_categories, rows_frame


def _training_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [31.0, np.nan, 52.0, 40.0],
            "tickets": [0, 2, 1, 3],
            "plan": ["basic", "pro", None, "team"],
            "active": [True, False, True, True],
            "seen": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]),
        }
    )


SCHEMA = input_schema(_training_frame())
ROW: dict[str, Any] = {
    "age": 30,
    "tickets": 1,
    "plan": "pro",
    "active": True,
    "seen": "2024-05-01T12:00:00",
}


def _pipeline(handle_unknown: str) -> Pipeline:
    X = _training_frame()[["age", "tickets", "plan"]]
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["age", "tickets"]),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown=handle_unknown),
                ),
                ["plan"],
            ),
        ]
    )
    return make_pipeline(pre, LogisticRegression()).fit(X, [0, 1, 0, 1])


def test_records_and_columns_give_the_same_frame() -> None:
    records = rows_frame([ROW, {**ROW, "age": None, "plan": None}], SCHEMA)
    columns = rows_frame({k: [v, v] for k, v in ROW.items()} | {"age": [30, None]}, SCHEMA)
    assert list(records.columns) == ["age", "tickets", "plan", "active", "seen"]
    assert records.dtypes.astype(str).tolist() == [
        "float64",
        "float64",
        "object",
        "bool",
        SCHEMA["columns"][4]["dtype"],
    ]
    assert math.isnan(records["age"][1]) and math.isnan(records["plan"][1])
    assert records["seen"][0] == pd.Timestamp("2024-05-01T12:00:00")
    pd.testing.assert_series_equal(records["age"], columns["age"])
    pd.testing.assert_frame_equal(records.iloc[:1], columns.iloc[:1])


def test_columns_come_back_in_schema_order_and_numeric_strings_parse() -> None:
    row = dict(reversed(list(ROW.items()))) | {"age": "41.5"}
    frame = rows_frame([row], SCHEMA)
    assert list(frame.columns) == [c["name"] for c in SCHEMA["columns"]]
    assert frame["age"][0] == 41.5


@pytest.mark.parametrize(
    ("payload", "status", "field", "match"),
    [
        ([], 422, None, "batch is empty"),
        ({}, 422, None, "batch is empty"),
        ([ROW] * 4, 413, None, "4 rows, more than the limit of 3"),
        ({"age": [1, 2]} | {k: [v] for k, v in ROW.items() if k != "age"}, 400, None, "same"),
        ("rows", 400, None, "list of records"),
        ([ROW, 7], 400, None, "row 1 must be an object"),
        ([ROW, {k: v for k, v in ROW.items() if k != "plan"}], 422, "plan", "row 1 is missing"),
        ({k: [v] for k, v in ROW.items() if k != "seen"}, 422, "seen", "missing column.*'seen'"),
        ([{**ROW, "zip": 1, "colour": 2}], 422, "colour", "unexpected column.*'colour', 'zip'"),
        ([ROW, {**ROW, "tickets": "many"}], 422, "tickets", "'tickets' must be a number.*row 1"),
        ([{**ROW, "tickets": True}], 422, "tickets", "must be a number.*True"),
        ([{**ROW, "tickets": None}], 422, "tickets", "may not be null.*row 0"),
        ([{**ROW, "tickets": float("nan")}], 422, "tickets", "may not be missing.*nan"),
        ([{**ROW, "tickets": "NaN"}], 422, "tickets", "may not be missing"),
        ([{**ROW, "age": float("inf")}], 422, "age", "must be a finite number.*inf"),
        ([{**ROW, "active": "yes"}], 422, "active", "must be true or false.*'yes'"),
        ([{**ROW, "active": 1}], 422, "active", "must be true or false"),
        ([{**ROW, "plan": "gold"}], 422, "plan", "unknown category 'gold'.*'basic', 'pro'"),
        ([{**ROW, "plan": ["pro"]}], 422, "plan", "must be a string or number"),
        ([{**ROW, "seen": "soon"}], 422, "seen", "ISO 8601.*'soon'"),
        ([{**ROW, "seen": 5}], 422, "seen", "ISO 8601"),
    ],
)
def test_rejections_name_the_rule_and_the_value(
    payload: Any, status: int, field: str | None, match: str
) -> None:
    with pytest.raises(InputRejected, match=match) as info:
        rows_frame(payload, SCHEMA, max_rows=3)
    assert (info.value.status, info.value.field) == (status, field)


def test_extra_columns_and_unknown_categories_when_allowed() -> None:
    frame = rows_frame(
        [{**ROW, "zip": 1, "plan": "gold"}],
        SCHEMA,
        allow_extra=True,
        unknown_categories_ok=True,
    )
    assert list(frame.columns) == ["age", "tickets", "plan", "active", "seen"]
    assert frame["plan"][0] == "gold"


def test_truncated_levels_do_not_reject_unknown_categories() -> None:
    schema = input_schema(_training_frame(), max_levels=1)
    assert rows_frame([{**ROW, "plan": "gold"}], schema)["plan"][0] == "gold"


def test_accepts_unknown_categories_inspects_the_fitted_encoders() -> None:
    assert accepts_unknown_categories(_pipeline("ignore"))
    assert not accepts_unknown_categories(_pipeline("error"))
    assert not accepts_unknown_categories(make_pipeline(StandardScaler()))


@pytest.mark.parametrize("handle_unknown", ["ignore", "error"])
def test_the_frame_predicts_as_the_training_frame_does(handle_unknown: str) -> None:
    pipeline = _pipeline(handle_unknown)
    X = _training_frame()[["age", "tickets", "plan"]]
    records = [
        {"age": None if pd.isna(a) else a, "tickets": t, "plan": p}
        for a, t, p in X.itertuples(index=False)
    ]
    frame = rows_frame(records, input_schema(X))
    np.testing.assert_array_equal(pipeline.predict(frame), pipeline.predict(X))
    np.testing.assert_allclose(pipeline.predict_proba(frame), pipeline.predict_proba(X))


def test_tz_aware_datetimes_keep_the_training_zone() -> None:
    schema = input_schema(pd.DataFrame({"at": pd.to_datetime(["2024-01-01"], utc=True)}))
    frame = rows_frame([{"at": "2024-05-01T12:00:00+02:00"}], schema)
    assert str(frame["at"].dtype).endswith("UTC]")
    assert frame["at"][0] == pd.Timestamp("2024-05-01T10:00:00", tz="UTC")


def test_input_rejected_refuses_other_statuses() -> None:
    with pytest.raises(ValueError, match="status must be 400, 413 or 422"):
        InputRejected("x", status=500)
