"""Confidence labels, the sentence behind them, and short durations."""

from __future__ import annotations

import math
import re

import pytest

from loopml.estimate import Basis, Confidence, CostEstimate, describe, format_duration


def estimate(
    estimator: str,
    basis: Basis = "history",
    n_points: int = 20,
    spread: float = 1.2,
) -> CostEstimate:
    return CostEstimate(estimator, 10.0, 10.0 / spread, 10.0 * spread, basis, n_points)


@pytest.mark.parametrize(
    ("estimates", "label", "sentence"),
    [
        ([], Confidence.HIGH, "nothing to estimate"),
        (
            [estimate("a"), estimate("b", n_points=18)],
            Confidence.HIGH,
            "from 38 past trials of 2 estimators",
        ),
        # The same estimator on two datasets is one estimator.
        ([estimate("a"), estimate("a")], Confidence.HIGH, "from 20 past trials of 1 estimator"),
        ([estimate("a", n_points=9)], Confidence.MEDIUM, "from 9 past trials of 1 estimator"),
        ([estimate("a", n_points=1)], Confidence.MEDIUM, "from 1 past trial of 1 estimator"),
        ([estimate("a", spread=2.0)], Confidence.MEDIUM, "from 20 past trials of 1 estimator"),
        (
            [estimate("a"), estimate("b", "calibration", 1)],
            Confidence.MEDIUM,
            "from 20 past trials of 1 estimator, 1 estimator timed on a sample",
        ),
        (
            [estimate("a"), estimate("b", "global", 20)],
            Confidence.LOW,
            "from 20 past trials of 1 estimator, 1 estimator guessed from other estimators",
        ),
        (
            [estimate("a", "calibration", 1), estimate("b", "none", 0), estimate("c", "none", 0)],
            Confidence.LOW,
            "1 estimator timed on a sample, 2 estimators with no basis",
        ),
    ],
)
def test_describe(estimates: list[CostEstimate], label: Confidence, sentence: str) -> None:
    assert describe(estimates) == (label, sentence)


def test_confidence_reads_as_its_word() -> None:
    assert f"confidence: {Confidence.MEDIUM}" == "confidence: medium"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0s"),
        (0.01, "<0.1s"),
        (0.8, "0.8s"),
        (9.94, "9.9s"),
        (9.96, "10s"),
        (45.0, "45s"),
        (59.6, "1m00s"),
        (250.0, "4m10s"),
        (305.0, "5m05s"),
        (3599.6, "1h00m"),
        (3720.0, "1h02m"),
        (90000.0, "25h00m"),
        (math.nan, "?"),
        (math.inf, "?"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_duration_rejects_negative_seconds() -> None:
    with pytest.raises(ValueError, match=re.escape("seconds must be >= 0, but got -1.0")):
        format_duration(-1.0)
