"""Images stored one per CSV row, as in Kaggle's MNIST ``train.csv`` and ``test.csv``.

``train.csv`` has a header line, then rows of a label followed by 784 pixel values (0..255);
``test.csv`` has the pixels only. Parsing uses NumPy's fast reader; when it fails, the file is
scanned again line by line to report the first bad line.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

OWNER = "load_csv_images"


def _expected_columns(n_pixels: int, label_column: int | None) -> str:
    if label_column is None:
        return f"{n_pixels} columns (pixels only)"
    return f"{n_pixels + 1} columns (a label and {n_pixels} pixels)"


def _diagnose(path: Path, n_columns: int, has_header: bool, expected: str) -> str | None:
    """Scan the file line by line and describe its first malformed line, or None if none is."""
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if (has_header and number == 1) or not line.strip():
                continue
            cells = line.rstrip("\r\n").split(",")
            if len(cells) != n_columns:
                return f"line {number} has {len(cells)} columns; expected {expected}"
            for column, cell in enumerate(cells, start=1):
                try:
                    float(cell)
                except ValueError:
                    hint = " (is it a header? pass has_header=True)" if number == 1 else ""
                    return f"line {number}, column {column}: {cell.strip()!r} is not a number{hint}"
    return None


def _check_image_shape(image_shape: Sequence[int]) -> tuple[int, ...]:
    if (
        isinstance(image_shape, (str, bytes))
        or not isinstance(image_shape, Sequence)
        or not image_shape
        or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in image_shape
        )
    ):
        raise TypeError(f"{OWNER}: image_shape must be a tuple of ints, but got {image_shape!r}")
    if any(d <= 0 for d in image_shape):
        raise ValueError(
            f"{OWNER}: image_shape must hold positive sizes, but got {tuple(image_shape)}"
        )
    return tuple(int(d) for d in image_shape)


def load_csv_images(
    path: str | os.PathLike[str],
    image_shape: Sequence[int] = (1, 28, 28),
    label_column: int | None = 0,
    has_header: bool = True,
    normalize: bool = True,
    dtype: DTypeLike = np.float32,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a CSV of one image per row as ``(X, y)``: X (N, *image_shape), y int64 (N,).

    ``label_column`` is the index of the label column, or None for files without labels (then
    y is None). ``normalize`` divides pixels (which must lie in 0..255) by 255. Ragged rows,
    a wrong pixel count or a non-numeric value raise a ``ValueError`` naming the line.
    """
    path = Path(path)
    image_shape = _check_image_shape(image_shape)
    dtype = np.dtype(dtype)
    if normalize and dtype.kind != "f":
        raise TypeError(f"{OWNER}: normalize=True needs a floating dtype, but got {dtype}")
    n_pixels = math.prod(image_shape)
    n_columns = n_pixels + (label_column is not None)
    expected = _expected_columns(n_pixels, label_column)
    if label_column is not None and not -n_columns <= label_column < n_columns:
        raise ValueError(
            f"{OWNER}: label_column={label_column} is out of range for rows of {expected}"
        )
    if not path.is_file():
        raise FileNotFoundError(f"{OWNER}: no such file: {path}")
    parse_dtype = np.float64 if dtype.itemsize > 4 else np.float32
    try:
        with warnings.catch_warnings():
            # an empty file is reported below as an error, not as NumPy's warning
            warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
            table = np.loadtxt(
                path,
                delimiter=",",
                skiprows=int(has_header),
                dtype=parse_dtype,
                comments=None,
                ndmin=2,
            )
    except ValueError as error:
        problem = _diagnose(path, n_columns, has_header, expected) or str(error)
        raise ValueError(f"{OWNER}: {path}: {problem}") from error
    if table.size == 0:
        raise ValueError(f"{OWNER}: {path} holds no data rows")
    if table.shape[1] != n_columns:
        first = 2 if has_header else 1
        raise ValueError(
            f"{OWNER}: {path}: line {first} has {table.shape[1]} columns; expected {expected} "
            f"for image_shape {image_shape}"
        )
    y = None
    if label_column is not None:
        labels = table[:, label_column]
        if not np.array_equal(labels, np.round(labels)):
            row = int(np.flatnonzero(labels != np.round(labels))[0])
            raise ValueError(
                f"{OWNER}: {path}: labels must be integers, but data row {row + 1} has label "
                f"{labels[row]}"
            )
        y = labels.astype(np.int64)
        table = np.delete(table, label_column, axis=1)
    if normalize:
        low, high = table.min(), table.max()
        if low < 0 or high > 255:
            raise ValueError(
                f"{OWNER}: {path}: normalize=True expects pixels in 0..255, but they range "
                f"from {low} to {high}; pass normalize=False"
            )
        table /= table.dtype.type(255)
    X = table.astype(dtype, copy=False).reshape(len(table), *image_shape)
    return X, y
