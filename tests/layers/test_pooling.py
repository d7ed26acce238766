"""Pooling layers: the notebooks' examples, finite differences, shapes, errors, dtypes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scratchcnn.gradcheck import layer_gradient_errors
from scratchcnn.kernels.layout import from_batch_last
from scratchcnn.layers import (
    LAYER_REGISTRY,
    AvgPool1d,
    AvgPool2d,
    GlobalAvgPool2d,
    MaxPool1d,
    MaxPool2d,
)

# every test runs on the compiled Numba loops and on the NumPy fallback
pytestmark = pytest.mark.usefixtures("kernel_path")

NOTEBOOK_X = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)


def distinct_values(rng, shape):
    """Inputs without ties, at least 1e-2 apart, so finite differences never swap a max."""
    return rng.permutation(np.prod(shape)).reshape(shape) * 0.01 + 0.1


# -- the notebooks' worked examples ------------------------------------------------------
def test_notebook_max_pool_forward_and_backward():
    pool = MaxPool2d(2)
    np.testing.assert_array_equal(pool.forward(NOTEBOOK_X)[0, 0], [[6, 8], [14, 16]])
    dX = pool.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    expected = [[0, 0, 0, 0], [0, 1, 0, 2], [0, 0, 0, 0], [0, 3, 0, 4]]
    np.testing.assert_array_equal(dX[0, 0], expected)


def test_notebook_avg_pool_forward_and_backward():
    pool = AvgPool2d(2)
    np.testing.assert_array_equal(pool.forward(NOTEBOOK_X)[0, 0], [[3.5, 5.5], [11.5, 13.5]])
    dX = pool.backward(np.array([[[[4.0, 8.0], [12.0, 16.0]]]]))
    expected = [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    np.testing.assert_array_equal(dX[0, 0], expected)


def test_global_avg_pool_is_the_mean_of_each_plane():
    X = np.concatenate([NOTEBOOK_X, 2 * NOTEBOOK_X], axis=1)  # (1, 2, 4, 4)
    pool = GlobalAvgPool2d()
    np.testing.assert_array_equal(pool.forward(X), [[8.5, 17.0]])
    dX = pool.backward(np.array([[16.0, 32.0]]))
    np.testing.assert_array_equal(dX[0, 0], np.ones((4, 4)))
    np.testing.assert_array_equal(dX[0, 1], np.full((4, 4), 2.0))


# -- finite differences ------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer",
    [
        MaxPool2d(2),
        MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        MaxPool1d(3, stride=1, padding=1),
        AvgPool2d(2),
        AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        AvgPool1d(4, stride=3, padding=2, ceil_mode=True),
        GlobalAvgPool2d(),
    ],
    ids=repr,
)
def test_gradients_match_finite_differences(rng, layer):
    shape = (2, 3, 7) if "1d" in type(layer).__name__ else (2, 2, 5, 7)
    errors = layer_gradient_errors(layer, distinct_values(rng, shape))
    assert errors["X"] < 1e-8


# -- shapes and layouts ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("layer", "input_shape", "expected"),
    [
        (MaxPool2d(2), (6, 24, 24), (6, 12, 12)),
        (MaxPool2d(3, stride=2), (64, 55, 55), (64, 27, 27)),
        (MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (4, 6, 6), (4, 4, 4)),
        (AvgPool2d((2, 3), stride=(1, 2)), (1, 5, 7), (1, 4, 3)),
        (MaxPool1d(2), (8, 41), (8, 20)),
        (AvgPool1d(2, ceil_mode=True), (8, 41), (8, 21)),
        (GlobalAvgPool2d(), (16, 5, 5), (16,)),
    ],
    ids=str,
)
def test_output_shape_agrees_with_forward(rng, layer, input_shape, expected):
    assert layer.output_shape(input_shape) == expected
    assert layer.forward(rng.standard_normal((2, *input_shape))).shape == (2, *expected)


@pytest.mark.parametrize(
    "layer", [MaxPool1d(3, 2, 1), AvgPool1d(2), MaxPool2d(2), AvgPool2d(3, 1, 1)], ids=repr
)
def test_unbatched_input_gives_unbatched_output_and_gradient(rng, layer):
    X = rng.standard_normal((3, 6) if "1d" in repr(layer) else (3, 6, 5))
    A = layer.forward(X)
    batched = type(layer)(**layer.get_config()).forward(X[np.newaxis])
    np.testing.assert_array_equal(A, batched[0])
    assert layer.backward(np.ones_like(A)).shape == X.shape


def test_global_avg_pool_unbatched(rng):
    X = rng.standard_normal((3, 4, 5))
    pool = GlobalAvgPool2d()
    np.testing.assert_allclose(pool.forward(X), X.mean(axis=(1, 2)), rtol=1e-14)
    assert pool.backward(np.ones(3)).shape == X.shape


@pytest.mark.parametrize("layer", [MaxPool2d(2), AvgPool2d(2), MaxPool2d(3, 1, 1)], ids=repr)
def test_batch_last_views_in_and_out(rng, layer):
    memory = np.ascontiguousarray(rng.standard_normal((3, 6, 6, 4)))  # (C, H, W, N)
    X = from_batch_last(memory)
    A = layer.forward(X)
    np.testing.assert_array_equal(A, layer.forward(np.ascontiguousarray(X)))
    assert A.transpose(1, 2, 3, 0).flags.c_contiguous  # an (N, C, H, W) view of batch-last
    dX = layer.backward(np.ones(A.shape))
    assert dX.transpose(1, 2, 3, 0).flags.c_contiguous


@pytest.mark.parametrize(
    "layer", [MaxPool2d(2), AvgPool2d(3, 2, 1, True), MaxPool1d(2), GlobalAvgPool2d()], ids=repr
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_end_to_end(rng, layer, dtype):
    X = rng.standard_normal((2, 3, 6) if "1d" in repr(layer) else (2, 3, 6, 6)).astype(dtype)
    A = layer.forward(X)
    assert A.dtype == dtype
    assert layer.backward(np.ones_like(A)).dtype == dtype


def test_integer_input_becomes_float64():
    A = MaxPool2d(2).forward(np.arange(16).reshape(1, 1, 4, 4))
    assert A.dtype == np.float64


# -- configuration -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("layer", "text"),
    [
        (MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2)"),
        (
            MaxPool2d((3, 2), 1, 1, True),
            "MaxPool2d(kernel_size=(3, 2), stride=1, padding=1, ceil_mode=True)",
        ),
        (
            AvgPool1d(3, 2, count_include_pad=False),
            "AvgPool1d(kernel_size=3, stride=2, count_include_pad=False)",
        ),
        (GlobalAvgPool2d(), "GlobalAvgPool2d()"),
    ],
)
def test_repr(layer, text):
    assert repr(layer) == text


@pytest.mark.parametrize(
    "layer",
    [
        MaxPool2d((3, 2), 1, 1, True),
        AvgPool2d(3, 2, 1, True, False),
        MaxPool1d(2),
        AvgPool1d(5, 3, 2),
        GlobalAvgPool2d(),
    ],
    ids=repr,
)
def test_config_round_trips_through_json(layer):
    config = json.loads(json.dumps(layer.get_config()))
    rebuilt = LAYER_REGISTRY[type(layer).__name__](**config)
    assert repr(rebuilt) == repr(layer)
    assert rebuilt.get_config() == layer.get_config()


# -- errors ------------------------------------------------------------------------------
def test_wrong_rank():
    with pytest.raises(
        ValueError,
        match=r"MaxPool2d\(kernel_size=2, stride=2\): expected 3D "
        r"\(unbatched\) or 4D \(batched\) input, but got input of shape \(4, 4\)",
    ):
        MaxPool2d(2).forward(np.ones((4, 4)))


def test_wrong_rank_1d():
    with pytest.raises(
        ValueError,
        match=r"AvgPool1d\(kernel_size=2, stride=2\): expected 2D "
        r"\(unbatched\) or 3D \(batched\) input, but got input of shape \(1, 2, 3, 4\)",
    ):
        AvgPool1d(2).forward(np.ones((1, 2, 3, 4)))


def test_input_smaller_than_kernel():
    with pytest.raises(
        ValueError,
        match=r"MaxPool2d\(kernel_size=3, stride=3\): input of "
        r"spatial size \(2, 5\) is too small: calculated output size \(0, 1\)",
    ):
        MaxPool2d(3).forward(np.ones((1, 1, 2, 5)))


def test_output_shape_raises_the_same_size_error():
    with pytest.raises(
        ValueError,
        match=r"AvgPool1d\(kernel_size=4, stride=4\): input of "
        r"spatial size \(3,\) is too small",
    ):
        AvgPool1d(4).output_shape((2, 3))


def test_output_shape_wrong_rank():
    with pytest.raises(
        ValueError,
        match=r"MaxPool2d\(kernel_size=2, stride=2\): expected a "
        r"per-sample input shape \(C, H, W\), but got \(1, 2, 4, 4\)",
    ):
        MaxPool2d(2).output_shape((1, 2, 4, 4))


def test_padding_larger_than_half_the_kernel():
    with pytest.raises(
        ValueError,
        match=r"MaxPool2d: pad should be at most half of effective "
        r"kernel size, but got padding=2 and kernel_size=3",
    ):
        MaxPool2d(3, padding=2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"kernel_size": 0},
            r"AvgPool2d: kernel_size must be positive, but got kernel_size=0$",
        ),
        (
            {"kernel_size": 2, "stride": (1, 0)},
            r"AvgPool2d: stride must be positive, but got stride=\(1, 0\)",
        ),
        (
            {"kernel_size": 2, "padding": -1},
            r"AvgPool2d: padding must be at least 0, but got padding=-1$",
        ),
    ],
)
def test_non_positive_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AvgPool2d(**kwargs)


def test_kernel_size_type():
    with pytest.raises(
        TypeError,
        match=r"MaxPool1d: kernel_size must be an int or a tuple of "
        r"1 ints, but got 2.5",
    ):
        MaxPool1d(2.5)


def test_ceil_mode_type():
    with pytest.raises(TypeError, match=r"MaxPool2d: ceil_mode must be a bool, but got 'yes'"):
        MaxPool2d(2, ceil_mode="yes")


def test_count_include_pad_type():
    with pytest.raises(
        TypeError,
        match=r"AvgPool2d: count_include_pad must be a bool, but "
        r"got 1",
    ):
        AvgPool2d(2, count_include_pad=1)


@pytest.mark.parametrize("layer", [MaxPool2d(2), AvgPool2d(2)], ids=repr)
def test_backward_with_wrong_gradient_shape(layer):
    layer.forward(np.ones((2, 1, 4, 4)))
    with pytest.raises(
        ValueError,
        match=r"Pool2d\(kernel_size=2, stride=2\): backward expected "
        r"a gradient dA of shape \(2, 1, 2, 2\) \(the shape of the forward "
        r"output\), but got \(2, 1, 4, 4\)",
    ):
        layer.backward(np.ones((2, 1, 4, 4)))


@pytest.mark.parametrize("layer", [MaxPool1d(2), AvgPool2d(2), GlobalAvgPool2d()], ids=repr)
def test_backward_before_forward(layer):
    with pytest.raises(ValueError, match=r"Pool.*: backward\(\) called before forward\(\)"):
        layer.backward(np.ones((1, 1, 2, 2)))


def test_global_avg_pool_wrong_rank():
    with pytest.raises(
        ValueError,
        match=r"GlobalAvgPool2d\(\): expected 3D \(unbatched\) or 4D "
        r"\(batched\) input, but got input of shape \(2, 3\)",
    ):
        GlobalAvgPool2d().forward(np.ones((2, 3)))


def test_global_avg_pool_empty_plane():
    with pytest.raises(
        ValueError,
        match=r"GlobalAvgPool2d\(\): expected an input of positive "
        r"height and width, but got input of spatial size \(0, 3\)",
    ):
        GlobalAvgPool2d().forward(np.ones((2, 3, 0, 3)))


def test_global_avg_pool_gradient_shape():
    pool = GlobalAvgPool2d()
    pool.forward(np.ones((2, 3, 4, 4)))
    with pytest.raises(
        ValueError,
        match=r"GlobalAvgPool2d\(\): backward expected a gradient dA "
        r"of shape \(2, 3\)",
    ):
        pool.backward(np.ones((3, 2)))


def test_non_numeric_input():
    with pytest.raises(
        TypeError,
        match=r"MaxPool2d\(kernel_size=2, stride=2\): expected input "
        r"to be an array of numbers",
    ):
        MaxPool2d(2).forward(np.array([["a"]]))
