"""Identity: passes arrays through both ways, like torch.nn.Identity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchcnn.layers import LAYER_REGISTRY, Dense, Identity
from scratchcnn.model import Sequential


@pytest.mark.parametrize("shape", [(), (3,), (2, 3, 4, 5)], ids=str)
def test_passes_through(rng, shape):
    X = rng.standard_normal(shape)
    layer = Identity()
    A = layer.forward(X)
    assert A is X
    dA = rng.standard_normal(shape)
    assert layer.backward(dA) is dA
    module = torch.nn.Identity()
    np.testing.assert_array_equal(A, module(torch.tensor(X)).numpy())


def test_ignores_arguments_like_torch():
    layer = Identity(54, unused_argument=0.1)
    assert repr(layer) == "Identity()" and layer.get_config() == {}
    assert LAYER_REGISTRY["Identity"] is Identity
    assert layer.output_shape((3, 4)) == (3, 4) and layer.num_params() == 0


def test_integer_input_becomes_float():
    assert Identity().forward(np.arange(3)).dtype == np.float64


def test_last_layer_of_a_model_returns_a_fresh_array(rng):
    model = Sequential([Dense(3, 2), Identity()], dtype=np.float64)
    first = model.forward(rng.standard_normal((4, 3)))
    kept = first.copy()
    model.forward(rng.standard_normal((4, 3)))
    np.testing.assert_array_equal(first, kept)


def test_backward_checks():
    layer = Identity()
    with pytest.raises(ValueError, match=r"Identity\(\): backward\(\) called before forward\(\)"):
        layer.backward(np.ones(2))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"Identity\(\): backward expected a gradient dA of shape "
                       r"\(2, 3\)"):
        layer.backward(np.ones((3, 2)))
