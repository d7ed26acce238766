"""The im2col weight gradient as a product whose rounding does not depend on the thread count.

OpenBLAS splits the long sum of a weight gradient (dY @ cols^T, summed over every output
position and sample) differently with different thread counts: MNIST-1D's and LeNet's dW
differed by 1e-9 between 1 and 2 threads, enough for two training runs with the same seed to
end 1.4 points apart. Here the columns are cut into parts fixed by the shape alone, each
part's product runs on one BLAS thread (the library's threads take the parts,
``kernels/threads.py``), and the partial sums are added in a fixed order.

Known limit: forward and input-gradient products (W @ cols, W^T @ dY) stay plain OpenBLAS
calls. Their sums are short (C_in x kernel) and came out bit-identical on 1 and 2 threads for
the zoo's shapes here, but a 625-term one (25 channels, 5x5) differed by 6e-5. Splitting
them the same way made them up to 2x slower: OpenBLAS serializes single-threaded calls made
from two threads at once on these sizes.
"""

from __future__ import annotations

import itertools

import numpy as np

from scratchcnn.kernels.threads import run_parts

PART_COLUMNS = 65536
MIN_SPLIT = 4096  # from this many columns on, at least two parts (one per core)


def column_parts(P: int) -> list[tuple[int, int]]:
    """(first, last) column ranges covering 0 .. P - 1; they depend on P alone."""
    n_parts = -(-P // PART_COLUMNS)
    if P >= MIN_SPLIT:
        n_parts = max(2, n_parts)
    n_parts = max(1, n_parts)
    return list(itertools.pairwise(round(i * P / n_parts) for i in range(n_parts + 1)))


def weight_gradient(dY: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """dY (..., C_out, P) @ cols (..., rows, P)^T: partial sums over column parts, in order."""

    def product(part: tuple[int, int]) -> np.ndarray:
        # cols @ dY^T, transposed at the end: OpenBLAS runs this form 2.4x faster (the long
        # inner dimension is then contiguous in both operands' rows)
        first, last = part
        return np.matmul(cols[..., first:last], dY[..., first:last].swapaxes(-1, -2))

    partials = run_parts(product, column_parts(dY.shape[-1]), single_thread_blas=True)
    total = partials[0]
    for partial in partials[1:]:  # a fixed order
        total += partial
    return np.ascontiguousarray(total.swapaxes(-1, -2))
