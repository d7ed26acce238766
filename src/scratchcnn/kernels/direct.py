"""Direct convolution for stride-1 layers with few channels: whole rows, no im2col.

Batch-last, an image row ``X[c, h]`` (W, N) is one contiguous run of ``W*N`` numbers. For
stride 1 the input that output column ``w`` reads at kernel offset ``j`` is column
``w + j*DW``, which is the same run shifted by ``j*DW*N``. So with rows flattened
(``inp (C, H_in, W_in*N)``, ``out (C_out, H_out, W_out*N)``, ``DWN = DW*N``), one kernel does
the forward pass and the input gradient:

    out[o, h, u] = bias[o] + sum_{c, i, j} Wk[o, c, i, j] * inp[c, h + i*DH - shift, u + j*DWN]

with kernel rows outside ``inp`` skipped. Forward: ``inp`` = padded X, ``Wk`` = W, shift 0.
Input gradient: ``inp`` = dY with ``(KW-1)*DW`` zero columns on each side, ``Wk`` = W with
its channel axes swapped and its offsets reversed, shift ``(KH-1)*DH``; its output is the
padded input's gradient. The weight gradient is a sum of long dot products:

    dW[o, c, i, j] = sum_h dot(dY[o, h, :], Xp[c, h + i*DH, j*DWN : j*DWN + W_out*N])

For LeNet-5's layers im2col makes columns 25-150 times the input and BLAS runs its product
memory-bound on them; here the input rows stay in cache (``benchmarks/README.md`` has the
measurements). Each kernel is a NumPy function (the reference) and a generated Numba loop
(``direct_codegen.py``); the compiled ones run on ``threads.thread_count()`` threads, split
by output rows or by (output channels, kernel row), so every number is computed by one
thread in one order whatever the thread count.
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

ENABLED: bool = os.environ.get("SCRATCHCNN_DIRECT", "1") != "0"

# Which layers take it: thin im2col matrices, few input values per output (C_in * KH * KW),
# where im2col's columns are many times the input and BLAS runs memory-bound on them.
# Measured at batch 128, 2 threads, forward + backward against im2col + OpenBLAS:
# 1->6 5x5 3.2 -> 1.5 ms, 6->16 5x5 (with dX) 2.7 -> 1.8, 1->32 3x3 6.5 -> 4.5,
# 3->32 3x3 13.4 -> 9.6, 1->64 3x3 16.7 -> 6.6, 16->32 5x5 (400 inputs) 7.8 -> 6.3.
# 1x1 kernels stay with BLAS (their columns are the input itself, no copy).
MAX_INPUTS_PER_OUTPUT = 160
MAX_OUT_CHANNELS = 64
ROW_PARTS = 8  # output row ranges per call (work items for the threads)


class DirectSaved(NamedTuple):
    """What a direct forward keeps for backward: the padded input (C, *padded S, N)."""

    Xp: np.ndarray


def applies(W: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> bool:
    """Whether the direct convolution serves this 1-D or 2-D layer (with Numba's loops).

    Stride 1, groups 1, not 1x1, kernel width at most ``direct_codegen.MAX_WIDTH``, a thin im2col
    matrix (see ``MAX_INPUTS_PER_OUTPUT``, ``MAX_OUT_CHANNELS``), float32 or float64.
    """
    return (
        ENABLED
        and W.ndim in (3, 4)
        and groups == 1
        and all(s == 1 for s in stride)
        and W.shape[-1] <= direct_codegen.MAX_WIDTH
        and math.prod(W.shape[2:]) > 1
        and W.shape[0] <= MAX_OUT_CHANNELS
        and math.prod(W.shape[1:]) <= MAX_INPUTS_PER_OUTPUT
        and W.dtype in (np.float32, np.float64)
        and compiled.usable()
    )


# -- NumPy reference ------------------------------------------------------------------------
def rows_reference(
    inp: np.ndarray,
    Wk: np.ndarray,
    bias: np.ndarray,
    out: np.ndarray,
    DH: int,
    DWN: int,
    shift: int,
) -> None:
    """out (C_out, H_out, L) = the row sum above; inp (C, H_in, L_in), Wk (C_out, C, KH, KW)."""
    H_in = inp.shape[1]
    L = out.shape[2]
    out[...] = bias[:, None, None]
    for h in range(out.shape[1]):
        for i in range(Wk.shape[2]):
            r = h + i * DH - shift
            if not 0 <= r < H_in:
                continue
            for j in range(Wk.shape[3]):
                shifted = inp[:, r, j * DWN : j * DWN + L]  # (C, L)
                out[:, h] += Wk[:, :, i, j] @ shifted


def wgrad_reference(inp: np.ndarray, dY: np.ndarray, dW: np.ndarray, DH: int, DWN: int) -> None:
    """dW (C_out, C, KH, KW) = the dot products above; inp (C, H_in, L_in), dY (C_out, OH, L)."""
    _, OH, L = dY.shape
    for i in range(dW.shape[2]):
        for j in range(dW.shape[3]):
            shifted = inp[:, i * DH : i * DH + OH, j * DWN : j * DWN + L]  # (C, OH, L)
            dW[:, :, i, j] = np.tensordot(dY, shifted, axes=([1, 2], [1, 2]))


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


def _row_ranges(rows: int) -> list[tuple[int, int]]:
    """Up to ``ROW_PARTS`` contiguous ranges covering ``rows`` (by shape, not thread count)."""
    parts = min(rows, ROW_PARTS)
    edges = [rows * k // parts for k in range(parts + 1)]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def rows_compiled(
    inp: np.ndarray,
    Wk: np.ndarray,
    bias: np.ndarray,
    out: np.ndarray,
    DH: int,
    DWN: int,
    shift: int,
) -> None:
    """``rows_reference`` with the generated loops, output rows spread over the threads."""
    width = Wk.shape[3]
    runs = _channel_blocks(Wk.shape[0])

    def work(rows: tuple[int, int]) -> None:
        for first, end, block in runs:
            loop = _loop(direct_codegen.rows_name(width, block))
            loop(inp, Wk, bias, out, DH, DWN, shift, rows[0], rows[1], first, end)

    run_parts(work, _row_ranges(out.shape[1]), uses_blas=False)


def wgrad_compiled(inp: np.ndarray, dY: np.ndarray, dW: np.ndarray, DH: int, DWN: int) -> None:
    """``wgrad_reference`` with the generated loops, (channel run, kernel row) per thread."""
    width = dW.shape[3]
    zero = dW.dtype.type(0)
    tasks = [(run, i) for run in _channel_blocks(dW.shape[0]) for i in range(dW.shape[2])]

    def work(task: tuple[tuple[int, int, int], int]) -> None:
        (first, end, block), i = task
        loop = _loop(direct_codegen.wgrad_name(width, block))
        loop(inp, dY, dW, zero, DH, DWN, first, end, i, i + 1)

    run_parts(work, tasks, uses_blas=False)


# -- entry points ---------------------------------------------------------------------------
def _as_2d(A: np.ndarray) -> np.ndarray:
    """A 1-D layer's batch-last array (C, L, N) as 2-D (C, 1, L, N)."""
    return A[:, None] if A.ndim == 3 else A


def _weight_2d(W: np.ndarray) -> np.ndarray:
    """A 1-D layer's weight (C_out, C, K) as 2-D (C_out, C, 1, K)."""
    return W[:, :, None] if W.ndim == 3 else W


def _dilation_2d(dilation: tuple[int, ...]) -> tuple[int, int]:
    return (1, dilation[0]) if len(dilation) == 1 else (dilation[0], dilation[1])


def direct_forward(
    Xp: np.ndarray,
    W: np.ndarray,
    b: np.ndarray | None,
    dilation: tuple[int, ...],
    out: np.ndarray,
    use_compiled: bool = True,
) -> np.ndarray:
    """``out`` (C_out, *OS, N) = conv(Xp, W) + b for a padded Xp (C, *S, N); returns ``out``."""
    X4 = np.ascontiguousarray(_as_2d(Xp))
    W4 = np.ascontiguousarray(_weight_2d(W))
    C, H, Wd, N = X4.shape
    DH, DW = _dilation_2d(dilation)
    out4 = _as_2d(out)
    bias = np.zeros(W.shape[0], dtype=W.dtype) if b is None else np.ascontiguousarray(b)
    rows = rows_compiled if use_compiled else rows_reference
    flat_out = out4.reshape(out4.shape[0], out4.shape[1], -1)
    rows(X4.reshape(C, H, Wd * N), W4, bias, flat_out, DH, DW * N, 0)
    return out


def _padded_columns(
    dY: np.ndarray, columns: int, workspace: dict[str, np.ndarray] | None
) -> np.ndarray:
    """dY (C_out, OH, OW, N) with ``columns`` zero columns on each side (reused buffer)."""
    C_out, OH, OW, N = dY.shape
    shape = (C_out, OH, OW + 2 * columns, N)
    buffer = None if workspace is None else workspace.get("direct_dy")
    if buffer is None or buffer.shape != shape or buffer.dtype != dY.dtype:
        buffer = np.zeros(shape, dtype=dY.dtype)  # only the middle is ever written again
        if workspace is not None:
            workspace["direct_dy"] = buffer
    buffer[:, :, columns : columns + OW] = dY
    return buffer


def direct_backward(
    dY: np.ndarray,
    Xp: np.ndarray,
    W: np.ndarray,
    dilation: tuple[int, ...],
    compute_dx: bool = True,
    compute_dw: bool = True,
    workspace: dict[str, np.ndarray] | None = None,
    use_compiled: bool = True,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(dXp, dW) for dY (C_out, *OS, N): dXp has Xp's (padded) shape; None where not asked."""
    X4 = np.ascontiguousarray(_as_2d(Xp))
    dY4 = np.ascontiguousarray(_as_2d(dY), dtype=W.dtype)
    W4 = np.ascontiguousarray(_weight_2d(W))
    C, H, Wd, N = X4.shape
    C_out, KH, KW = W4.shape[0], W4.shape[2], W4.shape[3]
    OH, OW = dY4.shape[1], dY4.shape[2]
    DH, DW = _dilation_2d(dilation)
    dW = None
    if compute_dw:
        dW4 = np.empty_like(W4)
        wgrad = wgrad_compiled if use_compiled else wgrad_reference
        wgrad(X4.reshape(C, H, Wd * N), dY4.reshape(C_out, OH, OW * N), dW4, DH, DW * N)
        dW = dW4.reshape(W.shape)
    dXp = None
    if compute_dx:
        dYw = _padded_columns(dY4, (KW - 1) * DW, workspace)
        W_adjoint = np.ascontiguousarray(W4.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
        dX4 = np.empty_like(X4)
        rows = rows_compiled if use_compiled else rows_reference
        rows(
            dYw.reshape(C_out, OH, -1),
            W_adjoint,
            np.zeros(C, dtype=W.dtype),
            dX4.reshape(C, H, Wd * N),
            DH,
            DW * N,
            (KH - 1) * DH,
        )
        dXp = dX4.reshape(Xp.shape)
    return dXp, dW
