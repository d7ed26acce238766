"""The IDX reader and writer: round trips, gzip detection, and each error message."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from scratchcnn.datasets import read_idx, write_idx

IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@pytest.mark.parametrize("dtype", IDX_DTYPES)
@pytest.mark.parametrize("name", ["data.idx", "data.idx.gz"])
def test_round_trip(tmp_path: Path, rng: np.random.Generator, dtype, name: str) -> None:
    array = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    result = read_idx(write_idx(tmp_path / name, array))
    assert result.dtype == np.dtype(dtype)
    assert result.dtype.isnative
    np.testing.assert_array_equal(result, array)


def test_mnist_header_layout(tmp_path: Path) -> None:
    # the magic number 0x00000803 and big-endian dimensions, as in the MNIST files
    path = write_idx(tmp_path / "images", np.zeros((2, 28, 28), dtype=np.uint8))
    assert path.read_bytes()[:16] == bytes.fromhex("00000803 00000002 0000001c 0000001c")


def test_compression_is_detected_from_content(tmp_path: Path, rng: np.random.Generator) -> None:
    array = rng.integers(0, 256, size=(4, 3), dtype=np.uint8)
    gz_without_suffix = tmp_path / "labels-idx2-ubyte"
    gz_without_suffix.write_bytes(gzip.compress(write_idx(tmp_path / "a", array).read_bytes()))
    raw_with_suffix = tmp_path / "raw.gz"
    raw_with_suffix.write_bytes((tmp_path / "a").read_bytes())
    np.testing.assert_array_equal(read_idx(gz_without_suffix), array)
    np.testing.assert_array_equal(read_idx(raw_with_suffix), array)


def test_result_is_writable(tmp_path: Path) -> None:
    result = read_idx(write_idx(tmp_path / "a.gz", np.arange(6, dtype=np.uint8)))
    result[0] = 9
    assert result[0] == 9


def _header(code: int, *dims: int) -> bytes:
    return bytes([0, 0, code, len(dims)]) + np.asarray(dims, dtype=">u4").tobytes()


def test_truncated_data(tmp_path: Path) -> None:
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_header(0x08, 10000, 28, 28) + bytes(1000)))
    message = (
        f"read_idx: {path} is truncated: expected 7840000 bytes of data (10000 x 28 x 28 ubyte) "
        "after the 16-byte header, got 1000"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        read_idx(path)


def test_trailing_data(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_bytes(_header(0x08, 3) + bytes(5))
    with pytest.raises(ValueError, match=r"is too long: expected 3 bytes of data .* got 5"):
        read_idx(path)


def test_too_short_for_magic(tmp_path: Path) -> None:
    path = tmp_path / "tiny"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match=r"too short to be an IDX file.*got 2 bytes"):
        read_idx(path)


def test_bad_magic(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello world")
    with pytest.raises(ValueError, match=r"notes.txt is not an IDX file: .* got 0x68656c6c"):
        read_idx(path)


def test_unknown_type_code(tmp_path: Path) -> None:
    path = tmp_path / "odd"
    path.write_bytes(_header(0x07, 1) + bytes(1))
    with pytest.raises(ValueError, match=r"unknown IDX type code 0x07; expected one of 0x08"):
        read_idx(path)


def test_zero_dimensions(tmp_path: Path) -> None:
    path = tmp_path / "scalar"
    path.write_bytes(bytes([0, 0, 8, 0]))
    with pytest.raises(ValueError, match="declares 0 dimensions"):
        read_idx(path)


def test_truncated_header(tmp_path: Path) -> None:
    path = tmp_path / "short-header"
    path.write_bytes(_header(0x08, 10, 28, 28)[:10])
    with pytest.raises(ValueError, match=r"header declares 3 dimensions \(16 header bytes\)"):
        read_idx(path)


def test_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(_header(0x08, 1000) + bytes(1000))[:-12])
    with pytest.raises(ValueError, match=r"cut.gz is a truncated gzip file"):
        read_idx(path)


def test_corrupt_gzip(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(_header(0x08, 1024) + bytes(range(256)) * 4))
    data[10] = 0xFF  # the first deflate block now has the reserved block type 3
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"bad.gz is a corrupt gzip file"):
        read_idx(path)


def test_gzip_checksum_is_verified(tmp_path: Path) -> None:
    # the data has exactly the declared size, so the reader goes on to the gzip trailer
    data = bytearray(gzip.compress(_header(0x08, 1024) + bytes(range(256)) * 4))
    data[-8] ^= 0xFF  # the CRC-32 of the uncompressed data
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"crc.gz is a corrupt gzip file: CRC check failed"):
        read_idx(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="read_idx: no such file"):
        read_idx(tmp_path / "absent")


def test_write_rejects_unsupported_dtype(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"write_idx: IDX stores uint8.* got dtype bool"):
        write_idx(tmp_path / "b", np.zeros(3, dtype=bool))


def test_write_rejects_scalar(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="write_idx: expected an array of 1 to 255 dimensions"):
        write_idx(tmp_path / "s", np.uint8(3))
