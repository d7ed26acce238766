"""BatchNorm2d against torch.nn.BatchNorm2d: outputs, gradients, running stats, modes, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from scratchcnn.gradcheck import layer_gradient_errors
from scratchcnn.kernels.layout import from_batch_last
from scratchcnn.layers import LAYER_REGISTRY, BatchNorm2d


def assert_close(ours, theirs):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.max(np.abs(theirs))))
    assert float(np.max(np.abs(ours - theirs))) <= 1e-10 * scale


def twin(layer, rng):
    """A torch BatchNorm2d in float64 with our (randomized) parameters and buffers."""
    module = torch.nn.BatchNorm2d(
        layer.num_features,
        layer.eps,
        layer.momentum,
        layer.affine,
        layer.track_running_stats,
        dtype=torch.float64,
    )
    with torch.no_grad():
        if layer.affine:
            layer.W[...] = rng.uniform(0.5, 1.5, layer.num_features)
            layer.b[...] = rng.standard_normal(layer.num_features)
            module.weight.copy_(torch.tensor(layer.W))
            module.bias.copy_(torch.tensor(layer.b))
        if layer.track_running_stats:
            layer.running_mean[...] = rng.standard_normal(layer.num_features)
            layer.running_var[...] = rng.uniform(0.5, 2.0, layer.num_features)
            module.running_mean.copy_(torch.tensor(layer.running_mean))
            module.running_var.copy_(torch.tensor(layer.running_var))
    return module


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"momentum": 0.3, "eps": 1e-3}, {"affine": False}, {"track_running_stats": False}],
    ids=str,
)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (1, 2, 3, 3), (7, 5, 1, 1)], ids=str)
def test_matches_pytorch(rng, kwargs, training, shape, kernel_path):
    layer = BatchNorm2d(shape[1], **kwargs)
    module = twin(layer, rng)
    layer.train(training)
    module.train(training)
    for step in range(2):  # two steps: running statistics are updated and then used
        X = 3 * rng.standard_normal(shape) + step
        A = layer.forward(X)
        X_t = torch.tensor(X, requires_grad=True)
        A_t = module(X_t)
        assert_close(A, A_t)
        dA = rng.standard_normal(shape)
        A_t.backward(torch.tensor(dA))
        assert_close(layer.backward(dA), X_t.grad)
        if layer.affine:
            assert_close(layer.dW, module.weight.grad)
            assert_close(layer.db, module.bias.grad)
            module.weight.grad = module.bias.grad = None
        if layer.track_running_stats:
            assert_close(layer.running_mean, module.running_mean)
            assert_close(layer.running_var, module.running_var)


@pytest.mark.parametrize("training", [True, False])
def test_gradients_match_finite_differences(rng, training, kernel_path):
    layer = BatchNorm2d(3).train(training)
    twin(layer, rng)  # non-trivial gamma, beta and running statistics
    layer.running_mean = layer.running_mean.astype(np.float64)  # keep them fixed in float64
    layer.running_var = layer.running_var.astype(np.float64)
    # in training mode each forward moves the running stats; finite differences don't see them
    errors = layer_gradient_errors(layer, rng.standard_normal((3, 3, 2, 4)))
    assert max(errors.values()) < 1e-7


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("training", [True, False])
def test_dtype_and_batch_last_layout_are_kept(rng, dtype, training, kernel_path):
    layer = BatchNorm2d(4).train(training)
    X = from_batch_last(rng.standard_normal((4, 3, 3, 5)).astype(dtype))
    A = layer.forward(X)
    dX = layer.backward(from_batch_last(np.ones((4, 3, 3, 5), dtype=dtype)))
    for array in (A, dX, layer.dW, layer.db, layer.running_mean, layer.running_var):
        assert array.dtype == dtype
    assert A.transpose(1, 2, 3, 0).flags.c_contiguous
    assert dX.transpose(1, 2, 3, 0).flags.c_contiguous


def test_parameters_and_buffers():
    layer = BatchNorm2d(6)
    assert set(layer.params()) == {"W", "b"} and set(layer.buffers()) == {
        "running_mean",
        "running_var",
    }
    np.testing.assert_array_equal(layer.W, np.ones(6))
    assert layer.num_params() == 12
    bare = BatchNorm2d(6, affine=False, track_running_stats=False)
    assert bare.params() == {} and bare.buffers() == {} and bare.num_params() == 0


def test_running_stats_are_updated_in_place(rng):
    layer = BatchNorm2d(2)
    running_mean = layer.running_mean
    layer.forward(rng.standard_normal((4, 2, 3, 3)).astype(np.float32))  # same dtype: no cast
    assert layer.running_mean is running_mean
    assert not np.array_equal(running_mean, np.zeros(2))


@pytest.mark.parametrize(
    ("layer", "text"),
    [
        (BatchNorm2d(16), "BatchNorm2d(16)"),
        (
            BatchNorm2d(8, eps=1e-3, momentum=0.2, affine=False, track_running_stats=False),
            "BatchNorm2d(8, eps=0.001, momentum=0.2, affine=False, track_running_stats=False)",
        ),
    ],
)
def test_repr_and_config(layer, text):
    assert repr(layer) == text
    config = json.loads(json.dumps(layer.get_config()))
    assert repr(LAYER_REGISTRY["BatchNorm2d"](**config)) == text
    assert layer.output_shape((layer.num_features, 5, 5)) == (layer.num_features, 5, 5)


def test_wrong_rank():
    with pytest.raises(
        ValueError,
        match=r"BatchNorm2d\(3\): expected 4D \(N, C, H, W\) input, "
        r"but got input of shape \(3, 4, 4\)",
    ):
        BatchNorm2d(3).forward(np.ones((3, 4, 4)))


def test_channel_mismatch():
    with pytest.raises(
        ValueError,
        match=r"BatchNorm2d\(3\): expected input with 3 channels, but "
        r"got input with 4 channels \(per-sample shape \(4, 5, 5\)\)",
    ):
        BatchNorm2d(3).forward(np.ones((2, 4, 5, 5)))


def test_output_shape_channel_mismatch():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected input with 3 channels"):
        BatchNorm2d(3).output_shape((4, 5, 5))


def test_output_shape_wrong_rank():
    with pytest.raises(
        ValueError,
        match=r"BatchNorm2d\(3\): expected a per-sample input shape "
        r"\(C, H, W\), but got \(3, 5\)",
    ):
        BatchNorm2d(3).output_shape((3, 5))


def test_one_value_per_channel_in_training():
    with pytest.raises(
        ValueError,
        match=r"BatchNorm2d\(3\): expected more than 1 value per "
        r"channel when training, but got input of shape \(1, 3, 1, 1\)",
    ):
        BatchNorm2d(3).forward(np.ones((1, 3, 1, 1)))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_features": 0}, ValueError, r"BatchNorm2d: num_features must be positive"),
        (
            {"num_features": 2, "eps": 0.0},
            ValueError,
            r"BatchNorm2d: eps must be positive, but "
            r"got eps=0.0",
        ),
        (
            {"num_features": 2, "momentum": 1.5},
            ValueError,
            r"BatchNorm2d: momentum must be in "
            r"\[0, 1\], but got momentum=1.5",
        ),
        (
            {"num_features": 2, "momentum": "0.1"},
            TypeError,
            r"BatchNorm2d: momentum must be a "
            r"number, but got '0.1'",
        ),
        (
            {"num_features": 2, "affine": 1},
            TypeError,
            r"BatchNorm2d: affine must be a bool, but "
            r"got 1",
        ),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        BatchNorm2d(**kwargs)


def test_backward_with_wrong_gradient_shape():
    layer = BatchNorm2d(2)
    layer.forward(np.ones((2, 2, 3, 3)))
    with pytest.raises(
        ValueError,
        match=r"BatchNorm2d\(2\): backward expected a gradient dA of "
        r"shape \(2, 2, 3, 3\)",
    ):
        layer.backward(np.ones((2, 2, 3, 4)))


def test_backward_before_forward():
    with pytest.raises(
        ValueError,
        match=r"BatchNorm2d\(2\): backward\(\) called before "
        r"forward\(\)",
    ):
        BatchNorm2d(2).backward(np.ones((2, 2, 3, 3)))


@pytest.mark.parametrize("training", [True, False])
def test_float32_with_a_large_mean_stays_accurate(rng, training, kernel_path):
    """float32 data far from zero (mean 100, std 1): output and gradients close to float64."""
    X = (100 + rng.standard_normal((16, 4, 9, 9))).astype(np.float32)
    dA = rng.standard_normal(X.shape).astype(np.float32)
    results = []
    for dtype in (np.float32, np.float64):
        layer = BatchNorm2d(4)
        layer.running_mean[:] = 100.0
        layer.train(training)
        A = layer.forward(X.astype(dtype))
        results.append((A, layer.backward(dA.astype(dtype)), layer.dW, layer.db))
    for got, want in zip(*results, strict=True):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3 * np.abs(want).max())


@pytest.mark.parametrize("affine", [True, False])
def test_inference_under_no_grad_matches_pytorch(rng, affine, kernel_path):
    """Eval mode without a graph: one scale and shift (compiled: one pass), as torch's eval."""
    from scratchcnn.grad_mode import no_grad

    layer = BatchNorm2d(3, affine=affine)
    module = twin(layer, rng)
    layer.eval()
    module.eval()
    X = rng.standard_normal((6, 3, 5, 7)) * 3 + 2
    with no_grad():
        A = layer.forward(X)
    assert_close(A, module(torch.tensor(X)))
