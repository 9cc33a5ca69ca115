"""Hyperparameter search spaces and tuning defaults, as ``loopml.yaml`` writes them.

A model's ``search`` maps a parameter name to one dimension, in a short or a long form::

    n_estimators: {int: [50, 400]}                 # = {type: int, low: 50, high: 400}
    max_depth: {int: [2, 12], step: 2}
    learning_rate: {float: [1e-4, 0.3], log: true}
    max_features: {categorical: [sqrt, log2, 0.5, null]}   # = {type: categorical, choices: [...]}

Each dimension checks its own rules when it is built (bounds in order, log scales above zero,
steps that divide the range), so a bad dimension is refused before any trial is asked. Rules
that need the estimator or the rest of the spec live in :mod:`loopml.spec._check`.
"""

from __future__ import annotations

import decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)

__all__ = [
    "CategoricalDimension",
    "Choice",
    "Dimension",
    "FloatDimension",
    "IntDimension",
    "PrunerName",
    "SamplerName",
    "TuningSpec",
]

SamplerName = Literal["tpe", "random", "grid"]
PrunerName = Literal["none", "median", "successive-halving", "hyperband"]
# Optuna stores categorical choices as they are; only scalars survive a round trip.
Choice = str | int | float | bool | None

_SHORT_FORMS = ("int", "float", "categorical")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IntDimension(_Frozen):
    """Integers from ``low`` to ``high`` inclusive, every ``step``, optionally on a log scale."""

    type: Literal["int"] = "int"
    low: int
    high: int
    step: int = 1
    log: bool = False

    @model_validator(mode="after")
    def _rules(self) -> IntDimension:
        _check_order(self.low, self.high)
        if self.log and self.low < 1:
            raise ValueError(
                f"a log-scale int dimension needs low >= 1, but got low={self.low}: "
                "raise `low` or remove `log: true`"
            )
        if self.step < 1:
            raise ValueError(f"`step` must be >= 1, but got step={self.step}")
        if self.log and self.step != 1:
            raise ValueError(
                f"`step` cannot be combined with `log: true`, but got step={self.step} with "
                "log: true: remove one of them"
            )
        _check_divides(self.low, self.high, self.step)
        return self

    @property
    def n_values(self) -> int:
        """Return how many values the dimension holds."""
        return (self.high - self.low) // self.step + 1


class FloatDimension(_Frozen):
    """Real numbers from ``low`` to ``high``: continuous, every ``step``, or on a log scale."""

    type: Literal["float"] = "float"
    low: FiniteFloat
    high: FiniteFloat
    step: FiniteFloat | None = None
    log: bool = False

    @model_validator(mode="after")
    def _rules(self) -> FloatDimension:
        _check_order(self.low, self.high)
        if self.log and self.low <= 0:
            raise ValueError(
                f"a log-scale float dimension needs low > 0, but got low={self.low}: "
                "raise `low` or remove `log: true`"
            )
        if self.step is not None:
            if self.step <= 0:
                raise ValueError(f"`step` must be > 0, but got step={self.step}")
            if self.log:
                raise ValueError(
                    f"`step` cannot be combined with `log: true`, but got step={self.step} "
                    "with log: true: remove one of them"
                )
            _check_divides(self.low, self.high, self.step)
        return self

    @property
    def n_values(self) -> int | None:
        """Return how many values the dimension holds: None for a continuous range."""
        if self.step is None:
            return None
        span = decimal.Decimal(str(self.high)) - decimal.Decimal(str(self.low))
        return int(span / decimal.Decimal(str(self.step))) + 1


class CategoricalDimension(_Frozen):
    """One of a list of values: strings, numbers, booleans or null."""

    type: Literal["categorical"] = "categorical"
    choices: list[Choice]

    @field_validator("choices", mode="before")
    @classmethod
    def _scalars(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise ValueError(f"`choices` must be a list, but got {value!r}")
        if not value:
            raise ValueError(
                "a categorical dimension needs at least one choice, but got []: list the "
                "values to try"
            )
        for i, choice in enumerate(value):
            if choice is not None and not isinstance(choice, str | int | float | bool):
                raise ValueError(
                    "choices must be strings, numbers, booleans or null, but got "
                    f"{choice!r} at position {i}: search such values with a custom estimator "
                    "that builds them from a scalar parameter"
                )
        return list(value)

    @property
    def n_values(self) -> int:
        """Return how many values the dimension holds."""
        return len(self.choices)


def _dimension(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Validate one dimension, from its short or long form, into one message per dimension."""
    if isinstance(value, IntDimension | FloatDimension | CategoricalDimension):
        return value
    value = _long_form(value)
    try:
        return handler(value)
    except ValidationError as exc:
        # Errors name the dimension's key, not the union member pydantic tried.
        raise ValueError("; ".join(_describe(err) for err in exc.errors())) from None


Dimension = Annotated[
    Annotated[IntDimension | FloatDimension | CategoricalDimension, Field(discriminator="type")],
    WrapValidator(_dimension),
]


class TuningSpec(_Frozen):
    """Spec-wide defaults for every model's search: sampler, pruner, seed and rungs.

    ``rungs`` and ``reduction_factor`` size the budget levels a pruned trial climbs
    (see :mod:`loopml.tuning._budget`); they matter only when a pruner is set.
    """

    sampler: SamplerName = "tpe"
    pruner: PrunerName = "none"
    seed: int = 0
    rungs: Annotated[int, Field(ge=2, le=6)] = 3
    reduction_factor: Annotated[int, Field(ge=2, le=6)] = 3


def _long_form(value: Any) -> Any:
    if not isinstance(value, dict):
        raise ValueError(
            "a search dimension is a mapping such as {int: [low, high]}, {float: [low, high]} "
            f"or {{categorical: [a, b]}}, but got {value!r}"
        )
    short = [k for k in _SHORT_FORMS if k in value]
    if not short:
        if "type" not in value:
            raise ValueError(
                "a search dimension needs a type: write {int: [low, high]}, "
                f"{{float: [low, high]}} or {{categorical: [a, b]}}, but got {value!r}"
            )
        return value
    if len(short) > 1 or "type" in value:
        raise ValueError(
            f"a search dimension has one type, but got {value!r}: keep one of "
            f"{', '.join(short + (['type'] if 'type' in value else []))}"
        )
    (kind,) = short
    rest = {k: v for k, v in value.items() if k != kind}
    if kind == "categorical":
        return {"type": kind, "choices": value[kind], **rest}
    bounds = value[kind]
    if not isinstance(bounds, list | tuple) or len(bounds) != 2:
        raise ValueError(f"the short form is {{{kind}: [low, high]}}, but got {kind}: {bounds!r}")
    return {"type": kind, "low": bounds[0], "high": bounds[1], **rest}


def _describe(err: Any) -> str:
    field = ".".join(str(p) for p in err["loc"][1:])  # loc[0] is the union member's tag
    kind = err["type"]
    if kind == "extra_forbidden":
        return (
            f"unknown key {field!r} in a search dimension, but got {err['input']!r}: "
            "a dimension takes type, low, high, step and log, or type and choices"
        )
    if kind == "missing":
        return f"a search dimension needs `{field}`, but got {err['input']!r}: add it"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if kind == "value_error":
        return msg
    if kind == "union_tag_invalid":
        got = err["input"]["type"]
        return f"a search dimension's type is int, float or categorical, but got {got!r}"
    return f"`{field}`: {msg[0].lower()}{msg[1:]}, but got {err['input']!r}"


def _check_order(low: float, high: float) -> None:
    if low > high:
        raise ValueError(f"`low` must be <= `high`, but got low={low} and high={high}: swap them")


def _check_divides(low: float, high: float, step: float) -> None:
    # Optuna would silently shrink `high` to the last step (with a warning); say so first.
    d_low, d_high, d_step = (decimal.Decimal(str(x)) for x in (low, high, step))
    span = d_high - d_low
    if span % d_step != 0:
        below = d_low + (span // d_step) * d_step
        raise ValueError(
            f"high - low must be a multiple of step, but got low={low}, high={high} and "
            f"step={step}: set high to {below} or {below + d_step}"
        )
