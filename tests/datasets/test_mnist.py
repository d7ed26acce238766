"""MNIST loaders: the real test split, Debian's Fashion-MNIST, folder search and download."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from scratchcnn.datasets import (
    DownloadError,
    load_fashion_mnist,
    load_idx_split,
    load_mnist,
    md5sum,
    write_idx,
)
from scratchcnn.datasets.mnist import MD5, SPLITS, find_idx_file, search_folders

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# --- the real files ---------------------------------------------------------------------------
@pytest.fixture
def mnist_dir(shared) -> Path:  # type: ignore[no-untyped-def]
    """The official MNIST test split in ../shared (skipped when absent, failed in CI)."""
    return shared("data/mnist/t10k-images-idx3-ubyte.gz").parent


def test_real_mnist_files_are_the_official_ones(mnist_dir: Path) -> None:
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert md5sum(mnist_dir / name) == MD5["mnist"][name]


def test_real_mnist_test_split(mnist_dir: Path) -> None:
    X, y = load_idx_split(mnist_dir, split="test")
    assert X.shape == (10000, 1, 28, 28)
    assert X.dtype == np.float32
    assert y.dtype == np.int64
    assert X.min() == 0.0
    assert X.max() == 1.0
    assert np.bincount(y).tolist() == MNIST_TEST_COUNTS
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert X.mean() == pytest.approx(0.1325, abs=1e-4)


def test_real_mnist_raw_pixels(mnist_dir: Path) -> None:
    X, _ = load_idx_split(mnist_dir, normalize=False, flatten=True, dtype=np.uint8)
    assert X.shape == (10000, 784)
    assert X.dtype == np.uint8
    assert int(X[0].sum()) == 18454
    # the border of a centred digit is blank
    assert not X.reshape(-1, 28, 28)[:, 0, :].any()


def test_real_mnist_train_split_is_absent_there(mnist_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no train-images-idx3-ubyte or .* train split"):
        load_idx_split(mnist_dir, split="train")


@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="Debian's dataset-fashion-mnist is absent")
def test_fashion_mnist_from_debian(isolated_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "scratchcnn.datasets.mnist.SYSTEM_FOLDERS", {"fashion-mnist": [FASHION_DIR]}
    )
    (X_train, y_train), (X_test, y_test) = load_fashion_mnist(download=False)
    assert X_train.shape == (60000, 1, 28, 28)
    assert X_test.shape == (10000, 1, 28, 28)
    assert X_train.dtype == X_test.dtype == np.float32
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert 0.0 <= X_test.min() and X_test.max() <= 1.0
    # the official first test item is an ankle boot (9), the first training item too
    assert y_test[0] == 9
    assert y_train[0] == 9


# --- load_idx_split on small files ----------------------------------------------------------


def test_load_idx_split_shapes_and_scaling(tmp_path: Path, write_tiny_dataset) -> None:
    info = write_tiny_dataset(tmp_path)
    images, labels = info["train"]
    X, y = load_idx_split(tmp_path, split="train")
    assert X.shape == (12, 1, 4, 5)
    np.testing.assert_allclose(X[:, 0], images / np.float32(255), rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    X_flat, _ = load_idx_split(tmp_path, split="train", flatten=True, dtype=np.float64)
    assert X_flat.shape == (12, 20)
    assert X_flat.dtype == np.float64


def test_load_idx_split_reads_raw_and_dotted_names(tmp_path: Path, rng) -> None:
    labels = rng.integers(0, 10, size=3, dtype=np.uint8)
    write_idx(tmp_path / "t10k-images.idx3-ubyte", np.zeros((3, 2, 2), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)
    X, y = load_idx_split(tmp_path)
    assert X.shape == (3, 1, 2, 2)
    np.testing.assert_array_equal(y, labels)


def test_count_mismatch(tmp_path: Path) -> None:
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((3, 2, 2), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(2, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"holds 3 images but .* holds 2 labels"):
        load_idx_split(tmp_path)


def test_images_must_be_3d(tmp_path: Path) -> None:
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((3, 4), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(3, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"to hold 3-D images \(N, H, W\).* shape \(3, 4\)"):
        load_idx_split(tmp_path)


def test_labels_must_be_1d(tmp_path: Path) -> None:
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((3, 2, 2), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros((3, 1), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"to hold 1-D labels"):
        load_idx_split(tmp_path)


def test_normalize_needs_ubyte_images(tmp_path: Path) -> None:
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((3, 2, 2), dtype=np.float32))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(3, dtype=np.uint8))
    with pytest.raises(ValueError, match="normalize=True expects ubyte"):
        load_idx_split(tmp_path)


def test_normalize_needs_float_dtype(tmp_path: Path, write_tiny_dataset) -> None:
    write_tiny_dataset(tmp_path)
    with pytest.raises(TypeError, match="normalize=True needs a floating dtype, but got int32"):
        load_idx_split(tmp_path, dtype=np.int32)


def test_unknown_split(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="split must be 'train' or 'test', but got 'val'"):
        load_idx_split(tmp_path, split="val")


def test_corrupt_file_is_named(tmp_path: Path, write_tiny_dataset) -> None:
    write_tiny_dataset(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-7]))
    with pytest.raises(ValueError, match=re.escape(f"{path} is truncated: expected 100 bytes")):
        load_idx_split(tmp_path)


# --- folder search ----------------------------------------------------------------------------


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRATCHCNN_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert search_folders("fashion-mnist", root=tmp_path / "r") == [
        tmp_path / "r" / "fashion-mnist",
        tmp_path / "r",
        tmp_path / "data" / "fashion-mnist",
        tmp_path / "xdg" / "scratchcnn" / "fashion-mnist",
        FASHION_DIR,
    ]


def test_cache_defaults_to_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("SCRATCHCNN_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert search_folders("mnist") == [tmp_path / ".cache" / "scratchcnn" / "mnist"]


def test_find_prefers_uncompressed_name(tmp_path: Path) -> None:
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"")
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"")
    assert find_idx_file(tmp_path, "t10k-labels-idx1-ubyte") == tmp_path / "t10k-labels-idx1-ubyte"
    assert find_idx_file(tmp_path, "train-labels-idx1-ubyte") is None


def test_load_mnist_from_root(isolated_cache: Path, tmp_path: Path, write_tiny_dataset) -> None:
    info = write_tiny_dataset(tmp_path / "mine")
    (X_train, _), (X_test, y_test) = load_mnist(root=tmp_path / "mine", download=False)
    assert X_train.shape == (12, 1, 4, 5)
    assert X_test.shape == (5, 1, 4, 5)
    np.testing.assert_array_equal(y_test, info["test"][1])


def test_load_mnist_from_env_folder(
    isolated_cache, tmp_path: Path, monkeypatch, write_tiny_dataset
) -> None:
    info = write_tiny_dataset(tmp_path / "data" / "mnist")
    monkeypatch.setenv("SCRATCHCNN_DATA", str(tmp_path / "data"))
    (_, y_train), _ = load_mnist(download=False)
    np.testing.assert_array_equal(y_train, info["train"][1])


def test_root_comes_before_cache(isolated_cache: Path, tmp_path: Path, write_tiny_dataset) -> None:
    write_tiny_dataset(isolated_cache / "mnist")
    info = write_tiny_dataset(tmp_path / "r" / "mnist")
    (_, y_train), _ = load_mnist(root=tmp_path / "r", download=False)
    np.testing.assert_array_equal(y_train, info["train"][1])


def test_missing_without_download(isolated_cache: Path, tmp_path: Path) -> None:
    message = r"load_mnist: train-images-idx3-ubyte not found and download=False\. Searched:"
    with pytest.raises(FileNotFoundError, match=message) as info:
        load_mnist(root=tmp_path / "empty", download=False)
    target = tmp_path / "empty" / "mnist"
    expected = f"(or the uncompressed train-images-idx3-ubyte) in {target}, in $SCRATCHCNN_DATA"
    assert expected in str(info.value)


# --- download ---------------------------------------------------------------------------------


def test_download_into_cache(
    http_root, isolated_cache: Path, tmp_path: Path, write_tiny_dataset
) -> None:
    served, base = http_root
    info = write_tiny_dataset(tmp_path / "source")
    shutil.copytree(tmp_path / "source", served / "second")
    mirrors = [f"{base}/first/", f"{base}/second"]
    (X_train, _), (_, y_test) = load_mnist(mirrors=mirrors, md5=info["md5"])
    assert X_train.shape == (12, 1, 4, 5)
    np.testing.assert_array_equal(y_test, info["test"][1])
    cached = sorted(p.name for p in (isolated_cache / "mnist").iterdir())
    assert cached == sorted(f"{stem}.gz" for pair in SPLITS.values() for stem in pair)
    # a second call finds the cached files and needs no server
    load_mnist(download=False)


def test_download_only_missing_files(
    http_root, isolated_cache, tmp_path: Path, write_tiny_dataset
) -> None:
    served, base = http_root
    info = write_tiny_dataset(served)
    local = tmp_path / "local" / "fashion-mnist"
    local.mkdir(parents=True)
    for stem in SPLITS["test"]:
        shutil.copy(served / f"{stem}.gz", local)
        (served / f"{stem}.gz").unlink()
    load_fashion_mnist(root=tmp_path / "local", mirrors=[base], md5=info["md5"])
    assert sorted(p.name for p in local.iterdir()) == sorted(info["md5"])


def test_download_checksum_mismatch(
    http_root, isolated_cache: Path, tmp_path: Path, write_tiny_dataset
) -> None:
    served, base = http_root
    write_tiny_dataset(served)
    wrong = dict.fromkeys(MD5["mnist"], "0" * 32)
    with pytest.raises(DownloadError, match="md5 mismatch: expected 00000000"):
        load_mnist(mirrors=[base], md5=wrong)
    assert not any((isolated_cache / "mnist").iterdir())


def test_offline_error_explains_manual_install(isolated_cache: Path) -> None:
    url = "http://127.0.0.1:9/"  # the discard port: nothing listens there
    with pytest.raises(DownloadError) as info:
        load_mnist(mirrors=[url], timeout=5)
    message = str(info.value)
    assert message.startswith("load_mnist: download_file: could not download")
    assert "http://127.0.0.1:9/train-images-idx3-ubyte.gz: cannot connect" in message
    assert "place train-images-idx3-ubyte.gz (or the uncompressed " in message
    assert str(isolated_cache / "mnist") in message
