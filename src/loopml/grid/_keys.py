"""Content keys: what was trained, on which rows, scored how.

Two cells with the same key trained the same estimator with the same params on the same
rows, preprocessed and split the same way, and were scored with the same metrics. Their
artifacts may still differ in bytes (an object unpickled in a worker can serialize
differently), so "is this the same model" is answered by the key, not the artifact hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from loopml.spec import Spec

__all__ = ["KEY_FORMAT", "cell_key"]

# Bump when what a key covers changes, so old keys stop matching.
KEY_FORMAT = 1


def cell_key(
    spec: Spec, dataset: str, fingerprint: str, estimator: str, params: Mapping[str, Any]
) -> str:
    """Return the sha256 content key of one (dataset, model) cell."""
    ds = spec.datasets[dataset]
    content = {
        "format": KEY_FORMAT,
        "data": {
            "fingerprint": fingerprint,
            "target": ds.target,
            "drop": ds.drop,
            "task": ds.task,
        },
        "split": spec.split_for(dataset).model_dump(mode="json"),
        "preprocessing": spec.preprocessing.model_dump(mode="json"),
        "estimator": estimator,
        "params": dict(params),
        "metrics": spec.metrics.all,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()
