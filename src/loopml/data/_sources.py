"""Read a dataset's rows from its source and fingerprint their content."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd

from loopml.errors import DataError, Problem
from loopml.spec import DatasetSpec, Spec, import_object

__all__ = ["read_source"]

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def read_source(spec: Spec, name: str) -> tuple[pd.DataFrame, str]:
    """Return the dataset's rows and a content fingerprint (``sha256:<hex>``).

    Files are hashed by streaming their bytes, so the fingerprint costs one sequential
    read and no parse. In-memory sources (scikit-learn loaders, Python callables) are
    hashed from the frame itself.
    """
    ds = spec.datasets[name]
    if ds.source_kind == "path":
        return _read_file(spec, name, ds)
    if ds.source_kind == "sklearn":
        frame = _read_sklearn(spec, name, ds)
    else:
        frame = _read_python(spec, name, ds)
    return frame, _frame_fingerprint(frame, ds.options)


def _problem(spec: Spec, name: str, key: str, message: str, hint: str | None = None) -> DataError:
    return DataError(
        [
            Problem(
                f"datasets.{name}.{key}",
                message,
                line=spec.line_of("datasets", name, key),
                hint=hint,
            )
        ],
        file=spec.display_file,
    )


def _read_file(spec: Spec, name: str, ds: DatasetSpec) -> tuple[pd.DataFrame, str]:
    assert ds.path is not None
    path = (spec.root / ds.path).resolve()
    if not path.is_file():
        raise _problem(
            spec,
            name,
            "path",
            f"data file {ds.path!r} not found (looked at {path})",
            hint="Check the path; relative paths are relative to the spec's directory",
        )
    fmt = ds.format or _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise _problem(
            spec,
            name,
            "path",
            f"cannot tell the format of {ds.path!r} from its extension {path.suffix!r}",
            hint="Use .csv or .parquet, or set `format: csv` or `format: parquet`",
        )
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256")
    digest.update(_options_bytes(ds.options))
    try:
        if fmt == "csv":
            frame = pd.read_csv(path, **ds.options)
        else:
            frame = pd.read_parquet(path, **ds.options)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except (ValueError, TypeError, OSError, pd.errors.ParserError) as exc:
        raise _problem(
            spec,
            name,
            "path",
            f"cannot read {ds.path!r} as {fmt}: {exc}",
            hint="Check the file's format and the dataset's `options`",
        ) from exc
    return frame, f"sha256:{digest.hexdigest()}"


def _read_sklearn(spec: Spec, name: str, ds: DatasetSpec) -> pd.DataFrame:
    import sklearn.datasets

    loader_name = ds.sklearn or ""
    # Only the bundled `load_*` loaders: `fetch_*` would download at run time.
    if not loader_name.startswith("load_") or not hasattr(sklearn.datasets, loader_name):
        bundled = sorted(
            n
            for n in dir(sklearn.datasets)
            if n.startswith("load_")
            and n
            not in {
                "load_files",
                "load_svmlight_file",
                "load_svmlight_files",
                "load_sample_image",
                "load_sample_images",
            }
        )
        raise _problem(
            spec,
            name,
            "sklearn",
            f"{loader_name!r} is not a bundled scikit-learn loader",
            hint=f"Use one of: {', '.join(bundled)}",
        )
    try:
        bunch = getattr(sklearn.datasets, loader_name)(as_frame=True, **ds.options)
    except TypeError as exc:
        raise _problem(spec, name, "options", f"{loader_name} rejected the options: {exc}") from exc
    frame = bunch.frame
    if not isinstance(frame, pd.DataFrame):
        raise _problem(spec, name, "sklearn", f"{loader_name} gives no data frame")
    return frame


def _read_python(spec: Spec, name: str, ds: DatasetSpec) -> pd.DataFrame:
    assert ds.python is not None
    try:
        fn = import_object(ds.python)
    except ImportError as exc:
        raise _problem(
            spec,
            name,
            "python",
            f"the import path {ds.python!r} does not resolve: {exc}",
            hint="Give `package.module:function`, importable from the spec's directory",
        ) from exc
    if not callable(fn):
        raise _problem(spec, name, "python", f"{ds.python!r} is not callable")
    try:
        frame = fn(**ds.options)
    except Exception as exc:
        raise _problem(spec, name, "python", f"{ds.python}() raised {exc!r}") from exc
    if not isinstance(frame, pd.DataFrame):
        raise _problem(
            spec,
            name,
            "python",
            f"{ds.python}() must return a pandas DataFrame, but returned {type(frame).__name__}",
        )
    return frame


def _frame_fingerprint(frame: pd.DataFrame, options: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(
        json.dumps([list(map(str, frame.columns)), list(map(str, frame.dtypes))]).encode()
    )
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    digest.update(_options_bytes(options))
    return f"sha256:{digest.hexdigest()}"


def _options_bytes(options: dict[str, Any]) -> bytes:
    return json.dumps(options, sort_keys=True, default=str).encode()
