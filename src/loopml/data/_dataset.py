"""Load every dataset of a spec and check it can be used, before any training starts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.utils.multiclass import type_of_target

from loopml.data._sources import read_source
from loopml.errors import DataError, Problem, SpecError
from loopml.spec import Spec, Task, task_problems

__all__ = ["Dataset", "infer_task", "load_dataset", "load_datasets"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """One dataset ready for the grid: raw features, target, task and fingerprint."""

    name: str
    X: pd.DataFrame
    y: pd.Series
    task: Task
    fingerprint: str

    @property
    def n_rows(self) -> int:
        return len(self.X)


def load_datasets(
    spec: Spec, *, on_loaded: Callable[[Dataset], None] | None = None
) -> dict[str, Dataset]:
    """Return every dataset of the spec; raise one DataError listing every problem found."""
    out: dict[str, Dataset] = {}
    problems: list[Problem] = []
    for name in spec.datasets:
        try:
            out[name] = load_dataset(spec, name)
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        if on_loaded is not None:
            on_loaded(out[name])
    if problems:
        raise DataError(problems, file=spec.display_file)
    return out


def load_dataset(spec: Spec, name: str) -> Dataset:
    """Return one dataset of the spec, checked against its split, metrics and models."""
    ds = spec.datasets[name]
    frame, fingerprint = read_source(spec, name)

    def fail(key: str, message: str, hint: str | None = None) -> DataError:
        path: tuple[str, ...] = ("datasets", name, key)
        if key == "split" and ds.split is None:
            path = ("split",)  # the shared split, not the dataset's own
        return DataError(
            [Problem(".".join(path), message, spec.line_of(*path), hint)],
            file=spec.display_file,
        )

    source = ds.path or ds.sklearn or ds.python
    if frame.empty or len(frame.columns) == 0:
        raise fail(
            "path" if ds.path else ds.source_kind,
            f"dataset {name!r} ({source}) has no rows",
            hint="Point it at a file with data",
        )
    columns = [str(c) for c in frame.columns]
    if ds.target not in columns:
        raise fail(
            "target",
            f"target column {ds.target!r} is not in {source}; its columns are "
            f"{', '.join(columns[:30])}{' ...' if len(columns) > 30 else ''}",
            hint="Set `target` to one of them",
        )
    missing = [c for c in ds.drop if c not in columns]
    if missing:
        raise fail(
            "drop", f"columns to drop {missing} are not in {source}", hint="Remove them from `drop`"
        )
    frame.columns = columns
    y = frame[ds.target]
    if y.isna().any():
        raise fail(
            "target",
            f"target column {ds.target!r} has {int(y.isna().sum())} missing "
            "values, but every row needs a label",
            hint="Drop or fill those rows first",
        )
    X = frame.drop(columns=[ds.target, *ds.drop])
    if X.shape[1] == 0:
        raise fail("target", f"dataset {name!r} has no feature columns besides the target")
    datetimes = [c for c, dt in X.dtypes.items() if pd.api.types.is_datetime64_any_dtype(dt)]
    if datetimes:
        raise fail(
            "drop",
            f"datetime columns {datetimes} cannot be used as features as they are",
            hint="Derive numeric features from them in your loader, or list them in `drop`",
        )
    task = ds.task or infer_task(y)
    problems = task_problems(spec, name, task)
    if problems:
        raise DataError(problems, file=spec.display_file)
    dataset = Dataset(name=name, X=X, y=y, task=task, fingerprint=fingerprint)
    _check_size(spec, dataset, fail)
    return dataset


def infer_task(y: pd.Series) -> Task:
    """Return ``classification`` for labels and ``regression`` for continuous targets.

    Floats with fractional values are continuous. Integers count as labels unless there
    are many distinct values (more than 20 and more than 5% of the rows), which reads as
    a count or amount rather than classes. Set ``task`` in the spec to override.
    """
    kind = type_of_target(y.to_numpy())
    if kind == "continuous":
        return "regression"
    if kind == "multiclass" and pd.api.types.is_numeric_dtype(y):
        distinct = y.nunique()
        if distinct > 20 and distinct > 0.05 * len(y):
            return "regression"
    return "classification"


def _check_size(spec: Spec, ds: Dataset, fail: Callable[..., DataError]) -> None:
    split = spec.split_for(ds.name)
    n = ds.n_rows
    if ds.task == "classification":
        counts = ds.y.value_counts()
        if len(counts) < 2:
            raise fail(
                "target",
                f"target {spec.datasets[ds.name].target!r} has a single class "
                f"({counts.index[0]!r}), but classification needs at least two",
                hint="Check the target column, or the rows your source returns",
            )
    if split.scheme == "kfold":
        k = int(split.kfold or 0)
        if n < k:
            raise fail(
                "split",
                f"dataset {ds.name!r} has {n} rows, too few for kfold={k}",
                hint="Use fewer folds or more rows",
            )
        if ds.task == "classification" and split.stratify is not False:
            smallest = ds.y.value_counts()
            if int(smallest.min()) < k:
                raise fail(
                    "split",
                    f"class {smallest.idxmin()!r} of dataset {ds.name!r} has "
                    f"{int(smallest.min())} rows, but stratified kfold={k} needs at least "
                    f"{k} per class",
                    hint="Use fewer folds, or set `stratify: false`",
                )
        return
    frac = split.holdout_fraction
    n_valid = int(np.ceil(n * frac))
    n_train = n - n_valid
    min_train = 2
    if n_valid < 1 or n_train < min_train:
        raise fail(
            "split",
            f"dataset {ds.name!r} has {n} rows, too few for a holdout of "
            f"{frac}: {n_train} training and {n_valid} validation rows",
            hint="Add rows, or change `split.holdout`",
        )
    if ds.task == "classification" and split.stratify is not False:
        counts = ds.y.value_counts()
        if int(counts.min()) < 2 or n_valid < len(counts) or n_train < len(counts):
            raise fail(
                "split",
                f"dataset {ds.name!r} cannot be split with stratification: class "
                f"{counts.idxmin()!r} has {int(counts.min())} rows and there are "
                f"{len(counts)} classes for {n_valid} validation rows",
                hint="Add rows, raise `split.holdout`, or set `stratify: false`",
            )
