from __future__ import annotations

import functools
import hashlib
import io
import os
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC

from loopml.artifacts import ArtifactRef, ArtifactStore
from loopml.artifacts._canonical import canonicalize
from loopml.errors import ArtifactError

from .conftest import deployable, same_predictions

MODELS: dict[str, Callable[[], Any]] = {
    "logistic": lambda: LogisticRegression(),
    "random_forest": lambda: RandomForestClassifier(n_estimators=10, random_state=0),
    "hist_gradient_boosting": lambda: HistGradientBoostingClassifier(max_iter=10, random_state=0),
    "knn": lambda: KNeighborsClassifier(),
    "svc": lambda: SVC(),
    "mlp": lambda: MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=2000),
}


def _double(X: Any) -> Any:
    return X * 2


class _Clip(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """A transformer defined here, so no trusted list knows it."""

    def fit(self, X: Any, y: Any = None) -> _Clip:
        return self

    def transform(self, X: Any) -> Any:
        return np.clip(X, -1, 1)


@pytest.mark.parametrize("name", MODELS)
def test_round_trip_predicts_the_same(
    store: ArtifactStore, frame: pd.DataFrame, y_binary: np.ndarray, name: str
) -> None:
    pipeline = deployable(MODELS[name]()).fit(frame, y_binary)
    ref = store.save(pipeline)
    loaded = store.load(ref.uri, sha256=ref.sha256)
    assert isinstance(loaded, Pipeline)
    same_predictions(pipeline, loaded, frame)


def test_sparse_preprocessing_round_trips(
    store: ArtifactStore, frame: pd.DataFrame, y_binary: np.ndarray
) -> None:
    pipeline = deployable(SVC(), sparse=True).fit(frame, y_binary)
    ref = store.save(pipeline)
    same_predictions(pipeline, store.load(ref.uri, sha256=ref.sha256), frame)


def test_ref_names_the_file_by_its_sha256(store: ArtifactStore, fitted: Pipeline) -> None:
    ref = store.save(fitted)
    path = store.root / ref.uri
    data = path.read_bytes()
    assert ref == ArtifactRef(
        sha256=hashlib.sha256(data).hexdigest(),
        uri=f"sha256/{ref.sha256[:2]}/{ref.sha256}.skops",
        size_bytes=len(data),
    )
    assert store.path_for(ref.uri) == path
    assert store.exists(ref.sha256)


def test_load_by_sha_alone(store: ArtifactStore, fitted: Pipeline, frame: pd.DataFrame) -> None:
    ref = store.save(fitted)
    same_predictions(fitted, store.load(ref.sha256, sha256=ref.sha256), frame)


def test_root_is_resolved_and_created_on_first_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fitted: Pipeline
) -> None:
    monkeypatch.chdir(tmp_path)
    store = ArtifactStore("deep/artifacts")
    assert store.root == tmp_path.resolve() / "deep" / "artifacts"
    assert not store.root.exists()
    store.save(fitted)
    assert store.root.is_dir()


def test_same_pipeline_is_stored_once(store: ArtifactStore, fitted: Pipeline) -> None:
    first, second = store.save(fitted), store.save(fitted)
    assert first == second
    assert [p for p in store.root.rglob("*") if p.is_file()] == [store.root / first.uri]


def test_identical_refit_has_the_same_sha256(
    store: ArtifactStore, frame: pd.DataFrame, y_binary: np.ndarray
) -> None:
    def fit() -> Pipeline:
        return deployable(RandomForestClassifier(n_estimators=5, random_state=0)).fit(
            frame, y_binary
        )

    assert store.save(fit()).sha256 == store.save(fit()).sha256


_FIT_AND_SAVE = textwrap.dedent(
    """
    import sys
    import numpy as np, pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    from loopml.artifacts import ArtifactStore

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.choice(["x", "y"], 60)})
    pre = make_column_transformer((OneHotEncoder(), ["b"]), remainder="passthrough")
    model = HistGradientBoostingClassifier(max_iter=5, random_state=0)
    pipeline = make_pipeline(pre, model).fit(X, (X["a"] > 0).astype(int))
    print(ArtifactStore(sys.argv[1]).save(pipeline).sha256)
    """
)


@pytest.mark.slow
def test_sha256_is_the_same_in_another_process(tmp_path: Path) -> None:
    # Each process has its own object ids, clock and string hash seed.
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _FIT_AND_SAVE, str(tmp_path / f"root{seed}")],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        )
        for seed in (1, 2)
    ]
    shas = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert len(shas[0]) == 64
    assert shas[0] == shas[1]


def test_corrupted_file_is_refused(store: ArtifactStore, fitted: Pipeline) -> None:
    ref = store.save(fitted)
    path = store.root / ref.uri
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"sha256 .* corrupt or was changed.*[Rr]e-run"):
        store.load(ref.uri, sha256=ref.sha256)


def test_saving_again_repairs_a_corrupted_file(
    store: ArtifactStore, fitted: Pipeline, frame: pd.DataFrame
) -> None:
    ref = store.save(fitted)
    (store.root / ref.uri).write_bytes(b"not the artifact")
    assert store.save(fitted) == ref
    same_predictions(fitted, store.load(ref.uri, sha256=ref.sha256), frame)


def test_wrong_expected_sha256_is_refused(store: ArtifactStore, fitted: Pipeline) -> None:
    ref = store.save(fitted)
    with pytest.raises(ArtifactError, match=f"{ref.sha256}.*but sha256 {'0' * 64} was recorded"):
        store.load(ref.uri, sha256="0" * 64)


def test_missing_file_names_the_path(store: ArtifactStore) -> None:
    sha = "ab" * 32
    with pytest.raises(ArtifactError, match=f"{store.root}/sha256/ab/{sha}.skops does not exist"):
        store.load(sha, sha256=sha)


def test_file_that_is_not_skops_is_refused(store: ArtifactStore) -> None:
    data = b"plain text"
    sha = hashlib.sha256(data).hexdigest()
    path = store.root / f"sha256/{sha[:2]}/{sha}.skops"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    with pytest.raises(ArtifactError, match="not a readable skops file"):
        store.load(sha, sha256=sha)


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        ("../x", r"contains '\.\.'"),
        ("sha256/../../x.skops", r"contains '\.\.'"),
        ("/etc/passwd", "outside the artifact root"),
    ],
)
def test_paths_leaving_the_root_are_refused(store: ArtifactStore, uri: str, match: str) -> None:
    with pytest.raises(ArtifactError, match=match):
        store.load(uri, sha256="0" * 64)


def test_symlink_leaving_the_root_is_refused(store: ArtifactStore, tmp_path: Path) -> None:
    outside = tmp_path / "secret.skops"
    outside.write_bytes(b"outside")
    store.root.mkdir(parents=True)
    (store.root / "link.skops").symlink_to(outside)
    with pytest.raises(ArtifactError, match=f"resolves to {outside}, outside the artifact root"):
        store.load("link.skops", sha256=hashlib.sha256(b"outside").hexdigest())


def test_absolute_path_inside_the_root_is_allowed(store: ArtifactStore, fitted: Pipeline) -> None:
    ref = store.save(fitted)
    assert store.path_for(str(store.root / ref.uri)) == store.root / ref.uri


@pytest.mark.parametrize("sha", ["../" * 21 + "x", "abc", "g" * 64])
def test_malformed_sha256_is_refused(store: ArtifactStore, sha: str) -> None:
    with pytest.raises(ArtifactError, match="64 hex digits"):
        store.exists(sha)


@pytest.mark.parametrize(
    ("make", "type_name"),
    [
        (lambda: FunctionTransformer(func=_double), f"{__name__}._double"),
        (lambda: _Clip(), f"{__name__}._Clip"),
    ],
    ids=["function", "class"],
)
def test_untrusted_type_is_refused_until_named(
    store: ArtifactStore,
    frame: pd.DataFrame,
    make: Callable[[], Any],
    type_name: str,
) -> None:
    X = frame[["num", "count"]].fillna(0)
    y = X["num"].to_numpy()
    pipeline = Pipeline([("preprocess", make()), ("model", Ridge())]).fit(X, y)
    ref = store.save(pipeline)
    with pytest.raises(ArtifactError, match=f"does not trust: {type_name}. .*extra_trusted"):
        store.load(ref.uri, sha256=ref.sha256)
    loaded = store.load(ref.uri, sha256=ref.sha256, extra_trusted=[type_name])
    np.testing.assert_array_equal(loaded.predict(X), pipeline.predict(X))
    assert store.load(ref.uri, sha256=ref.sha256, extra_trusted=type_name) is not None


def test_os_system_is_refused(store: ArtifactStore) -> None:
    # Never fitted or called: only its reference is stored.
    run_shell = functools.partial(os.system, "true")
    ref = store.save(Pipeline([("preprocess", FunctionTransformer(func=run_shell))]))
    with pytest.raises(ArtifactError, match=rf"does not trust: {os.system.__module__}\.system"):
        store.load(ref.uri, sha256=ref.sha256)


def test_lambda_is_refused_when_saving(store: ArtifactStore) -> None:
    pipeline = Pipeline([("preprocess", FunctionTransformer(func=lambda X: X))])
    with pytest.raises(ArtifactError, match=r"<lambda>.*cannot be loaded back"):
        store.save(pipeline)
    assert not store.root.exists()


def test_save_leaves_no_temp_file(store: ArtifactStore, fitted: Pipeline) -> None:
    ref = store.save(fitted)
    store.save(fitted)
    assert list((store.root / ref.uri).parent.iterdir()) == [store.root / ref.uri]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_write_leaves_no_file(
    store: ArtifactStore,
    fitted: Pipeline,
    frame: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
) -> None:
    def fail(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, failing, fail)
        with pytest.raises(ArtifactError, match=r"cannot write artifact .*No space left"):
            store.save(fitted)
    assert [p for p in store.root.rglob("*") if p.is_file()] == []
    ref = store.save(fitted)
    same_predictions(fitted, store.load(ref.uri, sha256=ref.sha256), frame)


def test_canonical_form_is_stable_and_unknown_layouts_are_kept(fitted: Pipeline) -> None:
    once = canonicalize(skops.io.dumps(fitted)).data
    assert canonicalize(once).data == once

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as dump, zipfile.ZipFile(io.BytesIO(once)) as src:
        for name in src.namelist():
            dump.writestr(name, src.read(name))
        dump.writestr("unreferenced.npy", b"")
    assert canonicalize(buffer.getvalue()).data == buffer.getvalue()
