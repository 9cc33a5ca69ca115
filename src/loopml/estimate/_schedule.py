"""Wall time of independent jobs on a pool of workers."""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

__all__ = ["wall_time"]


def wall_time(durations: Sequence[float], workers: int, *, overhead: float = 0.0) -> float:
    """Return the makespan of the jobs on ``workers`` workers, longest job first (LPT).

    Each job costs its duration plus ``overhead`` (dispatch, pickling). Workers take the
    next longest job as soon as they are free, as a process pool fed longest-first does;
    with one worker this is the sum.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, but got {workers}")
    if not (overhead >= 0 and math.isfinite(overhead)):
        raise ValueError(f"overhead must be a finite number >= 0, but got {overhead!r}")
    bad = [d for d in durations if not (d >= 0 and math.isfinite(d))]
    if bad:
        raise ValueError(
            f"durations must be finite numbers >= 0, but got {bad[0]!r} "
            "(replace estimates without a basis before scheduling)"
        )
    loads = [0.0] * min(workers, len(durations))
    for duration in sorted(durations, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + duration + overhead)
    return max(loads, default=0.0)
