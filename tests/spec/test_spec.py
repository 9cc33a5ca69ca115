"""Parsing loopml.yaml: defaults, short forms, key lines, hashing, import paths."""

from __future__ import annotations

import pytest

from loopml.errors import SpecError
from loopml.spec import import_object, metric_task, parse_spec, spec_hash

MINIMAL = """\
name: shop
datasets:
  eu:
    sklearn: load_iris
    target: target
models:
  lr:
    estimator: sklearn.linear_model.LogisticRegression
metrics:
  primary: accuracy
"""


def test_defaults_are_filled_in() -> None:
    spec = parse_spec(MINIMAL)
    assert spec.split.scheme == "holdout" and spec.split.holdout_fraction == 0.25
    assert [s.path for s in spec.preprocessing.numeric] == [
        "sklearn.impute.SimpleImputer",
        "sklearn.preprocessing.StandardScaler",
    ]
    assert spec.preprocessing.categorical[1].params["handle_unknown"] == "ignore"
    assert spec.metrics.all == ["accuracy"]
    assert spec.registered_name("eu") == "shop.eu"


def test_step_short_forms() -> None:
    spec = parse_spec(
        MINIMAL
        + "preprocessing:\n  numeric:\n    - sklearn.preprocessing.StandardScaler\n"
        + "    - sklearn.impute.SimpleImputer: {strategy: mean}\n"
        + "    - sklearn.preprocessing.MinMaxScaler:\n"
    )
    steps = spec.preprocessing.numeric
    assert [(s.path.rsplit(".", 1)[1], s.params) for s in steps] == [
        ("StandardScaler", {}),
        ("SimpleImputer", {"strategy": "mean"}),
        ("MinMaxScaler", {}),
    ]


def test_key_lines_are_known() -> None:
    spec = parse_spec(MINIMAL)
    assert spec.line_of("models", "lr", "estimator") == 8
    assert spec.line_of("models", "lr", "params", "C") == 7  # nearest known parent
    assert spec.line_of("datasets", "eu", "target") == 5


def test_dataset_split_overrides_the_shared_one() -> None:
    spec = parse_spec(
        MINIMAL.replace(
            "    target: target\n", "    target: target\n    split: {kfold: 3, seed: 7}\n"
        )
    )
    assert spec.split_for("eu").kfold == 3 and spec.split_for("eu").seed == 7


def test_spec_hash_ignores_formatting_and_key_order() -> None:
    reordered = """\
metrics: {primary: accuracy}
models: {lr: {estimator: sklearn.linear_model.LogisticRegression}}
datasets: {eu: {target: target, sklearn: load_iris}}
name: shop   # a comment
"""
    assert spec_hash(parse_spec(MINIMAL)) == spec_hash(parse_spec(reordered))
    changed = MINIMAL.replace("accuracy", "f1_macro")
    assert spec_hash(parse_spec(MINIMAL)) != spec_hash(parse_spec(changed))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (MINIMAL.replace("name: shop\n", ""), "is required but is missing (name in <spec>)"),
        (MINIMAL + "extra: 1\n", "unknown key 'extra'"),
        (
            MINIMAL.replace("    target: target\n", "    target: target\n    path: x.csv\n"),
            "exactly one source",
        ),
        (MINIMAL + "split: {holdout: 0.2, kfold: 3}\n", "either `holdout` or `kfold`"),
        (
            MINIMAL.replace(
                "models:\n  lr:\n    estimator: sklearn.linear_model.LogisticRegression\n",
                "models: {}\n",
            ),
            "at least 1 item",
        ),
        (
            MINIMAL.replace("sklearn.linear_model.LogisticRegression", "not a path!"),
            "models.lr.estimator",
        ),
    ],
)
def test_structural_errors_name_the_key(text: str, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(text, file="<spec>")
    assert fragment in str(info.value)
    assert info.value.exit_code == 2


def test_import_paths_in_both_forms() -> None:
    from sklearn.linear_model import LogisticRegression

    assert import_object("sklearn.linear_model.LogisticRegression") is LogisticRegression
    assert import_object("sklearn.linear_model:LogisticRegression") is LogisticRegression
    with pytest.raises(ImportError, match="has no attribute 'Nope'"):
        import_object("sklearn.linear_model.Nope")


@pytest.mark.parametrize(
    ("metric", "task"),
    [
        ("accuracy", "classification"),
        ("roc_auc", "classification"),
        ("neg_log_loss", "classification"),
        ("d2_log_loss_score", "classification"),
        ("r2", "regression"),
        ("neg_root_mean_squared_error", "regression"),
        ("neg_max_error", "regression"),
        ("adjusted_rand_score", None),
        ("nope", None),
    ],
)
def test_metric_tasks(metric: str, task: str | None) -> None:
    assert metric_task(metric) == task


def test_the_executor_section_is_optional_and_leaves_older_specs_their_hash() -> None:
    spec = parse_spec(MINIMAL)
    assert spec.executor.target is None
    assert "executor" not in spec.model_dump()
    assert spec_hash(spec) == spec_hash(parse_spec(MINIMAL + "executor: {}\n"))
    assert parse_spec(MINIMAL + "executor: {dask: local}\n").executor.target == "dask"
    remote = parse_spec(MINIMAL + "executor: {dask: 'tcp://10.0.0.5:8786'}\n")
    assert remote.executor.target == "tcp://10.0.0.5:8786"


@pytest.mark.parametrize("value", ["yes", "dask", "http://host:8786", "tcp://host"])
def test_an_executor_that_is_not_local_or_an_address_names_the_key(value: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(MINIMAL + f"executor: {{dask: '{value}'}}\n", file="<spec>")
    message = str(info.value)
    assert "executor.dask" in message
    assert (
        "`dask` must be 'local' or a Dask scheduler address such as tcp://host:8786, "
        f"but got {value!r}"
    ) in message


def test_the_executor_section_takes_max_retries_and_checks_it() -> None:
    from loopml.spec import parse_spec
    from tests.spec.test_search import HEAD

    spec = parse_spec(HEAD + "executor: {dask: local, max_retries: 4}\n")
    assert (spec.executor.target, spec.executor.max_retries) == ("dask", 4)
    assert parse_spec(HEAD).executor.max_retries == 2
    with pytest.raises(SpecError, match=r"executor\.max_retries"):
        parse_spec(HEAD + "executor: {max_retries: -1}\n", file="loopml.yaml")
