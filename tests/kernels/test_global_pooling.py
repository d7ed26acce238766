"""Global average pooling: the compiled twin equals the NumPy reference bit for bit, on one
part and on threaded parts of channels."""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn.kernels import compiled
from scratchcnn.kernels.global_pooling import (
    global_avg_pool_backward,
    global_avg_pool_backward_reference,
    global_avg_pool_forward,
    global_avg_pool_forward_reference,
)

needs_numba = pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="Numba is not installed")


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5, 7, 2), (1, 1, 1, 1), (64, 16, 16, 128)])
def test_twin_equals_reference(rng, monkeypatch, dtype, shape):
    """(64, 16, 16, 128) has 2M numbers: its channels run in parts on the threads."""
    monkeypatch.setattr(compiled, "ENABLED", True)
    Xb = (rng.standard_normal(shape) * 10).astype(dtype)
    Y = global_avg_pool_forward(Xb)
    assert Y.dtype == dtype and Y.shape == (shape[0], shape[3])
    np.testing.assert_array_equal(Y, global_avg_pool_forward_reference(Xb))
    dY = rng.standard_normal((shape[0], shape[3])).astype(dtype)
    dX = global_avg_pool_backward(dY, *shape[1:3])
    assert dX.dtype == dtype and dX.shape == shape
    np.testing.assert_array_equal(dX, global_avg_pool_backward_reference(dY, *shape[1:3]))


@needs_numba
def test_twin_takes_any_memory_order_and_keeps_nan(rng, monkeypatch):
    """A strided view is copied first; NumPy sums it in its own memory order, so the two
    agree to float32 rounding there, not bit for bit."""
    monkeypatch.setattr(compiled, "ENABLED", True)
    X = rng.standard_normal((4, 3, 6, 5)).astype(np.float32)  # (N, C, H, W)
    X[1, 2, 3, 4] = np.nan
    Xb = X.transpose(1, 2, 3, 0)  # a batch-last view, not contiguous
    Y = global_avg_pool_forward(Xb)
    np.testing.assert_allclose(Y, global_avg_pool_forward_reference(Xb), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(Y, global_avg_pool_forward_reference(np.ascontiguousarray(Xb)))
    assert np.isnan(Y[2, 1]) and np.isfinite(np.delete(Y.ravel(), 2 * 4 + 1)).all()
