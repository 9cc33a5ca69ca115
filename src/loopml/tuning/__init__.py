"""Tuning: search spaces, samplers and pruners, rung budgets, and the rung a worker runs.

::

    plan = rung_plan(model.estimator, model.params, pruner="hyperband", n_folds=1,
                     rungs=3, reduction_factor=3)            # RungPlan("n_estimators", ...)
    study = optuna.create_study(direction="maximize",
                                sampler=make_sampler("tpe", seed=0, search=model.search),
                                pruner=make_pruner("hyperband", plan))
    trial = study.ask(distributions(model.search))
    outcome = run_rung(RungTask(..., params={**model.params, **trial.params}, plan=plan,
                                step=0))                     # on a worker
    trial.report(outcome.value, plan.steps[outcome.step])   # then should_prune(), next rung

The driver owns the study; workers only ever see :class:`RungTask` and :class:`RungOutcome`.
"""

from __future__ import annotations

from loopml.tuning._budget import BudgetKind, RungPlan, row_prefix, rung_plan
from loopml.tuning._factory import PRUNERS, SAMPLERS, make_pruner, make_sampler
from loopml.tuning._scoring import timed_scores
from loopml.tuning._space import distributions, grid_space
from loopml.tuning._trial import (
    MAX_ANSWERS,
    RungOutcome,
    RungTask,
    answer_rows,
    run_rung,
    run_shared_rung,
    task_fields,
)

__all__ = [
    "MAX_ANSWERS",
    "PRUNERS",
    "SAMPLERS",
    "BudgetKind",
    "RungOutcome",
    "RungPlan",
    "RungTask",
    "answer_rows",
    "distributions",
    "grid_space",
    "make_pruner",
    "make_sampler",
    "row_prefix",
    "run_rung",
    "run_shared_rung",
    "rung_plan",
    "task_fields",
    "timed_scores",
]
