"""Results do not depend on the thread count: im2col weight gradients and BatchNorm, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from scratchcnn.kernels.conv import conv_backward, conv_forward
from scratchcnn.kernels.normalization import batch_norm_backward, batch_statistics


def _both_thread_counts(monkeypatch: pytest.MonkeyPatch, compute):
    results = []
    for threads in (1, 2):
        monkeypatch.setenv("SCRATCHCNN_NUM_THREADS", str(threads))
        with threadpool_limits(threads):
            results.append(compute())
    return results


@pytest.mark.parametrize("shape", [(1, 6, 5, 28, 2), (6, 16, 5, 14, 0), (25, 25, 5, 40, 2)])
def test_im2col_weight_gradient_is_the_same_on_one_and_two_threads(monkeypatch, rng, shape):
    """OpenBLAS splits long sums by its thread count; the fixed parts make dW identical."""
    C, C_out, k, size, p = shape
    X = rng.standard_normal((C, size, size, 64)).astype(np.float32)
    W = rng.standard_normal((C_out, C, k, k)).astype(np.float32)
    pads = ((p, p), (p, p))
    _, cols = conv_forward(X, W, None, pads, (1, 1), (1, 1))
    dY = rng.standard_normal((C_out, size + 2 * p - k + 1, size + 2 * p - k + 1, 64))
    dY = dY.astype(np.float32)

    def compute():
        return conv_backward(dY, cols, W, X.shape, pads, (1, 1), (1, 1), has_bias=False)[1]

    first, second = _both_thread_counts(monkeypatch, compute)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("shape", [(1, 6, 5, 28, 2), (6, 16, 5, 14, 0)])
def test_lenet_convolutions_are_the_same_on_one_and_two_threads(monkeypatch, rng, shape):
    """Forward, dX and dW of LeNet-5's layers, bit for bit (see kernels/products.py's limit)."""
    C, C_out, k, size, p = shape
    X = rng.standard_normal((C, size, size, 128)).astype(np.float32)
    W = rng.standard_normal((C_out, C, k, k)).astype(np.float32)
    pads = ((p, p), (p, p))

    def compute():
        Y, cols = conv_forward(X, W, None, pads, (1, 1), (1, 1))
        Y = Y.copy()
        dX, dW, _ = conv_backward(np.cos(Y), cols, W, X.shape, pads, (1, 1), (1, 1), has_bias=False)
        return Y, dX, dW

    first, second = _both_thread_counts(monkeypatch, compute)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_weight_gradient_parts_equal_one_product(rng):
    """The parts' sum is the product (to float64 rounding), for any column count."""
    from scratchcnn.kernels.products import weight_gradient

    for P in (7, 4096, 70_001):
        dY = rng.standard_normal((3, P))
        cols = rng.standard_normal((5, P))
        np.testing.assert_allclose(weight_gradient(dY, cols), dY @ cols.T, rtol=1e-12, atol=1e-9)


def test_batch_norm_is_the_same_on_one_and_two_threads(monkeypatch, rng, kernel_path):
    rows = rng.standard_normal((10, 5000)).astype(np.float32) + 3
    dA = rng.standard_normal(rows.shape).astype(np.float32)

    def compute():
        mean, var = batch_statistics(rows)
        inv_std = 1 / np.sqrt(var + 1e-5)
        return (mean, var, *batch_norm_backward(dA, rows, mean, inv_std, None, True))

    first, second = _both_thread_counts(monkeypatch, compute)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_thread_count_reads_the_setting_and_shares_cores_between_mpi_ranks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    from scratchcnn.kernels.threads import thread_count

    cpus = len(os.sched_getaffinity(0))
    for name in ("SCRATCHCNN_NUM_THREADS", "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"):
        monkeypatch.delenv(name, raising=False)
    assert thread_count() == cpus
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2")  # two ranks on this machine
    assert thread_count() == max(1, cpus // 2)
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "0")  # nonsense: ignored
    assert thread_count() == cpus
    monkeypatch.setenv("SCRATCHCNN_NUM_THREADS", "3")  # an explicit setting wins
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2")
    assert thread_count() == 3
    monkeypatch.setenv("SCRATCHCNN_NUM_THREADS", "zero")
    monkeypatch.delenv("OMPI_COMM_WORLD_LOCAL_SIZE")
    assert thread_count() == cpus
