"""The ``monitor:`` and ``update:`` sections of ``loopml.yaml``: watching and replacing champions.

Every key is optional. A drift threshold left out takes the default of
:class:`loopml.monitoring.DriftSettings`, where the defaults and their reasons are written
down once::

    monitor:
      window: 1000            # the last 1000 served rows, or a time span: 24h, 7d
      drift: {alpha: 0.05, correction: holm, dataset_share: 0.3}
      metric_drop: 0.05       # an alert when the realized primary metric falls this far
      min_labels: 200         # labelled rows needed before judging the realized metric

    update:
      triggers: {drift: true, metric_drop: true, new_labels: 500, every: 7d}
      cooldown: 6h            # at most one retrain per model in this time
      retrain: champion       # the champion's model only, or `all` the candidates
      recent: 5000            # train on the reference set plus this many recent labelled rows
      holdout: 0.3            # the newest 30% of them judge challenger against champion
      promote: {margin: 0.01, relative: false}
      guard: {rows: 200}      # the new champion's first labelled rows, checked against the old
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from loopml.spec._duration import parse_seconds

__all__ = [
    "DriftSpec",
    "GuardSpec",
    "MonitorSpec",
    "PromotionSpec",
    "TriggerSpec",
    "UpdateSpec",
    "Window",
]


def _window(value: Any) -> Any:
    """Rows as an int, or a time span as seconds (a float) from a string such as ``24h``."""
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return parse_seconds(value)
    if isinstance(value, int) and not isinstance(value, bool) and value < 1:
        raise ValueError(
            f"a window is a number of rows >= 1 or a time span such as 24h, but got {value}"
        )
    return value


def _seconds(value: Any) -> Any:
    return parse_seconds(value) if isinstance(value, str | int | float) else value


Seconds = Annotated[float, BeforeValidator(_seconds)]
Window = Annotated[
    Annotated[int, Field(ge=1, strict=True)] | Annotated[float, Field(gt=0)],
    BeforeValidator(_window),
]
"""The last N served rows (an int) or the last so many seconds (a float, written ``24h``)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DriftSpec(_Frozen):
    """Drift thresholds; each one unset takes :class:`loopml.monitoring.DriftSettings`'s."""

    alpha: Annotated[float, Field(gt=0, lt=1)] | None = None
    correction: Literal["holm", "bh", "none"] | None = None
    psi_threshold: Annotated[float, Field(ge=0)] | None = None
    wasserstein_threshold: Annotated[float, Field(ge=0)] | None = None
    js_threshold: Annotated[float, Field(ge=0)] | None = None
    min_rows: Annotated[int, Field(ge=1)] | None = None
    dataset_share: Annotated[float, Field(gt=0, le=1)] | None = None

    def settings(self) -> dict[str, Any]:
        """Return the thresholds that were set, as keyword arguments of DriftSettings."""
        return self.model_dump(exclude_none=True)


class MonitorSpec(_Frozen):
    """What ``loopml monitor`` looks at, and when it alerts."""

    window: Window = 1000
    drift: DriftSpec = Field(default_factory=DriftSpec)
    # an absolute drop of the primary metric (on its greater-is-better scale)
    metric_drop: Annotated[float, Field(gt=0)] = 0.05
    min_labels: Annotated[int, Field(ge=1)] = 200


class TriggerSpec(_Frozen):
    """What makes ``loopml update`` retrain; any one that fires is enough."""

    drift: bool = True
    metric_drop: bool = True
    new_labels: Annotated[int, Field(ge=1)] | None = None
    every: Seconds | None = None


class PromotionSpec(_Frozen):
    """How much better a challenger must score on the holdout to replace the champion.

    ``relative: false``: challenger >= champion + margin; ``true``: challenger >= champion
    + margin x |champion| (MLflow's ``min_absolute_change`` and ``min_relative_change``).
    """

    margin: Annotated[float, Field(ge=0)] = 0.0
    relative: bool = False


class GuardSpec(_Frozen):
    """The check after a promotion: roll back when the new champion does worse live."""

    rows: Annotated[int, Field(ge=1)] = 200
    margin: Annotated[float, Field(ge=0)] = 0.02


class UpdateSpec(_Frozen):
    """When and how ``loopml update`` retrains, and what it takes to promote."""

    triggers: TriggerSpec = Field(default_factory=TriggerSpec)
    cooldown: Seconds = 3600.0
    retrain: Literal["champion", "all"] = "champion"
    reference: bool = True
    recent: Window = 5000
    holdout: Annotated[float, Field(gt=0, lt=1)] = 0.3
    min_labels: Annotated[int, Field(ge=2)] = 200
    promote: PromotionSpec = Field(default_factory=PromotionSpec)
    guard: GuardSpec = Field(default_factory=GuardSpec)
