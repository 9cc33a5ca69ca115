"""Reading, fingerprinting, task inference and splitting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loopml
from loopml.data import column_kinds, infer_task, load_dataset, prepare, split_rows
from tests.conftest import ProjectFactory, base_spec


@pytest.mark.parametrize(
    ("values", "task"),
    [
        ([0, 1, 0, 1], "classification"),
        (["a", "b", "c", "a"], "classification"),
        ([True, False, True, False], "classification"),
        ([0.5, 1.25, 3.0, 2.2], "regression"),
        (list(range(100)), "regression"),  # many distinct integers: an amount
        ([1, 2, 3, 4, 5] * 20, "classification"),  # few distinct integers: classes
    ],
)
def test_infer_task(values: list[object], task: str) -> None:
    assert infer_task(pd.Series(values)) == task


def test_fingerprint_follows_content_not_name(project: Path) -> None:
    spec = loopml.load_spec(project)
    first = load_dataset(spec, "eu").fingerprint
    assert load_dataset(spec, "eu").fingerprint == first
    (project / "data" / "copy.csv").write_bytes((project / "data" / "eu.csv").read_bytes())
    with (project / "data" / "eu.csv").open("a") as fh:
        fh.write("c9999,40,1.0,20.0,0,basic,0\n")
    assert load_dataset(spec, "eu").fingerprint != first


def test_column_kinds() -> None:
    frame = pd.DataFrame(
        {"n": [1.0], "i": [1], "s": ["x"], "b": [True], "c": pd.Categorical(["k"])}
    )
    assert column_kinds(frame) == (["n", "i"], ["s", "b", "c"])


def test_holdout_is_stratified_and_seeded(project: Path) -> None:
    spec = loopml.load_spec(project)
    dataset = load_dataset(spec, "eu")
    [(train, valid)] = split_rows(spec.split, dataset)
    assert len(valid) == 50 and len(train) == 150 and not set(train) & set(valid)
    y = dataset.y.to_numpy()
    assert abs(y[valid].mean() - y.mean()) < 0.03
    [(train2, _)] = split_rows(spec.split, dataset)
    assert np.array_equal(train, train2)


def test_prepare_transforms_unseen_categories(make_project: ProjectFactory) -> None:
    root = make_project(base_spec())
    spec = loopml.load_spec(root)
    prepared = prepare(load_dataset(spec, "eu"), spec.split, spec.preprocessing)
    fold = prepared.folds[0]
    assert fold.X_train.shape[1] == fold.X_valid.shape[1]
    assert not np.isnan(fold.X_train).any() and not np.isnan(fold.X_valid).any()
    assert prepared.X_raw_final.shape[0] == 150


def test_parquet_source(make_project: ProjectFactory) -> None:
    spec = base_spec()
    spec["datasets"]["eu"]["path"] = "data/eu.parquet"
    root = make_project(spec)
    pd.read_csv(root / "data" / "eu.csv").to_parquet(root / "data" / "eu.parquet")
    dataset = load_dataset(loopml.load_spec(root), "eu")
    assert dataset.n_rows == 200 and dataset.task == "classification"
    assert "plan" in dataset.X.columns and "customer_id" not in dataset.X.columns
