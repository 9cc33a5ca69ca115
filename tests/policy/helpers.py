"""Served traffic written the way `loopml serve` writes it: predictions, then late labels."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from loopml.registry import Registry
from loopml.tracking import FeedbackRecord, PredictionRecord


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def serve(
    registry: Registry,
    name: str,
    frame: pd.DataFrame,
    *,
    labels: Sequence[Any] | None = None,
    at: datetime | None = None,
) -> list[str]:
    """Answer ``frame`` with the champion, log each row, store ``labels`` as feedback."""
    champion = registry.champion(name)
    assert champion is not None
    pipeline = registry.load(name, champion.version)
    predictions = pipeline.predict(frame)
    probabilities = pipeline.predict_proba(frame)
    classes = [str(c) for c in pipeline.classes_]
    start = at or datetime.now(UTC)
    records, ids = [], []
    for i, row in enumerate(frame.to_dict("records")):
        request_id = uuid.uuid4().hex
        ids.append(request_id)
        records.append(
            PredictionRecord(
                request_id=request_id,
                row=0,
                name=name,
                version=champion.version,
                at=start + timedelta(milliseconds=i),
                features={k: _plain(v) for k, v in row.items()},
                prediction=_plain(predictions[i]),
                probabilities=dict(zip(classes, map(float, probabilities[i]), strict=True)),
                latency_ms=1.0,
            )
        )
    registry.store.add_predictions(records)
    if labels is not None:
        registry.store.add_feedback(
            [
                FeedbackRecord(request_id, 0, name, _plain(label), start + timedelta(hours=1))
                for request_id, label in zip(ids, labels, strict=True)
            ]
        )
    return ids
