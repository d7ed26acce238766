"""Batch normalization as pure functions on per-channel rows (C, M).

M is every value of a channel in the batch: N for (N, C) input, N * L for (N, C, L),
N * H * W for images. In the batch-last layout (C, *S, N) each channel is already one
contiguous row, so ``X.reshape(C, -1)`` is free.

Training keeps the input rows, their mean and 1 / std for the backward pass (as PyTorch
does), not X_hat: the backward pass recomputes X_hat on the fly. Each function takes
``use_compiled`` (default: when Numba is usable and the dtype is float32 or float64) to run
the Numba loops of ``kernels/normalization_compiled.py`` instead of the NumPy reference.
"""

from __future__ import annotations

import numpy as np

from scratchcnn.kernels import compiled


def _compiled(rows: np.ndarray, use_compiled: bool | None) -> bool:
    if use_compiled is None:
        return rows.dtype in (np.float32, np.float64) and compiled.usable()
    return use_compiled


def batch_statistics(
    rows: np.ndarray, use_compiled: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row mean and biased variance of ``rows`` (C, M): two (C,) arrays."""
    if _compiled(rows, use_compiled):
        from scratchcnn.kernels import normalization_compiled

        return normalization_compiled.batch_statistics(rows)
    mean = rows.mean(axis=1)
    centered = rows - mean[:, np.newaxis]
    var = np.einsum("ij,ij->i", centered, centered) / rows.shape[1]
    return mean, var


def batch_norm_forward(
    rows: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float,
    gamma: np.ndarray | None,
    beta: np.ndarray | None,
    use_compiled: bool | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(A, inv_std)``: A = gamma (rows - mean) / sqrt(var + eps) + beta, (C, M); inv_std (C,).

    ``gamma`` or ``beta`` None leaves that step out (affine=False). A is written into ``out``
    (C, M) when given.
    """
    inv_std = 1.0 / np.sqrt(var + eps)
    if _compiled(rows, use_compiled):
        from scratchcnn.kernels import normalization_compiled

        scale = inv_std if gamma is None else inv_std * gamma
        shift = np.zeros_like(inv_std) if beta is None else beta
        return normalization_compiled.normalize(rows, mean, scale, shift, out), inv_std
    A = np.subtract(rows, mean[:, np.newaxis], out=out)
    A *= inv_std[:, np.newaxis]
    if gamma is not None:
        A *= gamma[:, np.newaxis]
    if beta is not None:
        A += beta[:, np.newaxis]
    return A, inv_std


def batch_norm_inference(
    rows: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float,
    gamma: np.ndarray | None,
    beta: np.ndarray | None,
    use_compiled: bool | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """A (C, M) of :func:`batch_norm_forward` for fixed statistics, as one scale and shift.

    ``A = (rows - mean) * scale + shift`` with scale = gamma / sqrt(var + eps), shift = beta:
    one pass (compiled) or two (NumPy), no X_hat (nothing is kept for a backward pass).
    """
    scale = 1.0 / np.sqrt(var + eps)
    if gamma is not None:
        scale = scale * gamma
    shift = np.zeros_like(scale) if beta is None else beta
    if _compiled(rows, use_compiled):
        from scratchcnn.kernels import normalization_compiled

        return normalization_compiled.normalize(rows, mean, scale, shift, out)
    dtype = rows.dtype
    A = np.subtract(rows, mean.astype(dtype, copy=False)[:, np.newaxis], out=out)
    A *= scale.astype(dtype, copy=False)[:, np.newaxis]
    A += shift.astype(dtype, copy=False)[:, np.newaxis]
    return A


def batch_norm_backward(
    dA: np.ndarray,
    rows: np.ndarray,
    mean: np.ndarray,
    inv_std: np.ndarray,
    gamma: np.ndarray | None,
    batch_stats: bool,
    use_compiled: bool | None = None,
    overwrite_dA: bool = False,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dX, dgamma, dbeta)`` for dA (C, M) and the forward's rows, mean and inv_std.

    dX is (C, M), the others (C,). With batch statistics (training) every input moves the
    mean and variance, so the gradient's mean and its projection on X_hat are subtracted;
    with running statistics (eval) the normalization is a per-channel affine map. With
    ``overwrite_dA`` (a writeable, contiguous dA nobody reads again) the compiled path
    writes dX over dA, else into ``out`` (C, M) when given (a dead buffer of the caller's).
    """
    scale = inv_std if gamma is None else gamma * inv_std
    M = dA.shape[1]
    if _compiled(rows, use_compiled):
        from scratchcnn.kernels import normalization_compiled as fast

        dA = np.ascontiguousarray(dA, dtype=rows.dtype)
        rows = np.ascontiguousarray(rows)
        total, centered = fast.gradient_sums(dA, rows, mean)
        dbeta = total.astype(rows.dtype)
        dgamma = (centered * inv_std).astype(rows.dtype)
        if not batch_stats:
            return dA * scale[:, np.newaxis], dgamma, dbeta
        k1 = total / M
        k2 = centered * inv_std.astype(np.float64) ** 2 / M
        in_place = overwrite_dA and dA.flags.writeable and dA.flags.c_contiguous
        dX = fast.input_gradient(dA, rows, mean, scale, k1, k2, in_place, out=out)
        return dX, dgamma, dbeta
    X_hat = rows - mean[:, np.newaxis]
    X_hat *= inv_std[:, np.newaxis]
    dbeta = dA.sum(axis=1)
    dgamma = np.einsum("ij,ij->i", dA, X_hat)
    if not batch_stats:
        return dA * scale[:, np.newaxis], dgamma, dbeta
    dX = X_hat
    dX *= (dgamma / M)[:, np.newaxis]
    np.subtract(dA, dX, out=dX)
    dX -= (dbeta / M)[:, np.newaxis]
    dX *= scale[:, np.newaxis]
    return dX, dgamma, dbeta
