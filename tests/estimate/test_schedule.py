"""Wall time of jobs on workers: longest first, plus per-job overhead."""

from __future__ import annotations

import math
import re

import pytest

from loopml.estimate import wall_time


@pytest.mark.parametrize(
    ("durations", "workers", "overhead", "expected"),
    [
        ([], 1, 0.0, 0.0),
        ([], 4, 1.0, 0.0),
        ([5.0], 3, 0.0, 5.0),
        ([3, 3, 2, 2, 2], 1, 0.0, 12.0),
        ([4, 3, 3, 2], 2, 0.0, 6.0),
        # A pool fed longest first, not the optimum ({3, 3} and {2, 2, 2} would take 6).
        ([3, 3, 2, 2, 2], 2, 0.0, 7.0),
        ([3, 3, 2, 2, 2], 3, 0.0, 5.0),
        ([3, 3, 2, 2, 2], 5, 0.0, 3.0),
        ([3, 3, 2, 2, 2], 8, 0.0, 3.0),
        ([3, 3, 2, 2, 2], 1, 0.5, 14.5),
        ([3, 3, 2, 2, 2], 2, 0.5, 8.5),
        ([10, 1, 1, 1], 2, 0.0, 10.0),
        ([0.0, 0.0], 2, 0.25, 0.25),
    ],
)
def test_wall_time(durations: list[float], workers: int, overhead: float, expected: float) -> None:
    assert wall_time(durations, workers, overhead=overhead) == pytest.approx(expected)


def test_more_workers_never_take_longer() -> None:
    jobs = [7.0, 5.0, 4.0, 4.0, 3.0, 2.0, 2.0, 1.0]
    times = [wall_time(jobs, w) for w in range(1, 10)]
    assert times == sorted(times, reverse=True)
    assert times[-1] == max(jobs)


@pytest.mark.parametrize(
    ("durations", "workers", "overhead", "match"),
    [
        ([1.0], 0, 0.0, "workers must be >= 1, but got 0"),
        ([1.0], 1, -1.0, "overhead must be a finite number >= 0, but got -1.0"),
        ([1.0, math.nan], 1, 0.0, "durations must be finite numbers >= 0, but got nan"),
        ([-2.0], 1, 0.0, "but got -2.0"),
    ],
)
def test_rejects_bad_input(
    durations: list[float], workers: int, overhead: float, match: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(match)):
        wall_time(durations, workers, overhead=overhead)
