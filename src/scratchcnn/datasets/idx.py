"""The IDX format of the MNIST files: a 4-byte magic number, big-endian dimensions, raw data.

The magic number is two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte,
0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64) and the number of dimensions. Files may be
gzip-compressed; compression is detected from the first bytes, not from the file name.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

GZIP_MAGIC = b"\x1f\x8b"

# IDX type code -> (big-endian dtype, name used in messages)
IDX_DTYPES: dict[int, tuple[np.dtype, str]] = {
    0x08: (np.dtype(">u1"), "ubyte"),
    0x09: (np.dtype(">i1"), "byte"),
    0x0B: (np.dtype(">i2"), "int16"),
    0x0C: (np.dtype(">i4"), "int32"),
    0x0D: (np.dtype(">f4"), "float32"),
    0x0E: (np.dtype(">f8"), "float64"),
}

_CHUNK = 1 << 20


class _Reader:
    """A file's bytes in order, gzip decompressed as a stream; read errors name the file."""

    def __init__(self, path: Path, raw: BinaryIO) -> None:
        self.path = path
        self.compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        self.stream: Any = gzip.GzipFile(fileobj=raw, mode="rb") if self.compressed else raw
        self.consumed = 0

    def read(self, n: int) -> bytearray:
        """Up to ``n`` bytes (fewer only at the end), in chunks: memory follows the data read."""
        out = bytearray()
        try:
            while len(out) < n:
                chunk = self.stream.read(min(_CHUNK, n - len(out)))
                if not chunk:
                    break
                out += chunk
        except EOFError as error:
            raise ValueError(
                f"read_idx: {self.path} is a truncated gzip file ({error}); "
                f"{self.consumed + len(out)} bytes could be decompressed"
            ) from error
        except (gzip.BadGzipFile, zlib.error) as error:
            raise ValueError(f"read_idx: {self.path} is a corrupt gzip file: {error}") from error
        self.consumed += len(out)
        return out


def _read_header(reader: _Reader) -> tuple[tuple[int, ...], np.dtype, str, int]:
    """Shape, dtype, type name and header size from the magic number and the dimensions."""
    path = reader.path
    magic = reader.read(4)
    if len(magic) < 4:
        raise ValueError(
            f"read_idx: {path} is too short to be an IDX file: the 4-byte magic number is "
            f"missing (got {len(magic)} bytes)"
        )
    if magic[0] != 0 or magic[1] != 0:
        raise ValueError(
            f"read_idx: {path} is not an IDX file: expected a magic number starting with two "
            f"zero bytes, got 0x{bytes(magic).hex()}"
        )
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} ({name})" for c, (_, name) in IDX_DTYPES.items())
        raise ValueError(
            f"read_idx: {path} has unknown IDX type code 0x{code:02X}; expected one of {known}"
        )
    if ndim == 0:
        raise ValueError(f"read_idx: {path} declares 0 dimensions; expected at least 1")
    header_size = 4 + 4 * ndim
    dims = reader.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(
            f"read_idx: {path} is truncated: its header declares {ndim} dimensions "
            f"({header_size} header bytes), but the file holds only {4 + len(dims)} bytes"
        )
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    dtype, type_name = IDX_DTYPES[code]
    return shape, dtype, type_name, header_size


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzip or raw) into an array of its declared shape and type.

    Multi-byte types are converted to the machine's byte order. A file whose header is not
    IDX, or whose data is shorter or longer than the header declares, raises a ``ValueError``
    that names the file and what is wrong. A gzip file is decompressed as a stream that stops
    as soon as it holds more than the header declares, so memory never exceeds the declared
    size (a gzip bomb fails fast).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_idx: no such file: {path}")
    with open(path, "rb") as raw:
        reader = _Reader(path, raw)
        shape, dtype, type_name, header_size = _read_header(reader)
        count = math.prod(shape)
        expected = count * dtype.itemsize
        if reader.compressed:
            data = reader.read(expected)
            got = len(data)
            extra = len(reader.read(1)) if got == expected else 0
        else:  # the file size tells the data size: no need to read a wrong-sized file
            got = os.fstat(raw.fileno()).st_size - header_size
            extra = 0
            data = reader.read(expected) if got == expected else bytearray()
    if got != expected or extra:
        dims = " x ".join(str(d) for d in shape)
        problem = "truncated" if got < expected else "too long"
        amount = f"more than {expected}" if extra else f"{got}"
        raise ValueError(
            f"read_idx: {path} is {problem}: expected {expected} bytes of data "
            f"({dims} {type_name}) after the {header_size}-byte header, got {amount}"
        )
    array = np.frombuffer(data, dtype=dtype, count=count)
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
    return array.reshape(shape)


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    The type code follows the array's dtype (uint8, int8, int16, int32, float32, float64);
    any other dtype is a ``TypeError``. Returns the path written.
    """
    path = Path(path)
    array = np.asarray(array)
    by_kind = {dt.newbyteorder("="): code for code, (dt, _) in IDX_DTYPES.items()}
    code = by_kind.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(
            f"write_idx: IDX stores uint8, int8, int16, int32, float32 or float64 arrays, but "
            f"got dtype {array.dtype}"
        )
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"write_idx: expected an array of 1 to 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    data = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code][0]).tobytes()
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path
