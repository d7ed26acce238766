"""The Numba loops of kernels/compiled.py against the NumPy kernels they stand in for."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from scratchcnn.kernels import compiled
from scratchcnn.kernels.layout import from_batch_last
from scratchcnn.kernels.pooling import max_pool_backward, max_pool_forward, pool_output_shape

needs_numba = pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="Numba is not installed")


def both_paths(monkeypatch, function, *args):
    """``function(*args)`` on the compiled loops, then on NumPy."""
    results = []
    for enabled in (True, False):
        monkeypatch.setattr(compiled, "ENABLED", enabled)
        results.append(function(*args))
    return results


def assert_same_pooling(fast, slow):
    """Y and argmax exactly; dX up to rounding (overlapping windows add in another order)."""
    for got, expected in zip(fast, slow, strict=True):
        assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(fast[0], slow[0])
    np.testing.assert_array_equal(fast[1], slow[1])
    tolerance = 10 * np.finfo(fast[2].dtype).eps
    np.testing.assert_allclose(fast[2], slow[2], rtol=tolerance, atol=tolerance)


def pool_both_ways(X, kernel, stride, padding, ceil_mode, dA=None):
    Y, argmax = max_pool_forward(X, kernel, stride, padding, ceil_mode)
    dA = np.ones_like(Y) if dA is None else dA
    return Y, argmax, max_pool_backward(dA, argmax, X.shape, kernel, stride, padding)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spatial_dims", [1, 2])
@pytest.mark.parametrize("case", range(8))
def test_max_pool_matches_numpy(rng, monkeypatch, dtype, spatial_dims, case):
    kernel = tuple(int(k) for k in rng.integers(1, 5, spatial_dims))
    stride = tuple(int(s) for s in rng.integers(1, 5, spatial_dims))
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    ceil_mode = bool(case % 2)
    spatial = tuple(int(k + rng.integers(0, 6)) for k in kernel)  # odd sizes too
    if case < 4:  # small integers: many ties
        X = rng.integers(-2, 3, (3, *spatial, 5)).astype(dtype)
    else:
        X = rng.standard_normal((3, *spatial, 5)).astype(dtype)
    out = pool_output_shape(spatial, kernel, stride, padding, ceil_mode)
    dA = rng.standard_normal((3, *out, 5)).astype(dtype)
    fast, slow = both_paths(monkeypatch, pool_both_ways, X, kernel, stride, padding, ceil_mode, dA)
    assert_same_pooling(fast, slow)


@needs_numba
@pytest.mark.parametrize(
    ("kernel", "stride"), [((2, 2), (2, 2)), ((3, 3), (2, 2)), ((2, 2), (3, 3)), ((17, 16), (1, 1))]
)
def test_max_pool_matches_numpy_on_the_benchmark_shapes(rng, monkeypatch, kernel, stride):
    # exact tiling, overlap (accumulating backward), gaps (zero fill), a uint16 argmax
    X = rng.standard_normal((4, 24, 24, 16)).astype(np.float32)
    X[:, ::3] = 0.5  # ties across rows
    fast, slow = both_paths(monkeypatch, pool_both_ways, X, kernel, stride, (0, 0), False)
    assert_same_pooling(fast, slow)


@needs_numba
def test_max_pool_nan_goes_to_the_output_like_numpy(monkeypatch):
    X = np.array([1.0, np.nan, 3.0, 0.0, 2.0, 5.0, np.nan, np.nan]).reshape(1, 2, 4, 1)
    fast, slow = both_paths(monkeypatch, pool_both_ways, X, (2, 2), (2, 2), (0, 0), False)
    assert np.isnan(fast[0]).all()
    assert_same_pooling(fast, slow)


@needs_numba
def test_max_pool_accepts_a_non_contiguous_input(rng, monkeypatch):
    X = rng.standard_normal((3, 7, 9, 4))[:, 1:, ::2]
    fast, slow = both_paths(monkeypatch, pool_both_ways, X, (2, 3), (2, 1), (1, 1), True)
    assert_same_pooling(fast, slow)


def relu_backward_numpy(A, dA):
    return np.where(A > 0, dA, np.zeros_like(dA))


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 3, 4, 6), (7, 3, 5), (11,), (2, 9)])
def test_relu_backward_on_batch_last_views(rng, dtype, shape):
    # (N, C, *S)-shaped views of (C, *S, N) memory, as the layers pass them
    batch_last = (*shape[1:], shape[0])
    A = from_batch_last(np.maximum(rng.standard_normal(batch_last), 0).astype(dtype))
    A[..., :1] = 0  # the gradient at 0 is 0
    dA = from_batch_last(rng.standard_normal(batch_last).astype(dtype))
    dX = compiled.relu_backward(A, dA)
    assert dX is not None and dX.dtype == dtype and dX.strides == A.strides
    np.testing.assert_array_equal(dX, relu_backward_numpy(A, dA))


@needs_numba
def test_relu_backward_declines_layouts_it_cannot_flatten(rng):
    A = rng.standard_normal((4, 6, 8))
    assert compiled.relu_backward(A, np.asfortranarray(A)) is None  # strides differ
    assert compiled.relu_backward(A[:, ::2], A[:, ::2].copy()) is None  # differ again
    assert compiled.relu_backward(A[:, ::2], A[:, 1::2]) is None  # not contiguous
    assert compiled.relu_backward(A, A.astype(np.float32)) is None  # dtypes differ
    dX = compiled.relu_backward(np.asfortranarray(A), np.asfortranarray(-A))
    np.testing.assert_array_equal(dX, relu_backward_numpy(A, -A))


def run_python(code: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_environment_variable_selects_the_numpy_fallback():
    code = (
        "import numpy as np\n"
        "from scratchcnn.kernels import compiled\n"
        "from scratchcnn.layers import MaxPool2d, ReLU\n"
        "X = np.arange(32.0).reshape(2, 1, 4, 4)\n"
        "Y = MaxPool2d(2).forward(ReLU().forward(X))\n"
        "import sys\n"
        "print(compiled.HAVE_NUMBA, compiled.usable(), 'numba' in sys.modules, Y.sum())"
    )
    assert run_python(code, SCRATCHCNN_NO_NUMBA="1") == "False False False 144.0"


def test_importing_the_library_neither_imports_numba_nor_compiles():
    code = (
        "import sys\n"
        "import scratchcnn.layers, scratchcnn.model, scratchcnn.kernels.compiled\n"
        "print('numba' in sys.modules)"
    )
    assert run_python(code) == "False"


@pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="Numba is not installed")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "kernel, stride, dilation, size",
    [((3, 3), (1, 1), (1, 1), (8, 9)), ((2, 3), (2, 3), (1, 1), (9, 11)),
     ((3, 2), (1, 2), (2, 3), (10, 9)), ((5, 5), (3, 3), (1, 1), (12, 12))],
)
def test_col2im2d_matches_numpy(
    kernel: tuple, stride: tuple, dilation: tuple, size: tuple, dtype: type,
    rng: np.random.Generator,
) -> None:
    from scratchcnn.kernels.im2col import col2im, conv_output_size

    padded = (3, *size, 5)
    out = conv_output_size(size, kernel, stride, dilation)
    cols = rng.standard_normal((3, *kernel, *out, 5)).astype(dtype)
    expected = col2im(cols, padded, kernel, stride, dilation)
    got = compiled.col2im2d(cols, padded, stride, dilation)
    assert got.dtype == dtype
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)
