"""Make logged labels, predictions and probability keys comparable: ``1`` and ``"1"`` agree.

Labels come back as JSON values, possibly of another type than the model's predictions
(a client sends ``"1"`` for a model that predicts ``1``), and logged class probabilities
are keyed by the class as a string. The predictions' type wins, as it is the model's:
labels and keys are converted to it when each reads as such a value (``"1"`` -> ``1``,
``"true"`` -> ``True``, ``1`` -> ``True`` for a boolean model); when one does not, every
value is compared by its string form (``str(1) == "1"``, ``str(True) == "True"``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pandas.api.types import infer_dtype

__all__ = ["Aligned", "align_labels"]

_LabelType = Literal["number", "bool", "str"]

_INFERRED: dict[str, _LabelType] = {
    "integer": "number",
    "floating": "number",
    "mixed-integer-float": "number",
    "decimal": "number",
    "boolean": "bool",
    "string": "str",
}


@dataclass(frozen=True)
class Aligned:
    """Labels, predictions and probability keys as arrays of one type.

    ``as_strings`` is True when they had to be compared as strings.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    keys: np.ndarray
    as_strings: bool


def align_labels(y_true: np.ndarray, y_pred: np.ndarray, keys: Sequence[str]) -> Aligned:
    """Return labels, predictions and keys (object arrays, no missing values) of one type."""
    target = _INFERRED.get(infer_dtype(y_pred, skipna=False))
    if target is not None and target != "str":
        convert = _CONVERTERS[target]
        try:
            true = (
                y_true.tolist()
                if _INFERRED.get(infer_dtype(y_true, skipna=False)) == target
                else [convert(v) for v in y_true]
            )
            converted = [convert(k) for k in keys]
        except ValueError:
            pass
        else:
            return Aligned(
                np.asarray(true), np.asarray(y_pred.tolist()), _array(converted), as_strings=False
            )
    return Aligned(
        np.asarray([str(v) for v in y_true]),
        np.asarray([str(v) for v in y_pred]),
        _array([str(k) for k in keys]),
        as_strings=target != "str" or infer_dtype(y_true, skipna=False) != "string",
    )


def _array(values: list[Any]) -> np.ndarray:
    return np.asarray(values) if values else np.asarray([], dtype=object)


def _to_number(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, numbers.Real):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a finite number")
        return number
    raise ValueError(f"{value!r} is not a number")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, numbers.Real) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{value!r} is not a boolean")


_CONVERTERS: dict[_LabelType, Callable[[Any], Any]] = {"number": _to_number, "bool": _to_bool}
