"""Batch normalization as pure functions on per-channel rows (C, M).

M is every value of a channel in the batch: N for (N, C) input, N * L for (N, C, L),
N * H * W for images. In the batch-last layout (C, *S, N) each channel is already one
contiguous row, so ``X.reshape(C, -1)`` is free.
"""

from __future__ import annotations

import numpy as np


def batch_statistics(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row mean and biased variance of ``rows`` (C, M): two (C,) arrays."""
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
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A, X_hat, inv_std)``: X_hat = (rows - mean) / sqrt(var + eps), A = gamma X_hat + beta.

    All (C, M) but ``inv_std`` (C,). ``gamma`` or ``beta`` None leaves that step out; with
    neither (affine=False) A is a copy of X_hat, so the caller may keep X_hat for backward.
    """
    inv_std = 1.0 / np.sqrt(var + eps)
    X_hat = rows - mean[:, np.newaxis]
    X_hat *= inv_std[:, np.newaxis]
    A = X_hat.copy() if gamma is None else X_hat * gamma[:, np.newaxis]
    if beta is not None:
        A += beta[:, np.newaxis]
    return A, X_hat, inv_std


def batch_norm_inference(
    rows: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float,
    gamma: np.ndarray | None,
    beta: np.ndarray | None,
) -> np.ndarray:
    """A (C, M) of :func:`batch_norm_forward` for fixed statistics, as one scale and shift.

    ``A = rows * scale + shift`` with scale = gamma / sqrt(var + eps), shift = beta - mean *
    scale: two passes over memory, no X_hat (nothing is kept for a backward pass).
    """
    scale = (1.0 / np.sqrt(var + eps)).astype(rows.dtype, copy=False)
    if gamma is not None:
        scale = scale * gamma
    shift = -mean * scale
    if beta is not None:
        shift = shift + beta
    A = rows * scale.astype(rows.dtype, copy=False)[:, np.newaxis]
    A += shift.astype(rows.dtype, copy=False)[:, np.newaxis]
    return A


def batch_norm_backward(
    dA: np.ndarray,
    X_hat: np.ndarray,
    inv_std: np.ndarray,
    gamma: np.ndarray | None,
    batch_stats: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dX, dgamma, dbeta)`` for dA (C, M); dX (C, M), the others (C,).

    With batch statistics (training) every input moves the mean and variance, so the
    gradient's mean and its projection on X_hat are subtracted; with running statistics
    (eval) the normalization is a per-channel affine map.
    """
    dbeta = dA.sum(axis=1)
    dgamma = np.einsum("ij,ij->i", dA, X_hat)
    scale = inv_std if gamma is None else gamma * inv_std
    if not batch_stats:
        return dA * scale[:, np.newaxis], dgamma, dbeta
    M = dA.shape[1]
    dX = X_hat * (dgamma / M)[:, np.newaxis]
    np.subtract(dA, dX, out=dX)
    dX -= (dbeta / M)[:, np.newaxis]
    dX *= scale[:, np.newaxis]
    return dX, dgamma, dbeta
