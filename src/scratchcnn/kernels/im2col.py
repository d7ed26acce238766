"""im2col and col2im for any number of spatial dimensions, in the batch-last layout.

``im2col`` turns a padded input Xp (C, *SP, N) into ``cols`` (C, *K, *OS, N): for each kernel
offset ``k``, ``cols[:, k]`` holds the input element that offset sees at every output
position, so a convolution becomes one matrix product with the kernel reshaped to
(C_out, C * prod(K)). The only Python loop is over the prod(K) kernel offsets, each one
strided slice copy whose innermost run is contiguous over the batch. ``col2im`` is the
adjoint: it adds every column entry back onto the input element it came from.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np


def conv_output_size(
    size: tuple[int, ...],
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> tuple[int, ...]:
    """Output spatial size for an (already padded) input size: (S - d*(K-1) - 1) // s + 1."""
    return tuple(
        (s - d * (k - 1) - 1) // st + 1
        for s, k, st, d in zip(size, kernel_size, stride, dilation, strict=True)
    )


def _offset_slices(
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out_size: tuple[int, ...],
) -> Iterator[tuple[tuple[int, ...], tuple[slice, ...]]]:
    """For each kernel offset, the offset and the input slices it reads along each axis."""
    for offset in itertools.product(*(range(k) for k in kernel_size)):
        yield (
            offset,
            tuple(
                slice(o * d, o * d + s * (n - 1) + 1, s)
                for o, d, s, n in zip(offset, dilation, stride, out_size, strict=True)
            ),
        )


def im2col(
    Xp: np.ndarray,
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Unfold Xp (C, *SP, N) into cols (C, *K, *OS, N); ``out`` is an optional buffer.

    A 1x1 kernel with stride 1 needs no copy: the result is then a reshaped view of Xp.
    """
    spatial = Xp.shape[1:-1]
    out_size = conv_output_size(spatial, kernel_size, stride, dilation)
    shape = (Xp.shape[0], *kernel_size, *out_size, Xp.shape[-1])
    if all(k == 1 for k in kernel_size) and all(s == 1 for s in stride):
        return Xp.reshape(shape)
    if out is None:
        out = np.empty(shape, dtype=Xp.dtype)
    for offset, window in _offset_slices(kernel_size, stride, dilation, out_size):
        out[(slice(None), *offset)] = Xp[(slice(None), *window)]
    return out


def col2im(
    cols: np.ndarray,
    padded_shape: tuple[int, ...],
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Fold cols (C, *K, *OS, N) back to (C, *SP, N), summing overlapping windows.

    The adjoint of ``im2col``: <im2col(x), y> == <x, col2im(y)>. ``out``, when given, is
    overwritten.
    """
    nd = len(kernel_size)
    out_size = tuple(cols.shape[1 + nd : 1 + 2 * nd])
    if out is None:
        out = np.zeros(padded_shape, dtype=cols.dtype)
    else:
        out.fill(0)
    for offset, window in _offset_slices(kernel_size, stride, dilation, out_size):
        out[(slice(None), *window)] += cols[(slice(None), *offset)]
    return out
