"""Identity: returns its input, like ``torch.nn.Identity``; a placeholder in architectures."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.layers.base import Layer
from scratchcnn.validation import as_float_array, check_grad_shape


class Identity(Layer):
    """A = X and dX = dA, any shape (0-d included); the arrays are passed through, not copied.

    Useful where an architecture needs a layer but none is wanted (a residual shortcut, a
    head to replace). Like ``torch.nn.Identity`` it accepts and ignores any arguments.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = as_float_array(X, self)
        self._cache = (X.shape, X.dtype)
        return X

    def backward(self, dA: np.ndarray) -> np.ndarray:
        shape, dtype = self._cached()
        dA = as_float_array(dA, self, "dA").astype(dtype, copy=False)
        check_grad_shape(dA, shape, self)
        self._apply_optimizer()
        return dA
