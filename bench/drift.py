"""Drift: one drift report of a 100,000-row window against a 100,000-row reference.

50 features (40 numeric of assorted shapes, 10 categorical with 3 to 30 levels) and a
label prediction. The reference is profiled beforehand (not timed, default max_sample);
the window has 4 numeric features shifted by 0.5 sd and one categorical level that grew.
Prints the median seconds of a few reports, rows/s, and the 1 s target; then the drifted
features found, as a check that the timed report did its work.

Part 2, the time of `loopml update` on a workload, is to come (see ``update_part``).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd

from loopml.monitoring import build_profile, drift_report

ROWS = 100_000
NUMERIC = 40
CATEGORICAL = 10
SHIFTED = ("x0", "x1", "x2", "x3")
REPEATS = 5
TARGET_S = 1.0


def frame(rows: int, seed: int, *, shifted: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for i in range(NUMERIC):
        shape = i % 4
        if shape == 0:
            values = rng.normal(size=rows)
        elif shape == 1:
            values = rng.lognormal(0.0, 0.8, size=rows)
        elif shape == 2:
            values = rng.integers(18, 90, size=rows).astype(float)
        else:
            values = rng.exponential(2.0, size=rows)
        if shifted and f"x{i}" in SHIFTED:
            values = values + 0.5 * values.std()
        values[rng.random(rows) < 0.02] = np.nan
        columns[f"x{i}"] = values
    for j in range(CATEGORICAL):
        levels = np.array([f"l{k}" for k in range(3 + 3 * j)])
        weights = np.linspace(1.0, 3.0, levels.size)
        if shifted and j == 0:
            weights[0] *= 3
        columns[f"c{j}"] = rng.choice(levels, size=rows, p=weights / weights.sum())
    return pd.DataFrame(columns)


def drift_part() -> None:
    reference = frame(ROWS, 0, shifted=False)
    predictions = np.random.default_rng(1).choice(["yes", "no"], size=ROWS)
    started = time.perf_counter()
    profile = build_profile(reference, predictions=predictions)
    profile_s = time.perf_counter() - started
    current = frame(ROWS, 2, shifted=True)
    served = np.random.default_rng(3).choice(["yes", "no"], size=ROWS, p=[0.55, 0.45])
    drift_report(profile, current, predictions=served)  # warm-up: imports, caches
    seconds = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        report = drift_report(profile, current, predictions=served)
        seconds.append(time.perf_counter() - started)
    median = statistics.median(seconds)
    print(
        f"drift: {ROWS:,}-row window x {NUMERIC + CATEGORICAL} features "
        f"({NUMERIC} numeric, {CATEGORICAL} categorical) vs a {ROWS:,}-row reference"
    )
    print(f"  profile (not timed below)  {profile_s:6.3f} s")
    print(
        f"  drift_report median of {REPEATS}  {median:6.3f} s  "
        f"({ROWS / median:,.0f} rows/s, min {min(seconds):.3f} s, max {max(seconds):.3f} s)"
    )
    verdict = "met" if median < TARGET_S else "MISSED"
    print(f"  target: < {TARGET_S:.0f} s per report: {verdict}")
    print(f"  drifted: {', '.join(report.drifted) or 'none'}; dataset drift {report.dataset_drift}")


def update_part() -> None:
    """Part 2, to come: the time of `loopml update` on a workload."""


def main() -> None:
    drift_part()
    update_part()


if __name__ == "__main__":
    main()
