"""Rules that need imports or the whole spec: estimators, params, searches, metrics, task fit."""

from __future__ import annotations

import difflib
import math
from typing import Any

from sklearn.base import is_classifier, is_regressor

from loopml.errors import Problem, SpecError
from loopml.spec._imports import import_object
from loopml.spec._load import dotted_key
from loopml.spec._metrics import known_metrics, metric_task
from loopml.spec._schema import ModelSpec, Spec, Step, Task
from loopml.spec._search import FloatDimension

__all__ = ["check_spec", "task_problems"]

_KIND = {"classification": "classifier", "regression": "regressor"}
_MAX_GRID = 1_000_000


def check_spec(spec: Spec) -> None:
    """Raise SpecError listing every estimator, transformer, param or metric that is wrong."""
    problems: list[Problem] = []
    for name, model in spec.models.items():
        key: tuple[str | int, ...] = ("models", name)
        problems += _check_component(
            spec,
            model.estimator,
            model.params,
            key,
            needs=("fit", "predict"),
            kind="estimator",
            search=model.search,
        )
        problems += _search_problems(spec, name, model)
    for group in ("numeric", "categorical"):
        steps: list[Step] = getattr(spec.preprocessing, group)
        for i, step in enumerate(steps):
            key = ("preprocessing", group, i)
            problems += _check_component(
                spec, step.path, step.params, key, needs=("fit", "transform"), kind="transformer"
            )
    known = known_metrics()
    for i, metric in enumerate(spec.metrics.all):
        if metric not in known:
            key = ("metrics", "primary") if i == 0 else ("metrics", "extra")
            close = difflib.get_close_matches(metric, known, n=3)
            hint = (
                f"Did you mean {' or '.join(close)}?" if close else "Use a scikit-learn scorer name"
            )
            problems.append(
                Problem(
                    dotted_key(key),
                    f"unknown metric {metric!r}",
                    line=spec.line_of(*key),
                    hint=f"{hint} (the list: sklearn.metrics.get_scorer_names())",
                )
            )
    for name, dataset in spec.datasets.items():
        if dataset.task is not None:
            problems += task_problems(spec, name, dataset.task)
    if problems:
        raise SpecError(problems, file=_file(spec))


def task_problems(spec: Spec, dataset: str, task: Task) -> list[Problem]:
    """Return the metrics and models that do not fit ``dataset``'s task."""
    problems = []
    for metric in spec.metrics.all:
        fits = metric_task(metric)
        if fits is not None and fits != task:
            problems.append(
                Problem(
                    "metrics",
                    f"metric {metric!r} is a {fits} metric, but dataset {dataset!r} is a "
                    f"{task} task",
                    line=spec.line_of("metrics"),
                    hint=f"Use a {task} metric such as "
                    f"{'accuracy' if task == 'classification' else 'r2'}",
                )
            )
    for name, model in spec.models.items():
        try:
            estimator = import_object(model.estimator)()
        except Exception:
            continue  # an import or construction problem, reported by check_spec
        wrong = (task == "classification" and is_regressor(estimator)) or (
            task == "regression" and is_classifier(estimator)
        )
        if wrong:
            problems.append(
                Problem(
                    f"models.{name}.estimator",
                    f"{model.estimator} is not a {_KIND[task]}, "
                    f"but dataset {dataset!r} is a {task} task",
                    line=spec.line_of("models", name, "estimator"),
                    hint="Use a model made for that task, or set the dataset's `task`",
                )
            )
    return problems


def _check_component(
    spec: Spec,
    path: str,
    params: dict[str, Any],
    key: tuple[str | int, ...],
    *,
    needs: tuple[str, ...],
    kind: str,
    search: dict[str, Any] | None = None,
) -> list[Problem]:
    where = dotted_key(key)
    path_key = f"{where}.estimator" if kind == "estimator" else where
    line = spec.line_of(*key, "estimator") if kind == "estimator" else spec.line_of(*key)
    try:
        obj = import_object(path)
    except ImportError as exc:
        return [
            Problem(
                path_key,
                f"the {kind} import path {path!r} does not resolve: {exc}",
                line=line,
                hint="Check the spelling, and that the package is installed in this environment",
            )
        ]
    except Exception as exc:  # a user module that fails while importing
        return [Problem(path_key, f"importing {path!r} failed: {exc!r}", line=line)]
    missing = [m for m in (*needs, "get_params") if not hasattr(obj, m)]
    if not isinstance(obj, type) or missing:
        got = (
            f"it has no {', '.join(missing)}"
            if isinstance(obj, type)
            else (f"it is a {type(obj).__name__}, not a class")
        )
        return [
            Problem(
                path_key,
                f"{path!r} is not a scikit-learn-API {kind} (one needs "
                f"{', '.join(needs)} and get_params), but {got}",
                line=line,
                hint=f"Give the import path of an {kind} class",
            )
        ]
    try:
        accepted = set(obj().get_params(deep=False))
    except Exception as exc:
        return [Problem(path_key, f"{path}() cannot be created with defaults: {exc!r}", line=line)]
    problems = []
    for section, names in (("params", params), ("search", search or {})):
        for param in names:
            if param not in accepted:
                close = difflib.get_close_matches(param, sorted(accepted), n=1)
                problems.append(
                    Problem(
                        f"{where}.{section}.{param}",
                        f"{path} has no parameter {param!r}",
                        line=spec.line_of(*key, section, param),
                        hint=(f"Did you mean {close[0]!r}? " if close else "")
                        + f"It accepts: {', '.join(sorted(accepted))}",
                    )
                )
    return problems


def _search_problems(spec: Spec, name: str, model: ModelSpec) -> list[Problem]:
    """Return the rules a model's search breaks given its params, trials and sampler."""
    problems = []
    key = ("models", name)
    for param in model.search:
        if param in model.params:
            problems.append(
                Problem(
                    dotted_key((*key, "search", param)),
                    f"{param!r} is both fixed in `params` (= {model.params[param]!r}) and "
                    "searched in `search`",
                    line=spec.line_of(*key, "search", param),
                    hint="Keep it in one of them: `params` to fix it, `search` to tune it",
                )
            )
    if model.trials > 1 and not model.search:
        problems.append(
            Problem(
                dotted_key((*key, "trials")),
                f"`trials` is {model.trials} but the model has no `search`: every trial would "
                "train the same model",
                line=spec.line_of(*key, "trials"),
                hint="Add a `search` space, or remove `trials`",
            )
        )
    if spec.sampler_for(name) == "grid":
        problems += _grid_problems(spec, name, model)
    return problems


def _grid_problems(spec: Spec, name: str, model: ModelSpec) -> list[Problem]:
    """Return why the grid sampler cannot walk a model's search: no or too big a grid."""
    key = ("models", name)
    origin = dotted_key((*key, "sampler")) if model.sampler else "tuning.sampler"
    problems = []
    sizes = []
    for param, dim in model.search.items():
        n_values = dim.n_values
        if n_values is not None:
            sizes.append(n_values)
        elif isinstance(dim, FloatDimension):  # the one kind of dimension with no count
            problems.append(
                Problem(
                    dotted_key((*key, "search", param)),
                    f"the grid sampler needs a finite set of values, but {param!r} is a "
                    f"continuous float range [{dim.low}, {dim.high}] with no `step` "
                    f"(the sampler is set by {origin})",
                    line=spec.line_of(*key, "search", param),
                    hint="Give it a `step`, list its values as `categorical`, or use the "
                    "tpe or random sampler",
                )
            )
    if problems or not model.search:
        return problems
    size = math.prod(sizes)
    if size > _MAX_GRID:
        problems.append(
            Problem(
                dotted_key((*key, "search")),
                f"the grid sampler lists every point of the grid in memory, at most "
                f"{_MAX_GRID:,}, but this grid has {size:,} (the sampler is set by {origin})",
                line=spec.line_of(*key, "search"),
                hint="Coarsen it with larger `step`s, or use the tpe or random sampler",
            )
        )
    elif model.trials > size:
        problems.append(
            Problem(
                dotted_key((*key, "trials")),
                f"`trials` is {model.trials} but the grid has {size} points: the grid "
                f"sampler would train some of them again (the sampler is set by {origin})",
                line=spec.line_of(*key, "trials"),
                hint=f"Set `trials` to {size} or fewer, or add values to the grid",
            )
        )
    return problems


def _file(spec: Spec) -> str | None:
    return spec.display_file
