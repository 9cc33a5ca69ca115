"""The shape of ``loopml.yaml``, validated by pydantic.

Structural rules live here (types, required keys, no unknown keys, bounds). Rules that need
imports or data (does the estimator exist, does the metric fit the task) live in
:mod:`loopml.spec._check` and :mod:`loopml.data`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
    model_validator,
)

from loopml.spec._policy import MonitorSpec, UpdateSpec
from loopml.spec._search import Dimension, PrunerName, SamplerName, TuningSpec

__all__ = [
    "DatasetSpec",
    "MetricsSpec",
    "ModelSpec",
    "Name",
    "PreprocessingSpec",
    "Spec",
    "SplitSpec",
    "Step",
    "Task",
]

# Names end up in registered-model names (`<pipeline>.<dataset>`), URLs and file names,
# so they are kept to a safe alphabet without dots.
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", strict=True)]
Task = Literal["classification", "regression"]
ImportPath = Annotated[
    str,
    StringConstraints(
        pattern=r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?$"
    ),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Frozen):
    """One transformer of a preprocessing recipe: an import path and its params."""

    path: ImportPath
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_short_form(cls, value: Any) -> Any:
        # YAML allows `- sklearn.preprocessing.StandardScaler` and
        # `- sklearn.impute.SimpleImputer: {strategy: median}`.
        if isinstance(value, str):
            return {"path": value}
        if isinstance(value, dict) and len(value) == 1 and "path" not in value:
            ((path, params),) = value.items()
            return {"path": path, "params": {} if params is None else params}
        return value


def _default_numeric() -> list[Step]:
    return [
        Step(path="sklearn.impute.SimpleImputer", params={"strategy": "median"}),
        Step(path="sklearn.preprocessing.StandardScaler"),
    ]


def _default_categorical() -> list[Step]:
    return [
        Step(path="sklearn.impute.SimpleImputer", params={"strategy": "most_frequent"}),
        Step(
            path="sklearn.preprocessing.OneHotEncoder",
            params={"handle_unknown": "ignore", "sparse_output": False},
        ),
    ]


class PreprocessingSpec(_Frozen):
    """Transformers for numeric and categorical columns, applied in order.

    An empty list passes those columns through unchanged.
    """

    numeric: list[Step] = Field(default_factory=_default_numeric)
    categorical: list[Step] = Field(default_factory=_default_categorical)


class SplitSpec(_Frozen):
    """How rows are split for validation: a holdout fraction or k folds."""

    holdout: Annotated[float, Field(gt=0, lt=1)] | None = None
    kfold: Annotated[int, Field(ge=2, le=100)] | None = None
    seed: int = 0
    stratify: bool | None = None

    @model_validator(mode="after")
    def _one_scheme(self) -> SplitSpec:
        if self.holdout is not None and self.kfold is not None:
            raise ValueError(
                f"give either `holdout` or `kfold`, not both, but got holdout={self.holdout} "
                f"and kfold={self.kfold}"
            )
        return self

    @property
    def scheme(self) -> Literal["holdout", "kfold"]:
        return "kfold" if self.kfold is not None else "holdout"

    @property
    def holdout_fraction(self) -> float:
        return 0.25 if self.holdout is None else self.holdout


class DatasetSpec(_Frozen):
    """One named dataset: where its rows come from and which column is the target."""

    path: str | None = None
    format: Literal["csv", "parquet"] | None = None
    sklearn: str | None = None
    python: ImportPath | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    target: str
    task: Task | None = None
    drop: list[str] = Field(default_factory=list)
    split: SplitSpec | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DatasetSpec:
        given = [k for k in ("path", "sklearn", "python") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a dataset needs exactly one source among `path`, `sklearn` and `python`, "
                f"but got {given or 'none'}"
            )
        if self.format is not None and self.path is None:
            raise ValueError("`format` applies only to a `path` source")
        return self

    @property
    def source_kind(self) -> Literal["path", "sklearn", "python"]:
        if self.path is not None:
            return "path"
        return "sklearn" if self.sklearn is not None else "python"


class ModelSpec(_Frozen):
    """One candidate model: any scikit-learn-API estimator by import path, with params.

    ``params`` are fixed; ``search`` maps other parameters to the dimensions a search
    samples them from, over ``trials`` trials. ``sampler`` and ``pruner`` override the
    spec's ``tuning`` for this model (None: use it).
    """

    estimator: ImportPath
    params: dict[str, Any] = Field(default_factory=dict)
    search: dict[str, Dimension] = Field(default_factory=dict)
    trials: int = 1
    sampler: SamplerName | None = None
    pruner: PrunerName | None = None

    @field_validator("trials")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError(
                f"`trials` must be >= 1, but got {value}: use 1 to train the model once"
            )
        return value

    @model_serializer(mode="wrap")
    def _omit_unset_tuning(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Keys added with tuning are dumped only when used, so the spec_hash of a spec
        # written before them does not change.
        return _without(handler(self), _MODEL_TUNING_DEFAULTS)


class MetricsSpec(_Frozen):
    """Scikit-learn scorer names: ``primary`` ranks the cells, ``extra`` break ties."""

    primary: str
    extra: list[str] = Field(default_factory=list)

    @property
    def all(self) -> list[str]:
        return [self.primary, *[m for m in self.extra if m != self.primary]]


# Scheduler address schemes a Dask client connects to over the network.
_DASK_SCHEMES = ("tcp", "tls")


def is_scheduler_address(value: str) -> bool:
    """Return whether ``value`` reads as a Dask scheduler's address: ``tcp://host:port``."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:  # a port that is not a number
        return False
    return parts.scheme in _DASK_SCHEMES and bool(parts.hostname) and bool(port)


class ExecutorSpec(_Frozen):
    """Where the grid's trials run; ``loopml run --executor`` wins. Unset: loopml's own pool.

    ``dask`` is ``local`` (a Dask cluster on this machine, one worker per ``--workers``) or
    the address of a running scheduler, ``tcp://host:8786``. ``max_retries``: how often a
    trial whose worker died runs again on another before it is FAILED (a local cluster).
    """

    dask: str | None = None
    max_retries: Annotated[int, Field(ge=0, le=20)] = 2

    @field_validator("dask")
    @classmethod
    def _local_or_address(cls, value: str | None) -> str | None:
        if value is None or value == "local" or is_scheduler_address(value):
            return value
        raise ValueError(
            "`dask` must be 'local' or a Dask scheduler address such as tcp://host:8786, "
            f"but got {value!r}"
        )

    @property
    def target(self) -> str | None:
        """Return the executor this asks for, as ``get_executor`` takes it: None if unset."""
        if self.dask is None:
            return None
        return "dask" if self.dask == "local" else self.dask


class Spec(_Frozen):
    """A whole ``loopml.yaml``: d datasets x m models, how to prepare, split and score."""

    name: Name
    datasets: Annotated[dict[Name, DatasetSpec], Field(min_length=1)]
    models: Annotated[dict[Name, ModelSpec], Field(min_length=1)]
    metrics: MetricsSpec
    preprocessing: PreprocessingSpec = Field(default_factory=PreprocessingSpec)
    split: SplitSpec = Field(default_factory=SplitSpec)
    store: str | None = None
    artifacts: str | None = None
    tuning: TuningSpec = Field(default_factory=TuningSpec)
    monitor: MonitorSpec = Field(default_factory=MonitorSpec)
    update: UpdateSpec = Field(default_factory=UpdateSpec)
    executor: ExecutorSpec = Field(default_factory=ExecutorSpec)

    _root: Path = PrivateAttr(default_factory=Path.cwd)
    _file: Path | None = PrivateAttr(default=None)
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    @property
    def root(self) -> Path:
        """The project directory: relative paths in the spec are relative to it."""
        return self._root

    @property
    def file(self) -> Path | None:
        """The YAML file the spec came from, if any."""
        return self._file

    @property
    def display_file(self) -> str | None:
        """The spec file as a user would type it: relative to the working directory if inside."""
        if self._file is None:
            return None
        try:
            return str(self._file.relative_to(Path.cwd()))
        except ValueError:
            return str(self._file)

    @property
    def state_dir(self) -> Path:
        return self._root / ".loopml"

    @property
    def artifacts_dir(self) -> Path | str:
        """The artifact root: ``artifacts`` as a folder under the project, or as the fsspec
        URL it is (``s3://bucket/prefix``); by default ``.loopml/artifacts``."""
        if not self.artifacts:
            return self.state_dir / "artifacts"
        return self.artifacts if "://" in self.artifacts else self._root / self.artifacts

    def line_of(self, *key: str | int) -> int | None:
        """Return the YAML line of ``key`` (or of its nearest parent), when known."""
        while key:
            if key in self._lines:
                return self._lines[key]
            key = key[:-1]
        return None

    def split_for(self, dataset: str) -> SplitSpec:
        return self.datasets[dataset].split or self.split

    def registered_name(self, dataset: str) -> str:
        return f"{self.name}.{dataset}"

    def sampler_for(self, model: str) -> SamplerName:
        """Return the sampler of ``model``'s search: its own, else the spec's ``tuning``."""
        return self.models[model].sampler or self.tuning.sampler

    def pruner_for(self, model: str) -> PrunerName:
        """Return the pruner of ``model``'s search: its own, else the spec's ``tuning``.

        A model with one trial gets "none": there is no other trial to compare it with, and
        climbing rungs would only cost time.
        """
        m = self.models[model]
        if m.trials == 1:
            return "none"
        return m.pruner or self.tuning.pruner

    @model_serializer(mode="wrap")
    def _omit_unset_tuning(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Sections added later are dumped only when set, so older specs keep their hash.
        return _without(
            handler(self),
            {
                "tuning": TuningSpec().model_dump(mode="json"),
                "monitor": MonitorSpec().model_dump(mode="json"),
                "update": UpdateSpec().model_dump(mode="json"),
                "executor": ExecutorSpec().model_dump(mode="json"),
            },
        )

    def bind(
        self,
        *,
        root: Path,
        file: Path | None = None,
        lines: dict[tuple[str | int, ...], int] | None = None,
    ) -> Spec:
        """Return this spec anchored at a project directory (and source file)."""
        bound = self.model_copy()
        bound._root = root.resolve()
        bound._file = file.resolve() if file else self._file
        bound._lines = dict(lines) if lines is not None else dict(self._lines)
        return bound


_MODEL_TUNING_DEFAULTS: dict[str, Any] = {
    "search": {},
    "trials": 1,
    "sampler": None,
    "pruner": None,
}


def _without(data: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` less the keys whose value equals their default."""
    return {k: v for k, v in data.items() if k not in defaults or v != defaults[k]}
