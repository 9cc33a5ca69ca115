"""Parameter importance: the share of a search's score spread each tuned param explains."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from loopml.tracking import Rung, TrialRecord, TrialState
from loopml.ui._tuning_charts import importance


def _trial(
    number: int, value: float, state: TrialState = TrialState.COMPLETE, **params: Any
) -> TrialRecord:
    return TrialRecord(
        trial_id=str(number),
        run_id="r",
        pipeline="p",
        dataset="d",
        model="m",
        study_key="s",
        key=str(number),
        number=number,
        state=state,
        params=params,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        rungs=(Rung(step=0, budget=1.0, value=value, seconds=0.1),),
    )


def test_the_param_the_score_follows_explains_most() -> None:
    trials = [_trial(i, value=i / 20, depth=i, kind=["a", "b"][i % 2], fixed=1) for i in range(20)]
    shares = importance(trials)
    assert list(shares) == ["depth", "kind"]  # most important first; `fixed` never varied
    assert shares["depth"] > 0.9
    assert sum(shares.values()) == pytest.approx(1.0)


def test_too_few_trials_or_no_spread_give_nothing() -> None:
    assert importance([_trial(0, 0.5, depth=1), _trial(1, 0.6, depth=2)]) == {}
    assert importance([_trial(i, 0.5, depth=i) for i in range(5)]) == {}
    failed = [_trial(i, i / 5, TrialState.FAILED, depth=i) for i in range(5)]
    assert importance(failed) == {}
