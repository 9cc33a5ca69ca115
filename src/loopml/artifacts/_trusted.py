"""The type names loopml trusts when it loads an artifact, built here and never read from a file.

skops refuses to build any object whose type is not on a trusted list. The list is:

- every estimator and transformer class that ``sklearn.utils.all_estimators()`` reports;
- the internal types below, each found by dumping fitted pipelines and collecting what
  ``skops.io.get_untrusted_types`` reported (``tests/artifacts/test_trusted.py`` builds a
  pipeline needing each entry and loads it with this list alone).

Non-estimator entries and why they are here:

- ``numpy.dtype``: nearly every fitted pipeline stores dtypes (``OneHotEncoder(dtype=...)``,
  imputer statistics). skops rebuilds them from an empty ``.npy`` read without pickle, but
  its ``DTypeNode`` trusts nothing by default.
- ``scipy.sparse`` formats that ``load_npz`` reads (csr, csc, coo, bsr, dia; matrix and
  array): models fitted on sparse one-hot output keep sparse arrays (``SVC.support_vectors_``).
  skops only trusts the ``spmatrix``/``sparray`` base names, never the concrete classes, and
  reads them with ``allow_pickle=False``.
- ``sklearn.tree._tree.Tree`` and ``...hist_gradient_boosting.predictor.TreePredictor``: the
  fitted trees of every tree model (DecisionTree, RandomForest, ExtraTrees, GradientBoosting,
  AdaBoost, IsolationForest, HistGradientBoosting). skops leaves them out because a crafted
  file can hold out-of-range node indices; loopml only loads a file whose sha256 matches the
  one recorded when loopml itself wrote it, so the bytes are its own.
- ``sklearn.neighbors`` ``KDTree``/``BallTree`` and the ``DistanceMetric`` classes (all but
  ``PyFuncDistance``, which wraps a user callable): the index of fitted neighbour models
  (KNeighbors*, RadiusNeighbors*, LocalOutlierFactor), one class per ``metric=`` value.
- the loss classes of ``sklearn._loss.loss``: ``TweedieRegressor`` and the GLMs store their
  loss object, chosen by a hyperparameter (``power``, ``link``), so the whole family is listed.
- the kernel classes of ``sklearn.gaussian_process.kernels`` and
  ``_BinaryGaussianProcessClassifierLaplace``: a fitted Gaussian process stores its (composed)
  kernel and, for classifiers, its binary Laplace model(s).
- ``AdamOptimizer``/``SGDOptimizer``: MLP models keep their optimizer after fitting.
- ``_CalibratedClassifier``, ``_SigmoidCalibration``, ``_TemperatureScaling``: the per-fold
  calibrators of ``CalibratedClassifierCV``.
- ``sklearn.multiclass._ConstantPredictor``: ``OutputCodeClassifier``/``OneVsRest`` store it for
  a code column with a single class.
- ``sklearn.utils._bunch.Bunch``: ``named_estimators_`` of stacking and voting ensembles.
- the score functions of ``sklearn.feature_selection`` (``f_classif``, ``chi2``, ...): the
  ``score_func`` of ``SelectKBest``/``SelectPercentile``; pure statistics, no side effects.
- ``scipy.interpolate.BSpline`` and scipy's array-API ``asarray``: what ``SplineTransformer``
  stores per feature (the function is a reference to ``numpy.asarray``'s alias).
- ``functools.partial`` and ``sklearn.utils.validation.check_array``: the numeric branch of the
  preprocessor ``HistGradientBoosting*`` builds for native categorical features. skops checks
  the function a partial wraps on its own, so trusting ``partial`` trusts no new function.

Deliberately absent: scorers, CV splitters, metric functions and metadata-request objects
(only ``GridSearchCV``/``TunedThresholdClassifierCV`` used as the model need them), builtins
such as ``eval`` and any function outside the short list above. Anything else a user's own
spec names is trusted per load through ``extra_trusted``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Iterable
from typing import Any

import scipy.interpolate
import scipy.sparse
from sklearn import feature_selection
from sklearn.gaussian_process import kernels
from sklearn.neighbors import BallTree, KDTree
from sklearn.utils import all_estimators
from sklearn.utils.validation import check_array

__all__ = ["TRUSTED_TYPES"]


def _type_name(obj: Any) -> str:
    """Return the dotted name skops records for a class or function (``module.Name``)."""
    return f"{obj.__module__}.{obj.__name__}"


def _subclasses_in(module_name: str, base_names: Iterable[str]) -> set[str]:
    """Return the names of the concrete classes of ``module_name`` deriving from ``base_names``.

    A private module that a future scikit-learn moves yields nothing: loading then fails with
    the missing names listed, rather than ``import loopml.artifacts`` failing for everyone.
    """
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return set()
    bases = tuple(b for name in base_names if isinstance(b := getattr(module, name, None), type))
    if not bases:
        return set()
    return {
        _type_name(obj)
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, bases)
        and obj not in bases
        and obj.__module__ == module_name
        and not inspect.isabstract(obj)
    }


def _estimators() -> set[str]:
    return {_type_name(cls) for _, cls in all_estimators()}


def _sparse_formats() -> set[str]:
    # Only the formats scipy.sparse.load_npz can read back, which is how skops loads them.
    formats = ("csr", "csc", "coo", "bsr", "dia")
    return {
        _type_name(cls)
        for fmt in formats
        for kind in ("matrix", "array")
        if isinstance(cls := getattr(scipy.sparse, f"{fmt}_{kind}", None), type)
    }


def _neighbors() -> set[str]:
    metrics = _subclasses_in(
        "sklearn.metrics._dist_metrics", ("DistanceMetric64", "DistanceMetric32")
    )
    # PyFuncDistance wraps whatever callable the user passed as ``metric``.
    metrics = {name for name in metrics if ".PyFuncDistance" not in name}
    return metrics | {_type_name(KDTree), _type_name(BallTree)}


def _kernels() -> set[str]:
    return {
        _type_name(obj)
        for obj in vars(kernels).values()
        if isinstance(obj, type)
        and issubclass(obj, kernels.Kernel)
        and obj.__module__ == kernels.__name__
        and not inspect.isabstract(obj)
    }


def _score_functions() -> set[str]:
    names = (
        "chi2",
        "f_classif",
        "f_oneway",
        "f_regression",
        "r_regression",
        "mutual_info_classif",
        "mutual_info_regression",
    )
    return {
        _type_name(getattr(feature_selection, n)) for n in names if hasattr(feature_selection, n)
    }


# Private classes are named, not imported, so a rename in scikit-learn shrinks the list
# instead of breaking the import; the round-trip tests catch the rename.
_SKLEARN_INTERNALS = frozenset(
    {
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.calibration._TemperatureScaling",
        "sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace",
        "sklearn.multiclass._ConstantPredictor",
        "sklearn.utils._bunch.Bunch",
    }
)

_OTHERS = frozenset(
    {
        "numpy.dtype",
        _type_name(functools.partial),
        _type_name(check_array),
        _type_name(scipy.interpolate.BSpline),
        "scipy._lib.array_api_compat.numpy._aliases.asarray",
    }
)

TRUSTED_TYPES: frozenset[str] = frozenset(
    _estimators()
    | _sparse_formats()
    | _neighbors()
    | _subclasses_in("sklearn._loss.loss", ("BaseLoss",))
    | _kernels()
    | _score_functions()
    | _SKLEARN_INTERNALS
    | _OTHERS
)
