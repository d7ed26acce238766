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


def _clipped_window(
    offset: int, dilation: int, stride: int, count: int, size: int, left: int
) -> tuple[int, int, slice]:
    """(first, end, input slice): the outputs ``first <= t < end`` whose input lies inside an
    axis of ``size`` that has ``left`` implicit zeros before it, for one kernel offset."""
    start = offset * dilation - left  # input index of output 0 (negative: in the padding)
    first = min(count, max(0, -(start // stride)))  # ceil(-start / stride), at least 0
    end = first if size <= 0 else max(first, min(count, (size - 1 - start) // stride + 1))
    return first, end, slice(start + first * stride, start + (end - 1) * stride + 1, stride)


def im2col(
    Xp: np.ndarray,
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out: np.ndarray | None = None,
    pads: tuple[tuple[int, int], ...] | None = None,
) -> np.ndarray:
    """Unfold Xp (C, *SP, N) into cols (C, *K, *OS, N); ``out`` is an optional buffer.

    ``pads`` ((left, right) per axis) is zero padding that Xp does not hold: columns that
    fall into it are written as zeros, so no padded copy of the input is made. A 1x1 kernel
    with stride 1 and no padding needs no copy: the result is then a reshaped view of Xp.
    """
    spatial = Xp.shape[1:-1]
    pads = pads or tuple((0, 0) for _ in spatial)
    full = tuple(n + left + right for n, (left, right) in zip(spatial, pads, strict=True))
    out_size = conv_output_size(full, kernel_size, stride, dilation)
    shape = (Xp.shape[0], *kernel_size, *out_size, Xp.shape[-1])
    padded = any(left or right for left, right in pads)
    if all(k == 1 for k in kernel_size) and all(s == 1 for s in stride) and not padded:
        return Xp.reshape(shape)
    if out is None:
        out = np.empty(shape, dtype=Xp.dtype)
    if not padded:
        for offset, window in _offset_slices(kernel_size, stride, dilation, out_size):
            out[(slice(None), *offset)] = Xp[(slice(None), *window)]
        return out
    for offset in itertools.product(*(range(k) for k in kernel_size)):
        target = out[(slice(None), *offset)]  # (C, *OS, N)
        clips = [
            _clipped_window(o, d, s, n, size, left)
            for o, d, s, n, size, (left, _) in zip(
                offset, dilation, stride, out_size, spatial, pads, strict=True
            )
        ]
        for axis, (first, end, _) in enumerate(clips, start=1):  # the padding's zeros
            target[(slice(None),) * axis + (slice(0, first),)] = 0
            target[(slice(None),) * axis + (slice(end, None),)] = 0
        if any(first >= end for first, end, _ in clips):
            continue  # this offset only ever sees padding
        inside = tuple(slice(first, end) for first, end, _ in clips)
        target[(slice(None), *inside)] = Xp[(slice(None), *(window for *_, window in clips))]
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
