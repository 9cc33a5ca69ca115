"""Every kind of bad input: a clear message naming file, key and line; exit 2; nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from loopml.cli import app
from tests.conftest import ProjectFactory, base_spec

Mutation = Callable[[dict[str, Any], Path], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(spec: dict[str, Any], root: Path) -> None:
        *parents, last = path.split(".")
        node = spec
        for p in parents:
            node = node[p]
        node[last] = value

    return mutate


def _write_csv(name: str, frame: pd.DataFrame) -> Mutation:
    def mutate(spec: dict[str, Any], root: Path) -> None:
        frame.to_csv(root / "data" / name, index=False)

    return mutate


CASES: list[tuple[str, Mutation, list[str]]] = [
    (
        "unknown top-level key",
        _set("modles", {}),
        ["unknown key 'modles'", "(modles in ", "loopml.yaml, line"],
    ),
    (
        "unknown nested key",
        _set("datasets.eu.targte", "x"),
        ["unknown key 'targte'", "datasets.eu.targte"],
    ),
    (
        "estimator does not resolve",
        _set("models.tree.estimator", "sklearn.tree.NoSuchTree"),
        ["models.tree.estimator", "does not resolve", "'NoSuchTree'", "line"],
    ),
    (
        "estimator module missing",
        _set("models.tree.estimator", "nopackage.Model"),
        ["models.tree.estimator", "no module named 'nopackage'"],
    ),
    (
        "not an estimator",
        _set("models.tree.estimator", "sklearn.preprocessing.StandardScaler"),
        ["models.tree.estimator", "not a scikit-learn-API estimator", "no predict"],
    ),
    (
        "transformer does not resolve",
        _set("preprocessing", {"numeric": ["sklearn.preprocessing.StandardScalar"]}),
        ["preprocessing.numeric[0]", "StandardScalar", "does not resolve"],
    ),
    (
        "unknown param",
        _set("models.tree.params", {"max_dept": 3}),
        ["models.tree.params.max_dept", "has no parameter 'max_dept'", "Did you mean 'max_depth'"],
    ),
    (
        "unknown metric",
        _set("metrics.primary", "acuracy"),
        ["metrics.primary", "unknown metric 'acuracy'", "Did you mean accuracy"],
    ),
    (
        "metric does not fit the task",
        _set("metrics.extra", ["r2"]),
        ["metric 'r2' is a regression metric", "'eu' is a classification task"],
    ),
    (
        "missing target column",
        _set("datasets.eu.target", "churn"),
        ["datasets.eu.target", "target column 'churn' is not in data/eu.csv", "churned"],
    ),
    (
        "missing data file",
        _set("datasets.us.path", "data/nowhere.csv"),
        ["datasets.us.path", "data file 'data/nowhere.csv' not found"],
    ),
    (
        "empty dataset",
        _write_csv("eu.csv", pd.DataFrame({"customer_id": [], "churned": []})),
        ["datasets.eu", "has no rows"],
    ),
    (
        "one class",
        _write_csv(
            "eu.csv",
            pd.DataFrame(
                {"customer_id": ["a", "b", "c", "d"], "x": [1, 2, 3, 4], "churned": [1, 1, 1, 1]}
            ),
        ),
        ["datasets.eu.target", "single class", "at least two"],
    ),
    (
        "too small for the split",
        _write_csv(
            "eu.csv", pd.DataFrame({"customer_id": ["a", "b"], "x": [1.0, 2.0], "churned": [0, 1]})
        ),
        ["(split in ", "too few", "2 rows", "dataset 'eu'"],
    ),
    (
        "too small for kfold",
        _set("split", {"kfold": 90}),
        ["(split in ", "stratified kfold=90 needs at least 90 per class"],
    ),
    (
        "too many folds",
        _set("split", {"kfold": 500}),
        ["split.kfold", "less than or equal to 100", "500"],
    ),
    ("bad split value", _set("split", {"holdout": 1.5}), ["split.holdout", "less than 1", "1.5"]),
    ("bad name", _set("name", "shop.v2"), ["(name in ", "'shop.v2'", "letters, digits"]),
    (
        "no source",
        _set("datasets.eu", {"target": "churned"}),
        ["datasets.eu", "exactly one source"],
    ),
]


@pytest.mark.parametrize(
    ("mutation", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
@pytest.mark.parametrize("command", ["validate", "run", "plan"])
def test_bad_input_is_explained_and_nothing_is_written(
    make_project: ProjectFactory, command: str, mutation: Mutation, expected: list[str]
) -> None:
    spec = base_spec()
    root = make_project()
    mutation(spec, root)
    (root / "loopml.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    result = CliRunner().invoke(app, [command, "--spec", str(root / "loopml.yaml")])
    message = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    for fragment in expected:
        assert fragment in message
    assert not (root / ".loopml").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: shop\ndatasets: [\n", ["malformed YAML", "loopml.yaml, line"]),
        ("name: shop\nname: other\n", ["duplicate key 'name'", "first given on line 1"]),
        ("- a\n- b\n", ["must be a mapping"]),
    ],
    ids=["syntax", "duplicate key", "not a mapping"],
)
def test_malformed_yaml(make_project: ProjectFactory, text: str, expected: list[str]) -> None:
    root = make_project(text)
    result = CliRunner().invoke(app, ["validate", "--spec", str(root / "loopml.yaml")])
    message = " ".join(result.output.split())
    assert result.exit_code == 2
    for fragment in expected:
        assert fragment in message


def test_missing_spec_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--spec", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "no spec file" in result.output
    assert "loopml init" in result.output
