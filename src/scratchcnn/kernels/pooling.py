"""Max and average pooling in the batch-last layout (C, *spatial, N), for any number of axes.

A pooling window of size KH x KW is read one kernel offset at a time: for offset (i, j) the
strided view ``X[:, i::SH, j::SW, :]`` holds element (i, j) of every window, shape
(C, OH, OW, N). Reducing those KH*KW views gives the output, so the only Python loop is over
kernel offsets and no window is ever copied. When the windows tile the input exactly
(stride == kernel, no padding: LeNet's 2x2 pools) the views are exactly the blocks of
``X.reshape(C, OH, KH, OW, KW, N)``, the input is read in place, and the backward pass writes
each input element once, with no zero fill and no accumulation. Padding (-inf for max, 0 for
average) is the only copy. Kernels take normalized tuples and never validate.

Max pooling in 1-D and 2-D takes the one-pass Numba loops of ``kernels/compiled.py`` when
they are available; this NumPy code is the fallback, and the reference they are tested against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from scratchcnn.kernels import compiled

Ints = tuple[int, ...]


def pool_output_size(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output length along one axis; may be below 1 (callers check).

    With ``ceil_mode`` a last, partial window is kept only if it starts inside the input or
    the left padding, never in the right padding.
    """
    out = (size + 2 * padding - kernel + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def pool_output_shape(
    spatial: Ints, kernel: Ints, stride: Ints, padding: Ints, ceil_mode: bool
) -> Ints:
    """``pool_output_size`` for each spatial axis."""
    return tuple(
        pool_output_size(n, k, s, p, ceil_mode)
        for n, k, s, p in zip(spatial, kernel, stride, padding, strict=True)
    )


# -- windows -----------------------------------------------------------------------------------
def _extent(out: Ints, kernel: Ints, stride: Ints) -> Ints:
    """Per axis, the length from the start of the left padding that all windows span.

    That is (OH - 1) * SH + KH: less than the padded input in floor mode when trailing rows
    fit no window, more in ceil mode when the last window hangs past the right padding.
    """
    return tuple((o - 1) * s + k for o, k, s in zip(out, kernel, stride, strict=True))


def _interior(spatial: Ints, extent: Ints, padding: Ints) -> tuple[tuple[slice, ...], ...]:
    """Slices (into X, into the padded array) of the input part the windows reach.

    Floor mode may leave trailing rows no window reaches; ceil mode may need right padding
    beyond ``padding``, which the padded array's ``extent`` provides.
    """
    reach = [min(n, e - p) for n, e, p in zip(spatial, extent, padding, strict=True)]
    source = (slice(None), *(slice(0, r) for r in reach), slice(None))
    target = (
        slice(None),
        *(slice(p, p + r) for p, r in zip(padding, reach, strict=True)),
        slice(None),
    )
    return source, target


def _pad_for_windows(X: np.ndarray, extent: Ints, padding: Ints, fill: float) -> np.ndarray:
    """X (C, *S, N) padded with ``fill`` (or cropped) to (C, *extent, N); a view when possible."""
    spatial = X.shape[1:-1]
    source, target = _interior(spatial, extent, padding)
    if not any(padding) and all(e <= n for e, n in zip(extent, spatial, strict=True)):
        return X[source]
    Xp = np.empty((X.shape[0], *extent, X.shape[-1]), dtype=X.dtype)
    Xp[target] = X[source]
    # fill only the border slabs (before and after the interior, axis by axis)
    for axis, cut in enumerate(target[1:-1], start=1):
        before = [slice(None)] * Xp.ndim
        before[axis] = slice(0, cut.start)
        Xp[tuple(before)] = fill
        before[axis] = slice(cut.stop, None)
        Xp[tuple(before)] = fill
    return Xp


def _window_views(Xp: np.ndarray, kernel: Ints, stride: Ints, out: Ints) -> Iterator[np.ndarray]:
    """For each kernel offset, in row-major order, the (C, *out, N) view of its elements."""
    for offset in np.ndindex(*kernel):
        yield Xp[
            (
                slice(None),
                *(
                    slice(i, i + s * (o - 1) + 1, s)
                    for i, s, o in zip(offset, stride, out, strict=True)
                ),
                slice(None),
            )
        ]


def _tiles_exactly(spatial: Ints, kernel: Ints, stride: Ints, padding: Ints, out: Ints) -> bool:
    """Whether the windows cover every input element exactly once (the reshape case)."""
    return stride == kernel and not any(padding) and _extent(out, kernel, stride) == spatial


def _scatter_to_input(
    input_shape: Ints,
    dtype: np.dtype,
    kernel: Ints,
    stride: Ints,
    padding: Ints,
    out: Ints,
    add_piece: Callable[[int, np.ndarray, bool], None],
) -> np.ndarray:
    """dX (C, *S, N) built from one (C, *out, N) gradient piece per kernel offset.

    ``add_piece(index, view, accumulate)`` writes (or, when windows overlap, adds) offset
    ``index``'s piece into ``view``. Gradients landing in the padding are dropped.
    """
    spatial = tuple(input_shape[1:-1])
    extent = _extent(out, kernel, stride)
    exact = _tiles_exactly(spatial, kernel, stride, padding, out)
    dX = np.empty(input_shape, dtype=dtype) if exact else np.zeros(input_shape, dtype=dtype)
    padded = any(padding) or any(e > n for e, n in zip(extent, spatial, strict=True))
    if padded:
        dXp = np.zeros((input_shape[0], *extent, input_shape[-1]), dtype=dtype)
    else:
        dXp = _pad_for_windows(dX, extent, padding, 0.0)  # a view into dX
    accumulate = any(s < k for s, k in zip(stride, kernel, strict=True))
    for index, view in enumerate(_window_views(dXp, kernel, stride, out)):
        add_piece(index, view, accumulate)
    if padded:
        source, target = _interior(spatial, extent, padding)
        dX[source] = dXp[target]
    return dX


# -- max pooling -------------------------------------------------------------------------------
def _use_compiled(dtype: np.dtype, kernel: Ints) -> bool:
    """Whether the compiled loops handle this case: 1-D or 2-D, float32 or float64."""
    return len(kernel) in (1, 2) and dtype in (np.float32, np.float64) and compiled.usable()


def _as_2d(values: Ints, fill: int = 1) -> Ints:
    """A 1-D argument or shape as its 2-D form with a first spatial axis of size ``fill``.

    Arguments (k,) become (fill, k), shapes (C, L, N) become (C, 1, L, N): the 2-D loops
    then run 1-D pooling with a window of height 1. 2-D arguments and shapes pass through.
    """
    if len(values) in (2, 4):
        return tuple(values)
    if len(values) == 1:
        return (fill, *values)
    return (values[0], fill, *values[1:])


def max_pool_forward(
    X: np.ndarray, kernel: Ints, stride: Ints, padding: Ints, ceil_mode: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling of X (C, *S, N) -> (Y (C, *out, N), argmax (C, *out, N) kernel offsets).

    ``argmax`` holds, per output, the row-major kernel offset of the first maximum in its
    window, as PyTorch picks it; padding is -inf so it never wins. NaN propagates to Y.
    """
    out = pool_output_shape(X.shape[1:-1], kernel, stride, padding, ceil_mode)
    index_type = np.min_scalar_type(int(np.prod(kernel)) - 1).type
    if _use_compiled(X.dtype, kernel):
        Y, argmax = compiled.max_pool2d_forward(
            X.reshape(_as_2d(X.shape)),
            _as_2d(kernel, 1),
            _as_2d(stride, 1),
            _as_2d(padding, 0),
            _as_2d(out, 1),
            index_type,
        )
        shape = (X.shape[0], *out, X.shape[-1])
        return Y.reshape(shape), argmax.reshape(shape)
    Xp = _pad_for_windows(X, _extent(out, kernel, stride), padding, -np.inf)
    views = _window_views(Xp, kernel, stride, out)
    Y = np.array(next(views), order="C")
    argmax = np.zeros(Y.shape, dtype=index_type)
    greater = np.empty(Y.shape, dtype=bool)
    candidate = np.empty(Y.shape, dtype=index_type)
    for index, view in enumerate(views, start=1):
        np.greater(view, Y, out=greater)
        np.maximum(Y, view, out=Y)
        # Offsets only grow, so "argmax = index where strictly greater" is a maximum of two
        # small integer arrays: far faster than a masked assignment, and ties keep the first.
        np.multiply(greater, index_type(index), out=candidate)
        np.maximum(argmax, candidate, out=argmax)
    return Y, argmax


def max_pool_backward(
    dA: np.ndarray,
    argmax: np.ndarray,
    input_shape: Ints,
    kernel: Ints,
    stride: Ints,
    padding: Ints,
    rectified_input: np.ndarray | None = None,
) -> np.ndarray:
    """Gradient of max pooling: dA (C, *out, N) -> dX (C, *S, N).

    Each output's gradient goes to the input element ``argmax`` names in its window. With
    ``rectified_input`` (the pooling's input X (C, *S, N), the output of a ReLU), dX is
    also the gradient through that ReLU: 0 wherever not X > 0 (one pass when compiled).
    """
    out = tuple(dA.shape[1:-1])
    if _use_compiled(dA.dtype, kernel):
        spatial = tuple(input_shape[1:-1])
        rectified = None
        if rectified_input is not None:
            rectified = rectified_input.reshape(_as_2d(tuple(input_shape)))
        dX = compiled.max_pool2d_backward(
            dA.reshape(_as_2d(dA.shape)),
            argmax.reshape(_as_2d(argmax.shape)),
            _as_2d(tuple(input_shape)),
            _as_2d(kernel, 1),
            _as_2d(stride, 1),
            _as_2d(padding, 0),
            _tiles_exactly(spatial, kernel, stride, padding, out),
            rectified,
        )
        return dX.reshape(input_shape)
    dX = _max_pool_backward_numpy(dA, argmax, input_shape, kernel, stride, padding, out)
    if rectified_input is not None:
        np.multiply(dX, rectified_input > 0, out=dX)
    return dX


def _max_pool_backward_numpy(
    dA: np.ndarray,
    argmax: np.ndarray,
    input_shape: Ints,
    kernel: Ints,
    stride: Ints,
    padding: Ints,
    out: Ints,
) -> np.ndarray:
    """The NumPy twin of the compiled scatter: one masked pass per kernel offset."""
    hit = np.empty(argmax.shape, dtype=bool)
    scratch = np.empty(dA.shape, dtype=dA.dtype)

    def add_piece(index: int, view: np.ndarray, accumulate: bool) -> None:
        np.equal(argmax, index, out=hit)
        if accumulate:
            view += np.multiply(dA, hit, out=scratch)
        else:
            np.multiply(dA, hit, out=view)

    return _scatter_to_input(input_shape, dA.dtype, kernel, stride, padding, out, add_piece)


# -- average pooling ---------------------------------------------------------------------------
def avg_pool_divisor(
    spatial: Ints,
    out: Ints,
    kernel: Ints,
    stride: Ints,
    padding: Ints,
    count_include_pad: bool,
    dtype: np.dtype,
) -> np.ndarray | float:
    """Per-output window sizes, shape (1, *out, 1), or one float when all are equal.

    As in PyTorch, a window is first clipped to input + padding (ceil-mode windows can hang
    past it); ``count_include_pad=False`` clips it to the input alone.
    """
    counts = []
    for n, o, k, s, p in zip(spatial, out, kernel, stride, padding, strict=True):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        counts.append(end - start)
    sizes = counts[0]
    for count in counts[1:]:
        sizes = np.multiply.outer(sizes, count)
    if np.all(sizes == sizes.flat[0]):
        return float(sizes.flat[0])
    return sizes.astype(dtype).reshape(1, *out, 1)


def avg_pool_forward(
    X: np.ndarray,
    kernel: Ints,
    stride: Ints,
    padding: Ints,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Average pooling of X (C, *S, N) -> Y (C, *out, N); zero padding."""
    spatial = X.shape[1:-1]
    out = pool_output_shape(spatial, kernel, stride, padding, ceil_mode)
    Xp = _pad_for_windows(X, _extent(out, kernel, stride), padding, 0.0)
    views = _window_views(Xp, kernel, stride, out)
    Y = np.array(next(views), order="C")
    for view in views:
        np.add(Y, view, out=Y)
    Y /= avg_pool_divisor(spatial, out, kernel, stride, padding, count_include_pad, X.dtype)
    return Y


def avg_pool_backward(
    dA: np.ndarray,
    input_shape: Ints,
    kernel: Ints,
    stride: Ints,
    padding: Ints,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Gradient of average pooling: dA (C, *out, N) / window size, spread over each window."""
    out = tuple(dA.shape[1:-1])
    spatial = tuple(input_shape[1:-1])
    share = dA / avg_pool_divisor(
        spatial, out, kernel, stride, padding, count_include_pad, dA.dtype
    )

    def add_piece(index: int, view: np.ndarray, accumulate: bool) -> None:
        if accumulate:
            view += share
        else:
            view[...] = share

    return _scatter_to_input(input_shape, dA.dtype, kernel, stride, padding, out, add_piece)
