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


def _read_payload(path: Path) -> bytearray:
    """Return the file's bytes, decompressed when they start with the gzip magic number."""
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return bytearray(raw.read())
        payload = bytearray()
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                while chunk := stream.read(_CHUNK):
                    payload += chunk
        except EOFError as error:
            raise ValueError(
                f"read_idx: {path} is a truncated gzip file ({error}); "
                f"{len(payload)} bytes could be decompressed"
            ) from error
        except (gzip.BadGzipFile, zlib.error) as error:
            raise ValueError(f"read_idx: {path} is a corrupt gzip file: {error}") from error
    return payload


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzip or raw) into an array of its declared shape and type.

    Multi-byte types are converted to the machine's byte order. A file whose header is not
    IDX, or whose data is shorter or longer than the header declares, raises a ``ValueError``
    that names the file and what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_idx: no such file: {path}")
    payload = _read_payload(path)
    if len(payload) < 4:
        raise ValueError(
            f"read_idx: {path} is too short to be an IDX file: the 4-byte magic number is "
            f"missing (got {len(payload)} bytes)"
        )
    if payload[0] != 0 or payload[1] != 0:
        raise ValueError(
            f"read_idx: {path} is not an IDX file: expected a magic number starting with two "
            f"zero bytes, got 0x{bytes(payload[:4]).hex()}"
        )
    code, ndim = payload[2], payload[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} ({name})" for c, (_, name) in IDX_DTYPES.items())
        raise ValueError(
            f"read_idx: {path} has unknown IDX type code 0x{code:02X}; expected one of {known}"
        )
    if ndim == 0:
        raise ValueError(f"read_idx: {path} declares 0 dimensions; expected at least 1")
    header_size = 4 + 4 * ndim
    if len(payload) < header_size:
        raise ValueError(
            f"read_idx: {path} is truncated: its header declares {ndim} dimensions "
            f"({header_size} header bytes), but the file holds only {len(payload)} bytes"
        )
    shape = tuple(int(d) for d in np.frombuffer(payload, dtype=">u4", count=ndim, offset=4))
    dtype, type_name = IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    got = len(payload) - header_size
    if got != expected:
        dims = " x ".join(str(d) for d in shape)
        problem = "truncated" if got < expected else "too long"
        raise ValueError(
            f"read_idx: {path} is {problem}: expected {expected} bytes of data "
            f"({dims} {type_name}) after the {header_size}-byte header, got {got}"
        )
    array = np.frombuffer(payload, dtype=dtype, count=math.prod(shape), offset=header_size)
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
