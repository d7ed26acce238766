"""Adaptive average pooling and global max pooling in the batch-last layout (C, *spatial, N).

Adaptive pooling fixes the output size instead of the window: along an axis of length L
pooled to O outputs, output i averages the bin [floor(i * L / O), ceil((i + 1) * L / O)),
PyTorch's bin boundaries (bins may overlap when O does not divide L). Averaging over a box is
averaging along each axis in turn, so each axis is one matrix product with an (O, L) pooling
matrix whose row i holds 1 / len(bin i) over the bin; the backward pass multiplies by its
transpose. Kernels take normalized sizes and never validate.
"""

from __future__ import annotations

import numpy as np

Ints = tuple[int, ...]


def adaptive_bins(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """``(start, end)`` of each of the ``out`` bins over ``size`` elements, PyTorch's way."""
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)  # ceil((i + 1) * size / out) in integers
    return start, end


def adaptive_avg_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """The (out, size) matrix that averages each bin: row i is 1 / len(bin) over bin i."""
    start, end = adaptive_bins(size, out)
    P = np.zeros((out, size), dtype=dtype)
    for row, (lo, hi) in enumerate(zip(start, end, strict=True)):
        P[row, lo:hi] = 1.0 / (hi - lo)
    return P


def _apply_along(X: np.ndarray, axis: int, P: np.ndarray) -> np.ndarray:
    """Contract axis ``axis`` of X (C-contiguous) with P (O, L): that axis becomes length O."""
    shape = X.shape
    before, after = int(np.prod(shape[:axis])), int(np.prod(shape[axis + 1 :]))
    Y = np.matmul(P, X.reshape(before, shape[axis], after))
    return Y.reshape((*shape[:axis], P.shape[0], *shape[axis + 1 :]))


def adaptive_avg_pool_forward(X: np.ndarray, out: Ints) -> np.ndarray:
    """Adaptive average pooling of X (C, *S, N) -> (C, *out, N), any number of axes."""
    Y = np.ascontiguousarray(X)
    for axis, (size, o) in enumerate(zip(X.shape[1:-1], out, strict=True), start=1):
        if size != o:  # an axis kept at its size is the identity
            Y = _apply_along(Y, axis, adaptive_avg_matrix(size, o, X.dtype))
    return Y if Y is not X else Y.copy()


def adaptive_avg_pool_backward(dY: np.ndarray, input_shape: Ints) -> np.ndarray:
    """Gradient of adaptive average pooling: dY (C, *out, N) -> dX (C, *S, N)."""
    dX = np.ascontiguousarray(dY)
    spatial = input_shape[1:-1]
    for axis in reversed(range(1, len(spatial) + 1)):
        size, o = spatial[axis - 1], dY.shape[axis]
        if size != o:
            dX = _apply_along(dX, axis, adaptive_avg_matrix(size, o, dY.dtype).T)
    return dX if dX is not dY else dX.copy()


def global_max_pool_forward(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Max over all spatial axes of X (C, *S, N): ``(Y (C, N), argmax (C, N))``.

    ``argmax`` is the row-major position of the first maximum in each plane; NaN wins, so
    it propagates to Y as in PyTorch.
    """
    C, N = X.shape[0], X.shape[-1]
    planes = X.reshape(C, -1, N)
    argmax = np.argmax(planes, axis=1)
    Y = np.take_along_axis(planes, argmax[:, np.newaxis, :], axis=1)[:, 0, :]
    return Y, argmax


def global_max_pool_backward(dY: np.ndarray, argmax: np.ndarray, input_shape: Ints) -> np.ndarray:
    """Gradient of global max pooling: dY (C, N) goes to each plane's maximum in (C, *S, N)."""
    C, N = input_shape[0], input_shape[-1]
    dX = np.zeros((C, int(np.prod(input_shape[1:-1])), N), dtype=dY.dtype)
    np.put_along_axis(dX, argmax[:, np.newaxis, :], dY[:, np.newaxis, :], axis=1)
    return dX.reshape(input_shape)
