"""1-D convolution in the position-major layout (L, C, N): batched products, no im2col.

In (L, C, N) memory, the K input positions that output position ``l`` reads (stride s, zero
padding ``left``), ``s*l - left .. s*l - left + K - 1``, are one contiguous block of K*C rows
of N numbers: the very columns that im2col would copy. So the forward pass is one batched
matrix product over output positions, read through a strided view of X (no copy):

    Y[l] (C_out, N) = Wm (C_out, K*C) @ X[s*l - left : s*l - left + K] (K*C, N) + b

with ``Wm`` = W (C_out, C, K) reordered to (C_out, K, C). An output whose window reaches into
the padding takes the product of the columns of Wm that see input. The backward pass needs
no columns either:

- ``dW`` = sum over l of ``dY[l] @ X-block(l)^T``: one batched product, summed over l;
- ``dX`` by phases: input position ``q`` (padded coordinates) receives ``W[:, :, k]^T dY[l]``
  from every (l, k) with ``s*l + k = q``. For the q of one phase ``r = q mod s`` those are
  ``k = r, r + s, ...`` with consecutive l, whose dY rows are again one contiguous block of
  (J*C_out, N): one batched product per phase with a (C, J*C_out) weight, written straight
  into dX (no column gradient, no col2im).

For MNIST-1D's strided layers at batch 1000 this runs the 25->25 k3 s2 layer in 0.40 ms
against 0.93 for im2col + BLAS, whose 3 MB of columns cost as much as the product
(``benchmarks/README.md``). Zero padding, groups 1, dilation 1 only; other layers keep the
batch-last routes of ``kernels/conv.py``, which stays the reference (the tests compare
both). Pure NumPy: the products are BLAS calls, so this path needs no Numba.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from scratchcnn.kernels import compiled
from scratchcnn.kernels.im2col import conv_output_size
from scratchcnn.kernels.threads import single_thread_blas_calls

ENABLED: bool = os.environ.get("SCRATCHCNN_POSITION_MAJOR", "1").strip() not in ("0", "")


class PositionsSaved(NamedTuple):
    """What a position-major forward keeps for backward: its input X (L, C, N), unpadded."""

    X: np.ndarray


def applies(
    W: np.ndarray,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int,
    padding_mode: str,
) -> bool:
    """Whether this convolution runs position-major: 1-D, groups 1, dilation 1, zero padding.

    ``ENABLED`` (environment: ``SCRATCHCNN_POSITION_MAJOR=0``) switches it off.
    """
    return (
        ENABLED
        and W.ndim == 3
        and groups == 1
        and tuple(dilation) == (1,)
        and padding_mode == "zeros"
        and W.dtype in (np.float32, np.float64)
    )


# Products with fewer FLOPs (2 * rows * inner * columns) run on one BLAS thread. Below about
# this size OpenBLAS's second thread gained nothing here (25->25 k3 at batch 1,000, 3.8
# MFLOP a product: 1.03x slower on one thread, 64->64 at batch 128: 1.02x; from 12.6 MFLOP
# on two threads won 1.5x and more), and it cost more: the bias pass after a threaded
# product reads half the output from the other core's cache (97 against 26 us), and with
# the other core busy every product waited for it (MNIST-1D inference 2.8-5.1 ms a batch,
# on one thread 1.6-2.3 ms, as idle).
SMALL_PRODUCT_FLOPS = 6_000_000
# OpenBLAS itself runs a product with m*n*k under 65536 * 4 (its GEMM_MULTITHREAD_THRESHOLD)
# on one thread: holding it there costs 7 us for nothing (MNIST-1D's training batch of 128).
BLAS_SERIAL_FLOPS = 2 * 65536 * 4


def _blas_threads_for(rows: int, inner: int, columns: int) -> AbstractContextManager:
    """One BLAS thread for a small product (``SMALL_PRODUCT_FLOPS``), BLAS's own count else
    (and for products BLAS runs on one thread anyway, ``BLAS_SERIAL_FLOPS``)."""
    if BLAS_SERIAL_FLOPS <= 2 * rows * inner * columns < SMALL_PRODUCT_FLOPS:
        return single_thread_blas_calls()
    return nullcontext()


def output_length(length: int, kernel: int, pads: tuple[int, int], stride: int) -> int:
    """(L + left + right - K) // s + 1 (``conv_output_size`` of the padded length)."""
    return conv_output_size((length + pads[0] + pads[1],), (kernel,), (stride,), (1,))[0]


def _blocks(X: np.ndarray, first: int, count: int, rows: int, step: int) -> np.ndarray:
    """``count`` overlapping (rows*C, N) views of X (L, C, N), from position ``first`` on,
    ``step`` positions apart (no copy)."""
    _, C, N = X.shape
    start = X[first:]
    item = X.itemsize
    return as_strided(
        start, shape=(count, rows * C, N), strides=(step * C * N * item, N * item, item),
        writeable=False,
    )  # fmt: skip


def _interior(L: int, K: int, left: int, stride: int, L_out: int) -> tuple[int, int]:
    """[first, end) of the outputs whose whole window lies inside the input."""
    first = min(L_out, -(-left // stride))
    end = max(first, min(L_out, (L + left - K) // stride + 1))
    return first, end


def _window(l_out: int, K: int, left: int, stride: int, L: int) -> tuple[int, int, int]:
    """(start, k0, k1): output ``l_out`` reads input ``start + k`` for offsets k0 <= k < k1."""
    start = stride * l_out - left
    return start, max(0, -start), min(K, L - start)


def forward(
    X: np.ndarray,
    W: np.ndarray,
    b: np.ndarray | None,
    pads: tuple[int, int],
    stride: int,
    out: np.ndarray | None = None,
    relu: bool = False,
) -> np.ndarray:
    """Y (L_out, C_out, N) = conv(X (L, C, N), W (C_out, C, K), zero padding) + b.

    ``relu``: max(Y, 0) in the bias pass (a model fuses a following in-place ReLU).
    """
    L, C, N = X.shape
    C_out, _, K = W.shape
    L_out = output_length(L, K, pads, stride)
    if out is None:
        out = np.empty((L_out, C_out, N), dtype=X.dtype)
    Wm = np.ascontiguousarray(W.transpose(0, 2, 1)).reshape(C_out, K * C)
    first, end = _interior(L, K, pads[0], stride, L_out)
    with _blas_threads_for(C_out, K * C, N):
        if end > first:
            windows = _blocks(X, stride * first - pads[0], end - first, K, stride)
            np.matmul(Wm, windows, out=out[first:end])
        for l_out in (*range(first), *range(end, L_out)):
            start, k0, k1 = _window(l_out, K, pads[0], stride, L)
            if k1 <= k0:  # sees only padding
                out[l_out] = 0
            else:
                rows = X[start + k0 : start + k1].reshape(-1, N)
                np.matmul(Wm[:, k0 * C : k1 * C], rows, out=out[l_out])
    if b is not None or relu:
        add_bias(out, np.zeros(C_out, dtype=out.dtype) if b is None else b, relu)
    return out


def add_bias(Y: np.ndarray, b: np.ndarray, relu: bool = False) -> None:
    """Y (P, C, N) += b (C,) per channel, in place, then max(Y, 0) with ``relu``; one pass
    when Numba is usable. P is the output positions here; ``kernels/conv.py`` passes its
    batch-last outputs as (1, C, rest)."""
    if compiled.usable() and Y.flags.c_contiguous and Y.size:
        compiled.add_bias(Y, np.ascontiguousarray(b, dtype=Y.dtype), relu)
        return
    Y += b[:, None]
    if relu:
        np.maximum(Y, 0, out=Y)


def weight_gradient(
    dY: np.ndarray, X: np.ndarray, kernel: int, pads: tuple[int, int], stride: int
) -> np.ndarray:
    """dW (C_out, C, K) = sum over outputs l and samples of dY[l] (x) X's window of l.

    Each position's product and their sum run in a fixed order on one BLAS thread, so dW does
    not depend on the thread count.
    """
    L, C, N = X.shape
    L_out, C_out, _ = dY.shape
    K = kernel
    first, end = _interior(L, K, pads[0], stride, L_out)
    dWm_t = np.zeros((K * C, C_out), dtype=X.dtype)  # (K*C, C_out): the faster product form
    with single_thread_blas_calls():
        if end > first:
            windows = _blocks(X, stride * first - pads[0], end - first, K, stride)
            partials = np.matmul(windows, dY[first:end].transpose(0, 2, 1))
            for partial in partials:  # in order
                dWm_t += partial
        for l_out in (*range(first), *range(end, L_out)):
            start, k0, k1 = _window(l_out, K, pads[0], stride, L)
            if k1 > k0:
                rows = X[start + k0 : start + k1].reshape(-1, N)
                dWm_t[k0 * C : k1 * C] += rows @ dY[l_out].T
    return np.ascontiguousarray(dWm_t.reshape(K, C, C_out).transpose(2, 1, 0))


def input_gradient(
    dY: np.ndarray, W: np.ndarray, length: int, pads: tuple[int, int], stride: int
) -> np.ndarray:
    """dX (L, C, N) for dY (L_out, C_out, N): by phases of the input position (see above)."""
    L_out, C_out, N = dY.shape
    _, C, K = W.shape
    L, left, s = length, pads[0], stride
    dX = np.empty((L, C, N), dtype=dY.dtype)
    with _blas_threads_for(C, -(-K // s) * C_out, N):  # (C, J*C_out) @ (J*C_out, N)
        for r in range(s):
            J = len(range(r, K, s))  # offsets k = r + j*s reach q = s*m + r from l = m - j
            m_lo = -(-(left - r) // s)  # the phase's input positions p = s*m + r - left in [0, L)
            m_hi = (L - 1 + left - r) // s
            if m_hi < m_lo:
                continue
            if J == 0:  # no offset reaches this phase (stride > kernel)
                dX[s * m_lo + r - left : s * m_hi + r - left + 1 : s] = 0
                continue
            # weight for the dY rows l = m-J+1 .. m (ascending): block t has k = r + (J-1-t)*s
            Wr = np.concatenate([W[:, :, r + (J - 1 - t) * s].T for t in range(J)], axis=1)
            m_first, m_last = max(m_lo, J - 1), min(m_hi, L_out - 1)
            if m_last >= m_first:  # positions with every offset's dY row inside: one product
                count = m_last - m_first + 1
                p0 = s * m_first + r - left
                dY_blocks = _blocks(dY, m_first - J + 1, count, J, 1)
                np.matmul(Wr, dY_blocks, out=dX[p0 : p0 + s * (count - 1) + 1 : s])
                edges = (*range(m_lo, m_first), *range(m_last + 1, m_hi + 1))
            else:  # no position with every offset inside
                edges = tuple(range(m_lo, m_hi + 1))
            for m in edges:
                p = s * m + r - left
                l0, l1 = max(0, m - J + 1), min(L_out - 1, m)  # the l that exist
                if l1 < l0:
                    dX[p] = 0
                    continue
                t0, t1 = l0 - (m - J + 1), l1 - (m - J + 1) + 1
                rows = dY[l0 : l1 + 1].reshape(-1, N)
                np.matmul(Wr[:, t0 * C_out : t1 * C_out], rows, out=dX[p])
    return dX


def backward(
    dY: np.ndarray,
    X: np.ndarray,
    W: np.ndarray,
    pads: tuple[int, int],
    stride: int,
    has_bias: bool = True,
    compute_dx: bool = True,
    compute_dw: bool = True,
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """(dX (L, C, N), dW, db) for dY (L_out, C_out, N) and the forward's X; None where not
    asked (db also None without a bias, dW and db None without ``compute_dw``)."""
    dY = np.ascontiguousarray(dY, dtype=W.dtype)
    dW = weight_gradient(dY, X, W.shape[2], pads, stride) if compute_dw else None
    db = dY.sum(axis=(0, 2)) if has_bias and compute_dw else None
    dX = input_gradient(dY, W, X.shape[0], pads, stride) if compute_dx else None
    return dX, dW, db

