"""Shape and parameter arithmetic for convolution, pooling and dense layers (no data needed).

Sizes may be ints or tuples (one entry per spatial dimension): ints apply to every dimension,
and the result is a tuple whenever any argument is one. The formulas are PyTorch's, given in
the ``Shape:`` sections of ``torch.nn.Conv2d`` and ``torch.nn.MaxPool2d``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from scratchcnn.kernels.im2col import conv_output_size as _conv_size
from scratchcnn.kernels.pooling import pool_output_size as _pool_size
from scratchcnn.validation import check_positive_int, to_int_tuple

IntOrTuple = int | tuple[int, ...]


def _as_tuples(
    owner: str, minimums: dict[str, int], **sizes: Any
) -> tuple[int, bool, dict[str, tuple[int, ...]]]:
    """Expand ints and tuples to tuples of one common length ``n``; ``scalar`` if all were ints."""
    lengths = {
        len(v) for v in sizes.values() if isinstance(v, Sequence) and not isinstance(v, str)
    }
    if len(lengths) > 1:
        raise ValueError(
            f"{owner}: tuple arguments must have the same length, but got "
            + ", ".join(f"{k}={v!r}" for k, v in sizes.items())
        )
    if 0 in lengths:
        raise ValueError(f"{owner}: tuple arguments must not be empty")
    scalar = not lengths
    n = 1 if scalar else lengths.pop()
    tuples = {k: to_int_tuple(v, n, k, owner, minimum=minimums[k]) for k, v in sizes.items()}
    return n, scalar, tuples


def _result(values: list[int], scalar: bool) -> IntOrTuple:
    return values[0] if scalar else tuple(values)


def _where(i: int, scalar: bool) -> str:
    return "" if scalar else f" in dimension {i}"


def conv_output_size(
    n_in: IntOrTuple,
    kernel_size: IntOrTuple,
    padding: IntOrTuple = 0,
    stride: IntOrTuple = 1,
    dilation: IntOrTuple = 1,
) -> IntOrTuple:
    """Output length of a convolution: floor((n_in + 2P - dilation*(F-1) - 1) / S) + 1.

    E.g. ``conv_output_size(144, 3) == 142``; ``conv_output_size((20, 20), 3, stride=2)``
    is ``(9, 9)``. Raises ValueError when the dilated kernel does not fit the padded input.
    """
    owner = "conv_output_size"
    mins = {"n_in": 1, "kernel_size": 1, "padding": 0, "stride": 1, "dilation": 1}
    n, scalar, t = _as_tuples(
        owner, mins, n_in=n_in, kernel_size=kernel_size, padding=padding, stride=stride,
        dilation=dilation,
    )
    out = []
    for i in range(n):
        padded = t["n_in"][i] + 2 * t["padding"][i]
        effective = t["dilation"][i] * (t["kernel_size"][i] - 1) + 1
        if effective > padded:
            raise ValueError(
                f"{owner}: kernel size can't be greater than the padded input size"
                f"{_where(i, scalar)}: effective kernel size dilation*(kernel_size-1)+1 = "
                f"{effective}, padded input size n_in+2*padding = {padded}"
            )
        size = _conv_size((padded,), (t["kernel_size"][i],), (t["stride"][i],), (t["dilation"][i],))
        out.append(size[0])
    return _result(out, scalar)


def pool_output_size(
    n_in: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
) -> IntOrTuple:
    """Output length of max/avg pooling, PyTorch's rule; ``stride=None`` means ``kernel_size``.

    With ``ceil_mode`` the division rounds up, but a last window that would start in the
    right padding (at or past ``n_in + padding``) is dropped. Padding may be at most half the
    effective kernel size, as in PyTorch.
    """
    owner = "pool_output_size"
    if stride is None:
        stride = kernel_size
    mins = {"n_in": 1, "kernel_size": 1, "stride": 1, "padding": 0, "dilation": 1}
    n, scalar, t = _as_tuples(
        owner, mins, n_in=n_in, kernel_size=kernel_size, stride=stride, padding=padding,
        dilation=dilation,
    )
    out = []
    for i in range(n):
        size, k, s = t["n_in"][i], t["kernel_size"][i], t["stride"][i]
        p, d = t["padding"][i], t["dilation"][i]
        effective = d * (k - 1) + 1
        if p > effective // 2:
            raise ValueError(
                f"{owner}: pad should be at most half of effective kernel size, but got "
                f"pad={p}, kernel_size={k} and dilation={d}{_where(i, scalar)}"
            )
        length = _pool_size(size, effective, s, p, ceil_mode)  # the dilated window's extent
        if length < 1:
            raise ValueError(
                f"{owner}: output size is too small{_where(i, scalar)}: input size {size}, "
                f"padding {p}, effective kernel size {effective} give {length}"
            )
        out.append(length)
    return _result(out, scalar)


def conv_param_count(
    in_channels: int,
    out_channels: int,
    kernel_size: IntOrTuple,
    groups: int = 1,
    bias: bool = True,
) -> int:
    """Trainable parameters of a convolution: C_out * (C_in / groups) * prod(kernel) [+ C_out].

    An int ``kernel_size`` means a square 2-D kernel (3 -> 3x3); pass ``(3,)`` for Conv1d
    and ``(3, 3, 3)`` for a 3-D kernel. E.g. ``conv_param_count(3, 6, 3) == 168``.
    """
    owner = "conv_param_count"
    in_channels = check_positive_int(in_channels, "in_channels", owner)
    out_channels = check_positive_int(out_channels, "out_channels", owner)
    groups = check_positive_int(groups, "groups", owner)
    if isinstance(kernel_size, Sequence) and not isinstance(kernel_size, str):
        kernel = to_int_tuple(kernel_size, len(kernel_size), "kernel_size", owner)
    else:
        kernel = to_int_tuple(kernel_size, 2, "kernel_size", owner)
    if in_channels % groups != 0:
        raise ValueError(
            f"{owner}: in_channels must be divisible by groups, but got "
            f"in_channels={in_channels}, groups={groups}"
        )
    if out_channels % groups != 0:
        raise ValueError(
            f"{owner}: out_channels must be divisible by groups, but got "
            f"out_channels={out_channels}, groups={groups}"
        )
    weights = out_channels * (in_channels // groups) * math.prod(kernel)
    return weights + (out_channels if bias else 0)


def dense_param_count(in_features: int, out_features: int, bias: bool = True) -> int:
    """Trainable parameters of a fully connected layer: in * out [+ out]."""
    owner = "dense_param_count"
    in_features = check_positive_int(in_features, "in_features", owner)
    out_features = check_positive_int(out_features, "out_features", owner)
    return in_features * out_features + (out_features if bias else 0)
