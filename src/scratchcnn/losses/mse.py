"""Mean squared error with ``torch.nn.MSELoss``'s reductions."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.losses.base import Loss, as_dtype
from scratchcnn.validation import as_float_array, check_finite


class MSE(Loss):
    """Squared error, like ``torch.nn.MSELoss(reduction)``: mean over all elements by default.

    Shapes: predictions of any shape (0-d too) with targets of the same shape; 2-D
    predictions (N, K) also take integer class labels (N,), compared as one-hot rows. 'none'
    returns the element-wise squared errors. ``backward()`` is 2 * (pred - target) / pred.size for
    'mean', in the predictions' dtype.
    """

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float | np.ndarray:
        owner = repr(self)
        X = as_float_array(logits, owner, "predictions")
        if X.size == 0:
            raise ValueError(
                f"{owner}: expected non-empty predictions, but got predictions of shape {X.shape}"
            )
        check_finite(X, owner, "predictions")
        labels = labels if isinstance(labels, np.ndarray) else np.asarray(labels)
        if labels.shape == X.shape:
            target = as_dtype(labels, X.dtype, owner, "targets")
        elif X.ndim == 2 and labels.ndim == 1 and X.shape[1] > 1:
            target = self._one_hot(labels, X)
        else:
            raise ValueError(
                f"{owner}: expected targets of the predictions' shape {X.shape}, but got "
                f"targets of shape {labels.shape}"
            )
        diff = X - target
        self._cache = diff
        return self._reduce(np.asarray(np.square(diff)), float(diff.size))

    def _one_hot(self, labels: np.ndarray, X: np.ndarray) -> np.ndarray:
        owner = repr(self)
        N, K = X.shape
        if labels.dtype.kind not in "iu":
            raise TypeError(
                f"{owner}: class labels of shape (N,) must be integers, but got dtype "
                f"{labels.dtype}"
            )
        if labels.shape[0] != N:
            raise ValueError(
                f"{owner}: expected {N} labels to match predictions of shape {(N, K)}, but got "
                f"labels of shape {labels.shape}"
            )
        if labels.size and (labels.min() < 0 or labels.max() >= K):
            bad = labels[(labels < 0) | (labels >= K)][0]
            raise ValueError(
                f"{owner}: class labels must be in [0, {K}) for {K} classes, but got {bad}"
            )
        target = np.zeros_like(X)
        target[np.arange(N), labels] = 1
        return target

    def backward(self, dloss: Any = None) -> np.ndarray:
        """Gradient of the reduced loss with respect to the predictions (``dloss`` for 'none')."""
        diff = self._cached()
        upstream = self._upstream(dloss, diff.shape, float(diff.size), diff.dtype)
        return np.asarray(diff * (2 * upstream))
