"""Convolution (cross-correlation, as in PyTorch) forward and backward via im2col + matmul.

Two faster algorithms take the layers they suit (Numba loops, each with a NumPy twin):
Winograd F(4x4, 3x3) for 3x3 stride-1 layers with 8+ channels (``kernels/winograd.py``) and
the direct row convolution for thin stride-1 layers (``kernels/direct.py``). This module
routes between them and im2col, which stays the reference for every layer.

Batch-last throughout: X (C_in, *S, N) -> Y (C_out, *OS, N), weight W (C_out, C_in/G, *K).
With P = prod(OS) * N output positions, the forward pass is one product per group:
``W.reshape(G, C_out/G, C_in/G * prod(K)) @ cols.reshape(G, C_in/G * prod(K), P)``; the
result is already Y's memory. The backward pass reuses the same ``cols``:
dW = dY @ cols.T, db = dY summed over positions, dX = col2im(W.T @ dY), then unpadded.

``workspace`` is an optional dict owned by the caller (a layer); large scratch arrays are
kept there by name and reused while shapes and dtypes repeat, which saves the allocation and
page faults of ~10 MB buffers on every training step. Arrays that are returned are never
workspace buffers, except ``cols``, which only the caller's cache holds, and Y when the
caller asks for ``reuse_output`` (a layer inside a Sequential, whose output is consumed
before its next forward).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from scratchcnn.kernels import compiled, direct, winograd
from scratchcnn.kernels.direct import DirectSaved
from scratchcnn.kernels.im2col import col2im, conv_output_size, im2col
from scratchcnn.kernels.padding import Pads, pad, pad_adjoint, padded_shape
from scratchcnn.kernels.positions import add_bias
from scratchcnn.kernels.products import weight_gradient
from scratchcnn.kernels.workspace import buffer as workspace_buffer

# Winograd F(4x4, 3x3) pays from 8 input and output channels on (measured on 3x3 layers at
# batch 128: 8->8 at 28x28 forward 5.1 ms against im2col's 7.2; 3->32 and 1->32 lose, their
# products have too few terms to amortize the transforms). Below that, im2col + BLAS.
WINOGRAD_MIN_CHANNELS = 8


class WinogradSaved(NamedTuple):
    """What a Winograd forward keeps for backward: its input, not an im2col.

    ``Xp`` is the input itself with ``pads`` the zero padding the transforms add (zeros mode),
    or the padded input with no ``pads`` (other padding modes).
    """

    Xp: np.ndarray
    pads: Pads = ((0, 0), (0, 0))


def uses_winograd(
    W: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...], groups: int
) -> bool:
    """Whether this convolution runs as Winograd F(4x4, 3x3) (only with Numba's loops).

    3x3 kernels, stride 1, no dilation or groups, at least ``WINOGRAD_MIN_CHANNELS`` input and
    output channels; ``winograd.ENABLED`` switches it off (im2col stays the reference path).
    """
    return (
        winograd.ENABLED
        and winograd.applies(W, stride, dilation, groups)
        and min(W.shape[0], W.shape[1]) >= WINOGRAD_MIN_CHANNELS
        and compiled.usable()
    )


def _output(
    workspace: dict[str, np.ndarray] | None,
    name: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    reuse: bool,
) -> np.ndarray:
    """The output array: a new one, or with ``reuse`` the workspace's buffer ``name``.

    Reuse is for callers that consume the output before the next forward (layers inside a
    Sequential): it spares a fresh allocation of up to hundreds of MB per batch, whose page
    faults (and hugepage stalls) otherwise cost as much as the arithmetic. Training and
    inference use different names, so alternating batch sizes do not reallocate.
    """
    buffer = workspace_buffer(workspace, name, shape, dtype) if reuse else None
    return buffer if buffer is not None else np.empty(shape, dtype=dtype)


def _padded(
    X: np.ndarray, pads: Pads, padding_mode: str, workspace: dict[str, np.ndarray] | None
) -> np.ndarray:
    """X padded per ``pads`` (into the workspace's "padded" buffer), or X itself unpadded."""
    if not any(left or right for left, right in pads):
        return X
    buffer = workspace_buffer(workspace, "padded", padded_shape(X.shape, pads), X.dtype)
    return pad(X, pads, padding_mode, out=buffer)


def _winograd_input(
    X: np.ndarray, pads: Pads, padding_mode: str, workspace: dict[str, np.ndarray] | None
) -> tuple[np.ndarray, Pads]:
    """(array, pads) for Winograd: zero padding is left to its transforms (no padded copy)."""
    if padding_mode == "zeros":
        return np.ascontiguousarray(X), tuple(tuple(p) for p in pads)  # type: ignore[return-value]
    return _padded(X, pads, padding_mode, workspace), ((0, 0), (0, 0))


def _columns(
    X: np.ndarray,
    pads: Pads,
    padding_mode: str,
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    workspace: dict[str, np.ndarray] | None,
) -> np.ndarray:
    """im2col of X padded per ``pads`` (C, *K, *OS, N), into the workspace's "cols" buffer.

    Zero padding is left to im2col, which writes the zeros into the columns itself (no
    padded copy of X: 0.17 ms of MNIST-1D's 1.0 ms middle layer at batch 1000); other modes
    pad into a reused buffer first.
    """
    implicit = padding_mode == "zeros"
    source = X if implicit else _padded(X, pads, padding_mode, workspace)
    full = padded_shape(X.shape, pads)[1:-1]
    out_size = conv_output_size(full, kernel_size, stride, dilation)
    shape = (X.shape[0], *kernel_size, *out_size, X.shape[-1])
    buffer = workspace_buffer(workspace, "cols", shape, X.dtype)
    return im2col(
        source, kernel_size, stride, dilation, out=buffer, pads=pads if implicit else None
    )


def _is_pointwise(kernel_size: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    """1x1 kernels with stride 1: cols is the input itself, so im2col/col2im copy nothing."""
    return all(k == 1 for k in kernel_size) and all(s == 1 for s in stride)


def conv_forward(
    X: np.ndarray,
    W: np.ndarray,
    b: np.ndarray | None,
    pads: Pads,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int = 1,
    padding_mode: str = "zeros",
    workspace: dict[str, np.ndarray] | None = None,
    reuse_output: bool = False,
    relu: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Y (C_out, *OS, N) = conv(X (C_in, *S, N), W (C_out, C_in/G, *K)) + b (C_out,).

    ``pads`` holds a (left, right) pair per spatial axis. Returns ``(Y, cols)``; pass ``cols``
    (C_in, *K, *OS, N) to :func:`conv_backward`. For the layers :func:`uses_winograd` picks,
    the second item is a :class:`WinogradSaved` (the padded input) instead, and for those
    ``direct.applies`` picks a :class:`DirectSaved` (the padded input). X, W and b share
    one floating dtype; with ``reuse_output`` Y is the workspace's output buffer
    (see :func:`_output`). ``relu``: Y is max(Y, 0) as a following ReLU gives it, applied in
    the last pass that writes Y (Winograd's output transform, the direct loops) or just after.
    """
    kernel_size = W.shape[2:]
    C_out, N = W.shape[0], X.shape[-1]
    out_size = conv_output_size(padded_shape(X.shape, pads)[1:-1], kernel_size, stride, dilation)
    if uses_winograd(W, stride, dilation, groups):
        Xp, inner = _winograd_input(X, pads, padding_mode, workspace)
        Y = _output(workspace, "output", (C_out, *out_size, N), X.dtype, reuse_output)
        Y = winograd.winograd_forward(Xp, W, b, out=Y, pads=inner, relu=relu)
        return Y, WinogradSaved(Xp, inner)
    if direct.applies(W, stride, dilation, groups):
        Xp = _padded(X, pads, padding_mode, workspace)
        Y = _output(workspace, "output", (C_out, *out_size, N), X.dtype, reuse_output)
        Y = direct.direct_forward(Xp, W, b, stride, dilation, out=Y, relu=relu)
        return Y, DirectSaved(Xp)
    cols = _columns(X, pads, padding_mode, kernel_size, stride, dilation, workspace)
    Y = _output(workspace, "output", (C_out, *out_size, N), X.dtype, reuse_output)
    P = math.prod(out_size) * N
    rows = X.shape[0] * math.prod(kernel_size)  # explicit, so that an empty batch reshapes
    if groups == 1:
        np.matmul(W.reshape(C_out, -1), cols.reshape(rows, P), out=Y.reshape(C_out, P))
    else:
        np.matmul(
            W.reshape(groups, C_out // groups, -1),
            cols.reshape(groups, rows // groups, P),
            out=Y.reshape(groups, C_out // groups, P),
        )
    _add_bias(Y, b, relu)
    return Y, cols


def _add_bias(Y: np.ndarray, b: np.ndarray | None, relu: bool) -> None:
    """Y (C_out, *OS, N) += b per channel, then max(Y, 0) with ``relu``: one pass when both."""
    if b is not None:
        add_bias(Y.reshape(1, Y.shape[0], -1), b, relu)
    elif relu:
        _rectify(Y)


def _rectify(Y: np.ndarray) -> None:
    """Y = max(Y, 0) in place, as an in-place ReLU computes it (compiled or NumPy)."""
    if compiled.usable() and compiled.relu_forward(Y, in_place=True) is not None:
        return
    np.maximum(Y, 0, out=Y)


# Scratch columns per band in conv_forward_banded: a few MB stay in the 1-32 MB caches that
# the matrix product then reads, instead of a full im2col of hundreds of MB at batch 1000.
BAND_BYTES = 4 * 2**20


def conv_forward_banded(
    X: np.ndarray,
    W: np.ndarray,
    b: np.ndarray | None,
    pads: Pads,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int = 1,
    padding_mode: str = "zeros",
    workspace: dict[str, np.ndarray] | None = None,
    band_bytes: int = BAND_BYTES,
    reuse_output: bool = False,
    relu: bool = False,
) -> np.ndarray:
    """The output of :func:`conv_forward`, computed band by band over the first output axis.

    For forward passes with no backward (inference): im2col and the product run on bands of
    output rows whose columns fit in ``band_bytes``, so nothing as large as the whole im2col
    is ever made. Returns Y (C_out, *OS, N); ``relu`` as in :func:`conv_forward`.
    """
    kernel_size = W.shape[2:]
    C_in, C_out, N = X.shape[0], W.shape[0], X.shape[-1]
    out_size = conv_output_size(padded_shape(X.shape, pads)[1:-1], kernel_size, stride, dilation)
    Y = _output(workspace, "inference_output", (C_out, *out_size, N), X.dtype, reuse_output)
    if uses_winograd(W, stride, dilation, groups):  # works in cache-sized blocks already
        Xw, inner = _winograd_input(X, pads, padding_mode, workspace)
        return winograd.winograd_forward(Xw, W, b, out=Y, pads=inner, relu=relu)
    if direct.applies(W, stride, dilation, groups):  # reads Xp in place: no columns to band
        Xp = _padded(X, pads, padding_mode, workspace)
        return direct.direct_forward(Xp, W, b, stride, dilation, out=Y, relu=relu)
    # zero padding of the first axis is the bands' own (see below); of the others, im2col's
    implicit = padding_mode == "zeros"
    Xp = X if implicit else _padded(X, pads, padding_mode, workspace)
    top = pads[0][0] if implicit else 0
    rows = C_in * math.prod(kernel_size)
    row_positions = math.prod(out_size[1:]) * N  # output positions in one band row
    band = max(1, min(out_size[0], band_bytes // max(1, rows * row_positions * X.itemsize)))
    reach = dilation[0] * (kernel_size[0] - 1) + 1  # input rows one output row reads

    Y_groups = Y.reshape(groups, C_out // groups, -1)
    W_groups = W.reshape(groups, C_out // groups, -1)
    for first in range(0, out_size[0], band):
        count = min(band, out_size[0] - first)
        start = first * stride[0]  # in padded coordinates
        stop = start + (count - 1) * stride[0] + reach
        low, high = min(max(0, start - top), Xp.shape[1]), min(Xp.shape[1], stop - top)
        high = max(low, high)
        X_band = Xp[:, low:high]
        band_pads = None
        if implicit:  # the band's rows that lie in the zero padding, above and below
            above = max(0, top - start)
            band_pads = ((above, stop - start - above - (high - low)), *pads[1:])
        cols_shape = (C_in, *kernel_size, count, *out_size[1:], N)
        cols = im2col(
            X_band,
            kernel_size,
            stride,
            dilation,
            out=workspace_buffer(workspace, f"band{count}", cols_shape, X.dtype),
            pads=band_pads,
        )
        positions = slice(first * row_positions, (first + count) * row_positions)
        np.matmul(
            W_groups,
            cols.reshape(groups, rows // groups, count * row_positions),
            out=Y_groups[:, :, positions],
        )
    _add_bias(Y, b, relu)
    return Y


def conv_backward(
    dY: np.ndarray,
    cols: np.ndarray | WinogradSaved,
    W: np.ndarray,
    input_shape: tuple[int, ...],
    pads: Pads,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int = 1,
    padding_mode: str = "zeros",
    has_bias: bool = True,
    compute_dx: bool = True,
    workspace: dict[str, np.ndarray] | None = None,
    overwrite_cols: bool = False,
    compute_dw: bool = True,
    dx_out: np.ndarray | None = None,
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Gradients of sum(Y * dY) for dY (C_out, *OS, N): returns ``(dX, dW, db)``.

    dX (C_in, *S, N) for X of ``input_shape`` is None when ``compute_dx`` is False (that
    skips the largest product and the col2im); db is None when ``has_bias`` is False; dW and
    db are None when ``compute_dw`` is False (a frozen layer). dX may be a view into a larger
    padded array. ``overwrite_cols`` lets the column gradient reuse ``cols``'s memory once dW
    is done (the caller must not use ``cols`` again): that saves an array as large as the
    whole im2col. ``dx_out`` (input_shape, C-contiguous) is a dead buffer of the caller's
    that dX may be written into (the Winograd path with zero padding does).
    """
    kernel_size = W.shape[2:]
    C_out = W.shape[0]
    dY = np.ascontiguousarray(dY, dtype=W.dtype)
    P = dY.size // C_out
    if isinstance(cols, WinogradSaved):
        db = dY.reshape(C_out, P).sum(axis=1) if has_bias else None
        into = dx_out if dx_out is not None and dx_out.shape == cols.Xp.shape else None
        dXp, dW = winograd.winograd_backward(
            dY, cols.Xp, W, compute_dx, pads=cols.pads, out=into
        )
        if dXp is not None and dXp.shape != tuple(input_shape):  # padded first (other modes)
            dXp = pad_adjoint(dXp, pads, padding_mode)
        return dXp, dW, db
    if isinstance(cols, DirectSaved):
        db = dY.reshape(C_out, P).sum(axis=1) if has_bias and compute_dw else None
        stride_one = all(s == 1 for s in stride)
        dXp, dW = direct.direct_backward(
            dY, cols.Xp, W, stride, dilation, compute_dx and stride_one, compute_dw, workspace
        )
        if compute_dx and not stride_one:  # W^T dY and col2im need no columns of the input
            cols_shape = (W.shape[1], *kernel_size, *dY.shape[1:])
            rows = W.shape[1] * math.prod(kernel_size)
            dcols = workspace_buffer(workspace, "dcols", (rows, P), W.dtype)
            dXp = _input_gradient(
                dY.reshape(C_out, P), W.reshape(C_out, -1), cols_shape, dcols,
                padded_shape(input_shape, pads), stride, dilation,
            )  # fmt: skip
        if dXp is not None and any(left or right for left, right in pads):
            dXp = pad_adjoint(dXp, pads, padding_mode)
        return dXp, dW, db
    rows = cols.shape[0] * math.prod(kernel_size)
    db = dY.reshape(C_out, P).sum(axis=1) if has_bias and compute_dw else None
    if groups == 1:
        dY_g = dY.reshape(C_out, P)
        cols_g = cols.reshape(rows, P)
        W_g = W.reshape(C_out, -1)
        dW = weight_gradient(dY_g, cols_g).reshape(W.shape) if compute_dw else None
    else:
        dY_g = dY.reshape(groups, C_out // groups, P)
        cols_g = cols.reshape(groups, rows // groups, P)
        W_g = W.reshape(groups, C_out // groups, -1)
        dW = weight_gradient(dY_g, cols_g).reshape(W.shape) if compute_dw else None
    if not compute_dx:
        return None, dW, db

    pointwise = _is_pointwise(kernel_size, stride)
    # A pointwise dcols *is* the (padded) dX that we return, so it must not be a workspace
    # (and a pointwise cols is a view of X, which must not be overwritten).
    if pointwise:
        dcols = None
    elif overwrite_cols:
        dcols = cols_g
    else:
        dcols = workspace_buffer(workspace, "dcols", cols_g.shape, W.dtype)
    full_shape = padded_shape(input_shape, pads)
    dXp = _input_gradient(dY_g, W_g, cols.shape, dcols, full_shape, stride, dilation)
    if any(left or right for left, right in pads):
        return pad_adjoint(dXp, pads, padding_mode), dW, db
    return dXp, dW, db


def _input_gradient(
    dY_g: np.ndarray,
    W_g: np.ndarray,
    cols_shape: tuple[int, ...],
    dcols: np.ndarray | None,
    full_shape: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> np.ndarray:
    """The padded input's gradient (C_in, *padded S, N): col2im(W^T dY).

    ``dY_g`` (G, C_out/G, P) or (C_out, P) and ``W_g`` as grouped for the product; the column
    gradient goes into ``dcols`` (any array of cols_shape's size, or None for a new one).
    """
    kernel_size = cols_shape[1 : 1 + len(stride)]
    dcols = np.matmul(W_g.swapaxes(-1, -2), dY_g, out=dcols).reshape(cols_shape)
    if _is_pointwise(kernel_size, stride):
        return dcols.reshape(full_shape)
    if len(kernel_size) == 2 and dcols.dtype in (np.float32, np.float64) and compiled.usable():
        return compiled.col2im2d(dcols, full_shape, stride, dilation)
    return col2im(dcols, full_shape, kernel_size, stride, dilation)
