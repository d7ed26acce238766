"""Padding of batch-last arrays and its adjoint, with PyTorch's four padding modes.

Arrays are (C, *S, N); ``pads`` holds one ``(left, right)`` pair per spatial axis. The modes
follow ``torch.nn.functional.pad``: 'zeros' (constant 0), 'reflect' (mirror without repeating
the edge: [1, 2, 3] padded by 2 is [3, 2, 1, 2, 3, 2, 1]), 'replicate' (repeat the edge) and
'circular' (wrap around). Every padded element is a copy of one input element (or zero), so
the backward pass, :func:`pad_adjoint`, adds each padded position's gradient onto its source.
"""

from __future__ import annotations

import numpy as np

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

Pads = tuple[tuple[int, int], ...]


def padded_shape(shape: tuple[int, ...], pads: Pads) -> tuple[int, ...]:
    """Shape of ``pad(X, pads, mode)`` for X of ``shape`` (C, *S, N)."""
    spatial = tuple(s + left + right for s, (left, right) in zip(shape[1:-1], pads, strict=True))
    return (shape[0], *spatial, shape[-1])


def source_index(q: np.ndarray, size: int, mode: str) -> np.ndarray:
    """Map input coordinates ``q`` (which may lie outside ``[0, size)``) to input indices.

    Used for the non-zero modes only; the caller guarantees PyTorch's limits (reflect: pad <
    size; circular: pad <= size), under which one reflection or one wrap suffices.
    """
    if mode == "reflect":
        q = np.abs(q)
        return np.where(q >= size, 2 * (size - 1) - q, q)
    if mode == "replicate":
        return np.clip(q, 0, size - 1)
    if mode == "circular":
        return np.mod(q, size)
    raise ValueError(f"source_index: unknown padding mode {mode!r}")


def _along(axis: int, index: slice | int | np.ndarray) -> tuple[slice | int | np.ndarray, ...]:
    """An index tuple that applies ``index`` to ``axis`` and takes everything before it."""
    return (slice(None),) * axis + (index,)


def pad(
    X: np.ndarray, pads: Pads, mode: str = "zeros", out: np.ndarray | None = None
) -> np.ndarray:
    """Pad the spatial axes of batch-last X (C, *S, N) -> (C, *(S + left + right), N).

    ``out``, when given, is a buffer of the padded shape and dtype that is fully overwritten
    (so a caller can reuse it between steps). Axes are padded one after another, each from
    the already padded previous axes, which fills the corners as PyTorch does.
    """
    shape = padded_shape(X.shape, pads)
    if out is None:
        out = np.empty(shape, dtype=X.dtype)
    centre = tuple(slice(left, left + s) for s, (left, _) in zip(X.shape[1:-1], pads, strict=True))
    out[(slice(None), *centre)] = X
    for axis, (size, (left, right)) in enumerate(zip(X.shape[1:-1], pads, strict=True), start=1):
        end = left + size
        if mode == "zeros":
            out[_along(axis, slice(0, left))] = 0
            out[_along(axis, slice(end, end + right))] = 0
            continue
        # Positions of the borders in input coordinates, and the padded index they copy.
        for border, q in (
            (slice(0, left), np.arange(-left, 0)),
            (slice(end, end + right), np.arange(size, size + right)),
        ):
            if q.size:
                out[_along(axis, border)] = out[_along(axis, left + source_index(q, size, mode))]
    return out


def pad_adjoint(dXp: np.ndarray, pads: Pads, mode: str = "zeros") -> np.ndarray:
    """Gradient of ``pad``: fold dXp (C, *(S + pads), N) back onto the input shape (C, *S, N).

    Zeros mode returns a view of the centre. The other modes add each border position's
    gradient onto the input element it copied, axis by axis in reverse order (the adjoint of
    a composition is the composition of the adjoints, reversed).
    """
    if mode == "zeros":
        centre = tuple(
            slice(left, n - right) for n, (left, right) in zip(dXp.shape[1:-1], pads, strict=True)
        )
        return dXp[(slice(None), *centre)]
    grad = dXp
    for axis in range(len(pads), 0, -1):
        left, right = pads[axis - 1]
        size = grad.shape[axis] - left - right
        end = left + size
        folded = grad[_along(axis, slice(left, end))].copy()
        q = np.concatenate([np.arange(-left, 0), np.arange(size, size + right)])
        positions = np.concatenate([np.arange(0, left), np.arange(end, end + right)])
        # A loop over the (few) border positions; several may copy the same source element.
        for position, source in zip(positions, source_index(q, size, mode), strict=True):
            folded[_along(axis, int(source))] += grad[_along(axis, int(position))]
        grad = folded
    return grad
