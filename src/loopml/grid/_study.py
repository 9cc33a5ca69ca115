"""One (dataset, model) search: an Optuna study driven by ask-and-tell on the driver.

The study is rebuilt in memory from the store's trials on every run: finished trials are
replayed into Optuna (so the sampler continues where it stopped and nothing is retrained),
trials a dead driver left behind are asked again first, and only the trials still missing
up to ``trials`` run. Workers never see Optuna: they get a :class:`RungTask` and hand back
a :class:`RungOutcome`; this class reports each rung and decides whether to go on.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import optuna
from optuna.trial import TrialState as OptunaState
from optuna.trial import create_trial

from loopml.data import Dataset, Prepared
from loopml.grid._keys import study_key, trial_key
from loopml.grid._select import rank_trials
from loopml.spec import Spec, import_object
from loopml.tracking import Rung, TrialRecord, TrialState
from loopml.tuning import (
    RungOutcome,
    RungPlan,
    RungTask,
    distributions,
    make_pruner,
    make_sampler,
    rung_plan,
)

__all__ = ["Study", "TrialDone"]

optuna.logging.set_verbosity(optuna.logging.WARNING)

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED)
_TO_OPTUNA = {
    TrialState.COMPLETE: OptunaState.COMPLETE,
    TrialState.PRUNED: OptunaState.PRUNED,
    TrialState.FAILED: OptunaState.FAIL,
}


@dataclass(frozen=True)
class TrialDone:
    """A trial that finished in this run (``record`` is final) and what to write with it."""

    record: TrialRecord
    outcome: RungOutcome | None


@dataclass(eq=False)
class _Live:
    record: TrialRecord
    ask: optuna.Trial
    step: int = 0
    carry: list[Mapping[str, float]] = field(default_factory=list)
    warm: tuple[Any, ...] = ()
    rungs: list[Rung] = field(default_factory=list)
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0


class Study:
    """The trials of one (dataset, model) cell, past and present."""

    def __init__(
        self,
        spec: Spec,
        dataset: Dataset,
        model: str,
        *,
        prep_key: str,
        history: list[TrialRecord],
        run_id: str,
        window: int,
    ) -> None:
        self.spec = spec
        self.dataset = dataset.name
        self.model = model
        self.prep_key = prep_key
        self.run_id = run_id
        self.window = max(1, window)
        m = spec.models[model]
        self.estimator = m.estimator
        self.target = m.trials
        self.key = study_key(spec, dataset.name, model, prep_key)
        self.seed = spec.tuning.seed
        self.fixed = dict(m.params)
        # Reproducible by default: seed estimators that take a random_state and got none.
        if "random_state" not in self.fixed and "random_state" in import_object(
            m.estimator
        )().get_params(deep=False):
            self.fixed["random_state"] = spec.split_for(dataset.name).seed
        self.distributions = distributions(m.search)
        split = spec.split_for(dataset.name)
        self.plan: RungPlan = rung_plan(
            m.estimator,
            self.fixed,
            pruner=spec.pruner_for(model),
            n_folds=split.kfold or 1,
            rungs=spec.tuning.rungs,
            reduction_factor=spec.tuning.reduction_factor,
        )
        self.rows, self.features = dataset.X.shape
        self.history = history
        finished = sorted((t for t in history if t.state in _FINISHED), key=lambda t: t.number)
        self.done: list[TrialRecord] = finished  # replayed history, then this run's trials
        self.cached = len(finished)
        self.live: dict[int, _Live] = {}
        self.next_number = 1 + max((t.number for t in history), default=-1)
        self._optuna: optuna.Study | None = None

    # -- history ----------------------------------------------------------------------
    @property
    def study(self) -> optuna.Study:
        """The Optuna study, built on first use: a fully cached cell never needs one."""
        if self._optuna is None:
            self._optuna = self._replay()
        return self._optuna

    def _replay(self) -> optuna.Study:
        m = self.spec.models[self.model]
        # A sampler seeded alike on every run would draw the same random start-up trials
        # again after a resume; offsetting by the history keeps runs reproducible for the
        # same history without repeating work.
        study = optuna.create_study(
            direction="maximize",
            sampler=make_sampler(
                self.spec.sampler_for(self.model),
                seed=self.seed + len(self.history),
                search=m.search,
            ),
            pruner=make_pruner(self.spec.pruner_for(self.model), self.plan),
        )
        done_keys = {t.key for t in self.done}
        for t in self.done[: self.cached]:
            study.add_trial(
                create_trial(
                    state=_TO_OPTUNA[t.state],
                    value=t.metrics.get(self.spec.metrics.primary)
                    if t.state is TrialState.COMPLETE
                    else None,
                    params={k: t.params[k] for k in self.distributions if k in t.params},
                    distributions=self.distributions,
                    intermediate_values={
                        self.plan.steps[r.step]: r.value
                        for r in t.rungs
                        if math.isfinite(r.value) and r.step < len(self.plan.steps)
                    },
                )
            )
        # Work a dead driver left RUNNING (now ABANDONED) is asked again, with its params.
        for t in self.history:
            if t.state is TrialState.ABANDONED and t.key not in done_keys:
                study.enqueue_trial(
                    {k: t.params[k] for k in self.distributions if k in t.params},
                    skip_if_exists=False,
                )
                done_keys.add(t.key)
        return study

    # -- progress ---------------------------------------------------------------------
    @property
    def remaining(self) -> int:
        """Trials still to start before the study has ``trials`` finished ones."""
        return max(0, self.target - len(self.done) - len(self.live))

    @property
    def finished(self) -> bool:
        return not self.live and self.remaining == 0

    def can_ask(self) -> bool:
        return self.remaining > 0 and len(self.live) < self.window

    def ask(self) -> TrialRecord:
        """Start a new trial and return its RUNNING record (see :meth:`first_task`)."""
        asked = self.study.ask(self.distributions)
        params = {**self.fixed, **asked.params}
        record = TrialRecord(
            trial_id=uuid.uuid4().hex,
            run_id=self.run_id,
            pipeline=self.spec.name,
            dataset=self.dataset,
            model=self.model,
            study_key=self.key,
            key=trial_key(
                self.prep_key,
                self.estimator,
                params,
                {"kind": self.plan.kind, "fractions": list(self.plan.fractions)},
                self.seed,
                self.spec.metrics.all,
            ),
            number=self.next_number,
            state=TrialState.RUNNING,
            params=params,
            started_at=datetime.now(UTC),
            rows=self.rows,
            features=self.features,
        )
        self.next_number += 1
        self.live[record.number] = _Live(record, asked)
        return record

    def first_task(self, number: int, prepared: Prepared, artifacts_root: str) -> RungTask:
        """Return the first rung's task of a trial just asked."""
        return self._task(self.live[number], prepared, artifacts_root)

    def _task(self, live: _Live, prepared: Prepared, artifacts_root: str) -> RungTask:
        return RungTask(
            dataset=self.dataset,
            model=self.model,
            number=live.record.number,
            estimator=self.estimator,
            params=live.record.params,
            prepared=prepared,
            metrics=tuple(self.spec.metrics.all),
            plan=self.plan,
            step=live.step,
            carry=tuple(live.carry),
            warm=live.warm,
            artifacts_root=artifacts_root,
        )

    def on_rung(
        self, outcome: RungOutcome, prepared: Prepared, artifacts_root: str
    ) -> RungTask | TrialDone:
        """Take a rung's outcome: return the next rung's task, or the finished trial."""
        live = self.live[outcome.number]
        live.rungs.append(Rung(outcome.step, outcome.budget, outcome.value, outcome.seconds))
        live.fit_seconds += outcome.fit_seconds or 0.0
        live.predict_seconds += outcome.predict_seconds or 0.0
        if not outcome.ok:
            return self._finish(live, TrialState.FAILED, outcome)
        last = outcome.step >= len(self.plan.fractions) - 1
        if last:
            value = outcome.metrics.get(self.spec.metrics.primary, math.nan)
            state = TrialState.COMPLETE if math.isfinite(value) else TrialState.FAILED
            return self._finish(live, state, outcome)
        if math.isfinite(outcome.value):
            # Optuna's step is the rung's budget in units of the first rung's (1, 3, 9...)
            live.ask.report(outcome.value, self.plan.steps[outcome.step])
            if live.ask.should_prune():
                return self._finish(live, TrialState.PRUNED, outcome)
        live.step += 1
        live.carry = list(outcome.carry)
        live.warm = outcome.warm
        return self._task(live, prepared, artifacts_root)

    def abandon(self, number: int, error: str) -> TrialDone:
        """End a live trial whose work was lost (worker died with no outcome)."""
        live = self.live[number]
        return self._finish(live, TrialState.FAILED, None, error=error)

    def reuse(self, number: int, cached: TrialRecord) -> TrialDone:
        """Complete a just-asked trial with the result of finished work of the same key.

        Its rungs keep their values with zero seconds: this run spent nothing on them.
        """
        live = self.live.pop(number)
        rungs = tuple(replace(r, seconds=0.0) for r in cached.rungs)
        if len(rungs) == len(self.plan.steps):
            for r in rungs[:-1]:
                if math.isfinite(r.value):
                    live.ask.report(r.value, self.plan.steps[r.step])
        record = replace(
            live.record,
            state=TrialState.COMPLETE,
            rungs=rungs,
            metrics=dict(cached.metrics),
            fit_seconds=0.0,
            predict_seconds=cached.predict_seconds,
            artifact_sha256=cached.artifact_sha256,
            finished_at=datetime.now(UTC),
        )
        self.study.tell(live.ask, record.metrics[self.spec.metrics.primary])
        self.done.append(record)
        return TrialDone(record, None)

    def _finish(
        self,
        live: _Live,
        state: TrialState,
        outcome: RungOutcome | None,
        *,
        error: str | None = None,
    ) -> TrialDone:
        del self.live[live.record.number]
        final = outcome is not None and state is TrialState.COMPLETE
        record = replace(
            live.record,
            state=state,
            rungs=tuple(live.rungs),
            metrics=dict(outcome.metrics) if final and outcome else {},
            fit_seconds=live.fit_seconds,
            # the deployable model's predict time (last rung), for ranking ties
            predict_seconds=outcome.predict_seconds if final and outcome else live.predict_seconds,
            artifact_sha256=outcome.artifact.sha256
            if final and outcome and outcome.artifact
            else None,
            error=error or (outcome.error if outcome is not None else None),
            finished_at=datetime.now(UTC),
        )
        if state is TrialState.COMPLETE:
            self.study.tell(live.ask, record.metrics[self.spec.metrics.primary])
        elif state is TrialState.PRUNED:
            self.study.tell(live.ask, state=OptunaState.PRUNED)
        else:
            self.study.tell(live.ask, state=OptunaState.FAIL)
        self.done.append(record)
        return TrialDone(record, outcome)

    def best(self) -> TrialRecord | None:
        """Return the best COMPLETE trial with an artifact (history included)."""
        for trial in rank_trials(self.done, self.spec.metrics.all):
            if trial.state is TrialState.COMPLETE and trial.artifact_sha256:
                return trial
        return None
