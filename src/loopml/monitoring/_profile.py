"""The reference profile: what a model version's inputs and outputs looked like at training.

Built once, when a version is registered, from the training input frame (raw features as a
user sends them to the server), the model's predictions on validation rows and its
validation metrics; stored as JSON (:meth:`ReferenceProfile.to_json`) next to the version;
compared with a window of served rows by :func:`~loopml.monitoring.drift_report`.

A numeric feature keeps a seeded random sample of its values (at most ``max_sample``,
sorted), which is what the KS test and the effect sizes compare against; a categorical
feature keeps its level counts (the ``_MAX_LEVELS`` most frequent, the rest pooled).
Samples are stored as byte-shuffled, zlib-compressed, base64 float64: exact, and about
40 kB per 5,000-value feature (a few hundred bytes when the values are integers), so 50
features stay near 2 MB at the default ``max_sample``.
"""

from __future__ import annotations

import base64
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loopml.errors import InputError
from loopml.monitoring._columns import Kind, infer_kind, level_counts, numeric_values

__all__ = ["FORMAT_VERSION", "FeatureProfile", "ReferenceProfile", "as_series", "build_profile"]

FORMAT_VERSION = 1
"""Bumped when :meth:`ReferenceProfile.to_json` changes in a way older readers cannot read."""

_MAX_LEVELS = 1000
"""Levels kept per categorical feature; rarer ones are pooled (an id-like column stays small)."""

_SAMPLE_ENCODING = "f8-shuffle-zlib-base64"


@dataclass(frozen=True)
class FeatureProfile:
    """One column at training time: row counts, and a sample (numeric) or level counts.

    ``count`` is every reference row, ``missing`` those without a value. A numeric
    feature has ``mean`` and ``std`` (ddof=1) of all its values (None when it has none)
    and ``sample``, sorted; a categorical one has ``levels`` (level as str -> count, most
    frequent first) and ``other``, the rows of levels pooled beyond ``_MAX_LEVELS``.
    """

    name: str
    kind: Kind
    count: int
    missing: int
    mean: float | None = None
    std: float | None = None
    sample: tuple[float, ...] = ()
    levels: Mapping[str, int] = field(default_factory=dict)
    other: int = 0

    @property
    def missing_rate(self) -> float:
        """Return the share of reference rows without a value (0 when there are no rows)."""
        return self.missing / self.count if self.count else 0.0

    def to_json(self) -> dict[str, Any]:
        """Return the profile as JSON-safe values (see :meth:`ReferenceProfile.to_json`)."""
        document: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
        }
        if self.kind == "numeric":
            document["mean"] = _float_or_none(self.mean)
            document["std"] = _float_or_none(self.std)
            document["sample"] = _encode_sample(self.sample)
        else:
            document["levels"] = dict(self.levels)
            document["other"] = self.other
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> FeatureProfile:
        """Return the profile :meth:`to_json` wrote."""
        kind = document["kind"]
        if kind not in ("numeric", "categorical"):
            raise ValueError(f"unknown kind {kind!r}")
        common = {
            "name": str(document["name"]),
            "kind": kind,
            "count": int(document["count"]),
            "missing": int(document["missing"]),
        }
        if kind == "numeric":
            return cls(
                **common,
                mean=_float_or_none(document["mean"]),
                std=_float_or_none(document["std"]),
                sample=_decode_sample(document["sample"]),
            )
        levels = {str(k): int(v) for k, v in document["levels"].items()}
        return cls(**common, levels=levels, other=int(document["other"]))


@dataclass(frozen=True)
class ReferenceProfile:
    """A model version's training inputs, validation predictions and validation metrics.

    ``features`` are in the training frame's column order; ``prediction`` is None when no
    predictions were profiled; ``rows`` is the training frame's length.
    """

    features: tuple[FeatureProfile, ...]
    rows: int
    prediction: FeatureProfile | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """Return the feature names, in the training frame's order."""
        return tuple(f.name for f in self.features)

    def feature(self, name: str) -> FeatureProfile:
        """Return the named feature's profile; raise InputError when there is none."""
        for profile in self.features:
            if profile.name == name:
                return profile
        raise InputError(
            f"the reference profile has no feature {name!r}; it knows {list(self.names)}"
        )

    def to_json(self) -> dict[str, Any]:
        """Return the profile as a JSON-safe dict (no NaN), with its ``format`` version.

        NaN metrics are written as null; :meth:`from_json` reads them back as NaN.
        """
        return {
            "format": FORMAT_VERSION,
            "rows": self.rows,
            "features": [f.to_json() for f in self.features],
            "prediction": None if self.prediction is None else self.prediction.to_json(),
            "metrics": {k: _float_or_none(v) for k, v in self.metrics.items()},
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ReferenceProfile:
        """Return the profile :meth:`to_json` wrote; raise InputError if it is not one."""
        version = document.get("format") if isinstance(document, Mapping) else None
        if version != FORMAT_VERSION:
            raise InputError(
                f"a reference profile must have format {FORMAT_VERSION}, but got "
                f"{version!r}: rebuild it with build_profile, or upgrade loopml if a newer "
                "one wrote it"
            )
        try:
            prediction = document["prediction"]
            metrics = {
                str(k): math.nan if v is None else float(v) for k, v in document["metrics"].items()
            }
            return cls(
                features=tuple(FeatureProfile.from_json(f) for f in document["features"]),
                rows=int(document["rows"]),
                prediction=None if prediction is None else FeatureProfile.from_json(prediction),
                metrics=metrics,
            )
        except (KeyError, TypeError, ValueError, AttributeError, zlib.error) as exc:
            raise InputError(
                f"the reference profile is damaged ({type(exc).__name__}: {exc}): rebuild it "
                "with build_profile"
            ) from exc


def build_profile(
    frame: pd.DataFrame,
    *,
    predictions: Sequence[Any] | np.ndarray | pd.Series | None = None,
    prediction_kind: Kind | None = None,
    metrics: Mapping[str, float] | None = None,
    max_sample: int = 5000,
    seed: int = 0,
) -> ReferenceProfile:
    """Return the reference profile of ``frame``, and of ``predictions`` when given.

    ``frame`` holds the raw training features (column names are feature names);
    ``predictions`` are the model's outputs on validation rows, profiled as
    ``prediction_kind`` (inferred when None: floats and many-valued integers are numeric,
    labels are categorical). Each numeric feature keeps at most ``max_sample`` of its values,
    drawn without replacement by a generator seeded from ``seed`` and the feature name (so
    adding a column does not change the other samples).
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            f"`frame` must be a pandas DataFrame, but got {type(frame).__name__}: wrap the "
            "rows in pd.DataFrame(...)"
        )
    _check_count("max_sample", max_sample)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise InputError(f"`seed` must be an int, but got {seed!r}")
    bad = [c for c in frame.columns if not isinstance(c, str)]
    if bad:
        raise InputError(
            f"feature names must be strings, but got {bad[0]!r}: rename the columns "
            "(frame.columns = frame.columns.astype(str))"
        )
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise InputError(
            f"feature names must be unique, but {duplicated[0]!r} appears more than once"
        )
    if prediction_kind is not None and predictions is None:
        raise InputError(
            f"`prediction_kind` is {prediction_kind!r} but no predictions were given: pass "
            "predictions=..., or leave prediction_kind out"
        )
    if prediction_kind not in (None, "numeric", "categorical"):
        raise InputError(
            f"`prediction_kind` must be 'numeric', 'categorical' or None, but got "
            f"{prediction_kind!r}"
        )
    features = tuple(
        _profile_column(
            name,
            frame[name],
            infer_kind(frame[name], what=f"feature {name!r}"),
            what=f"feature {name!r}",
            because="its values are numbers",
            max_sample=max_sample,
            seed=int(seed),
        )
        for name in frame.columns
    )
    prediction = None
    if predictions is not None:
        series = as_series(predictions, what="predictions")
        prediction = _profile_column(
            "prediction",
            series,
            prediction_kind or infer_kind(series, what="predictions", prediction=True),
            what="the predictions",
            because=f"prediction_kind is {prediction_kind!r}",
            max_sample=max_sample,
            seed=int(seed),
        )
    return ReferenceProfile(
        features=features, rows=len(frame), prediction=prediction, metrics=_metrics(metrics)
    )


def as_series(values: Sequence[Any] | np.ndarray | pd.Series, *, what: str) -> pd.Series:
    """Return ``values`` (a sequence, 1-D array or Series) as a Series with a fresh index."""
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
        raise InputError(
            f"`{what}` must be a sequence or 1-D array of values, but got {type(values).__name__}"
        )
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise InputError(f"`{what}` must be 1-D, but got an array of shape {values.shape}")
        return pd.Series(values)
    # Object dtype keeps what was sent: [0, 1, None] stays integer labels, not floats.
    return pd.Series(list(values), dtype=object)


def _profile_column(
    name: str,
    column: pd.Series,
    kind: Kind,
    *,
    what: str,
    because: str,
    max_sample: int,
    seed: int,
) -> FeatureProfile:
    if kind == "categorical":
        counts, missing = level_counts(column)
        counts = counts.sort_index().sort_values(ascending=False, kind="stable")
        kept = counts.iloc[:_MAX_LEVELS]
        return FeatureProfile(
            name=name,
            kind=kind,
            count=len(column),
            missing=missing,
            levels={str(k): int(v) for k, v in kept.items()},
            other=int(counts.iloc[_MAX_LEVELS:].sum()),
        )
    values, missing = numeric_values(column, what=what, because=because)
    if values.size > max_sample:
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        sample = rng.choice(values, size=max_sample, replace=False)
    else:
        sample = values.copy()
    sample.sort()
    return FeatureProfile(
        name=name,
        kind=kind,
        count=len(column),
        missing=missing,
        mean=float(values.mean()) if values.size else None,
        std=float(values.std(ddof=1)) if values.size > 1 else (0.0 if values.size else None),
        sample=tuple(sample.tolist()),
    )


def _metrics(metrics: Mapping[str, float] | None) -> dict[str, float]:
    if metrics is None:
        return {}
    out = {}
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise InputError(
                f"metric values must be numbers, but {key!r} is {value!r}: pass the "
                "validation scores, e.g. {'accuracy': 0.91}"
            )
        out[str(key)] = float(value)
    return out


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"`{name}` must be an int >= 1, but got {value!r}")


def _float_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _encode_sample(sample: tuple[float, ...]) -> dict[str, Any]:
    # Grouping the 8 bytes of each float by position puts the slowly varying sign and
    # exponent bytes of a sorted sample next to each other, where zlib finds repeats.
    raw = np.asarray(sample, dtype="<f8").view(np.uint8).reshape(-1, 8).T.tobytes()
    return {
        "encoding": _SAMPLE_ENCODING,
        "size": len(sample),
        "data": base64.b64encode(zlib.compress(raw, 6)).decode("ascii"),
    }


def _decode_sample(document: Mapping[str, Any]) -> tuple[float, ...]:
    if document["encoding"] != _SAMPLE_ENCODING:
        raise ValueError(f"unknown sample encoding {document['encoding']!r}")
    size = int(document["size"])
    raw = np.frombuffer(zlib.decompress(base64.b64decode(document["data"])), dtype=np.uint8)
    values = raw.reshape(8, size).T.copy().view("<f8").reshape(size)
    return tuple(values.astype(np.float64).tolist())
