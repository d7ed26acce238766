"""Direct convolution for layers with few input values per output: whole rows, no im2col.

Batch-last, an image row ``X[c, h]`` (W, N) is one contiguous run of ``W*N`` numbers, and the
input that output pixel ``(h, w)`` reads at kernel offset ``(i, j)`` is pixel
``(h*SH + i*DH, w*SW + j*DW)``. For stride SW = 1 a whole output row is therefore a sum of
input rows shifted by ``j*DW*N`` numbers; for SW > 1, each output column's N samples are a
run read from ``(w*SW + j*DW)*N``. One kernel (``rows``) computes, with kernel rows that fall
outside ``inp`` skipped:

    out[o, h, w, n] = bias[o] + sum_{c, i, j} Wk[o, c, i, j] * inp[c, h*SH + i*DH - shift,
                                                                  w*SW + j*DW, n]

- forward: ``inp`` = padded X, ``Wk`` = W, shift 0;
- input gradient (stride 1 only): ``inp`` = dY with ``(KW-1)*DW`` zero columns on each side,
  ``Wk`` = W with its channel axes swapped and its offsets reversed, shift ``(KH-1)*DH``; the
  output is the padded input's gradient. Strided layers take theirs from ``kernels/conv.py``
  (W^T dY, then col2im), which needs no columns of the input.

The weight gradient is a sum of long dot products over the same runs:

    dW[o, c, i, j] = sum_{h, w, n} dY[o, h, w, n] * Xp[c, h*SH + i*DH, w*SW + j*DW, n]

For LeNet-5's layers im2col makes columns 25-150 times the input and BLAS runs its product
memory-bound on them; here the input rows stay in cache (``benchmarks/README.md`` has the
measurements). Each kernel is a NumPy function (the reference) and a generated Numba loop
(``direct_codegen.py`` explains them); the compiled ones run on ``threads.thread_count()``
threads, split by output rows or by (output channels, kernel row), so every number is
computed by one thread in one order whatever the thread count.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from typing import NamedTuple

import numpy as np

from scratchcnn.kernels import compiled, direct_codegen
from scratchcnn.kernels.threads import run_parts
from scratchcnn.kernels.workspace import buffer as workspace_buffer

ENABLED: bool = os.environ.get("SCRATCHCNN_DIRECT", "1") != "0"

# Which layers take it: thin im2col matrices, few input values per output (C_in * KH * KW),
# where im2col's columns are many times the input and BLAS runs memory-bound on them.
# Measured at batch 128, 2 threads, forward + backward against im2col + OpenBLAS:
# 1->6 5x5 3.2 -> 1.5 ms, 6->16 5x5 (with dX) 2.7 -> 1.8, 1->32 3x3 6.5 -> 4.5,
# 3->32 3x3 13.4 -> 9.6, 1->64 3x3 16.7 -> 6.6, 16->32 5x5 (400 inputs) 7.8 -> 6.3.
# 1x1 kernels stay with BLAS (their columns are the input itself, no copy).
MAX_INPUTS_PER_OUTPUT = 160
MAX_OUT_CHANNELS = 64
# Strided layers are served by the kernels but not routed here by default: interleaved A/B,
# 2 threads, direct against im2col, forward at batch 1000 / forward + backward at batch 128:
# MNIST-1D's 1->25 k5 s2 0.28 / 0.40 ms against 0.39 / 0.32, its 25->25 k3 s2 1.51 / 0.86
# against 1.17 / 0.72, a 16->32 3x3 s2 8.9 / 21.5 against 6.5 / 15.2. Each output row then
# splits into N-sample runs, re-read and re-written once per input channel, where im2col's
# product keeps the sums in registers.
MAX_STRIDE = 1
TASKS = 8  # work items per call for the threads (row ranges x channel runs)

Pair = tuple[int, int]


class DirectSaved(NamedTuple):
    """What a direct forward keeps for backward: the padded input (C, *padded S, N)."""

    Xp: np.ndarray


def applies(W: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> bool:
    """Whether the direct convolution serves this 1-D or 2-D layer (with Numba's loops).

    Groups 1, strides up to ``MAX_STRIDE``, not 1x1, kernel width at most
    ``direct_codegen.MAX_WIDTH``, a thin im2col matrix (see ``MAX_INPUTS_PER_OUTPUT``,
    ``MAX_OUT_CHANNELS``), float32 or float64.
    """
    return (
        ENABLED
        and W.ndim in (3, 4)
        and groups == 1
        and max(stride) <= MAX_STRIDE
        and W.shape[-1] <= direct_codegen.MAX_WIDTH
        and math.prod(W.shape[2:]) > 1
        and W.shape[0] <= MAX_OUT_CHANNELS
        and math.prod(W.shape[1:]) <= MAX_INPUTS_PER_OUTPUT
        and W.dtype in (np.float32, np.float64)
        and compiled.usable()
    )


# -- NumPy reference ------------------------------------------------------------------------
def _window(start: int, step: int, count: int) -> slice:
    return slice(start, start + step * (count - 1) + 1, step)


def rows_reference(
    inp: np.ndarray,
    Wk: np.ndarray,
    bias: np.ndarray,
    out: np.ndarray,
    stride: Pair,
    dilation: Pair,
    shift: int,
    relu: bool = False,
) -> None:
    """out (C_out, OH, OW, N) = the sum above, for inp (C, H, W, N), Wk (C_out, C, KH, KW);
    with ``relu``, max(out, 0) after it, as ``np.maximum`` gives it."""
    (SH, SW), (DH, DW) = stride, dilation
    _, OH, OW, _ = out.shape
    out[...] = bias[:, None, None, None]
    for h in range(OH):
        for i in range(Wk.shape[2]):
            r = h * SH + i * DH - shift
            if not 0 <= r < inp.shape[1]:
                continue
            for j in range(Wk.shape[3]):
                pixels = inp[:, r, _window(j * DW, SW, OW)]  # (C, OW, N)
                out[:, h] += np.tensordot(Wk[:, :, i, j], pixels, axes=(1, 0))
    if relu:
        np.maximum(out, 0, out=out)


def wgrad_reference(
    inp: np.ndarray, dY: np.ndarray, dW: np.ndarray, stride: Pair, dilation: Pair
) -> None:
    """dW (C_out, C, KH, KW) = the dot products above, for inp (C, H, W, N), dY (C_out, *OS, N)."""
    (SH, SW), (DH, DW) = stride, dilation
    _, OH, OW, _ = dY.shape
    for i in range(dW.shape[2]):
        for j in range(dW.shape[3]):
            pixels = inp[:, _window(i * DH, SH, OH), _window(j * DW, SW, OW)]  # (C, OH, OW, N)
            dW[:, :, i, j] = np.tensordot(dY, pixels, axes=([1, 2, 3], [1, 2, 3]))


# -- compiled loops -------------------------------------------------------------------------
@functools.cache
def _loop(name: str):
    """The generated loop ``name``, compiled by Numba on first call (GIL released, cached)."""
    from scratchcnn.kernels import direct_generated

    fastmath = {"contract", "reassoc"} if name.startswith("wgrad") else {"contract"}
    return compiled.jit_nogil(getattr(direct_generated, name), fastmath=fastmath)


def _channel_blocks(channels: int) -> list[tuple[int, int, int]]:
    """(first, end, block) runs covering ``channels``: full blocks, then the remainder."""
    block = direct_codegen.MAX_BLOCK
    full = channels - channels % block
    runs = [(0, full, block)] if full else []
    if full < channels:
        runs.append((full, channels, channels - full))
    return runs


def _row_ranges(rows: int, parts: int) -> list[Pair]:
    """Up to ``parts`` contiguous ranges covering ``rows``."""
    parts = max(1, min(rows, parts))
    edges = [rows * k // parts for k in range(parts + 1)]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def _row_tasks(rows: int, channels: int) -> list[tuple[Pair, tuple[int, int, int]]]:
    """About ``TASKS`` work items (row range, channel run) for the threads, by shape alone.

    Runs of at most ``2 * MAX_BLOCK`` channels, so that a 1-D layer (one row) still splits;
    ``_row_tasks(1, channels)`` gives just the runs.
    """
    span = 2 * direct_codegen.MAX_BLOCK
    runs = [
        (first, min(end, first + span), block)
        for first0, end, block in _channel_blocks(channels)
        for first in range(first0, end, span)
    ]
    return [(r, run) for r in _row_ranges(rows, -(-TASKS // len(runs))) for run in runs]


def _runs(N: int, OW: int, SW: int) -> tuple[int, int]:
    """(seg, SSTEP): the output row's contiguous segments and where each one's input starts."""
    return (OW * N, 0) if SW == 1 else (N, SW * N)


def rows_compiled(
    inp: np.ndarray,
    Wk: np.ndarray,
    bias: np.ndarray,
    out: np.ndarray,
    stride: Pair,
    dilation: Pair,
    shift: int,
    relu: bool = False,
) -> None:
    """``rows_reference`` with the generated loops, output rows spread over the threads."""
    if out.size == 0:
        return
    C, H, Wd, N = inp.shape
    C_out, OH, OW, _ = out.shape
    (SH, SW), (DH, DW) = stride, dilation
    seg, sstep = _runs(N, OW, SW)
    flat_in, flat_out = inp.reshape(C, H, Wd * N), out.reshape(C_out, OH, OW * N)
    width = Wk.shape[3]

    def work(task: tuple[Pair, tuple[int, int, int]]) -> None:
        (h0, h1), (first, end, block) = task
        loop = _loop(direct_codegen.rows_name(width, block))
        loop(
            flat_in, Wk, bias, flat_out, SH, DH, DW * N, shift, seg, sstep, h0, h1, first, end, relu
        )

    run_parts(work, _row_tasks(OH, C_out), uses_blas=False)


def wgrad_compiled(
    inp: np.ndarray, dY: np.ndarray, dW: np.ndarray, stride: Pair, dilation: Pair
) -> None:
    """``wgrad_reference`` with the generated loops, (channel run, kernel row) per thread."""
    if dY.size == 0:  # an empty batch: no terms
        dW[...] = 0
        return
    C, H, Wd, N = inp.shape
    C_out, OH, OW, _ = dY.shape
    (SH, SW), (DH, DW) = stride, dilation
    seg, sstep = _runs(N, OW, SW)
    flat_in, flat_dY = inp.reshape(C, H, Wd * N), dY.reshape(C_out, OH, OW * N)
    width = dW.shape[3]
    zero = dW.dtype.type(0)
    tasks = [(run, i) for _, run in _row_tasks(1, C_out) for i in range(dW.shape[2])]

    def work(task: tuple[tuple[int, int, int], int]) -> None:
        (first, end, block), i = task
        loop = _loop(direct_codegen.wgrad_name(width, block))
        loop(flat_in, flat_dY, dW, zero, SH, DH, DW * N, seg, sstep, first, end, i, i + 1)

    run_parts(work, tasks, uses_blas=False)


# -- entry points ---------------------------------------------------------------------------
def _as_2d(A: np.ndarray) -> np.ndarray:
    """A 1-D layer's batch-last array (C, L, N) as 2-D (C, 1, L, N)."""
    return A[:, None] if A.ndim == 3 else A


def _weight_2d(W: np.ndarray) -> np.ndarray:
    """A 1-D layer's weight (C_out, C, K) as 2-D (C_out, C, 1, K)."""
    return W[:, :, None] if W.ndim == 3 else W


def _pair(values: tuple[int, ...]) -> Pair:
    return (1, values[0]) if len(values) == 1 else (values[0], values[1])


def direct_forward(
    Xp: np.ndarray,
    W: np.ndarray,
    b: np.ndarray | None,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out: np.ndarray,
    use_compiled: bool = True,
    relu: bool = False,
) -> np.ndarray:
    """``out`` (C_out, *OS, N) = conv(Xp, W) + b for a padded Xp (C, *S, N); returns ``out``.

    ``relu``: then max(out, 0) as a following ReLU gives it, chunk by chunk in cache.
    """
    X4 = np.ascontiguousarray(_as_2d(Xp))
    W4 = np.ascontiguousarray(_weight_2d(W))
    bias = np.zeros(W.shape[0], dtype=W.dtype) if b is None else np.ascontiguousarray(b)
    rows = rows_compiled if use_compiled else rows_reference
    rows(X4, W4, bias, _as_2d(out), _pair(stride), _pair(dilation), 0, relu)
    return out


def _padded_columns(
    dY: np.ndarray, columns: int, workspace: dict[str, np.ndarray] | None
) -> np.ndarray:
    """dY (C_out, OH, OW, N) with ``columns`` zero columns on each side (reused buffer)."""
    C_out, OH, OW, N = dY.shape
    shape = (C_out, OH, OW + 2 * columns, N)
    # made as zeros; only the middle is ever written again, so the borders stay zero
    padded = workspace_buffer(workspace, "direct_dy", shape, dY.dtype, zeroed=True)
    if padded is None:
        padded = np.zeros(shape, dtype=dY.dtype)
    padded[:, :, columns : columns + OW] = dY
    return padded


def direct_backward(
    dY: np.ndarray,
    Xp: np.ndarray,
    W: np.ndarray,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    compute_dx: bool = True,
    compute_dw: bool = True,
    workspace: dict[str, np.ndarray] | None = None,
    use_compiled: bool = True,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(dXp, dW) for dY (C_out, *OS, N): dXp has Xp's (padded) shape; None where not asked.

    The input gradient comes from here for stride 1 only: ``compute_dx`` with a larger stride
    is an error (``kernels/conv.py`` computes that one).
    """
    X4 = np.ascontiguousarray(_as_2d(Xp))
    dY4 = np.ascontiguousarray(_as_2d(dY), dtype=W.dtype)
    W4 = np.ascontiguousarray(_weight_2d(W))
    strides, dilations = _pair(stride), _pair(dilation)
    dW = None
    if compute_dw:
        dW4 = np.empty_like(W4)
        wgrad = wgrad_compiled if use_compiled else wgrad_reference
        wgrad(X4, dY4, dW4, strides, dilations)
        dW = dW4.reshape(W.shape)
    if not compute_dx:
        return None, dW
    if strides != (1, 1):
        raise ValueError(f"direct_backward: the input gradient needs stride 1, got {stride}")
    C, KH, KW = W4.shape[1], W4.shape[2], W4.shape[3]
    dYw = _padded_columns(dY4, (KW - 1) * dilations[1], workspace)
    W_adjoint = np.ascontiguousarray(W4.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    dX4 = np.empty_like(X4)
    rows = rows_compiled if use_compiled else rows_reference
    zeros = np.zeros(C, dtype=W.dtype)
    rows(dYw, W_adjoint, zeros, dX4, (1, 1), dilations, (KH - 1) * dilations[0])
    return dX4.reshape(Xp.shape), dW
