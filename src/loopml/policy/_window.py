"""Served rows read back from the prediction log: a window, as frames the statistics take."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from loopml.monitoring import ReferenceProfile
from loopml.tracking import BaseStore, FeedbackRecord, PredictionRecord

__all__ = ["ServedWindow", "describe_window", "read_window"]


@dataclass(frozen=True, eq=False)
class ServedWindow:
    """Served rows of one model, oldest first: inputs, answers, and labels where known.

    ``labels[i]`` is None while row ``i`` has no feedback. ``features`` has the profile's
    columns (numeric ones float, missing as NaN; the others object, missing as NaN).
    """

    features: pd.DataFrame
    predictions: list[Any]
    probabilities: list[dict[str, float] | None]
    labels: list[Any]
    at: list[datetime]

    def __len__(self) -> int:
        return len(self.predictions)

    @property
    def labelled(self) -> np.ndarray:
        """Return the positions of the rows that have a label."""
        return np.array([i for i, label in enumerate(self.labels) if label is not None], int)

    def take(self, rows: Sequence[int] | np.ndarray) -> ServedWindow:
        """Return the window of the rows at these positions, in their order."""
        index = [int(i) for i in rows]
        return ServedWindow(
            features=self.features.iloc[index].reset_index(drop=True),
            predictions=[self.predictions[i] for i in index],
            probabilities=[self.probabilities[i] for i in index],
            labels=[self.labels[i] for i in index],
            at=[self.at[i] for i in index],
        )


def describe_window(window: int | float) -> str:
    """Return a window setting in words: ``last 1000 rows`` or ``last 24h``."""
    if isinstance(window, int):
        return f"last {window} rows"
    seconds = float(window)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"last {int(seconds // size)}{unit}"
    return f"last {seconds:g}s"


def read_window(
    store: BaseStore,
    name: str,
    *,
    window: int | float,
    now: datetime,
    version: int | None = None,
    labelled_only: bool = False,
    columns: Sequence[str] | None = None,
    profile: ReferenceProfile | None = None,
) -> ServedWindow:
    """Return the served rows of ``name`` in ``window``: the last N rows, or seconds.

    ``version`` keeps the rows one version answered; ``labelled_only`` those with feedback.
    The feature columns are ``columns`` (default: the profile's, else those logged), typed
    by the profile's kinds when given.
    """
    if isinstance(window, int):
        pairs = store.list_predictions(
            name, limit=window, version=version, with_feedback=labelled_only
        )
    else:
        pairs = store.list_predictions(
            name,
            since=now - timedelta(seconds=float(window)),
            version=version,
            with_feedback=labelled_only,
        )
    pairs.reverse()  # the store lists newest first; windows read forward in time
    return _window(pairs, columns or (list(profile.names) if profile else None), profile)


def _window(
    pairs: list[tuple[PredictionRecord, FeedbackRecord | None]],
    columns: Sequence[str] | None,
    profile: ReferenceProfile | None,
) -> ServedWindow:
    records = [p.features for p, _ in pairs]
    names = list(columns) if columns is not None else _logged_columns(records)
    data = {c: [r.get(c) for r in records] for c in names}
    frame = pd.DataFrame({c: _column(c, v, profile) for c, v in data.items()}, columns=names)
    return ServedWindow(
        features=frame,
        predictions=[p.prediction for p, _ in pairs],
        probabilities=[dict(p.probabilities) if p.probabilities else None for p, _ in pairs],
        labels=[None if f is None else f.label for _, f in pairs],
        at=[p.at for p, _ in pairs],
    )


def _logged_columns(records: list[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for r in records:
        seen.update(dict.fromkeys(r))
    return list(seen)


def _column(name: str, values: list[Any], profile: ReferenceProfile | None) -> Any:
    numeric = (
        profile is not None and name in profile.names and (profile.feature(name).kind == "numeric")
    )
    if numeric:
        return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype(float)
    # JSON null comes back None; pipelines' imputers and encoders look for NaN
    return pd.Series(
        [np.nan if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in values],
        dtype=object,
    )
