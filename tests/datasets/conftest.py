"""Fixtures for the dataset tests: tiny IDX datasets, a local HTTP server, an isolated cache."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scratchcnn.datasets import md5sum, write_idx
from scratchcnn.datasets.mnist import SPLITS

SIZES = {"train": 12, "test": 5}
TinyWriter = Callable[[Path], dict[str, Any]]


@pytest.fixture
def write_tiny_dataset(rng: np.random.Generator) -> TinyWriter:
    """A function that writes a small MNIST-format dataset (gzip, 4x5 images) into a folder.

    It returns ``{"md5": {file name: md5}, "train": (images, labels), "test": (...)}``; each
    call draws new random images.
    """

    def write(folder: Path) -> dict[str, Any]:
        folder.mkdir(parents=True, exist_ok=True)
        info: dict[str, Any] = {"md5": {}}
        for split, stems in SPLITS.items():
            images = rng.integers(0, 256, size=(SIZES[split], 4, 5), dtype=np.uint8)
            labels = rng.integers(0, 10, size=SIZES[split], dtype=np.uint8)
            for stem, array in zip(stems, (images, labels), strict=True):
                path = write_idx(folder / f"{stem}.gz", array)
                info["md5"][path.name] = md5sum(path)
            info[split] = (images, labels)
        return info

    return write


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1 (a free port): yields (folder, base URL)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the cache at a temporary folder and forget $SCRATCHCNN_DATA and system folders."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("SCRATCHCNN_DATA", raising=False)
    monkeypatch.setattr(
        "scratchcnn.datasets.mnist.SYSTEM_FOLDERS", {"mnist": [], "fashion-mnist": []}
    )
    return cache / "scratchcnn"
