"""The memory layouts the kernels work in: batch-last, and position-major for 1-D layers.

The public API is PyTorch's (N, C, *spatial). Kernels work on (C, *spatial, N) arrays, where
every im2col copy and pooling window is a contiguous run over the batch and BLAS sees one large
matrix. Layers return ``from_batch_last(Y)``: an (N, C, *spatial)-shaped *view* of batch-last
memory, so the next layer's ``to_batch_last`` is free, and element-wise NumPy operations
(which keep their input's memory order) stay batch-last too.

1-D convolutions work position-major, (L, C, N) (``kernels/positions.py``), and return
``from_position_major(Y)``, again an (N, C, L) view. Either conversion takes any memory order;
between the two layouts it moves runs of N contiguous numbers.
"""

from __future__ import annotations

import numpy as np

from scratchcnn.kernels import compiled

# From this many numbers on, a PyTorch-layout X is transposed by the compiled, threaded loop
# (batch 1000 of 64x32x32: 370 -> 95 ms; batch 128 of 3x32x32: 1.1 -> 0.2 ms).
COMPILED_TRANSPOSE_MIN_SIZE = 65536


def to_batch_last(X: np.ndarray) -> np.ndarray:
    """(N, C, *S) -> contiguous (C, *S, N); no copy when X came from ``from_batch_last``."""
    moved = X.transpose((*range(1, X.ndim), 0))
    if moved.flags.c_contiguous:
        return moved
    if (
        X.flags.c_contiguous
        and X.size >= COMPILED_TRANSPOSE_MIN_SIZE
        and X.dtype in (np.float32, np.float64)
        and compiled.usable()
    ):
        return compiled.transpose(X.reshape(X.shape[0], -1)).reshape(moved.shape)
    return np.ascontiguousarray(moved)


def from_batch_last(Y: np.ndarray) -> np.ndarray:
    """(C, *S, N) -> an (N, C, *S) view of the same memory."""
    return Y.transpose((Y.ndim - 1, *range(Y.ndim - 1)))


def to_position_major(X: np.ndarray) -> np.ndarray:
    """(N, C, L) -> contiguous (L, C, N); no copy when X came from ``from_position_major``."""
    reversed_axes = X.transpose(2, 1, 0)
    if reversed_axes.flags.c_contiguous:
        return reversed_axes
    if X.strides[0] != X.itemsize:  # the batch is not innermost: batch-last first (fast)
        X = from_batch_last(to_batch_last(X))
    return np.ascontiguousarray(X.transpose(2, 1, 0))


def from_position_major(Y: np.ndarray) -> np.ndarray:
    """(L, C, N) -> an (N, C, L) view of the same memory."""
    return Y.transpose(2, 1, 0)
