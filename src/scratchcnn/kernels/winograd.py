"""Winograd convolution F(m x m, 3 x 3): 3x3, stride-1 convolutions with fewer multiplications.

A direct 3x3 convolution spends 9 multiply-adds per output pixel, input channel and output
channel. Winograd's minimal filtering computes an m x m tile of outputs from an
(m + 2) x (m + 2) input window as ``Y = A^T [(G W G^T) * (B^T d B)] A``: the kernel and the
window are transformed, multiplied point by point, and transformed back. Summed over input
channels, the pointwise products become ``alpha² = (m + 2)²`` matrix products
``M[p] = U[p] @ V[p]`` of (C_out x C_in) by (C_in x tiles). For m = 4 that is 36 products
for 16 outputs instead of 144: 4x fewer multiplications (m = 2: 2.25x).

How it is made fast here (the course notebooks end on this question):

- **Fused, in cache.** The work is cut into blocks of a few tiles and a few dozen samples;
  each block is transformed, multiplied and transformed back while it sits in the L2 cache, so
  nothing as large as an im2col (9x the input) is ever written to memory. Training keeps
  only the padded input for the backward pass.
- **Small products near the machine's peak.** The blocks' matrix products are stacked into
  one ``np.matmul`` call per block; OpenBLAS runs such cache-resident (32-64)² products at
  80-95% of a core's float32 peak, where the long, thin im2col products ran at 40-70%.
- **Both cores.** Blocks of different samples write disjoint memory, so they are handed to
  two threads (Numba loops release the GIL, so does OpenBLAS); the split and the order in
  which partial weight gradients are summed do not depend on the thread count, so neither
  does the result.
- **The exact gradient.** The backward pass runs the adjoint of every transform (dM from dY,
  dV = U^T dM, dX from dV; dU = sum dM V^T, dW = G^T dU G), so it is the gradient of the
  forward computation, not an approximation of it.

Accuracy: the transforms scale values by up to 8 (m = 4), so float32 results carry a few times
more rounding error than the im2col product (tested bound: ``FLOAT32_TOLERANCE`` times the sum
of |w x| per output); float64 results match PyTorch to ~1e-13.

Arrays are batch-last: Xp (C_in, H, W, N), already padded (any padding mode), gives
Y (C_out, H - 2, W - 2, N); W is (C_out, C_in, 3, 3). Zero padding can also be left to the
transforms (``pads``): the windows then start before the array, nothing padded is ever
written, and the input gradient comes back at the input's own shape.
"""

from __future__ import annotations

import os
from functools import cache
from typing import NamedTuple

import numpy as np

from scratchcnn.kernels.threads import run_parts, single_thread_blas_calls, thread_count
from scratchcnn.kernels.winograd_transforms import transforms

# Lavin & Gray's F(2x2, 3x3) and F(4x4, 3x3) (interpolation points 0, +-1, +-2, infinity).
_MATRICES = {
    2: (
        [[1, 1, 1, 0], [0, 1, -1, -1]],  # AT (m x alpha)
        [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],  # G (alpha x 3)
        [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],  # BT (alpha x alpha)
    ),
    4: (
        [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
        [
            [1 / 4, 0, 0],
            [-1 / 6, -1 / 6, -1 / 6],
            [-1 / 6, 1 / 6, -1 / 6],
            [1 / 24, 1 / 12, 1 / 6],
            [1 / 24, -1 / 12, 1 / 6],
            [0, 0, 1],
        ],
        [
            [4, 0, -5, 0, 1, 0],
            [0, -4, -4, 1, 1, 0],
            [0, 4, -4, -1, 1, 0],
            [0, -2, -1, 2, 1, 0],
            [0, 2, -1, -2, 1, 0],
            [0, 4, 0, -5, 0, 1],
        ],
    ),
}
TILE_SIZES = tuple(_MATRICES)
# The switch ``kernels/conv.py`` reads: on unless SCRATCHCNN_WINOGRAD=0 (or
# ``winograd.ENABLED = False``). Its Numba loops compile in about 6 s per dtype on the first
# run on a machine, then load from Numba's disk cache in well under a second.
ENABLED: bool = os.environ.get("SCRATCHCNN_WINOGRAD", "1").strip() not in ("0", "")
DEFAULT_TILE = 4
# Max |error| / sum over (c, i, j) of |W x| per output, float32, m = 4 (measured ~1e-6).
FLOAT32_TOLERANCE = 2e-5

# Columns (tiles x samples) per block and the samples per block: enough columns for the
# small products to run near peak, few enough that a block's V and M stay in L2.
BLOCK_COLUMNS = 256
BLOCK_SAMPLES = 128
BLOCK_BYTES = 1 << 20
SPLIT_SAMPLES = 64  # sample ranges of a batch whose tile rows do not band evenly


class Matrices(NamedTuple):
    """The transform matrices of F(m x m, 3 x 3) in one dtype."""

    m: int
    AT: np.ndarray  # (m, alpha)
    G: np.ndarray  # (alpha, 3)
    BT: np.ndarray  # (alpha, alpha)


@cache
def matrices(m: int, dtype: type = np.float64) -> Matrices:
    """AT, G and BT of F(m x m, 3 x 3) for m in ``TILE_SIZES``, as ``dtype`` arrays."""
    if m not in _MATRICES:
        raise ValueError(f"winograd: tile size m must be one of {TILE_SIZES}, but got {m}")
    AT, G, BT = (np.array(x, dtype=np.float64).astype(dtype) for x in _MATRICES[m])
    for x in (AT, G, BT):
        x.setflags(write=False)
    return Matrices(m, AT, G, BT)


def applies(W: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> bool:
    """Whether a convolution is one Winograd F(m, 3x3) computes: 2-D 3x3, stride 1, no groups."""
    return (
        W.ndim == 4
        and W.shape[2:] == (3, 3)
        and tuple(stride) == (1, 1)
        and tuple(dilation) == (1, 1)
        and groups == 1
        and W.dtype in (np.float32, np.float64)
    )


def kernel_transform(W: np.ndarray, mats: Matrices) -> np.ndarray:
    """U (alpha², C_out, C_in) = G W G^T for W (C_out, C_in, 3, 3)."""
    alpha = mats.G.shape[0]
    U = np.einsum("ai,ocij,bj->aboc", mats.G, W, mats.G, optimize=True)
    return np.ascontiguousarray(U.reshape(alpha * alpha, W.shape[0], W.shape[1]))


def kernel_transform_adjoint(dU: np.ndarray, mats: Matrices) -> np.ndarray:
    """dW (C_out, C_in, 3, 3) = G^T dU G, the adjoint of :func:`kernel_transform`."""
    alpha = mats.G.shape[0]
    dU4 = dU.reshape(alpha, alpha, *dU.shape[1:])
    return np.einsum("ai,aboc,bj->ocij", mats.G, dU4, mats.G, optimize=True)


class Block(NamedTuple):
    """Tiles ``tw0 .. tw0 + ntiles - 1`` of tile row ``th``, samples ``n0 .. n0 + nn - 1``."""

    th: int
    tw0: int
    ntiles: int
    n0: int
    nn: int


# Tile rows are cut into at most this many bands, so that two threads have work even when
# the whole batch is one sample block. A fixed number: the plan never depends on the threads.
MAX_BANDS = 4


class Group(NamedTuple):
    """Blocks one thread runs in order; groups of one ``phase`` may run at the same time."""

    phase: int
    blocks: list[Block]


def plan_blocks(
    out_size: tuple[int, int], N: int, channels: int, m: int, itemsize: int
) -> list[Group]:
    """Blocks covering every output tile and sample, grouped by sample range and band of rows.

    Output tiles never overlap, but input windows of neighbouring tile rows share 2 rows, so
    in the backward pass two bands next to each other must not add into dX at the same time:
    even bands are phase 0, odd bands phase 1 (bands hold at least one tile row, so bands of
    one phase are 4+ rows apart). Groups of different sample ranges never touch the same
    numbers. When the tile rows do not cut into ``MAX_BANDS`` equal bands (seed_cnn's 6),
    a batch of 2 x ``SPLIT_SAMPLES`` or more is cut into ranges of ``SPLIT_SAMPLES`` and
    fewer bands instead, so that every phase holds groups of one size and two threads share
    it evenly (bands of 2, 1, 1 and 2 rows had kept one thread waiting a third of the time:
    the backward pass of seed_cnn's 32->64 layer went 34.0 -> 27.7 ms). The plan depends
    only on the shapes, never on the thread count, and so neither does the order of any sum.
    """
    alpha = m + 2
    n_rows, n_cols = -(-out_size[0] // m), -(-out_size[1] // m)
    split = n_rows % MAX_BANDS != 0 and N >= 2 * SPLIT_SAMPLES
    nn = SPLIT_SAMPLES if split else min(N, BLOCK_SAMPLES)
    per_column = alpha * alpha * channels * itemsize  # bytes of V (or M) per column
    columns = max(BLOCK_SAMPLES, min(BLOCK_COLUMNS, BLOCK_BYTES // max(1, per_column)))
    ntiles = max(1, min(n_cols, columns // nn))
    n_ranges = -(-N // nn)
    n_bands = min(n_rows, max(2, MAX_BANDS // n_ranges) if split else MAX_BANDS)
    edges = [round(i * n_rows / n_bands) for i in range(n_bands + 1)]
    groups = []
    for n0 in range(0, N, nn):
        count = min(nn, N - n0)
        for band in range(n_bands):
            blocks = [
                Block(th, tw0, min(ntiles, n_cols - tw0), n0, count)
                for th in range(edges[band], edges[band + 1])
                for tw0 in range(0, n_cols, ntiles)
            ]
            groups.append(Group(band % 2, blocks))
    return groups


# -- threads ----------------------------------------------------------------------------------
def _run_groups(work, groups: list[Group], threads: int | None = None) -> list:
    """``work(blocks)`` for every group, phase by phase, on up to ``threads`` threads.

    Returns the results in the groups' order. While the threads run, BLAS is held to one
    thread each (the block products are small; OpenBLAS's own threads would only wait).
    """
    threads = thread_count() if threads is None else threads
    results: list = [None] * len(groups)
    if threads <= 1 or len(groups) <= 1:
        for i, group in enumerate(groups):
            results[i] = work(group.blocks)
        return results
    with single_thread_blas_calls():
        for phase in sorted({group.phase for group in groups}):
            index = [i for i, group in enumerate(groups) if group.phase == phase]
            done = run_parts(
                lambda i: work(groups[i].blocks), index, uses_blas=False, threads=threads
            )
            for i, result in zip(index, done, strict=True):
                results[i] = result
    return results


# -- forward and backward -------------------------------------------------------------------
def _scratch(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    return np.empty(shape, dtype=dtype)


def winograd_forward(
    Xp: np.ndarray,
    W: np.ndarray,
    b: np.ndarray | None,
    out: np.ndarray | None = None,
    m: int = DEFAULT_TILE,
    use_compiled: bool | None = None,
    pads: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0)),
    relu: bool = False,
) -> np.ndarray:
    """Y (C_out, OH, OW, N) = 3x3 cross-correlation of Xp (C_in, H, W, N) with W, + b.

    ``pads`` ((top, bottom), (left, right)) of zeros around Xp: OH = H + top + bottom - 2.
    ``relu``: max(Y, 0) as a following ReLU gives it, applied as the tiles are written.
    """
    C_in, H, Wd, N = Xp.shape
    C_out = W.shape[0]
    dtype = Xp.dtype
    mats = matrices(m, dtype.type)
    alpha = m + 2
    out_size = (H + sum(pads[0]) - 2, Wd + sum(pads[1]) - 2)
    origin = (pads[0][0], pads[1][0])
    Y = np.empty((C_out, *out_size, N), dtype=dtype) if out is None else out
    if Y.size == 0:
        return Y
    Xp = np.ascontiguousarray(Xp)
    U = kernel_transform(W.astype(dtype, copy=False), mats)
    bias = np.zeros(C_out, dtype=dtype) if b is None else np.ascontiguousarray(b, dtype=dtype)
    ops = transforms(m, use_compiled)
    groups = plan_blocks(out_size, N, max(C_in, C_out), m, dtype.itemsize)

    def work(group: list[Block]) -> None:
        if not group:
            return
        widest = max(blk.ntiles * blk.nn for blk in group)
        V_full = _scratch((alpha * alpha, C_in, widest), dtype)
        M_full = _scratch((alpha * alpha, C_out, widest), dtype)
        for blk in group:
            cols = blk.ntiles * blk.nn
            V, M = V_full[:, :, :cols], M_full[:, :, :cols]
            ops.input_transform(Xp, mats.BT, m, blk.th, blk.tw0, blk.ntiles, blk.n0, V, pads=origin)
            np.matmul(U, V, out=M)
            ops.output_transform(
                M, mats.AT, bias, m, blk.th, blk.tw0, blk.ntiles, blk.n0, Y, relu=relu
            )

    _run_groups(work, [group._replace(phase=0) for group in groups])  # outputs are disjoint
    return Y


def winograd_backward(
    dY: np.ndarray,
    Xp: np.ndarray,
    W: np.ndarray,
    compute_dx: bool = True,
    m: int = DEFAULT_TILE,
    use_compiled: bool | None = None,
    pads: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0)),
    out: np.ndarray | None = None,
) -> tuple[np.ndarray | None, np.ndarray]:
    """(dXp, dW) of sum(Y * dY) for Y = :func:`winograd_forward` (Xp, W, pads=pads).

    dY is (C_out, OH, OW, N), Xp (C_in, H, W, N) the input of the forward pass; dXp has
    Xp's shape (with an already padded Xp the caller takes the padding's adjoint), None
    when not asked for. ``out`` (Xp's shape and dtype, aliasing neither dY nor Xp), when
    given, is overwritten with dXp instead of a new array.
    """
    C_in, H, Wd, N = Xp.shape
    C_out = W.shape[0]
    dtype = Xp.dtype
    mats = matrices(m, dtype.type)
    alpha = m + 2
    out_size = (H + sum(pads[0]) - 2, Wd + sum(pads[1]) - 2)
    origin = (pads[0][0], pads[1][0])
    dXp = None
    if compute_dx:
        fits = out is not None and out.shape == Xp.shape and out.dtype == dtype
        if fits and not (np.may_share_memory(out, dY) or np.may_share_memory(out, Xp)):
            dXp = out
            dXp.fill(0)
        else:
            dXp = np.zeros(Xp.shape, dtype=dtype)
    if dY.size == 0:
        return dXp, np.zeros(W.shape, dtype=dtype)
    dY = np.ascontiguousarray(dY, dtype=dtype)
    Xp = np.ascontiguousarray(Xp)
    U = kernel_transform(W.astype(dtype, copy=False), mats)
    UT = np.ascontiguousarray(U.transpose(0, 2, 1)) if compute_dx else None
    ops = transforms(m, use_compiled)
    groups = plan_blocks(out_size, N, max(C_in, C_out), m, dtype.itemsize)

    def work(group: list[Block]) -> np.ndarray:
        if not group:
            return np.zeros((alpha * alpha, C_out, C_in), dtype=dtype)
        widest = max(blk.ntiles * blk.nn for blk in group)
        V_full = _scratch((alpha * alpha, C_in, widest), dtype)
        dM_full = _scratch((alpha * alpha, C_out, widest), dtype)
        dV_full = _scratch((alpha * alpha, C_in, widest), dtype) if compute_dx else None
        dU = np.zeros((alpha * alpha, C_out, C_in), dtype=dtype)
        dU_block = np.empty_like(dU)
        for blk in group:
            cols = blk.ntiles * blk.nn
            V, dM = V_full[:, :, :cols], dM_full[:, :, :cols]
            where = (m, blk.th, blk.tw0, blk.ntiles, blk.n0)
            ops.input_transform(Xp, mats.BT, *where, V, pads=origin)
            ops.output_transform_adjoint(dY, mats.AT, *where, dM)
            np.matmul(dM, V.transpose(0, 2, 1), out=dU_block)
            dU += dU_block
            if compute_dx:
                dV = dV_full[:, :, :cols]
                np.matmul(UT, dM, out=dV)
                ops.input_transform_adjoint(dV, mats.BT, *where, dXp, pads=origin)
        return dU

    partials = _run_groups(work, groups)
    dU = partials[0]
    for partial in partials[1:]:  # a fixed order, whatever the thread count
        dU += partial
    return dXp, kernel_transform_adjoint(dU, mats).astype(dtype, copy=False)
