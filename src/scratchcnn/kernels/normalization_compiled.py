"""Batch normalization in Numba: two passes forward, two backward, channels over the cores.

The NumPy functions in ``kernels/normalization.py`` are the reference; these compute the
same on the same per-channel rows (C, M) with far less memory traffic. NumPy made nine passes
and three full-size temporaries for a forward (36 ms for a 64 x 32 x 32 x 128 float32 batch
here, against 3 ms for one pass); here a forward reads each row twice for the statistics
(the second time from cache) and once to write the output, and keeps nothing of its own
(the backward pass recomputes X_hat from the input).

Sums run in float64 and may be reassociated (``fastmath={"reassoc"}``, so that LLVM
vectorizes them: a fixed order of additions ran scalar, 13 ms for 8M values): the order
depends on the CPU's vector width, not on the data or the threads. Channels are independent,
so results do not depend on how channels are split over threads either.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np

from scratchcnn.kernels import compiled
from scratchcnn.kernels.threads import run_parts

CHANNELS_PER_PART = 4  # channels one thread takes at a time


# -- loops (compiled by Numba; never run as Python) ---------------------------------------------
def _statistics_loop(rows, first, last, mean, var):  # pragma: no cover
    """mean[c], var[c] (float64, biased) of rows[c] for c in first .. last - 1."""
    M = rows.shape[1]
    for c in range(first, last):
        x = rows[c]
        total = 0.0
        for i in range(M):
            total += x[i]
        mu = total / M
        total = 0.0
        for i in range(M):
            d = x[i] - mu
            total += d * d
        mean[c] = mu
        var[c] = total / M


def _normalize_loop(rows, first, last, mean, scale, shift, out):  # pragma: no cover
    """out[c] = (rows[c] - mean[c]) * scale[c] + shift[c] for c in first .. last - 1."""
    M = rows.shape[1]
    for c in range(first, last):
        x = rows[c]
        y = out[c]
        mu, s, t = mean[c], scale[c], shift[c]
        for i in range(M):
            y[i] = (x[i] - mu) * s + t


def _gradient_sums_loop(dA, rows, first, last, mean, sum_dA, sum_dA_centered):  # pragma: no cover
    """sum of dA[c] and of dA[c] * (rows[c] - mean[c]), float64, for c in first .. last - 1."""
    M = rows.shape[1]
    for c in range(first, last):
        g = dA[c]
        x = rows[c]
        mu = np.float64(mean[c])
        total = 0.0
        total_centered = 0.0
        for i in range(M):
            gi = np.float64(g[i])
            total += gi
            total_centered += gi * (x[i] - mu)
        sum_dA[c] = total
        sum_dA_centered[c] = total_centered


def _input_gradient_loop(dA, rows, first, last, mean, scale, k1, k2, dX):  # pragma: no cover
    """dX[c] = scale[c] * (dA[c] - k1[c] - (rows[c] - mean[c]) * k2[c])."""
    M = rows.shape[1]
    for c in range(first, last):
        g = dA[c]
        x = rows[c]
        d = dX[c]
        mu, s, a, b = mean[c], scale[c], k1[c], k2[c]
        for i in range(M):
            d[i] = s * (g[i] - a - (x[i] - mu) * b)


def _input_gradient_inplace_loop(dA, rows, first, last, mean, scale, k1, k2):  # pragma: no cover
    """:func:`_input_gradient_loop` written over dA (its own loop: see ``compiled.py``'s ReLU)."""
    M = rows.shape[1]
    for c in range(first, last):
        g = dA[c]
        x = rows[c]
        mu, s, a, b = mean[c], scale[c], k1[c], k2[c]
        for i in range(M):
            g[i] = s * (g[i] - a - (x[i] - mu) * b)


@functools.cache
def _jit() -> SimpleNamespace:
    loops = {
        "statistics": _statistics_loop,
        "normalize": _normalize_loop,
        "gradient_sums": _gradient_sums_loop,
        "input_gradient": _input_gradient_loop,
        "input_gradient_inplace": _input_gradient_inplace_loop,
    }
    sums = {"statistics", "gradient_sums"}  # reductions: reassociated to vectorize
    return SimpleNamespace(
        **{
            name: compiled.jit_nogil(loop, fastmath={"reassoc"} if name in sums else False)
            for name, loop in loops.items()
        }
    )


def _over_channels(loop, C: int, *args) -> None:
    """``loop(..., first, last, ...)`` over parts of CHANNELS_PER_PART channels, threaded."""
    head, tail = args[0], args[1:]
    parts = [(c, min(C, c + CHANNELS_PER_PART)) for c in range(0, C, CHANNELS_PER_PART)]
    run_parts(lambda part: loop(*head, *part, *tail), parts, uses_blas=False)


# -- entry points --------------------------------------------------------------------------------
def batch_statistics(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row mean and biased variance of ``rows`` (C, M), in rows' dtype (sums in float64)."""
    rows = np.ascontiguousarray(rows)
    C = rows.shape[0]
    mean = np.empty(C, dtype=np.float64)
    var = np.empty(C, dtype=np.float64)
    _over_channels(_jit().statistics, C, (rows,), mean, var)
    return mean.astype(rows.dtype), var.astype(rows.dtype)


def normalize(
    rows: np.ndarray,
    mean: np.ndarray,
    scale: np.ndarray,
    shift: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """A (C, M) = (rows - mean) * scale + shift, per row (into ``out`` when given)."""
    rows = np.ascontiguousarray(rows)
    out = np.empty_like(rows) if out is None else out
    dtype = rows.dtype
    mean, scale, shift = (np.ascontiguousarray(v, dtype=dtype) for v in (mean, scale, shift))
    _over_channels(_jit().normalize, rows.shape[0], (rows,), mean, scale, shift, out)
    return out


def gradient_sums(
    dA: np.ndarray, rows: np.ndarray, mean: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(sum of dA, sum of dA * (rows - mean)) per row, float64 (C,) arrays."""
    C = rows.shape[0]
    total = np.empty(C, dtype=np.float64)
    centered = np.empty(C, dtype=np.float64)
    mean = np.ascontiguousarray(mean, dtype=rows.dtype)
    _over_channels(_jit().gradient_sums, C, (dA, rows), mean, total, centered)
    return total, centered


def input_gradient(
    dA: np.ndarray,
    rows: np.ndarray,
    mean: np.ndarray,
    scale: np.ndarray,
    k1: np.ndarray,
    k2: np.ndarray,
    in_place: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """dX (C, M) = scale * (dA - k1 - (rows - mean) * k2), per row; over dA with ``in_place``,
    else into ``out`` (C-contiguous, aliasing neither dA nor rows) when given."""
    dtype = rows.dtype
    mean, scale, k1, k2 = (np.ascontiguousarray(v, dtype=dtype) for v in (mean, scale, k1, k2))
    if in_place:
        loop = _jit().input_gradient_inplace
        _over_channels(loop, rows.shape[0], (dA, rows), mean, scale, k1, k2)
        return dA
    dX = np.empty_like(rows) if out is None else out
    _over_channels(_jit().input_gradient, rows.shape[0], (dA, rows), mean, scale, k1, k2, dX)
    return dX
