"""Scratch arrays a layer keeps between calls, by name, while shapes and dtypes repeat.

A layer owns a ``workspace`` dict; kernels ask it for large buffers (im2col columns, padded
inputs, outputs under ``reuse_output``) instead of allocating them on every training step,
which saves the allocation and page faults of arrays of tens of MB.
"""

from __future__ import annotations

import numpy as np


def buffer(
    workspace: dict[str, np.ndarray] | None,
    name: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    zeroed: bool = False,
) -> np.ndarray | None:
    """The workspace array ``name`` with this shape and dtype (made on first use), or None.

    ``zeroed``: a new array starts as zeros (for callers that only ever write part of it).
    """
    if workspace is None:
        return None
    array = workspace.get(name)
    if array is None or array.shape != tuple(shape) or array.dtype != dtype:
        array = (np.zeros if zeroed else np.empty)(shape, dtype=dtype)
        workspace[name] = array
    return array
