"""Pooling layers: max and average pooling in 1-D and 2-D, and global average pooling.

The arithmetic lives in ``kernels/pooling.py``; these layers check arguments and shapes,
move between PyTorch's (N, C, *spatial) and the kernels' batch-last layout, and cache what
``backward`` needs.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from scratchcnn.kernels.global_pooling import global_avg_pool_backward, global_avg_pool_forward
from scratchcnn.kernels.layout import from_batch_last, to_batch_last
from scratchcnn.kernels.pooling import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
    pool_output_shape,
)
from scratchcnn.layers.base import Layer
from scratchcnn.validation import as_float_array, check_grad_shape, check_ndim, to_int_tuple

_SPATIAL_NAMES = {1: "L", 2: "H, W"}


def _shown(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """An int when every axis agrees (``2``), else the tuple (``(2, 3)``), as PyTorch shows."""
    return values[0] if len(set(values)) == 1 else values


class _Pool(Layer):
    """Shared argument checks, shape arithmetic and layout handling of the pooling layers."""

    spatial_dims: ClassVar[int] = 2

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] | None = None,
        padding: int | tuple[int, ...] = 0,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        owner, n = type(self).__name__, self.spatial_dims
        self.kernel_size = to_int_tuple(kernel_size, n, "kernel_size", owner)
        self.stride = (
            self.kernel_size if stride is None else to_int_tuple(stride, n, "stride", owner)
        )
        self.padding = to_int_tuple(padding, n, "padding", owner, minimum=0)
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel_size, strict=True)):
            raise ValueError(
                f"{owner}: pad should be at most half of effective kernel size, but got "
                f"padding={_shown(self.padding)} and kernel_size={_shown(self.kernel_size)}"
            )
        if not isinstance(ceil_mode, (bool, np.bool_)):
            raise TypeError(f"{owner}: ceil_mode must be a bool, but got {ceil_mode!r}")
        self.ceil_mode = bool(ceil_mode)

    # -- shapes ----------------------------------------------------------------------------
    def _output_spatial(self, spatial: tuple[int, ...]) -> tuple[int, ...]:
        out = pool_output_shape(
            spatial, self.kernel_size, self.stride, self.padding, self.ceil_mode
        )
        if min(out) < 1:
            raise ValueError(
                f"{self!r}: input of spatial size {spatial} is too small: calculated output "
                f"size {out}, but output size must be at least 1 in every axis"
            )
        return out

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """(C, *spatial) -> (C, *out_spatial) for one sample."""
        if len(input_shape) != self.spatial_dims + 1:
            raise ValueError(
                f"{self!r}: expected a per-sample input shape (C, "
                f"{_SPATIAL_NAMES[self.spatial_dims]}), but got {tuple(input_shape)}"
            )
        return (input_shape[0], *self._output_spatial(tuple(input_shape[1:])))

    def _batch_last_input(self, X: Any) -> tuple[np.ndarray, bool]:
        """Check X; return it batch-last (C, *S, N) and whether it came unbatched."""
        X = as_float_array(X, self)
        n = self.spatial_dims
        check_ndim(X, (n + 1, n + 2), self, f"{n + 1}D (unbatched) or {n + 2}D (batched)")
        unbatched = X.ndim == n + 1
        if unbatched:
            X = X[np.newaxis]
        self._output_spatial(X.shape[2:])
        return to_batch_last(X), unbatched

    def _batch_last_grad(
        self, dA: Any, Yb: tuple[int, ...], dtype: np.dtype, unbatched: bool
    ) -> np.ndarray:
        """Check dA against the forward output (batch-last shape ``Yb``); return it batch-last."""
        dA = as_float_array(dA, self, "dA").astype(dtype, copy=False)
        expected = (Yb[-1], *Yb[:-1])
        check_grad_shape(dA, expected[1:] if unbatched else expected, self)
        return to_batch_last(dA[np.newaxis] if unbatched else dA)

    @staticmethod
    def _public(Yb: np.ndarray, unbatched: bool) -> np.ndarray:
        """Batch-last (C, *S, N) -> an (N, C, *S) view, or (C, *S) for unbatched input."""
        Y = from_batch_last(Yb)
        return Y[0] if unbatched else Y

    # -- description -----------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        def plain(values: tuple[int, ...]) -> int | list[int]:
            shown = _shown(values)
            return shown if isinstance(shown, int) else list(shown)

        return {
            "kernel_size": plain(self.kernel_size),
            "stride": plain(self.stride),
            "padding": plain(self.padding),
            "ceil_mode": self.ceil_mode,
        }

    def extra_repr(self) -> str:
        text = f"kernel_size={_shown(self.kernel_size)}, stride={_shown(self.stride)}"
        if any(self.padding):
            text += f", padding={_shown(self.padding)}"
        if self.ceil_mode:
            text += ", ceil_mode=True"
        return text


class _MaxPool(_Pool):
    # Set by a model for its training passes when the layer before is a ReLU: forward then
    # keeps its input (the ReLU's output, which the ReLU keeps anyway) and backward applies
    # that ReLU's gradient too, in its own pass; the model then skips the ReLU's (see
    # ``Sequential.backward``).
    rectified_input: bool = False

    def forward(self, X: np.ndarray) -> np.ndarray:
        Xb, unbatched = self._batch_last_input(X)
        Yb, argmax = max_pool_forward(
            Xb, self.kernel_size, self.stride, self.padding, self.ceil_mode
        )
        rectified = Xb if self.rectified_input else None
        self._cache = (argmax, Xb.shape, Xb.dtype, unbatched, rectified)
        return self._public(Yb, unbatched)

    def backward(self, dA: np.ndarray) -> np.ndarray:
        """dX; the gradient through the ReLU before too when forward ran ``rectified_input``."""
        argmax, input_shape, dtype, unbatched, rectified = self._cached()
        dAb = self._batch_last_grad(dA, argmax.shape, dtype, unbatched)
        dXb = max_pool_backward(
            dAb, argmax, input_shape, self.kernel_size, self.stride, self.padding, rectified
        )
        self._apply_optimizer()
        return self._public(dXb, unbatched)

    def applied_relu_grad(self) -> bool:
        """Whether backward applies the ReLU's gradient too (forward ran ``rectified_input``)."""
        return self._cache is not None and self._cache[4] is not None


class MaxPool1d(_MaxPool):
    """1-D max pooling, like ``torch.nn.MaxPool1d``: (N, C, L) -> (N, C, OL), or (C, L).

    ``stride`` defaults to ``kernel_size``; padding counts as -inf. The gradient of each
    window goes to its first maximum, as in PyTorch.
    """

    spatial_dims = 1


class MaxPool2d(_MaxPool):
    """2-D max pooling, like ``torch.nn.MaxPool2d``: (N, C, H, W) -> (N, C, OH, OW).

    Unbatched (C, H, W) input works too. ``stride`` defaults to ``kernel_size``; padding
    counts as -inf; ``ceil_mode`` keeps a last partial window. The gradient of each window
    goes to its first maximum (row-major), as in PyTorch.
    """

    spatial_dims = 2


class _AvgPool(_Pool):
    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] | None = None,
        padding: int | tuple[int, ...] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        if not isinstance(count_include_pad, (bool, np.bool_)):
            raise TypeError(
                f"{type(self).__name__}: count_include_pad must be a bool, but got "
                f"{count_include_pad!r}"
            )
        self.count_include_pad = bool(count_include_pad)

    def forward(self, X: np.ndarray) -> np.ndarray:
        Xb, unbatched = self._batch_last_input(X)
        Yb = avg_pool_forward(
            Xb,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )
        self._cache = (Xb.shape, Yb.shape, Yb.dtype, unbatched)
        return self._public(Yb, unbatched)

    def backward(self, dA: np.ndarray) -> np.ndarray:
        input_shape, out_shape, dtype, unbatched = self._cached()
        dAb = self._batch_last_grad(dA, out_shape, dtype, unbatched)
        dXb = avg_pool_backward(
            dAb,
            input_shape,
            self.kernel_size,
            self.stride,
            self.padding,
            self.count_include_pad,
        )
        self._apply_optimizer()
        return self._public(dXb, unbatched)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "count_include_pad": self.count_include_pad}

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.count_include_pad else text + ", count_include_pad=False"


class AvgPool1d(_AvgPool):
    """1-D average pooling, like ``torch.nn.AvgPool1d``: (N, C, L) -> (N, C, OL), or (C, L).

    Padding counts as zeros; ``count_include_pad=False`` divides by the number of input
    elements in the window instead of the window size (clipped to input + padding).
    """

    spatial_dims = 1


class AvgPool2d(_AvgPool):
    """2-D average pooling, like ``torch.nn.AvgPool2d``: (N, C, H, W) -> (N, C, OH, OW).

    Unbatched (C, H, W) input works too. Padding counts as zeros; ``count_include_pad=False``
    divides by the number of input elements in the window instead of the window size
    (clipped to input + padding, as PyTorch does for ceil-mode windows).
    """

    spatial_dims = 2


class GlobalAvgPool2d(Layer):
    """Mean over each channel's H x W plane: (N, C, H, W) -> (N, C), or (C, H, W) -> (C,).

    The same as ``torch.nn.AdaptiveAvgPool2d(1)`` followed by ``torch.nn.Flatten()``: the
    usual bridge from a convolutional stack to a classifier that works for any image size.
    """

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = as_float_array(X, self)
        check_ndim(X, (3, 4), self, "3D (unbatched) or 4D (batched)")
        self.output_shape(X.shape[-3:])
        unbatched = X.ndim == 3
        Xb = to_batch_last(X[np.newaxis] if unbatched else X)  # (C, H, W, N)
        Yb = global_avg_pool_forward(Xb)  # (C, N)
        self._cache = (Xb.shape, Xb.dtype, unbatched)
        return Yb[:, 0] if unbatched else Yb.T

    def backward(self, dA: np.ndarray) -> np.ndarray:
        (C, H, W, N), dtype, unbatched = self._cached()
        dA = as_float_array(dA, self, "dA").astype(dtype, copy=False)
        check_grad_shape(dA, (C,) if unbatched else (N, C), self)
        dXb = global_avg_pool_backward(dA[:, np.newaxis] if unbatched else dA.T, H, W)
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
