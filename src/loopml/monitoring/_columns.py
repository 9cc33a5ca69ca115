"""Read one column the way monitoring sees it: numeric values or categorical level counts.

A column is *numeric* when its dtype is a real number type (booleans excluded) or when it
holds Python numbers in an object column (what a JSON request gives); booleans, strings,
pandas categoricals and mixed object columns are *categorical*, their levels compared as
strings (``True`` is level ``"True"``, ``1`` in an object column is level ``"1"``). Missing
means None, NaN or pd.NA; for numeric columns, ±inf counts as missing too.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pandas.api import types

from loopml.errors import InputError

__all__ = ["Kind", "infer_kind", "level_counts", "numeric_values"]

Kind = Literal["numeric", "categorical"]

_NUMERIC_INFERRED = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})
_MAX_INT_LEVELS = 20
"""Integer predictions with at most this many distinct values are class labels."""


def infer_kind(column: pd.Series, *, what: str, prediction: bool = False) -> Kind:
    """Return how ``column`` is profiled; raise InputError for dtypes drift cannot compare.

    With ``prediction=True``, integers with few distinct values are class labels
    (categorical), and only floats or many-valued integers are numeric.
    """
    dtype = column.dtype
    if types.is_bool_dtype(dtype):
        return "categorical"
    if types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype):
        inferred = "integer" if types.is_integer_dtype(dtype) else "floating"
    elif types.is_object_dtype(dtype):
        inferred = types.infer_dtype(column, skipna=True)
        if inferred not in _NUMERIC_INFERRED:
            return "categorical"
    elif types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    else:
        raise InputError(
            f"{what} has dtype {dtype}, which drift monitoring cannot compare: only numbers, "
            "booleans and strings are profiled. Drop the column or convert it to numbers"
        )
    if prediction and inferred == "integer" and column.nunique(dropna=True) <= _MAX_INT_LEVELS:
        return "categorical"
    return "numeric"


def numeric_values(column: pd.Series, *, what: str, because: str) -> tuple[np.ndarray, int]:
    """Return the column's finite values as float64 and how many rows are missing.

    Raise InputError when a value is not a number (a string such as ``"abc"``); ``because``
    says why the column must be numeric.
    """
    dtype = column.dtype
    if types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        converted = pd.to_numeric(column, errors="coerce")
        bad = converted.isna() & column.notna()
        if bad.any():
            example = column[bad].iloc[0]
            raise InputError(
                f"{what} must hold numbers, as {because}, but holds {example!r}: send numbers "
                "(or null for a missing value)"
            )
        values = converted.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(values)
    if finite.all():
        return values, 0
    return values[finite], int(values.size - np.count_nonzero(finite))


def level_counts(column: pd.Series) -> tuple[pd.Series, int]:
    """Return the count of each level (index: the level as str) and how many rows are missing."""
    if types.is_object_dtype(column.dtype) and types.infer_dtype(column, skipna=True) not in (
        "string",
        "boolean",
        "empty",
    ):
        # value_counts would merge True with 1, and 1.0 with 1 (equal hashes): count the
        # levels as the strings they are compared as.
        present = column[column.notna()]
        counts = present.astype(str).value_counts(sort=False)
        return counts.astype(np.int64), int(column.size - present.size)
    counts = column.value_counts(dropna=True, sort=False)
    missing = int(column.size - counts.sum())
    counts = counts[counts > 0]  # a pandas categorical lists its unused categories too
    index = counts.index.astype(str)
    counts = pd.Series(counts.to_numpy(dtype=np.int64), index=index)
    if not index.is_unique:
        # Distinct values can share a string form (a float 1.0 and a string "1.0").
        counts = counts.groupby(level=0, sort=False).sum()
    return counts, missing
