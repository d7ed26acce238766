"""Flatten: (N, C, H, W) -> (N, C*H*W), the bridge from convolutions to Dense layers."""

from __future__ import annotations

import numpy as np

from scratchcnn.kernels.layout import from_batch_last, to_batch_last
from scratchcnn.layers.base import Layer
from scratchcnn.validation import as_float_array, check_grad_shape


class Flatten(Layer):
    """Flattens every axis after the batch axis, like ``torch.nn.Flatten()``: (N, *S) -> (N, F).

    F = prod(S), in C-major order (channel, then row, then column) as in PyTorch, whatever
    the memory layout. A batch-last view from a convolution flattens with no copy: the result
    is an (N, F) view whose transpose is contiguous, which matrix products take as it is.
    Other layouts with the batch innermost (a position-major Conv1d's output) are first
    copied batch-last, which moves runs of N numbers (NumPy's own reshape gathers them one
    by one, 8x slower).
    """

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = as_float_array(X, self)
        if X.ndim < 2:
            raise ValueError(
                f"{self!r}: expected input of at least 2D (N, ...), but got input of shape "
                f"{tuple(X.shape)}"
            )
        self._cache = (X.shape, X.dtype)
        if X.ndim > 2 and X.strides[0] == X.itemsize and not X.flags.c_contiguous:
            X = from_batch_last(to_batch_last(X))  # free when X is batch-last already
        return X.reshape(X.shape[0], -1)

    def backward(self, dA: np.ndarray) -> np.ndarray:
        input_shape, dtype = self._cached()
        dA = as_float_array(dA, self, "dA").astype(dtype, copy=False)
        check_grad_shape(dA, (input_shape[0], int(np.prod(input_shape[1:]))), self)
        self._apply_optimizer()
        return dA.reshape(input_shape)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """(*S) -> (prod(S),) for one sample; S needs at least one axis."""
        if len(input_shape) < 1:
            raise ValueError(
                f"{self!r}: expected a per-sample input shape with at least 1 axis, but got "
                f"{tuple(input_shape)}"
            )
        return (int(np.prod(input_shape)),)
