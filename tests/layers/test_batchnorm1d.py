"""BatchNorm1d against torch.nn.BatchNorm1d in float64 on (N, C) and (N, C, L); momentum=None."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from scratchcnn.gradcheck import layer_gradient_errors
from scratchcnn.kernels.layout import from_batch_last
from scratchcnn.layers import LAYER_REGISTRY, BatchNorm1d, BatchNorm2d


def assert_close(ours, theirs):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.max(np.abs(theirs))))
    assert float(np.max(np.abs(ours - theirs))) <= 1e-10 * scale


def twin(layer, rng, torch_class):
    """A torch batch norm in float64 with our (randomized) parameters and buffers."""
    module = torch_class(layer.num_features, layer.eps, layer.momentum, layer.affine,
                         layer.track_running_stats, dtype=torch.float64)
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


def run_steps(layer, module, rng, shape, steps=3):
    for step in range(steps):  # running statistics are updated and then used
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


KWARGS = [{}, {"momentum": 0.3, "eps": 1e-3}, {"momentum": None}, {"affine": False},
          {"track_running_stats": False}, {"momentum": 0.0}, {"momentum": 1.0}]


@pytest.mark.parametrize("kwargs", KWARGS, ids=str)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (2, 5), (4, 3, 7), (1, 2, 5), (6, 4, 1)], ids=str)
def test_matches_pytorch(rng, kwargs, training, shape, kernel_path):
    layer = BatchNorm1d(shape[1], **kwargs).train(training)
    module = twin(layer, rng, torch.nn.BatchNorm1d).train(training)
    run_steps(layer, module, rng, shape)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm2d_cumulative_average_matches_pytorch(rng, training):
    layer = BatchNorm2d(3, momentum=None).train(training)
    module = twin(layer, rng, torch.nn.BatchNorm2d).train(training)
    run_steps(layer, module, rng, (4, 3, 2, 3), steps=4)
    expected = 4 if training else 0
    assert float(layer.num_batches_tracked) == module.num_batches_tracked.item() == expected


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4)], ids=str)
@pytest.mark.parametrize("training", [True, False])
def test_gradients_match_finite_differences(rng, shape, training, kernel_path):
    layer = BatchNorm1d(shape[1]).train(training)
    twin(layer, rng, torch.nn.BatchNorm1d)
    errors = layer_gradient_errors(layer, rng.standard_normal(shape))
    assert max(errors.values()) < 1e-7


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_batch_last_layout_are_kept(rng, dtype):
    layer = BatchNorm1d(4)
    X = from_batch_last(rng.standard_normal((4, 6, 5)).astype(dtype))
    A = layer.forward(X)
    dX = layer.backward(from_batch_last(np.ones((4, 6, 5), dtype=dtype)))
    for array in (A, dX, layer.dW, layer.db, layer.running_mean, layer.running_var):
        assert array.dtype == dtype
    assert A.transpose(1, 2, 0).flags.c_contiguous


def test_buffers_params_and_config():
    layer = BatchNorm1d(6, momentum=None)
    assert set(layer.buffers()) == {"running_mean", "running_var", "num_batches_tracked"}
    assert set(BatchNorm1d(6).buffers()) == {"running_mean", "running_var"}
    assert layer.num_params() == 12
    text = "BatchNorm1d(6, momentum=None)"
    assert repr(layer) == text
    config = json.loads(json.dumps(layer.get_config()))
    assert repr(LAYER_REGISTRY["BatchNorm1d"](**config)) == text
    assert layer.output_shape((6,)) == (6,) and layer.output_shape((6, 9)) == (6, 9)


def test_wrong_rank():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected 2D \(N, C\) or 3D "
                       r"\(N, C, L\) input, but got input of shape \(2, 3, 4, 4\)"):
        BatchNorm1d(3).forward(np.ones((2, 3, 4, 4)))


def test_output_shape_errors():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected a per-sample input shape "
                       r"\(C,\) or \(C, L\), but got \(3, 4, 4\)"):
        BatchNorm1d(3).output_shape((3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected input with 3 channels, but "
                       r"got input with 5 channels \(per-sample shape \(5,\)\)"):
        BatchNorm1d(3).forward(np.ones((2, 5)))


def test_one_value_per_channel_in_training():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected more than 1 value per "
                       r"channel when training, but got input of shape \(1, 3\)"):
        BatchNorm1d(3).forward(np.ones((1, 3)))
    BatchNorm1d(3).eval().forward(np.ones((1, 3)))  # eval mode uses the running statistics


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"BatchNorm1d: momentum must be in \[0, 1\], but got "
                       r"momentum=-0.5"):
        BatchNorm1d(3, momentum=-0.5)
    with pytest.raises(TypeError, match="BatchNorm1d: track_running_stats must be a bool"):
        BatchNorm1d(3, track_running_stats="yes")


# -- the rest of torch's module inputs for BatchNorm1d (common_modules.py) ----------------------
@pytest.mark.parametrize("training", [True, False])
def test_bias_false_matches_torch(rng, training, kernel_path):
    layer = BatchNorm1d(10, bias=False).train(training)
    assert layer.params().keys() == {"W"} and layer.num_params() == 10
    module = torch.nn.BatchNorm1d(10, bias=False, dtype=torch.float64).train(training)
    with torch.no_grad():
        layer.W[...] = rng.uniform(0.5, 1.5, 10)
        module.weight.copy_(torch.tensor(layer.W))
    X = rng.standard_normal((4, 10))
    A = layer.forward(X)
    X_t = torch.tensor(X, requires_grad=True)
    A_t = module(X_t)
    assert_close(A, A_t)
    dA = rng.standard_normal(A.shape)
    A_t.backward(torch.tensor(dA))
    assert_close(layer.backward(dA), X_t.grad)
    assert_close(layer.dW, module.weight.grad)
    assert repr(layer) == "BatchNorm1d(10, bias=False)"
    assert BatchNorm1d(**layer.get_config()).params().keys() == {"W"}


@pytest.mark.parametrize("momentum", [0.3, None])
@pytest.mark.parametrize("training", [True, False])
def test_empty_batch_is_torchs(rng, momentum, training):
    layer = BatchNorm1d(5, 1e-3, momentum).train(training)
    module = twin(layer, rng, torch.nn.BatchNorm1d).train(training)
    X = np.zeros((0, 5, 9))
    A = layer.forward(X)
    X_t = torch.tensor(X, requires_grad=True)
    A_t = module(X_t)
    assert A.shape == (0, 5, 9)
    A_t.sum().backward()
    assert layer.backward(np.zeros((0, 5, 9))).shape == (0, 5, 9)
    assert_close(layer.running_mean, module.running_mean)
    assert_close(layer.dW, module.weight.grad)
    if momentum is None:
        assert float(layer.num_batches_tracked) == module.num_batches_tracked.item()


def test_bias_must_be_a_bool():
    with pytest.raises(TypeError, match="BatchNorm1d: bias must be a bool, but got None"):
        BatchNorm1d(3, bias=None)
