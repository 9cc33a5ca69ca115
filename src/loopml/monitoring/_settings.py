"""When a drift report flags a feature, and the window as a whole."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from loopml.errors import InputError
from loopml.monitoring._stats import Correction

__all__ = ["DriftSettings"]

_CORRECTIONS = ("holm", "bh", "none")


@dataclass(frozen=True, kw_only=True)
class DriftSettings:
    """The thresholds of a drift report, validated on construction.

    A feature is *drifted* when both hold: its p-value, corrected across the report's
    features, is below ``alpha`` (the shift is real), and its effect size passes its
    threshold (the shift is big enough to matter). Requiring both answers the two ways
    drift tools cry wolf: testing 50 features at 5% each raises a false alarm in most
    windows (1 - 0.95^50 = 92%), and on a 100,000-row window a test finds shifts far too
    small to hurt a model.

    The defaults, and why:

    - ``alpha = 0.05``, ``correction = "holm"``: Holm controls the family-wise error rate,
      so a window where nothing moved raises any alarm at most 5% of the time, however
      many features there are, and one chance hit among 50 features does not alert. It
      holds under any dependence between features (correlated features are the rule).
      ``"bh"`` (Benjamini-Hochberg) flags more when many features move at once, at the
      price of more false alarms; ``"none"`` tests each feature alone.
    - ``psi_threshold = 0.2``: the conventional "significant shift" level of the
      population stability index (below 0.1 is read as stable, 0.1-0.2 as moderate).
    - ``wasserstein_threshold = 0.1``: the distributions differ by a tenth of a reference
      standard deviation on average (a mean shift of 0.1 sd gives exactly 0.1). A numeric
      feature passes the effect gate when PSI *or* this distance does: PSI sees changes of
      shape, the distance sees shifts of location or scale.
    - ``js_threshold = 0.1``: the Jensen-Shannon distance (base 2, in [0, 1]) of categorical
      level frequencies; a two-level feature going from 50/50 to 62/38 gives 0.10.
    - ``min_rows = 500``: below it the window is too small to judge, and the report flags
      nothing. For a 500-row window drawn from the reference itself (simulated: normal
      data, 5,000-value reference sample), the 95th percentiles of the effect sizes are at
      or under their thresholds (normalized Wasserstein 0.10, PSI 0.04, JS 0.08 with 10
      levels); at 100 rows noise alone reaches 0.23, 0.18 and 0.18, and the effect gate
      would stop filtering anything. A level with a 1% share also expects the 5 rows the
      chi-square approximation needs at 500 rows.
    - ``dataset_share = 0.3``: the window has dataset drift when at least 30% of the tested
      features drifted. A feature is only counted after correction and the effect gate,
      so each one is a real shift; a third of them moving means the input population
      changed, not one upstream column.
    """

    alpha: float = 0.05
    correction: Correction = "holm"
    psi_threshold: float = 0.2
    wasserstein_threshold: float = 0.1
    js_threshold: float = 0.1
    min_rows: int = 500
    dataset_share: float = 0.3

    def __post_init__(self) -> None:
        if not _real(self.alpha) or not 0 < self.alpha < 1:
            raise InputError(
                f"`alpha` must be a number in (0, 1), but got {self.alpha!r}: it is the "
                "false-alarm rate of a report, e.g. 0.05"
            )
        if self.correction not in _CORRECTIONS:
            raise InputError(
                f"`correction` must be one of 'holm', 'bh', 'none', but got "
                f"{self.correction!r}: 'holm' is the default"
            )
        for name in ("psi_threshold", "wasserstein_threshold", "js_threshold"):
            value = getattr(self, name)
            if not _real(value) or not 0 <= value < math.inf:
                raise InputError(
                    f"`{name}` must be a finite number >= 0, but got {value!r}: use 0 to "
                    "flag every significant shift, however small"
                )
        if isinstance(self.min_rows, bool) or not isinstance(self.min_rows, int):
            raise InputError(f"`min_rows` must be an int >= 1, but got {self.min_rows!r}")
        if self.min_rows < 1:
            raise InputError(
                f"`min_rows` must be an int >= 1, but got {self.min_rows!r}: it is the "
                "smallest window judged, e.g. 500"
            )
        if not _real(self.dataset_share) or not 0 < self.dataset_share <= 1:
            raise InputError(
                f"`dataset_share` must be a number in (0, 1], but got {self.dataset_share!r}: "
                "it is the share of drifted features that makes dataset drift, e.g. 0.3"
            )

    def to_json(self) -> dict[str, Any]:
        """Return the settings as a JSON-safe dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> DriftSettings:
        """Return the settings :meth:`to_json` wrote."""
        return cls(**document)


def _real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value
