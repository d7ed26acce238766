"""AdaptiveAvgPool1d/2d, GlobalMaxPool2d against PyTorch in float64, finite differences, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from scratchcnn.gradcheck import layer_gradient_errors
from scratchcnn.kernels.adaptive_pooling import adaptive_bins
from scratchcnn.kernels.layout import from_batch_last
from scratchcnn.layers import (
    LAYER_REGISTRY,
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    GlobalMaxPool2d,
)


def assert_close(ours, theirs):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
    assert float(np.max(np.abs(ours - theirs), initial=0.0)) <= 1e-10 * scale


def compare(layer, module, X, rng):
    A = layer.forward(X)
    X_t = torch.tensor(X, requires_grad=True)
    A_t = module(X_t)
    assert_close(A, A_t)
    dA = rng.standard_normal(A.shape)
    A_t.backward(torch.tensor(dA))
    assert_close(layer.backward(dA), X_t.grad)


@pytest.mark.parametrize("out", [1, 2, 3, 4, 5, 7, 8, 13, 20])
@pytest.mark.parametrize("length", [1, 5, 7, 12, 13])
def test_adaptive_avg_1d_matches_torch(rng, length, out):
    X = rng.standard_normal((3, 2, length))
    compare(AdaptiveAvgPool1d(out), torch.nn.AdaptiveAvgPool1d(out), X, rng)


SIZES_2D = [1, 3, 7, (2, 5), (5, 2), (3, None), (None, 4), (None, None), (9, 14), (1, 6)]


@pytest.mark.parametrize("out", SIZES_2D, ids=str)
@pytest.mark.parametrize("spatial", [(1, 1), (6, 9), (7, 5), (13, 13), (3, 14)], ids=str)
def test_adaptive_avg_2d_matches_torch(rng, spatial, out):
    X = rng.standard_normal((2, 3, *spatial))
    compare(AdaptiveAvgPool2d(out), torch.nn.AdaptiveAvgPool2d(out), X, rng)


def test_adaptive_avg_unbatched_matches_torch(rng):
    compare(AdaptiveAvgPool2d((3, 4)), torch.nn.AdaptiveAvgPool2d((3, 4)),
            rng.standard_normal((2, 7, 9)), rng)
    compare(AdaptiveAvgPool1d(3), torch.nn.AdaptiveAvgPool1d(3), rng.standard_normal((2, 7)), rng)


def test_bins_are_pytorchs():
    # the formula of ATen's AdaptiveAveragePooling: start = floor(i*L/O), end = ceil((i+1)*L/O)
    start, end = adaptive_bins(10, 4)
    assert start.tolist() == [0, 2, 5, 7] and end.tolist() == [3, 5, 8, 10]
    start, end = adaptive_bins(3, 5)  # more outputs than inputs: bins repeat elements
    assert start.tolist() == [0, 0, 1, 1, 2] and end.tolist() == [1, 2, 2, 3, 3]


@pytest.mark.parametrize(
    ("layer", "shape"),
    [(AdaptiveAvgPool1d(3), (2, 2, 8)), (AdaptiveAvgPool2d((2, 3)), (2, 2, 5, 7)),
     (GlobalMaxPool2d(), (2, 3, 4, 5))],
    ids=repr,
)
def test_gradients_match_finite_differences(rng, layer, shape):
    errors = layer_gradient_errors(layer, rng.standard_normal(shape))
    assert max(errors.values()) < 1e-8


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_kept_and_batch_last_view_accepted(rng, dtype):
    X = from_batch_last(rng.standard_normal((3, 9, 8, 4)).astype(dtype))
    for layer in (AdaptiveAvgPool2d(4), GlobalMaxPool2d()):
        A = layer.forward(X)
        dX = layer.backward(np.ones(A.shape, dtype=dtype))
        assert A.dtype == dtype and dX.dtype == dtype and dX.shape == X.shape


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 1, 1), (4, 3, 7, 2)], ids=str)
def test_global_max_matches_torch(rng, shape):
    X = rng.standard_normal(shape)
    module = torch.nn.Sequential(torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten(0 if len(shape)
                                                                               == 3 else 1))
    compare(GlobalMaxPool2d(), module, X, rng)


def test_global_max_nan_propagates_and_ties_go_to_the_first():
    X = np.array([[[[1.0, 3.0], [3.0, 0.0]], [[0.0, np.nan], [5.0, 1.0]]]])
    layer = GlobalMaxPool2d()
    A = layer.forward(X)
    assert A[0, 0] == 3.0 and np.isnan(A[0, 1])
    dX = layer.backward(np.ones((1, 2)))
    np.testing.assert_array_equal(dX[0, 0], [[0, 1], [0, 0]])
    np.testing.assert_array_equal(dX[0, 1], [[0, 1], [0, 0]])


@pytest.mark.parametrize(
    ("layer", "text", "sample", "out"),
    [
        (AdaptiveAvgPool2d((7, 7)), "AdaptiveAvgPool2d(output_size=7)", (3, 13, 13), (3, 7, 7)),
        (AdaptiveAvgPool2d((3, None)), "AdaptiveAvgPool2d(output_size=(3, None))", (2, 8, 5),
         (2, 3, 5)),
        (AdaptiveAvgPool2d(None), "AdaptiveAvgPool2d(output_size=None)", (2, 8, 5), (2, 8, 5)),
        (AdaptiveAvgPool1d(4), "AdaptiveAvgPool1d(output_size=4)", (2, 9), (2, 4)),
        (GlobalMaxPool2d(), "GlobalMaxPool2d()", (5, 3, 3), (5,)),
    ],
)
def test_repr_config_and_output_shape(layer, text, sample, out):
    assert repr(layer) == text
    config = json.loads(json.dumps(layer.get_config()))
    rebuilt = LAYER_REGISTRY[type(layer).__name__](**config)
    assert repr(rebuilt) == text
    assert layer.output_shape(sample) == out == rebuilt.output_shape(sample)
    assert layer.params() == {} and layer.num_params() == 0


@pytest.mark.parametrize("bad", ["7", 2.5, (2, 3, 4), True, [None]])
def test_output_size_type(bad):
    with pytest.raises(TypeError, match=r"AdaptiveAvgPool2d: output_size must be a positive "
                       r"int, None or a tuple of 2 positive ints or Nones, but got"):
        AdaptiveAvgPool2d(bad)


def test_output_size_value():
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool1d: output_size must be positive "
                       r"\(or None to keep an axis\), but got output_size=0"):
        AdaptiveAvgPool1d(0)


def test_wrong_rank():
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d\(output_size=3\): expected 3D "
                       r"\(unbatched\) or 4D \(batched\) input, but got input of shape \(2, 8\)"):
        AdaptiveAvgPool2d(3).forward(np.ones((2, 8)))
    with pytest.raises(ValueError, match=r"GlobalMaxPool2d\(\): expected 3D \(unbatched\) or "
                       r"4D \(batched\) input, but got input of shape \(2, 8\)"):
        GlobalMaxPool2d().forward(np.ones((2, 8)))


def test_empty_spatial_axis():
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool1d\(output_size=2\): expected an input "
                       r"of positive size in every spatial axis, but got spatial size \(0,\)"):
        AdaptiveAvgPool1d(2).forward(np.ones((2, 3, 0)))
    with pytest.raises(ValueError, match=r"GlobalMaxPool2d\(\): expected an input of positive "
                       r"height and width"):
        GlobalMaxPool2d().output_shape((3, 0, 2))


def test_output_shape_rank():
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool1d\(output_size=2\): expected a "
                       r"per-sample input shape \(C, L\), but got \(3, 4, 5\)"):
        AdaptiveAvgPool1d(2).output_shape((3, 4, 5))


def test_backward_checks():
    layer = AdaptiveAvgPool2d(2)
    with pytest.raises(ValueError, match=r"backward\(\) called before forward\(\)"):
        layer.backward(np.ones((1, 1, 2, 2)))
    layer.forward(np.ones((1, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d\(output_size=2\): backward expected "
                       r"a gradient dA of shape \(1, 1, 2, 2\)"):
        layer.backward(np.ones((1, 1, 3, 3)))
    pool = GlobalMaxPool2d()
    pool.forward(np.ones((2, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"GlobalMaxPool2d\(\): backward expected a gradient dA "
                       r"of shape \(2, 3\)"):
        pool.backward(np.ones((3, 2)))
