"""MNIST and Fashion-MNIST from IDX files: found on disk, or downloaded and checked by md5.

Each file is looked up in these folders, in order: ``root/<name>`` and ``root`` when given,
``$SCRATCHCNN_DATA/<name>``, the cache folder ``$XDG_CACHE_HOME/scratchcnn/<name>`` (default
``~/.cache/scratchcnn/<name>``), then system folders such as Debian's
``/usr/share/datasets/fashion-mnist``. Missing files are downloaded into ``root/<name>`` when
``root`` is given, else into the cache folder. ``MIRRORS``, ``MD5`` and ``SYSTEM_FOLDERS`` may
be changed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from scratchcnn.datasets.download import DEFAULT_TIMEOUT, DownloadError, download_file
from scratchcnn.datasets.idx import read_idx

SPLITS: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

MIRRORS: dict[str, list[str]] = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    "fashion-mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ],
}

# md5 of the published .gz files; files found on disk are checked by parsing instead, since
# repackaged copies (Debian's) are recompressed and differ byte for byte.
MD5: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

SYSTEM_FOLDERS: dict[str, list[Path]] = {
    "mnist": [],
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],
}

Split = tuple[np.ndarray, np.ndarray]

# How the "install it by hand" hint names the root setting; the command line replaces it with
# its own option's name.
ROOT_HINT = "pass root=<folder>"


def cache_dir(name: str | None = None) -> Path:
    """The download cache: ``$XDG_CACHE_HOME/scratchcnn`` or ``~/.cache/scratchcnn``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "scratchcnn"
    return folder / name if name else folder


def search_folders(name: str, root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The folders searched for dataset ``name``'s files, in order (see the module docstring)."""
    folders: list[Path] = []
    if root is not None:
        folders += [Path(root) / name, Path(root)]
    if os.environ.get("SCRATCHCNN_DATA"):
        folders.append(Path(os.environ["SCRATCHCNN_DATA"]) / name)
    folders.append(cache_dir(name))
    folders += SYSTEM_FOLDERS.get(name, [])
    return folders


def find_idx_file(folder: str | os.PathLike[str], stem: str) -> Path | None:
    """The file for ``stem`` (e.g. ``t10k-images-idx3-ubyte``) in ``folder``, or None.

    Accepts the stem itself, ``<stem>.gz``, and the dotted spelling some copies use
    (``t10k-images.idx3-ubyte``), raw or gzip.
    """
    dotted = stem.replace("-idx", ".idx")
    for candidate in (stem, f"{stem}.gz", dotted, f"{dotted}.gz"):
        path = Path(folder) / candidate
        if path.is_file():
            return path
    return None


def _to_arrays(
    images: np.ndarray,
    labels: np.ndarray,
    sources: tuple[Path, Path],
    owner: str,
    normalize: bool,
    flatten: bool,
    dtype: DTypeLike,
) -> Split:
    """Check that images and labels belong together and convert them to model inputs."""
    images_path, labels_path = sources
    if images.ndim != 3:
        raise ValueError(
            f"{owner}: expected {images_path} to hold 3-D images (N, H, W), but it holds an "
            f"array of shape {images.shape}"
        )
    if labels.ndim != 1:
        raise ValueError(
            f"{owner}: expected {labels_path} to hold 1-D labels (N,), but it holds an array "
            f"of shape {labels.shape}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{owner}: {images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; expected the same number"
        )
    dtype = np.dtype(dtype)
    if normalize:
        if images.dtype != np.uint8:
            raise ValueError(
                f"{owner}: normalize=True expects ubyte (0..255) images, but {images_path} "
                f"holds {images.dtype}; pass normalize=False"
            )
        if dtype.kind != "f":
            raise TypeError(f"{owner}: normalize=True needs a floating dtype, but got {dtype}")
        X = images.astype(dtype)
        X /= dtype.type(255)
    else:
        X = images.astype(dtype)
    N, H, W = images.shape
    X = X.reshape(N, H * W) if flatten else X.reshape(N, 1, H, W)
    return X, labels.astype(np.int64)


def _check_split(split: str, owner: str) -> tuple[str, str]:
    if split not in SPLITS:
        raise ValueError(f"{owner}: split must be 'train' or 'test', but got {split!r}")
    return SPLITS[split]


def load_idx_split(
    folder: str | os.PathLike[str],
    split: str = "test",
    normalize: bool = True,
    flatten: bool = False,
    dtype: DTypeLike = np.float32,
) -> Split:
    """Load one split (``"train"`` or ``"test"``) of an MNIST-format folder as ``(X, y)``.

    X is (N, 1, H, W), or (N, H*W) with ``flatten``, scaled to [0, 1] with ``normalize``;
    y is int64. Works on folders that hold only that split's two files.
    """
    owner = "load_idx_split"
    stems = _check_split(split, owner)
    paths = []
    for stem in stems:
        path = find_idx_file(folder, stem)
        if path is None:
            raise FileNotFoundError(
                f"{owner}: no {stem} or {stem}.gz in {folder} (needed for the {split} split)"
            )
        paths.append(path)
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    return _to_arrays(images, labels, (paths[0], paths[1]), owner, normalize, flatten, dtype)


def _resolve(
    name: str,
    stem: str,
    root: str | os.PathLike[str] | None,
    download: bool,
    mirrors: Sequence[str],
    checksums: Mapping[str, str],
    timeout: float,
    owner: str,
) -> Path:
    """Find ``stem`` in the search folders, or download it; return its path."""
    folders = search_folders(name, root)
    for folder in folders:
        found = find_idx_file(folder, stem)
        if found is not None:
            return found
    target = Path(root) / name if root is not None else cache_dir(name)
    searched = "\n".join(f"  {folder}" for folder in folders)
    manual = (
        f"Searched:\n{searched}\nTo install it by hand, place {stem}.gz (or the uncompressed "
        f"{stem}) in {target}, in $SCRATCHCNN_DATA/{name}, or {ROOT_HINT}."
    )
    if not download:
        raise FileNotFoundError(f"{owner}: {stem} not found and download=False. {manual}")
    filename = f"{stem}.gz"
    urls = [mirror.rstrip("/") + "/" + filename for mirror in mirrors]
    try:
        return download_file(urls, target / filename, md5=checksums.get(filename), timeout=timeout)
    except DownloadError as error:
        raise DownloadError(f"{owner}: {error}\n{manual}", error.attempts) from error


def _load_named(
    name: str,
    owner: str,
    root: str | os.PathLike[str] | None,
    download: bool,
    normalize: bool,
    flatten: bool,
    dtype: DTypeLike,
    mirrors: Sequence[str] | None,
    md5: Mapping[str, str] | None,
    timeout: float,
    split: str | None,
) -> Any:
    mirrors = MIRRORS[name] if mirrors is None else mirrors
    checksums = MD5[name] if md5 is None else md5
    wanted = ("train", "test") if split is None else (split,)
    for one in wanted:
        _check_split(one, owner)
    splits = []
    for one in wanted:  # only the files of the splits asked for are looked up or downloaded
        images_path, labels_path = (
            _resolve(name, stem, root, download, mirrors, checksums, timeout, owner)
            for stem in SPLITS[one]
        )
        images, labels = read_idx(images_path), read_idx(labels_path)
        splits.append(
            _to_arrays(images, labels, (images_path, labels_path), owner, normalize, flatten, dtype)
        )
    return splits[0] if split is not None else (splits[0], splits[1])


def load_mnist(
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    normalize: bool = True,
    flatten: bool = False,
    dtype: DTypeLike = np.float32,
    *,
    mirrors: Sequence[str] | None = None,
    md5: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    split: str | None = None,
) -> Any:
    """MNIST as ``(X_train, y_train), (X_test, y_test)``: 60,000 and 10,000 digits.

    X is (N, 1, 28, 28) (or (N, 784) with ``flatten``) in [0, 1] with ``normalize``; y is
    int64. Folders are searched as the module docstring says; missing files are downloaded
    from ``mirrors`` (default ``MIRRORS["mnist"]``) and checked against ``md5`` (file name ->
    digest, default ``MD5["mnist"]``). ``split="train"`` or ``"test"`` returns that split
    alone as ``(X, y)``, and only its two files are looked up or downloaded.
    """
    return _load_named(
        "mnist", "load_mnist", root, download, normalize, flatten, dtype, mirrors, md5, timeout,
        split,
    )


def load_fashion_mnist(
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    normalize: bool = True,
    flatten: bool = False,
    dtype: DTypeLike = np.float32,
    *,
    mirrors: Sequence[str] | None = None,
    md5: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    split: str | None = None,
) -> Any:
    """Fashion-MNIST as ``(X_train, y_train), (X_test, y_test)``: 60,000 and 10,000 images.

    Same format, shapes and arguments as :func:`load_mnist`. Debian's
    ``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist``) is found
    without downloading.
    """
    return _load_named(
        "fashion-mnist",
        "load_fashion_mnist",
        root,
        download,
        normalize,
        flatten,
        dtype,
        mirrors,
        md5,
        timeout,
        split,
    )
