"""Flatten: PyTorch's C-major order, round trip, no copies for batch-last views, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchcnn.kernels.layout import from_batch_last
from scratchcnn.layers import Flatten


def test_notebook_round_trip(rng):
    X = rng.standard_normal((2, 3, 4, 5))
    layer = Flatten()
    A = layer.forward(X)
    assert A.shape == (2, 60)
    np.testing.assert_array_equal(layer.backward(A), X)


@pytest.mark.parametrize("batch_last", [False, True])
def test_order_matches_torch_flatten(rng, batch_last):
    X = rng.standard_normal((2, 3, 4, 5))
    if batch_last:
        X = from_batch_last(np.ascontiguousarray(X.transpose(1, 2, 3, 0)))
    A = Flatten().forward(X)
    np.testing.assert_array_equal(A, torch.nn.Flatten()(torch.tensor(np.array(X))).numpy())


def test_backward_matches_torch(rng):
    X = rng.standard_normal((3, 2, 5))
    layer = Flatten()
    layer.forward(X)
    X_t = torch.tensor(X, requires_grad=True)
    dA = rng.standard_normal((3, 10))
    torch.nn.Flatten()(X_t).backward(torch.tensor(dA))
    np.testing.assert_array_equal(layer.backward(dA), X_t.grad.numpy())


def test_batch_last_input_is_not_copied(rng):
    memory = rng.standard_normal((3, 4, 4, 8)).astype(np.float32)
    A = Flatten().forward(from_batch_last(memory))
    assert np.shares_memory(A, memory)
    assert A.dtype == np.float32


def test_output_shape():
    assert Flatten().output_shape((16, 5, 5)) == (400,)
    assert Flatten().output_shape((7,)) == (7,)
    assert repr(Flatten()) == "Flatten()"


def test_input_without_feature_axes():
    with pytest.raises(
        ValueError,
        match=r"Flatten\(\): expected input of at least 2D \(N, \.\.\.\), "
        r"but got input of shape \(5,\)",
    ):
        Flatten().forward(np.ones(5))


def test_output_shape_of_an_empty_sample_shape():
    with pytest.raises(
        ValueError,
        match=r"Flatten\(\): expected a per-sample input shape with at "
        r"least 1 axis, but got \(\)",
    ):
        Flatten().output_shape(())


def test_backward_with_wrong_gradient_shape():
    layer = Flatten()
    layer.forward(np.ones((2, 3, 4)))
    with pytest.raises(
        ValueError,
        match=r"Flatten\(\): backward expected a gradient dA of shape "
        r"\(2, 12\) \(the shape of the forward output\), but got \(2, 3, 4\)",
    ):
        layer.backward(np.ones((2, 3, 4)))


def test_backward_before_forward():
    with pytest.raises(ValueError, match=r"Flatten\(\): backward\(\) called before forward\(\)"):
        Flatten().backward(np.ones((2, 3)))
