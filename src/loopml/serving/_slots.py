"""The models being served: one verified, swappable slot per registered model name.

A new version is loaded beside the one serving, hash-checked, and made to predict its
artifact's stored sample rows; only then does it replace the old one, by swapping one
dictionary entry under a lock. A request therefore always sees one whole model, and a
broken version never goes live: the old one keeps serving and the failure is counted.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from loopml.errors import LoopmlError, ModelNotFound
from loopml.registry import CHAMPION, Registry
from loopml.serving._inputs import accepts_unknown_categories, rows_frame
from loopml.tracking import BaseStore

__all__ = ["LoadedModel", "ModelLoadFailed", "ModelSlots", "SlotChange"]

logger = logging.getLogger(__name__)


class ModelLoadFailed(LoopmlError):
    """A model version could not be loaded or failed its check; the old one still serves."""


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A fitted pipeline ready to serve, with what requests are checked against."""

    name: str
    version: int
    pipeline: Any
    schema: Mapping[str, Any]
    """The artifact's ``input_schema``: request rows go through :func:`rows_frame` with it."""
    sample_rows: tuple[Mapping[str, Any], ...]
    classes: list[Any] | None
    """The classifier's labels in ``predict_proba`` column order; None for a regressor."""
    loaded_at: datetime
    unknown_categories_ok: bool = False
    """Whether the pipeline takes categorical levels unseen in training (pass to rows_frame)."""


@dataclass(frozen=True)
class SlotChange:
    """What :meth:`ModelSlots.sync` did for one model: swapped, or tried and failed."""

    name: str
    from_version: int | None
    to_version: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class ModelSlots:
    """The :class:`LoadedModel` serving each registered name; every method is thread-safe.

    ``get`` never waits for a load: loads of one name are serialized by their own lock and
    only the final swap takes the short lock ``get`` uses.
    """

    def __init__(self) -> None:
        self._models: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()
        self._load_locks: dict[str, threading.Lock] = {}
        self.load_failures: Counter[str] = Counter()

    def get(self, name: str) -> LoadedModel:
        """Return the model serving ``name``. Raises ModelNotFound naming the served ones."""
        with self._lock:
            model = self._models.get(name)
            served = sorted(self._models)
        if model is None:
            raise ModelNotFound(
                f"no model named {name!r} is being served; served models: "
                f"{', '.join(served) or 'none (register a model and sync)'}"
            )
        return model

    def served(self) -> dict[str, LoadedModel]:
        """Return a snapshot of ``{name: model serving it}``."""
        with self._lock:
            return dict(self._models)

    def load(self, name: str, version: int, registry: Registry, store: BaseStore) -> LoadedModel:
        """Load, verify and swap in ``version`` of ``name``; return it.

        Verification: the artifact's sha256 (Registry.load), then a prediction on its stored
        sample rows that must give one answer per row. On any failure the model serving
        before stays, ``load_failures[name]`` goes up and ModelLoadFailed is raised.
        """
        with self._lock:
            load_lock = self._load_locks.setdefault(name, threading.Lock())
        with load_lock:
            try:
                model = _load_verified(name, version, registry, store)
            except Exception as exc:
                with self._lock:
                    self.load_failures[name] += 1
                    current = self._models.get(name)
                keeps = (
                    f"version {current.version} keeps serving"
                    if current is not None
                    else "nothing is served under that name"
                )
                raise ModelLoadFailed(
                    f"could not load version {version} of {name!r}: {exc}; {keeps}. Fix or "
                    "promote another version"
                ) from exc
            with self._lock:
                self._models[name] = model
        return model

    def sync(
        self, registry: Registry, store: BaseStore, names: list[str] | None = None
    ) -> list[SlotChange]:
        """Load each model's champion where it differs from the version served.

        Covers every registered name, or only ``names``. Returns one SlotChange per load
        tried, failed ones included (with ``error``), for logging; a failure does not stop
        the other models. A name with no champion is skipped.
        """
        if names is None:
            names = sorted({v.name for v in store.list_versions()})
        changes = []
        for name in names:
            champion = store.get_alias(name, CHAMPION)
            if champion is None:
                continue
            with self._lock:
                current = self._models.get(name)
            current_version = None if current is None else current.version
            if current_version == champion:
                continue
            try:
                self.load(name, champion, registry, store)
            except ModelLoadFailed as exc:
                logger.warning("%s", exc)
                changes.append(SlotChange(name, current_version, champion, error=str(exc)))
            else:
                logger.info("serving %s version %d (was %s)", name, champion, current_version)
                changes.append(SlotChange(name, current_version, champion))
        return changes


def _load_verified(name: str, version: int, registry: Registry, store: BaseStore) -> LoadedModel:
    model_version = store.get_version(name, version)
    record = store.get_artifact(model_version.artifact_sha256)
    if record is None:
        raise ModelNotFound(f"its artifact {model_version.artifact_sha256[:12]} has no record")
    pipeline = registry.load(name, version)
    samples = tuple(record.sample_rows)
    if not samples:
        raise ModelLoadFailed("its artifact has no sample rows to verify it with")
    unknown_ok = accepts_unknown_categories(pipeline)
    frame = rows_frame(
        [dict(row) for row in samples],
        record.input_schema,
        max_rows=len(samples),
        unknown_categories_ok=unknown_ok,
    )
    predictions = pipeline.predict(frame)
    if len(predictions) != len(samples):
        raise ModelLoadFailed(
            f"predict gave {len(predictions)} answers for {len(samples)} sample rows"
        )
    classes = getattr(pipeline, "classes_", None)
    if classes is not None and hasattr(pipeline, "predict_proba"):
        probabilities = pipeline.predict_proba(frame)
        if probabilities.shape != (len(samples), len(classes)):
            raise ModelLoadFailed(
                f"predict_proba gave shape {probabilities.shape} for {len(samples)} sample "
                f"rows and {len(classes)} classes"
            )
    return LoadedModel(
        name=name,
        version=version,
        pipeline=pipeline,
        schema=record.input_schema,
        sample_rows=samples,
        classes=None if classes is None else list(classes.tolist()),
        loaded_at=datetime.now(UTC),
        unknown_categories_ok=unknown_ok,
    )
