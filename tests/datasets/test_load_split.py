"""One split at a time: the test split needs neither the training files nor a download."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from scratchcnn.datasets import DownloadError, load_dataset, load_fashion_mnist, load_mnist
from scratchcnn.datasets.mnist import SPLITS


def test_test_split_alone_from_a_folder_without_training_files(
    isolated_cache: Path, tmp_path: Path, write_tiny_dataset
) -> None:
    info = write_tiny_dataset(tmp_path / "only" / "mnist")
    for stem in SPLITS["train"]:
        (tmp_path / "only" / "mnist" / f"{stem}.gz").unlink()
    # download=True, but an unreachable mirror: nothing may be fetched for the test split
    X, y = load_mnist(root=tmp_path / "only", split="test", mirrors=["http://127.0.0.1:9/"])
    assert X.shape == (5, 1, 4, 5)
    np.testing.assert_array_equal(y, info["test"][1])
    np.testing.assert_allclose(X[:, 0] * 255, info["test"][0], rtol=1e-6)


def test_train_split_alone(isolated_cache: Path, tmp_path: Path, write_tiny_dataset) -> None:
    info = write_tiny_dataset(tmp_path / "r" / "fashion-mnist")
    X, y = load_fashion_mnist(root=tmp_path / "r", split="train", download=False)
    assert X.shape == (12, 1, 4, 5)
    np.testing.assert_array_equal(y, info["train"][1])


def test_missing_test_file_downloads_only_the_test_split(
    http_root, isolated_cache: Path, tmp_path: Path, write_tiny_dataset
) -> None:
    served, base = http_root
    info = write_tiny_dataset(served)
    for stem in SPLITS["train"]:
        (served / f"{stem}.gz").unlink()  # the server has no training files at all
    X, _ = load_mnist(split="test", mirrors=[base], md5=info["md5"])
    assert len(X) == 5
    cached = sorted(p.name for p in (isolated_cache / "mnist").iterdir())
    assert cached == sorted(f"{stem}.gz" for stem in SPLITS["test"])


def test_bad_split_name(isolated_cache: Path) -> None:
    message = "load_mnist: split must be 'train' or 'test', but got 'dev'"
    with pytest.raises(ValueError, match=message):
        load_mnist(split="dev", download=False)
    with pytest.raises(ValueError, match="load_dataset: split must be 'train' or 'test'"):
        load_dataset("digits", split="validation")


def test_load_dataset_split_for_every_dataset(isolated_cache, tmp_path, write_tiny_dataset) -> None:
    write_tiny_dataset(tmp_path / "mnist")
    shutil.copytree(tmp_path / "mnist", tmp_path / "fashion-mnist")
    for name in ("digits", "mnist1d"):
        (_, _), (X_test, y_test) = load_dataset(name)
        X, y = load_dataset(name, split="test")
        np.testing.assert_array_equal(X, X_test)
        np.testing.assert_array_equal(y, y_test)
    for name in ("mnist", "fashion-mnist"):
        X, _ = load_dataset(name, split="test", root=tmp_path, download=False)
        assert X.shape == (5, 1, 4, 5)


def test_offline_hint_names_the_root_argument(isolated_cache: Path) -> None:
    with pytest.raises(DownloadError, match=re.escape("or pass root=<folder>.")):
        load_mnist(split="test", mirrors=["http://127.0.0.1:9/"], timeout=5)
