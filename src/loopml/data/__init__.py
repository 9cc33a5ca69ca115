"""Data: read sources, fingerprint them, split rows and fit preprocessing once per dataset."""

from __future__ import annotations

from loopml.data._dataset import Dataset, infer_task, load_dataset, load_datasets
from loopml.data._prepare import (
    Fold,
    Prepared,
    build_preprocessor,
    column_kinds,
    prepare,
    split_rows,
)

__all__ = [
    "Dataset",
    "Fold",
    "Prepared",
    "build_preprocessor",
    "column_kinds",
    "infer_task",
    "load_dataset",
    "load_datasets",
    "prepare",
    "split_rows",
]
