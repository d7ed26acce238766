"""Pooling to a fixed output size: adaptive average pooling (1-D, 2-D) and global max pooling.

The arithmetic lives in ``kernels/adaptive_pooling.py``; these layers check arguments and
shapes and move between PyTorch's (N, C, *spatial) and the kernels' batch-last layout.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from scratchcnn.kernels.adaptive_pooling import (
    adaptive_avg_pool_backward,
    adaptive_avg_pool_forward,
    global_max_pool_backward,
    global_max_pool_forward,
)
from scratchcnn.kernels.layout import from_batch_last, to_batch_last
from scratchcnn.layers.base import Layer
from scratchcnn.validation import as_float_array, check_grad_shape, check_ndim

_SPATIAL_NAMES = {1: "L", 2: "H, W"}

OutputSize = int | None | tuple[int | None, ...]


def _output_size(value: Any, n: int, owner: str) -> tuple[int | None, ...]:
    """An int, None or a sequence of ``n`` ints/Nones, as a tuple (None keeps that axis)."""
    message = (
        f"{owner}: output_size must be a positive int, None or a tuple of {n} positive ints "
        f"or Nones, but got {value!r}"
    )
    items = list(value) if isinstance(value, (tuple, list)) else [value] * n
    if len(items) != n:
        raise TypeError(message)
    for item in items:
        if item is None:
            continue
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            raise TypeError(message)
        if item < 1:
            raise ValueError(
                f"{owner}: output_size must be positive (or None to keep an axis), but got "
                f"output_size={value!r}"
            )
    return tuple(None if item is None else int(item) for item in items)


class _AdaptiveAvgPool(Layer):
    """Shared checks of AdaptiveAvgPool1d and 2d; ``spatial_dims`` sets the axes."""

    spatial_dims: ClassVar[int] = 2

    def __init__(self, output_size: OutputSize) -> None:
        super().__init__()
        self.output_size = _output_size(output_size, self.spatial_dims, type(self).__name__)

    def _out_spatial(self, spatial: tuple[int, ...]) -> tuple[int, ...]:
        """The output's spatial size for an input's: each None keeps its axis."""
        if min(spatial, default=1) < 1:
            raise ValueError(
                f"{self!r}: expected an input of positive size in every spatial axis, but got "
                f"spatial size {tuple(spatial)}"
            )
        return tuple(s if o is None else o for s, o in zip(spatial, self.output_size, strict=True))

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """(C, *spatial) -> (C, *output_size) for one sample."""
        n = self.spatial_dims
        if len(input_shape) != n + 1:
            raise ValueError(
                f"{self!r}: expected a per-sample input shape (C, {_SPATIAL_NAMES[n]}), but got "
                f"{tuple(input_shape)}"
            )
        return (input_shape[0], *self._out_spatial(tuple(input_shape[1:])))

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = as_float_array(X, self)
        n = self.spatial_dims
        check_ndim(X, (n + 1, n + 2), self, f"{n + 1}D (unbatched) or {n + 2}D (batched)")
        unbatched = X.ndim == n + 1
        if unbatched:
            X = X[np.newaxis]
        out = self._out_spatial(X.shape[2:])
        Xb = to_batch_last(X)
        Yb = adaptive_avg_pool_forward(Xb, out)
        self._cache = (Xb.shape, Yb.shape, unbatched)
        Y = from_batch_last(Yb)
        return Y[0] if unbatched else Y

    def backward(self, dA: np.ndarray) -> np.ndarray:
        input_shape, out_shape, unbatched = self._cached()
        dA = as_float_array(dA, self, "dA")
        expected = (out_shape[-1], *out_shape[:-1])
        check_grad_shape(dA, expected[1:] if unbatched else expected, self)
        dAb = to_batch_last(dA[np.newaxis] if unbatched else dA)
        dXb = adaptive_avg_pool_backward(dAb, input_shape)
        self._apply_optimizer()
        dX = from_batch_last(dXb)
        return dX[0] if unbatched else dX

    def get_config(self) -> dict[str, Any]:
        size = self.output_size
        return {"output_size": size[0] if len(set(size)) == 1 else list(size)}

    def extra_repr(self) -> str:
        size = self.output_size
        return f"output_size={size[0] if len(set(size)) == 1 else size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPool):
    """Adaptive average pooling, like ``torch.nn.AdaptiveAvgPool1d``: (N, C, L) -> (N, C, O).

    Unbatched (C, L) works too. Output i averages input [floor(i*L/O), ceil((i+1)*L/O)),
    PyTorch's bins; ``output_size`` is an int (or None: keep L).
    """

    spatial_dims = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPool):
    """Adaptive average pooling, like ``torch.nn.AdaptiveAvgPool2d``: (N, C, H, W) -> (N, C, *out).

    Unbatched (C, H, W) works too. ``output_size`` is an int (square), or a pair whose None
    entries keep that axis; bins follow PyTorch: [floor(i*H/OH), ceil((i+1)*H/OH)) per axis.
    torchvision's AlexNet and VGG heads use ``AdaptiveAvgPool2d((7, 7))``.
    """

    spatial_dims = 2


class GlobalMaxPool2d(Layer):
    """Max over each channel's H x W plane: (N, C, H, W) -> (N, C), or (C, H, W) -> (C,).

    The same as ``torch.nn.AdaptiveMaxPool2d(1)`` followed by ``torch.nn.Flatten()``. The
    gradient goes to the first maximum of each plane (row-major); NaN propagates.
    """

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = as_float_array(X, self)
        check_ndim(X, (3, 4), self, "3D (unbatched) or 4D (batched)")
        self.output_shape(X.shape[-3:])
        unbatched = X.ndim == 3
        Xb = to_batch_last(X[np.newaxis] if unbatched else X)  # (C, H, W, N)
        Yb, argmax = global_max_pool_forward(Xb)  # (C, N)
        self._cache = (argmax, Xb.shape, Xb.dtype, unbatched)
        return Yb[:, 0] if unbatched else Yb.T

    def backward(self, dA: np.ndarray) -> np.ndarray:
        argmax, input_shape, dtype, unbatched = self._cached()
        C, N = input_shape[0], input_shape[-1]
        dA = as_float_array(dA, self, "dA").astype(dtype, copy=False)
        check_grad_shape(dA, (C,) if unbatched else (N, C), self)
        dAb = dA[:, np.newaxis] if unbatched else dA.T  # (C, N)
        dXb = global_max_pool_backward(dAb, argmax, input_shape)
        self._apply_optimizer()
        dX = from_batch_last(dXb)
        return dX[0] if unbatched else dX

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """(C, H, W) -> (C,) for one sample."""
        if len(input_shape) != 3:
            raise ValueError(
                f"{self!r}: expected a per-sample input shape (C, H, W), but got "
                f"{tuple(input_shape)}"
            )
        if input_shape[1] < 1 or input_shape[2] < 1:
            raise ValueError(
                f"{self!r}: expected an input of positive height and width, but got input "
                f"of spatial size {tuple(input_shape[1:])}"
            )
        return (input_shape[0],)
