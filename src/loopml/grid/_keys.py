"""Content keys: what was trained, on which rows, scored how.

* **preparation** = hash(dataset fingerprint, target/drop/task, preprocessing, split)
* **study** = hash(preparation, estimator, fixed params, search space, sampler, pruner,
  rungs, tuning seed, metrics): the trials of one search, continued across runs
* **trial** = hash(preparation, estimator, every param, rung budget, seed, metrics)

Two trials with the same key trained the same model on the same rows and scored it the
same way; their artifacts may still differ in bytes (an object that went through pickle
can serialize differently), so "is this the same model" is answered by keys, not hashes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from loopml.spec import Spec

__all__ = ["CACHE_FORMAT", "digest", "preparation_key", "study_key", "trial_key"]

# Bump when what a key covers changes, so that old keys stop matching.
CACHE_FORMAT = 2


def digest(content: Any) -> str:
    """Return the sha256 of ``content`` as canonical JSON."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def preparation_key(spec: Spec, dataset: str, fingerprint: str) -> str:
    """Return the key of a dataset's preprocessing: data, recipe and split."""
    ds = spec.datasets[dataset]
    return digest(
        {
            "format": CACHE_FORMAT,
            "fingerprint": fingerprint,
            "target": ds.target,
            "drop": ds.drop,
            "task": ds.task,
            "split": spec.split_for(dataset).model_dump(mode="json"),
            "preprocessing": spec.preprocessing.model_dump(mode="json"),
        }
    )


def study_key(spec: Spec, dataset: str, model: str, prep_key: str) -> str:
    """Return the key of one (dataset, model) search; its trials continue across runs."""
    m = spec.models[model]
    return digest(
        {
            "format": CACHE_FORMAT,
            "preparation": prep_key,
            "estimator": m.estimator,
            "params": m.params,
            "search": {k: v.model_dump(mode="json") for k, v in m.search.items()},
            "sampler": spec.sampler_for(model),
            "pruner": spec.pruner_for(model),
            "tuning": spec.tuning.model_dump(mode="json"),
            "metrics": spec.metrics.all,
        }
    )


def trial_key(
    prep_key: str,
    estimator: str,
    params: Mapping[str, Any],
    budget: Mapping[str, Any],
    seed: int,
    metrics: list[str],
) -> str:
    """Return the key of one trial's work."""
    return digest(
        {
            "format": CACHE_FORMAT,
            "preparation": prep_key,
            "estimator": estimator,
            "params": dict(params),
            "budget": dict(budget),
            "seed": seed,
            "metrics": metrics,
        }
    )
