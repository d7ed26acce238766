"""Optional Numba fast path for the memory-bound kernels: max pooling, ReLU and its gradient,
bias addition, col2im and the layout transpose.

NumPy needs several passes over memory for these (one per kernel offset, plus masks); each
function here makes one. They work on C-contiguous batch-last arrays (C, *spatial, N) with the
innermost loop over the batch, which is contiguous, so LLVM vectorizes it. The loops are
plain Python, handed to ``numba.njit`` on first use: importing scratchcnn neither imports
Numba nor compiles anything, and ``cache=True`` keeps the machine code between runs.

``HAVE_NUMBA`` says whether Numba is installed and not disabled by the environment variable
``SCRATCHCNN_NO_NUMBA``; ``ENABLED`` is the switch callers read (tests flip it to run the
NumPy fallback). Callers keep the NumPy code beside every call.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from types import SimpleNamespace

import numpy as np

Ints = tuple[int, ...]

HAVE_NUMBA: bool = (
    not os.environ.get("SCRATCHCNN_NO_NUMBA") and importlib.util.find_spec("numba") is not None
)
ENABLED: bool = HAVE_NUMBA

# ``numba.prange`` once ``_jit`` has imported Numba; Numba reads globals when it compiles,
# which happens at first call, after that.
prange = range


# -- loops (compiled by Numba; never run as Python) ---------------------------------------------
def _max_pool2d_forward_loop(X, KH, KW, SH, SW, PH, PW, Y, argmax, offsets):  # pragma: no cover
    """Y, argmax (C, OH, OW, N) from X (C, H, W, N); offsets outside X count as -inf.

    Same rule as the NumPy kernel: start from -inf and offset 0, take an offset when it is
    strictly greater (ties keep the first), and let NaN through to Y without taking it.
    ``offsets`` is ``arange(KH * KW)`` in argmax's dtype. Offsets only grow, so the argmax
    update is a maximum, not a branch: that keeps the batch loop vectorized.
    """
    C, H, W, N = X.shape
    _, OH, OW, _ = Y.shape
    lowest = -np.inf
    for c in prange(C):
        for oh in range(OH):
            for ow in range(OW):
                y = Y[c, oh, ow]
                a = argmax[c, oh, ow]
                for n in range(N):
                    y[n] = lowest
                    a[n] = 0
                for i in range(KH):
                    h = oh * SH + i - PH
                    if h < 0 or h >= H:
                        continue
                    for j in range(KW):
                        w = ow * SW + j - PW
                        if w < 0 or w >= W:
                            continue
                        x = X[c, h, w]
                        k = offsets[i * KW + j]
                        for n in range(N):
                            v = x[n]
                            old = y[n]
                            greater = v > old
                            y[n] = v if (greater or v != v) else old
                            a[n] = max(a[n], k * greater)


def _max_pool2d_backward_loop(
    dA, argmax, KH, KW, SH, SW, PH, PW, dX, rectified, A, zero
):  # pragma: no cover
    """Scatter dA (C, OH, OW, N) into dX (C, H, W, N) at the offsets ``argmax`` names.

    dX must hold zeros wherever no window writes; where windows overlap it accumulates.
    Offsets that land in the padding are dropped. With ``rectified``, A (dX's shape) is the
    pooling's input, a ReLU's output, and dX keeps only what lands where A > 0: the gradient
    through that ReLU in the same pass (A is not read otherwise).
    """
    C, H, W, N = dX.shape
    _, OH, OW, _ = dA.shape
    overlap = SH < KH or SW < KW
    for c in prange(C):
        for oh in range(OH):
            for ow in range(OW):
                g = dA[c, oh, ow]
                a = argmax[c, oh, ow]
                for i in range(KH):
                    h = oh * SH + i - PH
                    if h < 0 or h >= H:
                        continue
                    for j in range(KW):
                        w = ow * SW + j - PW
                        if w < 0 or w >= W:
                            continue
                        d = dX[c, h, w]
                        x = A[c, h, w]
                        k = i * KW + j
                        if rectified and overlap:
                            for n in range(N):
                                d[n] += g[n] if (a[n] == k and x[n] > 0) else zero
                        elif rectified:
                            for n in range(N):
                                d[n] = g[n] if (a[n] == k and x[n] > 0) else zero
                        elif overlap:
                            for n in range(N):
                                d[n] += g[n] if a[n] == k else zero
                        else:
                            for n in range(N):
                                d[n] = g[n] if a[n] == k else zero


def _relu_forward_loop(X, out, zero):  # pragma: no cover
    """out = max(X, 0) over flat arrays, as np.maximum: NaN stays NaN, -0.0 becomes 0."""
    for i in prange(X.shape[0]):
        x = X[i]
        out[i] = x if (x > 0 or x != x) else zero


def _relu_forward_inplace_loop(X, zero):  # pragma: no cover
    """X = max(X, 0) in place (a masked store, see ``_relu_backward_inplace_loop``)."""
    for i in prange(X.shape[0]):
        if X[i] <= 0:
            X[i] = zero


def _relu_backward_loop(A, dA, dX, zero):  # pragma: no cover
    """dX = dA where A > 0, else 0, over flat arrays; dX must not be dA (see below)."""
    for i in prange(A.shape[0]):
        dX[i] = dA[i] if A[i] > 0 else zero


def _relu_backward_inplace_loop(A, dA, zero):  # pragma: no cover
    """dA = 0 where not A > 0, over flat arrays, in place.

    A separate loop for the in-place case: with dX aliasing dA, LLVM's runtime alias check
    fails and ``_relu_backward_loop`` falls back to a scalar, branching loop (measured 10x
    slower: 13 ms instead of 1.2 ms for 4M floats). A masked store has no such dependency.
    """
    for i in prange(A.shape[0]):
        if not A[i] > 0:
            dA[i] = zero


def _add_bias_loop(Y, b, relu, zero):  # pragma: no cover
    """Y[p, c, :] += b[c] for Y (P, C, N), then with ``relu`` max(Y, 0) as ReLU gives it (NaN
    stays NaN), in one pass (NumPy's broadcast add alone was 2.5x slower)."""
    P, C, N = Y.shape
    for p in range(P):
        for c in range(C):
            y = Y[p, c]
            v = b[c]
            for n in range(N):
                x = y[n] + v
                y[n] = x if (not relu or x > 0 or x != x) else zero


def _col2im2d_loop(cols, SH, SW, DH, DW, out):  # pragma: no cover
    """out (C, H, W, N) = the sum, for each input pixel, of the columns that read it.

    The gather form of col2im: each out element is written once (NumPy's scatter form makes
    KH * KW read-modify-write passes over the whole array).
    """
    C, KH, KW, OH, OW, N = cols.shape
    _, H, W, _ = out.shape
    for c in range(C):
        for h in range(H):
            for w in range(W):
                acc = out[c, h, w]
                for n in range(N):
                    acc[n] = 0
                for i in range(KH):
                    top = h - i * DH
                    if top < 0 or top % SH != 0 or top // SH >= OH:
                        continue
                    oh = top // SH
                    for j in range(KW):
                        left = w - j * DW
                        if left < 0 or left % SW != 0 or left // SW >= OW:
                            continue
                        src = cols[c, i, j, oh, left // SW]
                        for n in range(N):
                            acc[n] += src[n]


def _transpose_loop(X2, out, m0, m1):  # pragma: no cover
    """out[m, n] = X2[n, m] for the columns m0 <= m < m1 of X2 (N, M); out is (M, N).

    In tiles: 32 rows of X2 by 1024 columns (one 4 kB page of each row), copied through a
    32 x 32 scratch block so that both arrays are read and written in contiguous runs.
    NumPy's strided copy of the same transpose ran at a quarter of this speed.
    """
    N = X2.shape[0]
    tile = np.empty((32, 32), dtype=X2.dtype)
    for mb in range(m0, m1, 1024):
        me = min(m1, mb + 1024)
        for nb in range(0, N, 32):
            tn = min(N, nb + 32) - nb
            for sb in range(mb, me, 32):
                ts = min(me, sb + 32) - sb
                for a in range(tn):
                    src = X2[nb + a, sb : sb + ts]
                    for b in range(ts):
                        tile[b, a] = src[b]
                for b in range(ts):
                    dst = out[sb + b, nb : nb + tn]
                    row = tile[b]
                    for a in range(tn):
                        dst[a] = row[a]


# Compiled serial (parallel=False) with the GIL released: large arrays are split into parts
# that run on the library's own threads (``kernels/threads.py``). Numba's parallel=True
# worker threads fought OpenBLAS's over the cores (a LeNet-5 step went from 15 ms to 64-72
# ms); ``prange`` is a plain range here.
_LOOPS = {
    "max_pool2d_forward": _max_pool2d_forward_loop,
    "max_pool2d_backward": _max_pool2d_backward_loop,
    "relu_forward": _relu_forward_loop,
    "relu_forward_inplace": _relu_forward_inplace_loop,
    "relu_backward": _relu_backward_loop,
    "relu_backward_inplace": _relu_backward_inplace_loop,
    "add_bias": _add_bias_loop,
    "col2im2d": _col2im2d_loop,
    "transpose": _transpose_loop,
}


@functools.cache
def _jit() -> SimpleNamespace:
    """The compiled loops; imports Numba on first call, compiles each on its first use."""
    global prange
    import numba

    prange = numba.prange
    return SimpleNamespace(**{name: jit_nogil(loop) for name, loop in _LOOPS.items()})


def jit_nogil(function, fastmath: bool | set[str] = False, error_model: str = "python"):
    """``function`` compiled by Numba on first call, GIL released, cached on disk.

    ``error_model="numpy"`` makes float division by zero give inf or NaN, as in NumPy,
    instead of raising; that also drops the zero check that keeps a loop with a division
    from being vectorized (Adam's update: 4.0 -> 0.9 ms for 1.2M float32 on one core).
    """
    import numba

    return numba.njit(cache=True, fastmath=fastmath, nogil=True, error_model=error_model)(
        function
    )


def usable() -> bool:
    """Whether callers should take the compiled path: ``ENABLED`` and Numba imports."""
    global ENABLED, HAVE_NUMBA
    if ENABLED:
        try:
            _jit()
        except ImportError:  # installed but broken: keep working on NumPy
            HAVE_NUMBA = ENABLED = False
    return ENABLED


# From this many elements on, a loop runs in parts on the library's threads; the parts have a
# fixed size (or channel count), so the split depends on the shape alone. Measured on VGG
# block's 32x32x32 activations at batch 128 (4M float32), serial -> 2 threads, interleaved:
# ReLU forward 2.7 -> 1.7 ms, its gradient 3.0 -> 1.8, max pool 1.7 -> 1.0, its gradient
# 3.6 -> 2.7.
PARALLEL_MIN_SIZE = 1 << 20
FLAT_PART = 1 << 18
POOL_CHANNELS_PER_PART = 4


def flat_parts(loop, flats: list[np.ndarray], *scalars) -> None:
    """``loop(*flats, *scalars)`` over equal-length flat arrays, in parts when they are large."""
    from scratchcnn.kernels.threads import run_parts

    n = flats[0].shape[0]
    if n < PARALLEL_MIN_SIZE:
        loop(*flats, *scalars)
        return
    parts = [(a, min(n, a + FLAT_PART)) for a in range(0, n, FLAT_PART)]
    run_parts(lambda p: loop(*(f[p[0] : p[1]] for f in flats), *scalars), parts, uses_blas=False)


def channel_parts(work, channels: int, size: int) -> None:
    """``work(first, end)`` over all channels, in parts of channels when the arrays are large."""
    from scratchcnn.kernels.threads import run_parts

    if size < PARALLEL_MIN_SIZE or channels <= POOL_CHANNELS_PER_PART:
        work(0, channels)
        return
    step = POOL_CHANNELS_PER_PART
    parts = [(c, min(channels, c + step)) for c in range(0, channels, step)]
    run_parts(lambda p: work(*p), parts, uses_blas=False)


# -- entry points --------------------------------------------------------------------------------
def max_pool2d_forward(
    X: np.ndarray, kernel: Ints, stride: Ints, padding: Ints, out: Ints, index_type: type
) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling of X (C, H, W, N) -> (Y, argmax) (C, *out, N); as ``max_pool_forward``.

    Windows that hang past the input (padding, ceil mode) are clipped in the loop: no copy.
    """
    X = np.ascontiguousarray(X)
    shape = (X.shape[0], *out, X.shape[-1])
    Y = np.empty(shape, dtype=X.dtype)
    argmax = np.empty(shape, dtype=index_type)
    offsets = np.arange(kernel[0] * kernel[1], dtype=index_type)
    loop = _jit().max_pool2d_forward

    def work(c0: int, c1: int) -> None:
        loop(X[c0:c1], *kernel, *stride, *padding, Y[c0:c1], argmax[c0:c1], offsets)

    channel_parts(work, X.shape[0], X.size)
    return Y, argmax


def max_pool2d_backward(
    dA: np.ndarray,
    argmax: np.ndarray,
    input_shape: Ints,
    kernel: Ints,
    stride: Ints,
    padding: Ints,
    exact: bool,
    rectified_input: np.ndarray | None = None,
) -> np.ndarray:
    """Gradient of max pooling: dA (C, OH, OW, N) -> dX (C, H, W, N).

    ``exact``: the windows tile the input, so every dX element is written once and needs no
    zero fill. ``rectified_input``: the pooling's input (C, H, W, N), a ReLU's output; dX
    then also takes that ReLU's gradient (0 where not input > 0) in the same pass.
    """
    dA = np.ascontiguousarray(dA)
    argmax = np.ascontiguousarray(argmax)
    dX = (np.empty if exact else np.zeros)(input_shape, dtype=dA.dtype)
    loop, zero = _jit().max_pool2d_backward, dX.dtype.type(0)
    rectified = rectified_input is not None
    A = np.ascontiguousarray(rectified_input, dtype=dX.dtype) if rectified else dX

    def work(c0: int, c1: int) -> None:
        loop(
            dA[c0:c1], argmax[c0:c1], *kernel, *stride, *padding, dX[c0:c1], rectified,
            A[c0:c1], zero,
        )  # fmt: skip

    channel_parts(work, dX.shape[0], dX.size)
    return dX


def _flat_order(*arrays: np.ndarray) -> tuple[int, ...] | None:
    """The axis order in which all arrays are C-contiguous with equal strides, or None."""
    first = arrays[0]
    if any(a.shape != first.shape or a.strides != first.strides for a in arrays[1:]):
        return None
    order = tuple(int(i) for i in np.argsort([-s for s in first.strides], kind="stable"))
    if not first.transpose(order).flags.c_contiguous:
        return None
    return order


def relu_backward(A: np.ndarray, dA: np.ndarray, in_place: bool = False) -> np.ndarray | None:
    """dA where A > 0, else 0, in A's memory order, in one pass; None if the layouts differ.

    Both arrays must have A's dtype and the same strides, contiguous in some axis order (as
    batch-last views are); callers fall back to NumPy on None. ``in_place`` writes the
    result over dA (when dA is writeable) instead of a new array.
    """
    if A.dtype != dA.dtype or A.size == 0:
        return None
    order = _flat_order(A, dA)
    if order is None:
        return None
    dX = dA if in_place and dA.flags.writeable else np.empty_like(A)  # empty_like keeps strides
    if dX.strides != A.strides:
        return None
    flat = [a.transpose(order).reshape(-1) for a in (A, dA, dX)]
    if dX is dA:
        flat_parts(_jit().relu_backward_inplace, flat[:2], A.dtype.type(0))
    else:
        flat_parts(_jit().relu_backward, flat, A.dtype.type(0))
    return dX


def relu_forward(X: np.ndarray, in_place: bool = False) -> np.ndarray | None:
    """max(X, 0) as ``np.maximum`` gives it, in X's memory order; None if X is not contiguous
    in some axis order or not float32/float64 (callers then use NumPy).

    ``in_place`` writes over X (when X is writeable) instead of a new array.
    """
    if X.dtype not in (np.float32, np.float64) or X.size == 0:
        return None
    order = _flat_order(X)
    if order is None:
        return None
    zero = X.dtype.type(0)
    if in_place and X.flags.writeable:
        flat_parts(_jit().relu_forward_inplace, [X.transpose(order).reshape(-1)], zero)
        return X
    out = np.empty_like(X)  # keeps X's strides
    if out.strides != X.strides:
        return None
    flats = [a.transpose(order).reshape(-1) for a in (X, out)]
    flat_parts(_jit().relu_forward, flats, zero)
    return out


def add_bias(Y: np.ndarray, b: np.ndarray, relu: bool = False) -> None:
    """Y[p, c, :] += b[c] in place, for a C-contiguous Y (P, C, N) and b (C,) of its dtype;
    with ``relu``, then max(Y, 0) in the same pass.

    From ``PARALLEL_MIN_SIZE`` numbers on, parts of positions run on the library's threads.
    """
    from scratchcnn.kernels.threads import run_parts

    P, loop, zero = Y.shape[0], _jit().add_bias, Y.dtype.type(0)
    if Y.size < PARALLEL_MIN_SIZE or P < 2:
        loop(Y, b, relu, zero)
        return
    step = max(1, -(-FLAT_PART // (Y.shape[1] * Y.shape[2])))
    parts = [(p, min(P, p + step)) for p in range(0, P, step)]
    run_parts(lambda part: loop(Y[part[0] : part[1]], b, relu, zero), parts, uses_blas=False)


def col2im2d(cols: np.ndarray, padded_shape: Ints, stride: Ints, dilation: Ints) -> np.ndarray:
    """``im2col.col2im`` for 2-D: cols (C, KH, KW, OH, OW, N) -> (C, H, W, N), one pass."""
    out = np.empty(padded_shape, dtype=cols.dtype)
    _jit().col2im2d(np.ascontiguousarray(cols), *stride, *dilation, out)
    return out


# Columns per part of a threaded transpose: a fixed size, so the split depends on the shape.
TRANSPOSE_PART_COLUMNS = 4096


def transpose(X2: np.ndarray) -> np.ndarray:
    """A new C-contiguous (M, N) array holding X2.T, for a C-contiguous X2 (N, M).

    Parts of ``TRANSPOSE_PART_COLUMNS`` columns run on the library's threads (a transpose
    only moves numbers, so the result is the same whatever the thread count).
    """
    from scratchcnn.kernels.threads import run_parts

    N, M = X2.shape
    out = np.empty((M, N), dtype=X2.dtype)
    loop = _jit().transpose
    step = TRANSPOSE_PART_COLUMNS
    parts = [(m, min(M, m + step)) for m in range(0, M, step)]
    run_parts(lambda part: loop(X2, out, part[0], part[1]), parts, uses_blas=False)
    return out
