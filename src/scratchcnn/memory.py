"""Refusing arrays that cannot fit in memory, with a message instead of a MemoryError traceback.

A layer's parameters are checked before they are drawn, and a model file's arrays before
they are read, against the memory the system can give now (``MemAvailable`` plus free swap
on Linux, the physical memory elsewhere). A shape that cannot fit raises
:class:`ArrayTooLargeError`, which is both a ``MemoryError`` and a ``ValueError``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

GIB = float(1 << 30)


class ArrayTooLargeError(MemoryError, ValueError):
    """An array that would need more memory than the machine has; the message says how much."""


def available_memory() -> int | None:
    """Bytes the system can allocate now, or None when it cannot be told."""
    try:
        with open("/proc/meminfo", encoding="ascii") as file:
            fields = {
                line.split(":")[0]: int(line.split()[1]) * 1024 for line in file if ":" in line
            }
        if "MemAvailable" in fields:
            return fields["MemAvailable"] + fields.get("SwapFree", 0)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def format_bytes(n: float) -> str:
    """``1.5 GiB``, ``12.0 MiB``, ``512 B``."""
    for unit, size in (("TiB", GIB * 1024), ("GiB", GIB), ("MiB", float(1 << 20)),
                       ("KiB", 1024.0)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def check_allocation(
    shape: Sequence[int],
    dtype: DTypeLike,
    what: str,
    owner: str,
    peak_factor: float = 1.0,
) -> None:
    """Raise :class:`ArrayTooLargeError` if an array of ``shape`` cannot fit in memory.

    ``what`` names the array (``"W"``), ``owner`` the layer or function (its repr).
    ``peak_factor`` counts temporaries made on the way (a float64 draw cast to float32: 3).
    """
    dtype = np.dtype(dtype)
    needed = math.prod(int(n) for n in shape) * dtype.itemsize
    peak = needed * peak_factor
    available = available_memory()
    if available is None or peak <= available:
        return
    extra = f" ({format_bytes(peak)} while it is made)" if peak > needed else ""
    raise ArrayTooLargeError(
        f"{owner}: {what} of shape {tuple(int(n) for n in shape)} needs {format_bytes(needed)} "
        f"as {dtype}{extra}, more than the {format_bytes(available)} of memory available"
    )


def _entry_header(archive: Any, name: str) -> tuple[tuple[int, ...], np.dtype] | None:
    """(shape, dtype) from one ``.npy`` entry's header, or None if it cannot be told."""
    try:
        with archive.zip.open(f"{name}.npy") as entry:
            version = np.lib.format.read_magic(entry)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(entry)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(entry)
            else:
                return None
    except (KeyError, ValueError, OSError, EOFError):
        return None  # np.load reports a broken entry itself
    return tuple(int(n) for n in shape), np.dtype(dtype)


def check_npz_entries(archive: Any, owner: str) -> None:
    """Check that the arrays of an open ``np.load`` archive fit in memory, before reading them.

    Only the ``.npy`` headers are read (a few bytes each), so a crafted file that declares
    huge arrays, or compresses gigabytes of zeros into kilobytes, is refused up front.
    """
    total, largest = 0, (0, "", (), np.dtype(np.float32))
    for name in archive.files:
        header = _entry_header(archive, name)
        if header is None:
            continue
        shape, dtype = header
        size = math.prod(shape) * dtype.itemsize
        total += size
        if size > largest[0]:
            largest = (size, name, shape, dtype)
    available = available_memory()
    if available is None or total <= available:
        return
    _, name, shape, dtype = largest
    raise ArrayTooLargeError(
        f"{owner}: the file's arrays need {format_bytes(total)} (the largest, {name!r}, has "
        f"shape {shape} of {dtype}), more than the {format_bytes(available)} of memory available"
    )
