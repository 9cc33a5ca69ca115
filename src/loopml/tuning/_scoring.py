"""Score a fitted estimator on every metric at once, timing only its predictions."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["timed_scores"]

_RESPONSE_METHODS = ("predict", "predict_proba", "decision_function", "predict_log_proba")


def timed_scores(
    scorer: Callable[..., Mapping[str, float]], estimator: Any, X: Any, y: Any
) -> tuple[Mapping[str, float], float]:
    """Return the scores and the seconds spent inside the estimator's response methods.

    ``scorer`` is ``check_scoring(estimator, scoring=[...])``: a multi-metric scorer that
    calls predict / predict_proba once each and shares the result across metrics. Timing
    wrappers set on the instance measure just those calls, then are removed so they never
    reach a saved artifact.
    """
    spent = [0.0]
    wrapped = []
    for name in _RESPONSE_METHODS:
        method = getattr(estimator, name, None)
        if method is None or not callable(method):
            continue

        @functools.wraps(method)  # sklearn looks the method up by its __name__
        def timed(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        setattr(estimator, name, timed)
        wrapped.append(name)
    try:
        scores = scorer(estimator, X, y)
    finally:
        for name in wrapped:
            delattr(estimator, name)
    return scores, spent[0]
