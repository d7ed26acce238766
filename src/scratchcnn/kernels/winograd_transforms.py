"""Winograd F(m x m, 3 x 3) transforms of one block of tiles, in NumPy and as Numba loops.

A block is ``ntiles`` neighbouring tiles of one tile row ``th`` (tile columns ``tw0`` to
``tw0 + ntiles - 1``) for the samples ``n0`` to ``n0 + nn - 1`` of a batch-last array. A
tile's input window is ``alpha = m + 2`` rows and columns starting at ``(m*th, m*tw)``; its
output is m x m pixels. Transformed blocks are laid out ``(alpha*alpha, channels, ntiles*nn)``:
one matrix per transform point, columns ordered (tile, sample), so the pointwise products of
all channels are ``alpha*alpha`` independent matrix products (``kernels/winograd.py``).

The four transforms and their adjoints (for the backward pass):

- input:  ``V[a, b] = sum_ij BT[a, i] d[i, j] BT[b, j]``      (d: the input window)
- output: ``Y[i, j] = sum_ab AT[i, a] M[a, b] AT[j, b] + bias``
- their adjoints go the other way (``dM`` from ``dY``, ``dX`` from ``dV``), which is what
  makes the backward pass the exact gradient of the forward one.

Pixels outside the array read as zero (input) or are dropped (output); the adjoints do the same.
Each transform exists twice: a NumPy function (the reference) and a Numba loop with the
innermost loop over the samples, which are contiguous in the batch-last layout. ``TRANSFORMS``
names them; ``kernels/winograd.py`` picks the compiled ones when ``compiled.usable()``.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np

from scratchcnn.kernels import compiled


# -- NumPy reference ------------------------------------------------------------------------
def _window_index(start: int, alpha: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``start .. start + alpha - 1`` clipped into range, and which were in range."""
    index = start + np.arange(alpha)
    return np.clip(index, 0, size - 1), (index >= 0) & (index < size)


def input_transform(Xp, BT, m, th, tw0, ntiles, n0, V, pads=(0, 0)) -> None:
    """V (alpha², C, ntiles*nn) = B^T d B of each tile window of Xp (C, H, W, N).

    ``pads`` (top, left): the windows start that far before Xp's first row and column (the
    zero padding that Xp lacks).
    """
    C, H, W, _ = Xp.shape
    alpha = BT.shape[0]
    nn = V.shape[2] // ntiles
    rows, row_ok = _window_index(m * th - pads[0], alpha, H)
    for t in range(ntiles):
        cols, col_ok = _window_index(m * (tw0 + t) - pads[1], alpha, W)
        d = Xp[:, rows][:, :, cols][..., n0 : n0 + nn]  # (C, alpha, alpha, nn)
        d = d * (row_ok[:, None] & col_ok[None, :])[None, :, :, None]
        v = np.einsum("ai,cijn,bj->abcn", BT, d, BT)
        V[:, :, t * nn : (t + 1) * nn] = v.reshape(alpha * alpha, C, nn)


def output_transform(M, AT, bias, m, th, tw0, ntiles, n0, Y, relu=False) -> None:
    """Y's pixels of each tile (C_out, OH, OW, N) = A^T M A + bias, for M (alpha², C_out, cols);
    with ``relu``, max(Y, 0) as ``np.maximum`` gives it."""
    C_out, OH, OW, _ = Y.shape
    alpha = AT.shape[1]
    nn = M.shape[2] // ntiles
    h0 = m * th
    h1 = min(h0 + m, OH)
    for t in range(ntiles):
        w0 = m * (tw0 + t)
        w1 = min(w0 + m, OW)
        block = M[:, :, t * nn : (t + 1) * nn].reshape(alpha, alpha, C_out, nn)
        y = np.einsum("ia,abon,jb->oijn", AT, block, AT) + bias[:, None, None, None]
        if relu:
            np.maximum(y, 0, out=y)
        Y[:, h0:h1, w0:w1, n0 : n0 + nn] = y[:, : h1 - h0, : w1 - w0]


def output_transform_adjoint(dY, AT, m, th, tw0, ntiles, n0, dM) -> None:
    """dM (alpha², C_out, cols) = A dY A^T of each tile of dY (C_out, OH, OW, N)."""
    C_out, OH, OW, _ = dY.shape
    alpha = AT.shape[1]
    nn = dM.shape[2] // ntiles
    h0 = m * th
    h1 = min(h0 + m, OH)
    for t in range(ntiles):
        w0 = m * (tw0 + t)
        w1 = min(w0 + m, OW)
        g = np.zeros((C_out, m, m, nn), dtype=dY.dtype)
        g[:, : h1 - h0, : w1 - w0] = dY[:, h0:h1, w0:w1, n0 : n0 + nn]
        dm = np.einsum("ia,oijn,jb->abon", AT, g, AT)
        dM[:, :, t * nn : (t + 1) * nn] = dm.reshape(alpha * alpha, C_out, nn)


def input_transform_adjoint(dV, BT, m, th, tw0, ntiles, n0, dXp, pads=(0, 0)) -> None:
    """dXp (C, H, W, N) += B dV B^T of each tile, for dV (alpha², C, cols); windows overlap.

    ``pads`` as in :func:`input_transform`: what falls in the padding is dropped.
    """
    C, H, W, _ = dXp.shape
    alpha = BT.shape[0]
    nn = dV.shape[2] // ntiles
    h0 = m * th - pads[0]
    h1 = min(h0 + alpha, H)
    for t in range(ntiles):
        w0 = m * (tw0 + t) - pads[1]
        w1 = min(w0 + alpha, W)
        block = dV[:, :, t * nn : (t + 1) * nn].reshape(alpha, alpha, C, nn)
        d = np.einsum("ai,abcn,bj->cijn", BT, block, BT)
        top, left = max(0, -h0), max(0, -w0)
        dXp[:, h0 + top : h1, w0 + left : w1, n0 : n0 + nn] += d[:, top : h1 - h0, left : w1 - w0]


# -- compiled ------------------------------------------------------------------------------
class CompiledTransforms:
    """The four transforms of F(m, 3) as straight-line Numba loops (``winograd_generated.py``).

    Same calls as the NumPy functions above (each loop allocates its own scratch rows).
    Each loop is compiled on its first call for the dtype it gets and cached on disk by
    Numba (about two seconds each, once per machine).
    """

    def __init__(self, mats) -> None:
        from scratchcnn.kernels import winograd_generated
        from scratchcnn.kernels.winograd_codegen import KINDS, function_name, kind_matrices

        self._pairs = {kind: kind_matrices(kind, mats.AT, mats.BT) for kind in KINDS}
        self._loops = {
            kind: compiled.jit_nogil(getattr(winograd_generated, function_name(kind, mats.m)))
            for kind in KINDS
        }

    def _run(self, kind, src, bias, th, tw0, ntiles, n0, dst, pads=(0, 0), relu=False) -> None:
        L, R = self._pairs[kind]
        L, R = L.astype(dst.dtype, copy=False), R.astype(dst.dtype, copy=False)
        self._loops[kind](src, L, R, bias, th, tw0, ntiles, n0, dst, *pads, relu)

    def input_transform(self, Xp, BT, m, th, tw0, ntiles, n0, V, pads=(0, 0)) -> None:
        self._run("input", Xp, BT[0], th, tw0, ntiles, n0, V, pads)

    def output_transform(self, M, AT, bias, m, th, tw0, ntiles, n0, Y, relu=False) -> None:
        self._run("output", M, bias, th, tw0, ntiles, n0, Y, relu=relu)

    def output_transform_adjoint(self, dY, AT, m, th, tw0, ntiles, n0, dM) -> None:
        self._run("output_adjoint", dY, AT[0], th, tw0, ntiles, n0, dM)

    def input_transform_adjoint(self, dV, BT, m, th, tw0, ntiles, n0, dXp, pads=(0, 0)) -> None:
        self._run("input_adjoint", dV, BT[0], th, tw0, ntiles, n0, dXp, pads)


TRANSFORMS = SimpleNamespace(
    input_transform=input_transform,
    output_transform=output_transform,
    output_transform_adjoint=output_transform_adjoint,
    input_transform_adjoint=input_transform_adjoint,
)


@functools.cache
def _compiled(m: int) -> CompiledTransforms:
    from scratchcnn.kernels.winograd import matrices

    return CompiledTransforms(matrices(m))


def transforms(m: int, use_compiled: bool | None = None):
    """The four transforms of F(m, 3): the Numba loops when usable (or asked for), else NumPy's."""
    if use_compiled is None:
        use_compiled = compiled.usable()
    return _compiled(m) if use_compiled else TRANSFORMS
