"""The IDX reader streams gzip: a file that inflates past its header's size fails fast."""

from __future__ import annotations

import gzip
import re
import time
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from scratchcnn.datasets import read_idx


def _header(code: int, *dims: int) -> bytes:
    return bytes([0, 0, code, len(dims)]) + np.asarray(dims, dtype=">u4").tobytes()


def _gzip_bomb(path: Path, header: bytes, inflated_bytes: int) -> Path:
    """A gzip file of ``header`` then ``inflated_bytes`` zero bytes, compressed ~1000:1."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    block = bytes(1 << 20)
    parts = [compressor.compress(header)]
    for _ in range(inflated_bytes // len(block)):
        parts.append(compressor.compress(block))
    parts.append(compressor.flush())
    path.write_bytes(b"".join(parts))
    return path


def test_gzip_bomb_stops_at_the_declared_size(tmp_path: Path) -> None:
    # 10 labels announced, 2 GiB of zeros behind them in a ~2 MB file
    path = _gzip_bomb(tmp_path / "bomb-labels-idx1-ubyte.gz", _header(0x08, 10), 2 << 30)
    assert path.stat().st_size < 3_000_000
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=re.escape(
            f"read_idx: {path} is too long: expected 10 bytes of data (10 ubyte) after the "
            "8-byte header, got more than 10"
        )):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 1.0
    assert peak < 8 << 20  # a few chunks at most, not the 2 GiB


def test_gzip_bomb_with_a_large_declared_size(tmp_path: Path) -> None:
    # a header announcing 1 MiB of pixels: reading stops just past it
    path = _gzip_bomb(tmp_path / "images.gz", _header(0x08, 1024, 32, 32), 256 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="is too long: expected 1048576 bytes"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


def test_huge_declared_size_with_little_data(tmp_path: Path) -> None:
    # 4 x 2**32-1 items announced, 100 bytes present: no attempt to allocate the announced size
    path = tmp_path / "liar.gz"
    path.write_bytes(gzip.compress(_header(0x08, 2**32 - 1, 4) + bytes(100)))
    with pytest.raises(ValueError, match=r"is truncated: expected 17179869180 bytes .* got 100"):
        read_idx(path)


def test_raw_file_size_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "raw-idx1-ubyte"
    path.write_bytes(_header(0x08, 3) + bytes(7))
    with pytest.raises(ValueError, match=r"is too long: expected 3 bytes of data .* got 7$"):
        read_idx(path)


def test_stream_reads_large_valid_files(tmp_path: Path, rng: np.random.Generator) -> None:
    # more than one read chunk, compressed
    array = rng.integers(0, 256, size=(3000, 28, 28), dtype=np.uint8)
    path = tmp_path / "many.gz"
    path.write_bytes(gzip.compress(_header(0x08, *array.shape) + array.tobytes(), mtime=0))
    np.testing.assert_array_equal(read_idx(path), array)
