"""Pooling kernels against naive loops over every window, in the batch-last layout."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from scratchcnn.kernels.pooling import (
    avg_pool_backward,
    avg_pool_divisor,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
    pool_output_size,
)

# every test runs on the compiled Numba loops and on the NumPy fallback
pytestmark = pytest.mark.usefixtures("kernel_path")


def naive_pool(X, kernel, stride, padding, ceil_mode, mode, count_include_pad=True):
    """Loops over channels, positions and batch: Y and dX for dA = 1 (max: first maximum)."""
    C, *spatial, N = X.shape
    axes = list(zip(spatial, kernel, stride, padding, strict=True))
    out = [pool_output_size(n, k, s, p, ceil_mode) for n, k, s, p in axes]
    Y = np.zeros((C, *out, N))
    dX = np.zeros(X.shape)
    for c, n in itertools.product(range(C), range(N)):
        for position in itertools.product(*(range(o) for o in out)):
            padded_size, window_axes = 1, []
            for o, (size, k, s, p) in zip(position, axes, strict=True):
                start, end = o * s - p, min(o * s - p + k, size + p)  # clipped to input + pad
                padded_size *= end - start
                window_axes.append(range(max(start, 0), min(end, size)))
            window = list(itertools.product(*window_axes))
            values = [X[(c, *index, n)] for index in window]
            if mode == "max":
                best = int(np.argmax(values))  # np.argmax returns the first maximum
                Y[(c, *position, n)] = values[best]
                dX[(c, *window[best], n)] += 1.0
            else:
                divisor = padded_size if count_include_pad else len(window)
                Y[(c, *position, n)] = sum(values) / divisor
                for index in window:
                    dX[(c, *index, n)] += 1.0 / divisor
    return Y, dX


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "ceil_mode", "expected"),
    [
        (4, 2, 2, 0, False, 2),
        (5, 2, 2, 0, False, 2),
        (5, 2, 2, 0, True, 3),
        (6, 3, 2, 1, True, 4),  # last window would start in the right padding: dropped
        (6, 3, 2, 1, False, 3),
        (1, 3, 1, 1, False, 1),
        (2, 3, 1, 0, False, 0),  # too small: callers report it
    ],
)
def test_pool_output_size_matches_pytorch_formula(
    size, kernel, stride, padding, ceil_mode, expected
):
    assert pool_output_size(size, kernel, stride, padding, ceil_mode) == expected


@pytest.mark.parametrize("spatial_dims", [1, 2, 3])
@pytest.mark.parametrize("case", range(6))
def test_kernels_match_naive_loops(rng, spatial_dims, case):
    kernel = tuple(int(k) for k in rng.integers(1, 4, spatial_dims))
    stride = tuple(int(s) for s in rng.integers(1, 4, spatial_dims))
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    ceil_mode = bool(case % 2)
    spatial = tuple(int(k + rng.integers(0, 4)) for k in kernel)
    X = rng.integers(-3, 4, (2, *spatial, 3)).astype(np.float64)  # integers: many ties
    for mode in ("max", "avg"):
        for count_include_pad in (True, False):
            Y_ref, dX_ref = naive_pool(
                X, kernel, stride, padding, ceil_mode, mode, count_include_pad
            )
            if mode == "max":
                Y, argmax = max_pool_forward(X, kernel, stride, padding, ceil_mode)
                dX = max_pool_backward(np.ones_like(Y), argmax, X.shape, kernel, stride, padding)
            else:
                Y = avg_pool_forward(X, kernel, stride, padding, ceil_mode, count_include_pad)
                dX = avg_pool_backward(
                    np.ones_like(Y), X.shape, kernel, stride, padding, count_include_pad
                )
            np.testing.assert_allclose(Y, Y_ref, rtol=0, atol=1e-12)
            np.testing.assert_allclose(dX, dX_ref, rtol=0, atol=1e-12)


def test_max_pool_padding_never_wins_over_negative_inputs():
    X = -np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    Y, _ = max_pool_forward(X, (3, 3), (1, 1), (1, 1))
    assert Y[0, :, :, 0].max() == -1.0
    assert np.isfinite(Y).all()


def test_max_pool_ties_go_to_first_offset_in_row_major_order():
    X = np.zeros((1, 2, 2, 1))
    Y, argmax = max_pool_forward(X, (2, 2), (2, 2), (0, 0))
    dX = max_pool_backward(np.ones_like(Y), argmax, X.shape, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(dX[0, :, :, 0], [[1.0, 0.0], [0.0, 0.0]])


def test_avg_pool_divisor_clips_ceil_mode_windows_to_input_plus_padding():
    # size 6, kernel 3, stride 2, padding 1, ceil_mode: 4 windows start at -1, 1, 3, 5; the
    # last hangs past input + padding [-1, 7) and is clipped to [5, 7): size 2, not 3.
    # Without the padding the windows are [0, 2), [1, 4), [3, 6), [5, 6).
    float64 = np.dtype(np.float64)
    with_pad = avg_pool_divisor((6,), (4,), (3,), (2,), (1,), True, float64)
    without = avg_pool_divisor((6,), (4,), (3,), (2,), (1,), False, float64)
    np.testing.assert_array_equal(np.ravel(with_pad), [3, 3, 3, 2])
    np.testing.assert_array_equal(np.ravel(without), [2, 3, 3, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_keep_dtype(rng, dtype):
    X = rng.standard_normal((2, 5, 5, 3)).astype(dtype)
    Y, argmax = max_pool_forward(X, (3, 3), (2, 2), (1, 1), True)
    dX = max_pool_backward(Y, argmax, X.shape, (3, 3), (2, 2), (1, 1))
    Z = avg_pool_forward(X, (3, 3), (2, 2), (1, 1), True, False)
    dZ = avg_pool_backward(Z, X.shape, (3, 3), (2, 2), (1, 1), False)
    assert Y.dtype == dX.dtype == Z.dtype == dZ.dtype == dtype


def test_exact_tiling_reads_the_input_without_copying_it(rng):
    X = rng.standard_normal((2, 4, 6, 3))
    Y, argmax = max_pool_forward(X, (2, 2), (2, 2), (0, 0))
    manual = X.reshape(2, 2, 2, 3, 2, 3).max(axis=(2, 4))
    np.testing.assert_array_equal(Y, manual)
    assert Y.flags.c_contiguous and argmax.dtype == np.uint8


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "kernel, stride, padding",
    [((2, 2), (2, 2), (0, 0)), ((3, 3), (2, 2), (1, 1)), ((3,), (1,), (1,)), ((2,), (2,), (0,))],
)
def test_max_pool_backward_applies_the_relu_before_exactly(rng, dtype, kernel, stride, padding):
    """rectified_input: the pool's gradient and then the ReLU's, equal to doing them apart.

    The input is a ReLU's output: many zeros (ties at 0), NaN and windows that overlap.
    """
    from scratchcnn.kernels import compiled

    spatial = (7, 6)[: len(kernel)]
    A = np.maximum(rng.standard_normal((3, *spatial, 5)), 0).astype(dtype)
    A[0, 1, ..., 2] = np.nan
    _, argmax = max_pool_forward(A, kernel, stride, padding, False)
    dA = rng.standard_normal((3, *argmax.shape[1:-1], 5)).astype(dtype)
    fused = max_pool_backward(dA, argmax, A.shape, kernel, stride, padding, rectified_input=A)
    apart = max_pool_backward(dA, argmax, A.shape, kernel, stride, padding)
    relu = compiled.relu_backward(A, apart) if compiled.ENABLED else None
    if relu is None:  # the NumPy ReLU: multiply by the float mask
        relu = apart * (A > 0).astype(dtype)
    np.testing.assert_array_equal(fused, relu)
    assert np.count_nonzero(fused) < np.count_nonzero(apart)  # the mask took something
