"""The batch-last memory layout the kernels work in.

The public API is PyTorch's (N, C, *spatial). Kernels work on (C, *spatial, N) arrays, where
every im2col copy and pooling window is a contiguous run over the batch and BLAS sees one large
matrix. Layers return ``from_batch_last(Y)``: an (N, C, *spatial)-shaped *view* of batch-last
memory, so the next layer's ``to_batch_last`` is free, and element-wise NumPy operations
(which keep their input's memory order) stay batch-last too.
"""

from __future__ import annotations

import numpy as np


def to_batch_last(X: np.ndarray) -> np.ndarray:
    """(N, C, *S) -> contiguous (C, *S, N); no copy when X came from ``from_batch_last``."""
    return np.ascontiguousarray(X.transpose((*range(1, X.ndim), 0)))


def from_batch_last(Y: np.ndarray) -> np.ndarray:
    """(C, *S, N) -> an (N, C, *S) view of the same memory."""
    return Y.transpose((Y.ndim - 1, *range(Y.ndim - 1)))
