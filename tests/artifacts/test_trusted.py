"""Each non-estimator entry of TRUSTED_TYPES, shown needed by a pipeline that holds it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
import skops.io
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
)
from sklearn.feature_selection import SelectKBest
from sklearn.gaussian_process import GaussianProcessClassifier
from sklearn.linear_model import LogisticRegression, TweedieRegressor
from sklearn.multiclass import OutputCodeClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import SplineTransformer
from sklearn.svm import SVC
from sklearn.utils import all_estimators

from loopml.artifacts import TRUSTED_TYPES, ArtifactStore

from .conftest import deployable, preprocess, same_predictions

# The models here are tiny and only need to be fitted, not converged.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _with_step(step: Any, model: Any) -> Pipeline:
    return Pipeline([("preprocess", preprocess()), ("step", step), ("model", model)])


def _spline_then(model: Any) -> Pipeline:
    spline = ColumnTransformer([("spline", SplineTransformer(), ["count"])])
    return Pipeline([("preprocess", spline), ("model", model)])


def _native_categorical(model: Any) -> Pipeline:
    # HistGradientBoosting encodes the pandas category column itself.
    keep = ColumnTransformer(
        [("keep", "passthrough", ["num", "tier"])], verbose_feature_names_out=False
    )
    return Pipeline([("preprocess", keep.set_output(transform="pandas")), ("model", model)])


# (build the pipeline, target fixture, trusted entries it needs)
CASES: dict[str, tuple[Callable[[], Pipeline], str, set[str]]] = {
    "dtype": (lambda: deployable(LogisticRegression()), "y_binary", {"numpy.dtype"}),
    "sparse": (
        lambda: deployable(SVC(), sparse=True),
        "y_binary",
        {"scipy.sparse._csr.csr_matrix"},
    ),
    "tree": (
        lambda: deployable(RandomForestClassifier(n_estimators=3, random_state=0)),
        "y_binary",
        {"sklearn.tree._tree.Tree"},
    ),
    "hist_gradient_boosting": (
        lambda: deployable(HistGradientBoostingClassifier(max_iter=3)),
        "y_binary",
        {"sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"},
    ),
    "native_categorical": (
        lambda: _native_categorical(
            HistGradientBoostingClassifier(max_iter=3, categorical_features="from_dtype")
        ),
        "y_binary",
        {"functools.partial", "sklearn.utils.validation.check_array"},
    ),
    "kd_tree": (
        lambda: deployable(KNeighborsClassifier()),
        "y_binary",
        {"sklearn.neighbors._kd_tree.KDTree", "sklearn.metrics._dist_metrics.EuclideanDistance64"},
    ),
    "ball_tree": (
        lambda: deployable(KNeighborsClassifier(algorithm="ball_tree", metric="manhattan")),
        "y_binary",
        {
            "sklearn.neighbors._ball_tree.BallTree",
            "sklearn.metrics._dist_metrics.ManhattanDistance64",
        },
    ),
    "loss": (
        lambda: deployable(TweedieRegressor(power=1.5)),
        "y_positive",
        {"sklearn._loss.loss.HalfTweedieLoss"},
    ),
    "gaussian_process": (
        lambda: deployable(GaussianProcessClassifier()),
        "y_binary",
        {
            "sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace",
            "sklearn.gaussian_process.kernels.ConstantKernel",
            "sklearn.gaussian_process.kernels.Product",
            "sklearn.gaussian_process.kernels.RBF",
        },
    ),
    "adam": (
        lambda: deployable(MLPClassifier(hidden_layer_sizes=(4,), max_iter=20)),
        "y_binary",
        {"sklearn.neural_network._stochastic_optimizers.AdamOptimizer"},
    ),
    "sgd": (
        lambda: deployable(MLPClassifier(hidden_layer_sizes=(4,), solver="sgd", max_iter=20)),
        "y_binary",
        {"sklearn.neural_network._stochastic_optimizers.SGDOptimizer"},
    ),
    "calibration": (
        lambda: deployable(CalibratedClassifierCV(LogisticRegression(), cv=2)),
        "y_binary",
        {"sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration"},
    ),
    "temperature": (
        lambda: deployable(
            CalibratedClassifierCV(LogisticRegression(), method="temperature", cv=2)
        ),
        "y_multiclass",
        {"sklearn.calibration._TemperatureScaling"},
    ),
    "constant_predictor": (
        lambda: deployable(OutputCodeClassifier(LogisticRegression(), random_state=0)),
        "y_multiclass",
        {"sklearn.multiclass._ConstantPredictor"},
    ),
    "bunch": (
        lambda: deployable(
            StackingClassifier(
                [("lr", LogisticRegression()), ("knn", KNeighborsClassifier())], cv=2
            )
        ),
        "y_binary",
        {"sklearn.utils._bunch.Bunch"},
    ),
    "score_function": (
        lambda: _with_step(SelectKBest(k=3), LogisticRegression()),
        "y_binary",
        {"sklearn.feature_selection._univariate_selection.f_classif"},
    ),
    "spline": (
        lambda: _spline_then(LogisticRegression()),
        "y_binary",
        {
            "scipy.interpolate._bsplines.BSpline",
            "scipy._lib.array_api_compat.numpy._aliases.asarray",
        },
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_entry_is_needed_and_enough(
    request: pytest.FixtureRequest, store: ArtifactStore, frame: pd.DataFrame, case: str
) -> None:
    build, target, needed = CASES[case]
    pipeline = build().fit(frame, request.getfixturevalue(target))
    ref = store.save(pipeline)
    reported = set(skops.io.get_untrusted_types(file=store.path_for(ref.uri)))
    assert needed <= reported
    assert needed <= TRUSTED_TYPES
    same_predictions(pipeline, store.load(ref.uri, sha256=ref.sha256), frame)


def test_every_estimator_is_trusted() -> None:
    names = {f"{cls.__module__}.{cls.__name__}" for _, cls in all_estimators()}
    assert names <= TRUSTED_TYPES


def test_only_scientific_libraries_are_trusted() -> None:
    allowed = ("sklearn.", "numpy.", "scipy.", "functools.partial")
    assert sorted(n for n in TRUSTED_TYPES if not n.startswith(allowed)) == []


@pytest.mark.parametrize(
    "name",
    [
        "builtins.eval",
        "builtins.exec",
        "builtins.getattr",
        "builtins.__import__",
        "posix.system",
        "subprocess.Popen",
        "numpy.load",
        "sklearn.metrics._dist_metrics.PyFuncDistance64",
    ],
)
def test_dangerous_callables_are_not_trusted(name: str) -> None:
    assert name not in TRUSTED_TYPES


def test_every_trusted_name_exists() -> None:
    assert sorted(n for n in TRUSTED_TYPES if _resolve(n) is None) == []


def test_the_only_trusted_functions_are_these() -> None:
    functions = {name for name in TRUSTED_TYPES if not isinstance(_resolve(name), type)}
    selection = "sklearn.feature_selection"
    assert functions == {
        "scipy._lib.array_api_compat.numpy._aliases.asarray",
        "sklearn.utils.validation.check_array",
        f"{selection}._univariate_selection.chi2",
        f"{selection}._univariate_selection.f_classif",
        f"{selection}._univariate_selection.f_oneway",
        f"{selection}._univariate_selection.f_regression",
        f"{selection}._univariate_selection.r_regression",
        f"{selection}._mutual_info.mutual_info_classif",
        f"{selection}._mutual_info.mutual_info_regression",
    }


def _resolve(name: str) -> Any:
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr, None)
