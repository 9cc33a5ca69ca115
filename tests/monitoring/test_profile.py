"""The reference profile: what it keeps of each column, its JSON form, what it refuses."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from loopml.errors import InputError
from loopml.monitoring import FeatureProfile, ReferenceProfile, build_profile


def training_frame(rows: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, size=rows)
    age[rng.random(rows) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "age": age,
            "visits": rng.integers(0, 30, size=rows),
            "plan": rng.choice(["free", "pro", "team"], size=rows, p=[0.6, 0.3, 0.1]),
            "active": rng.random(rows) < 0.7,
            "score": pd.Series([None if i % 7 == 0 else i % 13 for i in range(rows)], dtype=object),
        }
    )


def test_numeric_features_keep_counts_moments_and_a_sorted_sample() -> None:
    frame = training_frame()
    profile = build_profile(frame, max_sample=500, seed=3)
    age = profile.feature("age")
    values = frame["age"].dropna()
    assert (age.kind, age.count, age.missing) == ("numeric", 3000, int(frame["age"].isna().sum()))
    assert age.missing_rate == pytest.approx(frame["age"].isna().mean())
    assert age.mean == pytest.approx(values.mean())
    assert age.std == pytest.approx(values.std(ddof=1))
    assert len(age.sample) == 500 and list(age.sample) == sorted(age.sample)
    assert set(age.sample) <= set(values)
    assert len(set(age.sample)) == 500  # drawn without replacement


def test_the_sample_is_seeded_per_feature() -> None:
    frame = training_frame()
    first = build_profile(frame, max_sample=100, seed=1).feature("age").sample
    assert build_profile(frame, max_sample=100, seed=1).feature("age").sample == first
    assert build_profile(frame, max_sample=100, seed=2).feature("age").sample != first
    wider = frame.assign(other=1.0)[["other", *frame.columns]]
    assert build_profile(wider, max_sample=100, seed=1).feature("age").sample == first


def test_a_short_column_keeps_all_its_values() -> None:
    profile = build_profile(pd.DataFrame({"x": [3.0, 1.0, np.nan, np.inf, 2.0]}))
    x = profile.feature("x")
    assert x.sample == (1.0, 2.0, 3.0)
    assert x.missing == 2  # inf counts as missing: no distance can use it


def test_kinds_booleans_strings_and_json_numbers() -> None:
    profile = build_profile(training_frame())
    kinds = {f.name: f.kind for f in profile.features}
    assert kinds == {
        "age": "numeric",
        "visits": "numeric",
        "plan": "categorical",
        "active": "categorical",
        "score": "numeric",  # Python ints with None in an object column, as JSON gives
    }
    assert set(profile.feature("active").levels) == {"True", "False"}


def test_categorical_levels_are_counted_as_strings_most_frequent_first() -> None:
    frame = pd.DataFrame({"plan": ["pro", "free", None, "free", "team", "free", "pro"]})
    plan = build_profile(frame).feature("plan")
    assert plan.levels == {"free": 3, "pro": 2, "team": 1}
    assert list(plan.levels) == ["free", "pro", "team"]
    assert (plan.count, plan.missing, plan.other) == (7, 1, 0)
    mixed = build_profile(pd.DataFrame({"c": pd.Series([1, "1", "a", True], dtype=object)}))
    assert mixed.feature("c").levels == {"1": 2, "True": 1, "a": 1}


def test_rare_levels_beyond_the_cap_are_pooled() -> None:
    ids = pd.DataFrame({"id": [f"u{i}" for i in range(1500)] + ["u0"] * 10})
    profile = build_profile(ids).feature("id")
    assert len(profile.levels) == 1000
    assert profile.levels["u0"] == 11
    assert profile.other == 1510 - sum(profile.levels.values())


def test_prediction_kind_is_inferred_or_given() -> None:
    frame = training_frame(200)
    rng = np.random.default_rng(0)
    assert build_profile(frame, predictions=rng.normal(size=50)).prediction.kind == "numeric"
    labels = build_profile(frame, predictions=[0, 1, 1, 2, None]).prediction
    assert labels.kind == "categorical" and labels.levels == {"1": 2, "0": 1, "2": 1}
    assert labels.missing == 1
    assert build_profile(frame, predictions=["yes", "no"]).prediction.kind == "categorical"
    assert build_profile(frame, predictions=np.arange(100)).prediction.kind == "numeric"
    given = build_profile(frame, predictions=[0, 1, 1], prediction_kind="numeric")
    assert given.prediction.kind == "numeric" and given.prediction.sample == (0.0, 1.0, 1.0)
    assert build_profile(frame).prediction is None


def test_json_round_trip_is_exact() -> None:
    frame = training_frame()
    profile = build_profile(
        frame,
        predictions=np.random.default_rng(0).random(400),
        metrics={"accuracy": 0.875, "neg_log_loss": -0.3125},
        max_sample=1000,
    )
    text = json.dumps(profile.to_json(), allow_nan=False)
    back = ReferenceProfile.from_json(json.loads(text))
    assert back == profile
    assert back.feature("age").sample == profile.feature("age").sample
    assert json.loads(text)["format"] == 1


def test_json_writes_nan_as_null() -> None:
    profile = build_profile(pd.DataFrame({"x": [np.nan, np.nan]}), metrics={"f1": float("nan")})
    document = json.loads(json.dumps(profile.to_json(), allow_nan=False))
    assert document["features"][0]["mean"] is None
    assert np.isnan(ReferenceProfile.from_json(document).metrics["f1"])


def test_profile_of_50_features_fits_in_a_database_row() -> None:
    rng = np.random.default_rng(0)
    rows = 100_000
    columns = {f"x{i}": rng.normal(size=rows) for i in range(40)}
    columns |= {f"c{j}": rng.choice([f"l{k}" for k in range(30)], size=rows) for j in range(10)}
    text = json.dumps(build_profile(pd.DataFrame(columns)).to_json())
    assert len(text) < 3_000_000


def test_feature_profile_json_alone_round_trips() -> None:
    plan = build_profile(training_frame()).feature("plan")
    assert FeatureProfile.from_json(plan.to_json()) == plan


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: build_profile([1, 2]),  # type: ignore[arg-type]
            "`frame` must be a pandas DataFrame, but got list: wrap the rows in pd.DataFrame(...)",
        ),
        (
            lambda: build_profile(pd.DataFrame({"x": [1.0]}), max_sample=0),
            "`max_sample` must be an int >= 1, but got 0",
        ),
        (
            lambda: build_profile(pd.DataFrame({0: [1.0]})),
            "feature names must be strings, but got 0: rename the columns "
            "(frame.columns = frame.columns.astype(str))",
        ),
        (
            lambda: build_profile(pd.DataFrame({"x": [1.0]}), prediction_kind="numeric"),
            "`prediction_kind` is 'numeric' but no predictions were given: pass "
            "predictions=..., or leave prediction_kind out",
        ),
        (
            lambda: build_profile(pd.DataFrame({"t": pd.to_datetime(["2024-01-01"])})),
            "feature 't' has dtype datetime64[us], which drift monitoring cannot compare: "
            "only numbers, booleans and strings are profiled. Drop the column or convert "
            "it to numbers",
        ),
        (
            lambda: build_profile(pd.DataFrame({"x": [1.0]}), metrics={"accuracy": "high"}),
            "metric values must be numbers, but 'accuracy' is 'high': pass the validation "
            "scores, e.g. {'accuracy': 0.91}",
        ),
        (
            lambda: build_profile(
                pd.DataFrame({"x": [1.0]}), predictions=["yes"], prediction_kind="numeric"
            ),
            "the predictions must hold numbers, as prediction_kind is 'numeric', but holds "
            "'yes': send numbers (or null for a missing value)",
        ),
        (
            lambda: build_profile(pd.DataFrame({"x": [1.0]}), predictions=np.zeros((2, 2))),
            "`predictions` must be 1-D, but got an array of shape (2, 2)",
        ),
        (
            lambda: ReferenceProfile.from_json({"format": 9}),
            "a reference profile must have format 1, but got 9: rebuild it with "
            "build_profile, or upgrade loopml if a newer one wrote it",
        ),
        (
            lambda: ReferenceProfile.from_json({"format": 1, "rows": 3}),
            "the reference profile is damaged (KeyError: 'prediction'): rebuild it with "
            "build_profile",
        ),
    ],
)
def test_bad_input_is_refused_with_the_rule_and_the_value(call: object, message: str) -> None:
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        call()  # type: ignore[operator]


def test_duplicate_feature_names_are_refused() -> None:
    frame = pd.DataFrame([[1.0, 2.0]], columns=["x", "x"])
    with pytest.raises(InputError, match=r"^feature names must be unique, but 'x' appears"):
        build_profile(frame)
