"""Artifact roots given as fsspec URLs: file:// is a local folder, others go through fsspec."""

from __future__ import annotations

import hashlib
import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from loopml.artifacts import ArtifactStore
from loopml.errors import ArtifactError

from .conftest import same_predictions


@pytest.fixture
def memory_root() -> Iterator[str]:
    """Yield a URL on fsspec's in-memory filesystem that no other test uses; empty it after."""
    root = f"memory://loopml-{uuid.uuid4().hex[:12]}/artifacts"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def _files(root: str) -> list[str]:
    return sorted(fsspec.filesystem("memory").find(root))


def test_a_file_url_is_the_local_folder_it_names(
    tmp_path: Path, fitted: Pipeline, frame: pd.DataFrame
) -> None:
    store = ArtifactStore(f"file://{tmp_path}/artifacts")
    assert store.root == tmp_path.resolve() / "artifacts"
    ref = store.save(fitted)
    assert (tmp_path / "artifacts" / ref.uri).is_file()
    same_predictions(fitted, store.load(ref.uri, sha256=ref.sha256), frame)
    # The same files through a plain path: the URL is only another way to name the folder.
    assert ArtifactStore(tmp_path / "artifacts").exists(ref.sha256)


def test_a_memory_root_saves_once_and_loads_hash_checked(
    memory_root: str, fitted: Pipeline, frame: pd.DataFrame
) -> None:
    store = ArtifactStore(memory_root)
    assert store.root == memory_root
    ref = store.save(fitted)
    assert store.save(fitted) == ref
    location = f"{memory_root}/{ref.uri}"
    assert _files(memory_root) == [location.removeprefix("memory:/")]  # no temp object left
    data = fsspec.filesystem("memory").cat_file(location)
    assert (hashlib.sha256(data).hexdigest(), len(data)) == (ref.sha256, ref.size_bytes)
    assert store.exists(ref.sha256)
    same_predictions(fitted, store.load(ref.uri, sha256=ref.sha256), frame)
    same_predictions(fitted, store.load(ref.sha256, sha256=ref.sha256), frame)


def test_a_changed_object_is_refused_and_saving_again_repairs_it(
    memory_root: str, fitted: Pipeline, frame: pd.DataFrame
) -> None:
    store = ArtifactStore(memory_root)
    ref = store.save(fitted)
    location = f"{memory_root}/{ref.uri}"
    fsspec.filesystem("memory").pipe_file(location, b"not the artifact")
    with pytest.raises(ArtifactError, match=f"artifact {location} has sha256 .* corrupt"):
        store.load(ref.uri, sha256=ref.sha256)
    store.save(fitted)
    same_predictions(fitted, store.load(ref.uri, sha256=ref.sha256), frame)


def test_a_missing_object_names_its_url(memory_root: str) -> None:
    sha = "ab" * 32
    with pytest.raises(ArtifactError, match=f"{memory_root}/sha256/ab/{sha}.skops does not exist"):
        ArtifactStore(memory_root).load(sha, sha256=sha)


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        ("../x", r"contains '\.\.'"),
        ("sha256/../../x.skops", r"contains '\.\.'"),
        ("/etc/passwd", "outside the artifact root"),
        ("memory://elsewhere/x.skops", "outside the artifact root"),
        ("s3://bucket/x.skops", "outside the artifact root"),
    ],
)
def test_uris_leaving_a_url_root_are_refused(memory_root: str, uri: str, match: str) -> None:
    with pytest.raises(ArtifactError, match=match):
        ArtifactStore(memory_root).load(uri, sha256="0" * 64)


def test_the_full_url_of_a_file_under_the_root_is_allowed(
    memory_root: str, fitted: Pipeline
) -> None:
    store = ArtifactStore(memory_root)
    ref = store.save(fitted)
    assert store.path_for(f"{memory_root}/{ref.uri}") == f"{memory_root}/{ref.uri}"
    assert store.path_for(f"sha256/./{ref.uri.removeprefix('sha256/')}") == (
        f"{memory_root}/{ref.uri}"
    )


def test_a_failed_move_leaves_neither_the_file_nor_the_temp_object(
    memory_root: str, fitted: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    store = ArtifactStore(memory_root)
    monkeypatch.setattr(type(fsspec.filesystem("memory")), "mv", fail)
    with pytest.raises(ArtifactError, match=r"cannot write artifact memory://.*No space left"):
        store.save(fitted)
    assert _files(memory_root) == []


def test_an_unknown_protocol_is_an_artifact_error() -> None:
    with pytest.raises(ArtifactError, match=r"cannot open the artifact root 'nosuch://x'"):
        ArtifactStore("nosuch://x")


@pytest.mark.skipif(importlib.util.find_spec("s3fs") is not None, reason="s3fs is installed")
def test_s3_without_s3fs_says_what_to_install() -> None:
    with pytest.raises(ArtifactError, match="s3fs"):
        ArtifactStore("s3://bucket/prefix")
