"""Which samples each rank takes: contiguous blocks that differ in size by at most one.

A global batch of B samples on K ranks gives ranks ``0 .. B % K - 1`` one sample more than
the others (B = 33, K = 2: 17 and 16). Every rank computes the same split from (B, K), so
nothing is sent to agree on it.
"""

from __future__ import annotations

import numpy as np


def shard_bounds(n: int, size: int, rank: int) -> tuple[int, int]:
    """``(lo, hi)``: rank ``rank``'s block of ``range(n)`` split into ``size`` blocks."""
    if size < 1 or not 0 <= rank < size:
        raise ValueError(
            f"shard_bounds: expected 0 <= rank < size, but got rank {rank}, size {size}"
        )
    if n < 0:
        raise ValueError(f"shard_bounds: expected n >= 0, but got {n}")
    base, extra = divmod(n, size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def shard_sizes(n: int, size: int) -> list[int]:
    """Every rank's block size for ``n`` samples (they sum to ``n``)."""
    return [hi - lo for lo, hi in (shard_bounds(n, size, r) for r in range(size))]


def shard_index(index: slice | np.ndarray, size: int, rank: int) -> slice | np.ndarray:
    """This rank's part of a global batch ``index`` (a slice with step 1, or an index array)."""
    if isinstance(index, slice):
        start, stop, step = index.start or 0, index.stop, index.step or 1
        if stop is None or step != 1:
            raise ValueError("shard_index: expected a slice with a stop and step 1")
        lo, hi = shard_bounds(stop - start, size, rank)
        return slice(start + lo, start + hi)
    lo, hi = shard_bounds(len(index), size, rank)
    return index[lo:hi]
