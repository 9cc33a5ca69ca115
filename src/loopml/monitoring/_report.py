"""The records a drift report is made of, and their JSON form."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from loopml.errors import InputError
from loopml.monitoring._columns import Kind
from loopml.monitoring._settings import DriftSettings

__all__ = ["REPORT_FORMAT", "DriftReport", "FeatureDrift", "Test"]

REPORT_FORMAT = 1

Test = Literal["ks", "chi2"]


@dataclass(frozen=True)
class FeatureDrift:
    """How one feature (or the prediction) moved between the reference and the window.

    ``test`` is ``"ks"`` (numeric) or ``"chi2"`` (categorical); ``statistic`` and
    ``p_value`` are the test's, ``p_adjusted`` the p-value corrected across the report's
    features (the prediction is a family of its own, so there it equals ``p_value``).
    ``effects`` holds ``"psi"`` and ``"wasserstein"`` (numeric) or ``"js"`` (categorical).
    ``reference_count`` and ``current_count`` are the values compared: non-missing ones,
    and for a numeric reference its kept sample. ``reference_missing`` and
    ``current_missing`` are missing-value rates. ``new_levels`` lists (up to 20) levels
    of the window the reference never saw. When a side has no values the feature is not
    tested: statistic and p-values are NaN and ``note`` says why.
    """

    feature: str
    kind: Kind
    test: Test
    statistic: float
    p_value: float
    p_adjusted: float
    effects: Mapping[str, float]
    drifted: bool
    reference_count: int
    current_count: int
    reference_missing: float
    current_missing: float
    new_levels: tuple[str, ...] = ()
    note: str = ""

    @property
    def tested(self) -> bool:
        """Return whether the test ran (both sides had values)."""
        return not math.isnan(self.p_value)

    @property
    def missing_change(self) -> float:
        """Return the change of the missing-value rate, window minus reference."""
        return self.current_missing - self.reference_missing

    def to_json(self) -> dict[str, Any]:
        """Return the record as JSON-safe values (NaN written as null)."""
        return {
            "feature": self.feature,
            "kind": self.kind,
            "test": self.test,
            "statistic": _out(self.statistic),
            "p_value": _out(self.p_value),
            "p_adjusted": _out(self.p_adjusted),
            "effects": {k: _out(v) for k, v in self.effects.items()},
            "drifted": self.drifted,
            "reference_count": self.reference_count,
            "current_count": self.current_count,
            "reference_missing": self.reference_missing,
            "current_missing": self.current_missing,
            "new_levels": list(self.new_levels),
            "note": self.note,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> FeatureDrift:
        """Return the record :meth:`to_json` wrote."""
        return cls(
            feature=document["feature"],
            kind=document["kind"],
            test=document["test"],
            statistic=_in(document["statistic"]),
            p_value=_in(document["p_value"]),
            p_adjusted=_in(document["p_adjusted"]),
            effects={k: _in(v) for k, v in document["effects"].items()},
            drifted=bool(document["drifted"]),
            reference_count=int(document["reference_count"]),
            current_count=int(document["current_count"]),
            reference_missing=float(document["reference_missing"]),
            current_missing=float(document["current_missing"]),
            new_levels=tuple(document["new_levels"]),
            note=str(document["note"]),
        )


@dataclass(frozen=True)
class DriftReport:
    """A window of served rows compared with a model version's reference profile.

    ``share`` is the drifted share of the tested features, and ``dataset_drift`` whether
    it reached ``settings.dataset_share``; the prediction is not counted in it.
    ``rows`` is the window's length; ``sufficient`` is False when it is below
    ``settings.min_rows``, and then nothing is flagged. ``reason`` says in words what
    the report found, or why it flags nothing. ``ignored`` lists the window's columns the
    profile does not know.
    """

    features: tuple[FeatureDrift, ...]
    prediction: FeatureDrift | None
    share: float
    dataset_drift: bool
    rows: int
    sufficient: bool
    reason: str
    settings: DriftSettings = field(default_factory=DriftSettings)
    ignored: tuple[str, ...] = ()

    @property
    def drifted(self) -> tuple[str, ...]:
        """Return the names of the drifted features, in profile order."""
        return tuple(f.feature for f in self.features if f.drifted)

    def feature(self, name: str) -> FeatureDrift:
        """Return the named feature's result; raise InputError when the report has none."""
        for result in self.features:
            if result.feature == name:
                return result
        raise InputError(
            f"the drift report has no feature {name!r}; it has {[f.feature for f in self.features]}"
        )

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON-safe dict (no NaN), with its ``format`` version."""
        return {
            "format": REPORT_FORMAT,
            "rows": self.rows,
            "sufficient": self.sufficient,
            "reason": self.reason,
            "share": self.share,
            "dataset_drift": self.dataset_drift,
            "settings": self.settings.to_json(),
            "features": [f.to_json() for f in self.features],
            "prediction": None if self.prediction is None else self.prediction.to_json(),
            "ignored": list(self.ignored),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> DriftReport:
        """Return the report :meth:`to_json` wrote; raise InputError if it is not one."""
        version = document.get("format") if isinstance(document, Mapping) else None
        if version != REPORT_FORMAT:
            raise InputError(
                f"a drift report must have format {REPORT_FORMAT}, but got {version!r}: "
                "upgrade loopml if a newer one wrote it"
            )
        try:
            prediction = document["prediction"]
            return cls(
                features=tuple(FeatureDrift.from_json(f) for f in document["features"]),
                prediction=None if prediction is None else FeatureDrift.from_json(prediction),
                share=float(document["share"]),
                dataset_drift=bool(document["dataset_drift"]),
                rows=int(document["rows"]),
                sufficient=bool(document["sufficient"]),
                reason=str(document["reason"]),
                settings=DriftSettings.from_json(document["settings"]),
                ignored=tuple(document["ignored"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"the drift report is damaged ({type(exc).__name__}: {exc})") from exc


def _out(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _in(value: float | None) -> float:
    return math.nan if value is None else float(value)
