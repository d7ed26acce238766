"""One flat buffer for many arrays: gradients, BatchNorm buffers and step statistics.

A :class:`FlatLayout` fixes where each array lives in the buffer (its offset and size), so a
whole step's data cross the network in one ``Allreduce``. ``pack`` copies arrays in (times a
scale), ``unpack`` copies them out; both are plain slices of one contiguous array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class FlatLayout:
    """Offsets of arrays of the given ``shapes`` in one flat buffer, followed by ``extra``
    scalar slots (step statistics).
    """

    def __init__(self, shapes: Sequence[tuple[int, ...]], extra: int = 0) -> None:
        self.shapes = [tuple(int(n) for n in shape) for shape in shapes]
        self.sizes = [int(np.prod(shape, dtype=np.int64)) for shape in self.shapes]
        self.offsets = [int(o) for o in np.cumsum([0, *self.sizes])[:-1]]
        self.array_size = int(sum(self.sizes))
        self.extra = int(extra)
        self.size = self.array_size + self.extra

    def new_buffer(self, dtype: np.dtype) -> np.ndarray:
        return np.zeros(self.size, dtype=dtype)

    def pack(
        self, buffer: np.ndarray, arrays: Sequence[np.ndarray | None], scale: float = 1.0
    ) -> None:
        """Write ``scale * arrays[i]`` into slot i of ``buffer``; None (or scale 0) writes zeros."""
        if len(arrays) != len(self.sizes):
            raise ValueError(
                f"FlatLayout.pack: expected {len(self.sizes)} arrays, got {len(arrays)}"
            )
        for array, offset, size, shape in zip(
            arrays, self.offsets, self.sizes, self.shapes, strict=True
        ):
            part = buffer[offset : offset + size]
            if array is None or scale == 0:
                part[...] = 0
                continue
            if array.shape != shape:
                raise ValueError(
                    f"FlatLayout.pack: expected an array of shape {shape}, but got {array.shape}"
                )
            np.multiply(array.reshape(-1), scale, out=part, casting="same_kind")

    def unpack(self, buffer: np.ndarray, scale: float = 1.0) -> list[np.ndarray]:
        """New arrays ``scale * slot i`` with their original shapes."""
        return [
            (buffer[offset : offset + size] * scale).reshape(shape)
            for offset, size, shape in zip(self.offsets, self.sizes, self.shapes, strict=True)
        ]

    def extras(self, buffer: np.ndarray) -> np.ndarray:
        """The view of the scalar slots at the end of ``buffer``."""
        return buffer[self.array_size :]
