"""Convolution layers: the notebooks' one-channel ``SimpleConv1d`` and PyTorch's Conv1d/Conv2d.

"Convolution" means cross-correlation, as in PyTorch: ``A[o] = sum_k X[o*s + k*d] * W[k] + b``.
Conv1d and Conv2d share ``_ConvNd``, which validates arguments and shapes and hands the
arithmetic to ``scratchcnn.kernels.conv`` in the batch-last layout.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from scratchcnn.grad_mode import is_grad_enabled
from scratchcnn.kernels import positions
from scratchcnn.kernels.conv import conv_backward, conv_forward, conv_forward_banded
from scratchcnn.kernels.im2col import conv_output_size
from scratchcnn.kernels.layout import (
    from_batch_last,
    from_position_major,
    to_batch_last,
    to_position_major,
)
from scratchcnn.kernels.padding import PADDING_MODES, Pads
from scratchcnn.kernels.workspace import buffer as workspace_buffer
from scratchcnn.layers.base import Layer
from scratchcnn.memory import check_allocation
from scratchcnn.random import default_rng
from scratchcnn.validation import (
    as_float_array,
    check_grad_shape,
    check_initializer,
    check_ndim,
    check_positive_int,
    to_int_tuple,
)


def _uniform_init(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    """PyTorch's default conv init: uniform in ±1/sqrt(fan_in), float32."""
    bound = 1.0 / math.sqrt(fan_in)
    return default_rng().uniform(-bound, bound, size=shape).astype(np.float32)


def _init_param(
    initializer: Any, kind: str, shape: tuple[int, ...], fan_in: int, owner: str
) -> np.ndarray:
    """Draw ``W`` or ``B`` from ``initializer`` (or the default), as a float32 array."""
    check_allocation(shape, np.float32, kind.replace("B", "b"), owner, peak_factor=3)
    if initializer is None:
        return _uniform_init(shape, fan_in)
    check_initializer(initializer, owner, uses_bias=kind == "B")
    args = shape if kind == "W" else (shape[0],)
    value = np.array(getattr(initializer, kind)(*args), dtype=np.float32)
    if value.shape != shape:
        raise ValueError(
            f"{owner}: initializer.{kind} returned shape {value.shape}, expected {shape}"
        )
    return value


class SimpleConv1d(Layer):
    """The notebooks' one-channel 1-D convolution: x (L,) -> a (L - filter_size + 1,).

    ``a[i] = sum_k x[i + k] * W[k] + b``; W has shape (filter_size,), b shape (1,). No batch
    axis, no padding or stride: a first layer to read before :class:`Conv1d`.
    """

    param_names = ("W", "b")

    def __init__(self, filter_size: int, initializer: Any = None, optimizer: Any = None) -> None:
        super().__init__(optimizer)
        self.filter_size = check_positive_int(filter_size, "filter_size", type(self).__name__)
        shape = (self.filter_size,)
        self.W = _init_param(initializer, "W", shape, self.filter_size, repr(self))
        self.b = _init_param(initializer, "B", (1,), self.filter_size, repr(self))

    def _check_length(self, length: int, shape: tuple[int, ...]) -> int:
        if length < self.filter_size:
            raise ValueError(
                f"{self!r}: Kernel size can't be greater than actual input size: "
                f"filter_size={self.filter_size} but got input of shape {shape}"
            )
        return length - self.filter_size + 1

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 1:
            raise ValueError(
                f"{self!r}: expected 1D input (L,), but got input of shape {tuple(input_shape)}"
            )
        return (self._check_length(input_shape[0], tuple(input_shape)),)

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = as_float_array(X, self)
        check_ndim(X, (1,), self, "1D (L,)")
        self._check_length(X.shape[0], X.shape)
        self._adopt_dtype(X.dtype)
        self._cache = X
        return np.correlate(X, self.W, mode="valid") + self.b

    def backward(self, dA: np.ndarray) -> np.ndarray | None:
        X = self._cached()
        dA = as_float_array(dA, self, "dA").astype(X.dtype, copy=False)
        check_grad_shape(dA, (X.shape[0] - self.filter_size + 1,), self)
        # dW[k] = sum_i dA[i] x[i + k]; db = sum_i dA[i]; dx[j] = sum_i dA[i] W[j - i].
        if self._wants_param_grads():
            self.dW = np.correlate(X, dA, mode="valid")
            self.db = dA.sum(keepdims=True)
        dX = np.convolve(dA, self.W, mode="full") if self.compute_input_grad else None
        self._apply_optimizer()
        return dX

    def get_config(self) -> dict[str, Any]:
        return {"filter_size": self.filter_size}

    def extra_repr(self) -> str:
        return f"filter_size={self.filter_size}"


class _ConvNd(Layer):
    """Shared N-d convolution: argument checks, shape checks, and the kernel calls.

    Subclasses set ``_nd`` (the number of spatial dimensions) and ``_dims`` (the letters of
    the spatial axes, used in messages).
    """

    _nd: ClassVar[int] = 0
    _dims: ClassVar[str] = ""
    owns_output = True  # its output buffer or a new array; backward reads the input

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | str | tuple[int, ...] = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        initializer: Any = None,
        optimizer: Any = None,
    ) -> None:
        name, nd = type(self).__name__, self._nd
        self.param_names = ("W", "b") if bias else ("W",)
        super().__init__(optimizer)
        self.in_channels = check_positive_int(in_channels, "in_channels", name)
        self.out_channels = check_positive_int(out_channels, "out_channels", name)
        self.kernel_size = to_int_tuple(kernel_size, nd, "kernel_size", name)
        self.stride = to_int_tuple(stride, nd, "stride", name)
        self.dilation = to_int_tuple(dilation, nd, "dilation", name)
        self.groups = check_positive_int(groups, "groups", name)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"{name}: bias must be True or False, but got {bias!r}")
        self.bias = bool(bias)
        if self.in_channels % self.groups:
            raise ValueError(
                f"{name}: in_channels must be divisible by groups, but got "
                f"in_channels={self.in_channels} and groups={self.groups}"
            )
        if self.out_channels % self.groups:
            raise ValueError(
                f"{name}: out_channels must be divisible by groups, but got "
                f"out_channels={self.out_channels} and groups={self.groups}"
            )
        if not isinstance(padding_mode, str) or padding_mode not in PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {PADDING_MODES}, but got {padding_mode!r}"
            )
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(
                    f"{name}: padding must be 'valid', 'same', an int or a tuple of {nd} "
                    f"ints, but got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions, "
                    f"but got stride={self.stride}"
                )
            self.padding: str | tuple[int, ...] = padding
        else:
            self.padding = to_int_tuple(padding, nd, "padding", name, minimum=0)
        self.pads = self._pads()

        fan_in = self.in_channels // self.groups * math.prod(self.kernel_size)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.W = _init_param(initializer, "W", shape, fan_in, repr(self))
        self.b = None
        if self.bias:
            self.b = _init_param(initializer, "B", (self.out_channels,), fan_in, repr(self))
        # Scratch buffers reused between steps of the same shape (see kernels/conv.py).
        self._workspace: dict[str, np.ndarray] = {}

    def _pads(self) -> Pads:
        """(left, right) padding per spatial axis; 'same' puts the odd element on the right."""
        if self.padding == "valid":
            return ((0, 0),) * self._nd
        if self.padding == "same":
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation, strict=True)]
            return tuple((t // 2, t - t // 2) for t in totals)
        return tuple((p, p) for p in self.padding)

    # -- shapes ----------------------------------------------------------------------------
    def _check_sample(self, sample_shape: tuple[int, ...], shown: tuple[int, ...]) -> tuple:
        """Check one sample's (C, *S) against the layer; return the output's (C_out, *OS).

        ``shown`` is the shape quoted in messages (the batched input's, in forward).
        """
        owner = self  # its repr is built only for an error message
        channels, spatial = sample_shape[0], sample_shape[1:]
        if channels != self.in_channels:
            raise ValueError(
                f"{owner}: expected input with {self.in_channels} channels (in_channels), "
                f"but got {channels} channels in input of shape {shown}"
            )
        for axis, (size, (left, right)) in enumerate(zip(spatial, self.pads, strict=True)):
            widest = max(left, right)
            if self.padding_mode == "reflect" and widest >= size:
                raise ValueError(
                    f"{owner}: padding_mode='reflect' needs padding smaller than the input "
                    f"size, but got padding {(left, right)} for size {size} along "
                    f"{self._dims[axis]} in input of shape {shown}"
                )
            if self.padding_mode == "circular" and widest > size:
                raise ValueError(
                    f"{owner}: padding_mode='circular' needs padding at most the input size "
                    f"(it would wrap around more than once), but got padding {(left, right)} "
                    f"for size {size} along {self._dims[axis]} in input of shape {shown}"
                )
        padded = tuple(
            s + left + right for s, (left, right) in zip(spatial, self.pads, strict=True)
        )
        reach = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation, strict=True))
        if any(p < r for p, r in zip(padded, reach, strict=True)):
            raise ValueError(
                f"{owner}: Kernel size can't be greater than actual input size: padded input "
                f"size {padded}, dilated kernel size {reach}, for input of shape {shown}"
            )
        return (
            self.out_channels,
            *conv_output_size(padded, self.kernel_size, self.stride, self.dilation),
        )

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """(C_in, *S) -> (C_out, *OS) for one sample, with forward's checks."""
        shape = tuple(input_shape)
        if len(shape) != self._nd + 1:
            raise ValueError(
                f"{self!r}: expected a per-sample input shape (C, {', '.join(self._dims)}), "
                f"but got {shape}"
            )
        return self._check_sample(shape, shape)

    # -- computation -----------------------------------------------------------------------
    def forward(self, X: np.ndarray) -> np.ndarray:
        owner, nd = self, self._nd  # its repr is built only for an error message
        X = as_float_array(X, owner)
        check_ndim(X, (nd + 1, nd + 2), owner, f"{nd + 1}D (unbatched) or {nd + 2}D (batched)")
        unbatched = X.ndim == nd + 1
        if unbatched:
            X = X[None]
        out_sample = self._check_sample(X.shape[1:], tuple(X.shape[unbatched:]))
        self._adopt_dtype(X.dtype)
        if self._position_major():
            A = self._forward_position_major(X, (X.shape[0], *out_sample), unbatched)
            return A[0] if unbatched else A
        Xb = to_batch_last(X)
        args = (self.pads, self.stride, self.dilation, self.groups, self.padding_mode)
        reuse = {
            "workspace": self._workspace,
            "reuse_output": self.reuse_output,
            "relu": self.rectify_output,
        }
        if is_grad_enabled():
            Y, cols = conv_forward(Xb, self.W, self.b, *args, **reuse)
            self._cache = (cols, Xb.shape, unbatched, (X.shape[0], *out_sample))
        else:
            Y = conv_forward_banded(Xb, self.W, self.b, *args, **reuse)
            self._cache = None
        A = from_batch_last(Y)
        return A[0] if unbatched else A

    def can_rectify_output(self) -> bool:
        """Every path applies a following ReLU in the pass that writes the output: the bias
        pass (position-major, im2col), the direct loops, Winograd's output transform."""
        return True

    def _position_major(self) -> bool:
        """Whether this layer runs position-major (1-D layers ``kernels/positions.py`` takes)."""
        args = (self.stride, self.dilation, self.groups, self.padding_mode)
        return self._nd == 1 and positions.applies(self.W, *args)

    def _forward_position_major(
        self, X: np.ndarray, out_shape: tuple[int, ...], unbatched: bool
    ) -> np.ndarray:
        """The forward pass in the (L, C, N) layout; returns an (N, C_out, L_out) view."""
        Xk = to_position_major(X)
        L_out, N = out_shape[2], X.shape[0]
        name = "output" if is_grad_enabled() else "inference_output"
        shape = (L_out, self.out_channels, N)
        out = workspace_buffer(self._workspace, name, shape, X.dtype) if self.reuse_output else None
        args = (self.pads[0], self.stride[0])
        Y = positions.forward(Xk, self.W, self.b, *args, out=out, relu=self.rectify_output)
        saved = positions.PositionsSaved(Xk)
        self._cache = (saved, Xk.shape, unbatched, out_shape) if is_grad_enabled() else None
        return from_position_major(Y)

    def backward(self, dA: np.ndarray) -> np.ndarray | None:
        cols, x_shape, unbatched, out_shape = self._cached()
        owner = self  # its repr is built only for an error message
        dA = as_float_array(dA, owner, "dA")
        check_grad_shape(dA, out_shape[1:] if unbatched else out_shape, owner)
        if unbatched:
            dA = dA[None]
        if isinstance(cols, positions.PositionsSaved):
            dX, self.dW, self.db = positions.backward(
                to_position_major(dA), cols.X, self.W, self.pads[0], self.stride[0],
                has_bias=self.bias, compute_dx=self.compute_input_grad,
                compute_dw=self._wants_param_grads(),
            )  # fmt: skip
            to_pytorch_layout = from_position_major
        else:
            dX, self.dW, self.db = conv_backward(
                to_batch_last(dA),
                cols,
                self.W,
                x_shape,
                self.pads,
                self.stride,
                self.dilation,
                self.groups,
                self.padding_mode,
                has_bias=self.bias,
                compute_dx=self.compute_input_grad,
                workspace=self._workspace,
                overwrite_cols=True,
                compute_dw=self._wants_param_grads(),
                dx_out=self._output_buffer_for_grad(x_shape, self.W.dtype, dA),
            )
            to_pytorch_layout = from_batch_last
        # The column gradient was written over the cached columns: like PyTorch, which frees
        # what a backward used, a second backward needs a new forward.
        self._cache = None
        self._apply_optimizer()
        if dX is None:
            return None
        dX = to_pytorch_layout(dX)
        return dX[0] if unbatched else dX

    # -- description -----------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        padding = self.padding if isinstance(self.padding, str) else list(self.padding)
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": padding,
            "dilation": list(self.dilation),
            "groups": self.groups,
            "bias": self.bias,
            "padding_mode": self.padding_mode,
        }

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        text += f", stride={self.stride}"
        if isinstance(self.padding, str):
            text += f", padding={self.padding}"
        elif any(self.padding):
            text += f", padding={self.padding}"
        if any(d != 1 for d in self.dilation):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if not self.bias:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) or unbatched (C_in, L), like ``torch.nn.Conv1d``.

    Shape: X (N, C_in, L) -> A (N, C_out, L_out), L_out = (L + pads - d*(K-1) - 1) // s + 1.
    W is (C_out, C_in/groups, K), b is (C_out,) or None with ``bias=False``.
    """

    _nd = 1
    _dims = "L"


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) or unbatched (C_in, H, W), like ``torch.nn.Conv2d``.

    Shape: X (N, C_in, H, W) -> A (N, C_out, OH, OW), OH = (H + pads - d*(KH-1) - 1) // s + 1.
    W is (C_out, C_in/groups, KH, KW), b is (C_out,) or None. Spatial arguments take an int
    or a pair (H, W).
    """

    _nd = 2
    _dims = "HW"
