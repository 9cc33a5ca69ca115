"""The cost of a run before it is spent: d x m x t trials, what is cached, how long it takes."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from loopml.data import Dataset, prepare
from loopml.estimate import (
    Calibration,
    CostEstimate,
    CostModel,
    calibrate,
    describe,
    format_duration,
    wall_time,
)
from loopml.grid._keys import preparation_key, study_key
from loopml.spec import Spec
from loopml.tracking import BaseStore, TrialRecord, TrialState

__all__ = ["RunPlan", "StudyPlan", "build_plan"]

# With a pruner most trials stop at an early rung; until the store has this study's own
# history, assume a pruned search costs this share of running every trial in full.
_PRUNED_SHARE = 0.5
# Driver-side cost per trial on top of the work itself (scheduling, recording).
_OVERHEAD_SECONDS = 0.02
# With a process pool: starting it, and sending each trial its prepared data (about three
# copies of the rows x features matrix, pickled at roughly this many bytes per second).
_POOL_START_SECONDS = 0.3
_TRANSFER_BYTES_PER_SECOND = 250e6


@dataclass(frozen=True)
class StudyPlan:
    """One (dataset, model) cell: its trials, how many are cached, what the rest costs."""

    dataset: str
    model: str
    estimator: str
    trials: int
    cached: int
    to_run: int
    seconds_per_trial: float
    basis: str

    @property
    def status(self) -> str:
        if self.to_run == 0:
            return "cached"
        return "new" if self.cached == 0 else f"{self.to_run} more"


@dataclass(frozen=True)
class RunPlan:
    """The plan of a run: every cell, totals, and the estimated wall time."""

    pipeline: str
    workers: int
    datasets: int
    models: int
    studies: tuple[StudyPlan, ...]
    seconds: float
    confidence: str
    basis: str

    @property
    def total(self) -> int:
        return sum(s.trials for s in self.studies)

    @property
    def cached(self) -> int:
        return sum(s.cached for s in self.studies)

    @property
    def to_run(self) -> int:
        return sum(s.to_run for s in self.studies)

    @property
    def headline(self) -> str:
        counts = sorted({s.trials for s in self.studies})
        t = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        eta = (
            "nothing to run"
            if self.to_run == 0
            else (
                f"~{format_duration(self.seconds)} on {self.workers} "
                f"worker{'s' if self.workers > 1 else ''}"
            )
        )
        return (
            f"work = {self.datasets} datasets x {self.models} models x {t} trials = "
            f"{self.total} trials; {self.cached} cached; {self.to_run} to run; {eta}"
        )

    def as_estimate(self) -> dict[str, object]:
        """Return what a run records of its plan, to compare with what happens."""
        return {
            "seconds": self.seconds,
            "trials": self.to_run,
            "workers": self.workers,
            "confidence": self.confidence,
        }


def build_plan(
    spec: Spec,
    datasets: dict[str, Dataset],
    store: BaseStore | None,
    *,
    workers: int,
    force_all: bool = False,
    calibrate_missing: bool = True,
    calibration_seconds: float = 1.0,
) -> RunPlan:
    """Return the plan of running ``spec`` now; reads the store, writes nothing.

    Estimators the store has no history of are timed on subsamples for about
    ``calibration_seconds`` each (unless ``calibrate_missing`` is False).
    """
    history = store.list_trials() if store is not None else []
    estimators = _estimators(store)
    # A study's own trials (this pipeline's) are what a run reuses; every pipeline's
    # trials teach the cost model.
    finished_by_study = Counter(
        t.study_key
        for t in history
        if t.pipeline == spec.name
        and t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED)
    )
    pairs = [
        (estimators[k], t)
        for t in history
        if (k := (t.pipeline, t.dataset, t.model)) in estimators
        and t.state in (TrialState.COMPLETE, TrialState.PRUNED)
    ]
    model = CostModel.fit(pairs)
    if calibrate_missing:
        model = _calibrated(spec, datasets, model, pairs, calibration_seconds)
    studies: list[StudyPlan] = []
    estimates: list[CostEstimate] = []
    durations: list[float] = []
    for name, dataset in datasets.items():
        prep = preparation_key(spec, name, dataset.fingerprint)
        rows, features = dataset.X.shape
        for m_name, m in spec.models.items():
            key = study_key(spec, name, m_name, prep)
            cached = 0 if force_all else min(m.trials, finished_by_study[key])
            to_run = m.trials - cached
            est = model.predict(m.estimator, rows, features, 1.0, params=dict(m.params))
            share = _PRUNED_SHARE if spec.pruner_for(m_name) != "none" else 1.0
            per_trial = est.seconds * share if math.isfinite(est.seconds) else math.nan
            if to_run:
                estimates.append(est)
                shipping = (
                    3 * rows * features * 8 / _TRANSFER_BYTES_PER_SECOND if workers > 1 else 0.0
                )
                durations += [per_trial + shipping] * to_run
            studies.append(
                StudyPlan(name, m_name, m.estimator, m.trials, cached, to_run, per_trial, est.basis)
            )
    known = [d for d in durations if math.isfinite(d)]
    seconds = wall_time(known, workers, overhead=_OVERHEAD_SECONDS) if known else 0.0
    if known and workers > 1:
        seconds += _POOL_START_SECONDS
    label, sentence = describe(estimates)
    return RunPlan(
        spec.name,
        workers,
        len(datasets),
        len(spec.models),
        tuple(studies),
        seconds,
        label,
        sentence,
    )


def _estimators(store: BaseStore | None) -> dict[tuple[str, str, str], str]:
    """Return the estimator of every (pipeline, dataset, model) the store has seen."""
    if store is None:
        return {}
    return {(c.pipeline, c.dataset, c.model): c.estimator for c in store.list_cells()}


def _calibrated(
    spec: Spec,
    datasets: dict[str, Dataset],
    model: CostModel,
    pairs: list[tuple[str, TrialRecord]],
    seconds: float,
) -> CostModel:
    """Return the model with a short calibration of every estimator it knows nothing of."""
    missing = {
        m.estimator: m
        for m in spec.models.values()
        if model.predict(m.estimator, 100, 10).basis in ("none", "global")
    }
    if not missing:
        return model
    # Time each unknown estimator on the largest dataset: its prepared training rows.
    largest = max(datasets.values(), key=lambda d: d.X.shape[0] * d.X.shape[1])
    fold = prepare(largest, spec.split_for(largest.name), spec.preprocessing).folds[0]
    calibrations = []
    for estimator, m in missing.items():
        measured = calibrate(estimator, dict(m.params), fold.X_train, fold.y_train, seconds=seconds)
        if math.isfinite(measured):
            calibrations.append(
                Calibration(
                    estimator,
                    fold.X_train.shape[0],
                    fold.X_train.shape[1],
                    measured,
                    dict(m.params),
                )
            )
    return CostModel.fit(pairs, calibrations=calibrations)
