"""Dropout: inverted scaling, eval identity, reproducible masks, layout, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import scratchcnn.random
from scratchcnn.kernels.layout import from_batch_last
from scratchcnn.layers import LAYER_REGISTRY, Dropout


def test_kept_elements_are_scaled_and_the_rate_is_p(rng):
    X = rng.uniform(1.0, 2.0, (200, 500))
    layer = Dropout(0.3, seed=0)
    A = layer.forward(X)
    kept = A != 0
    np.testing.assert_allclose(A[kept], X[kept] / 0.7, rtol=1e-15)
    assert abs(1 - kept.mean() - 0.3) < 0.005  # 100,000 draws: 5 standard deviations is 0.007
    dA = rng.standard_normal(X.shape)
    np.testing.assert_allclose(layer.backward(dA), np.where(kept, dA / 0.7, 0.0), rtol=1e-15)


def test_scaling_matches_pytorch_exactly(rng):
    """Where both keep an element, both give X / (1 - p) to the last bit (float32 too)."""
    for dtype in (np.float32, np.float64):
        X = rng.standard_normal((50, 40)).astype(dtype)
        A = Dropout(0.35, seed=1).forward(X)
        A_t = torch.nn.functional.dropout(torch.from_numpy(X), 0.35).numpy()
        both = (A != 0) & (A_t != 0)
        assert both.any()
        np.testing.assert_array_equal(A[both], A_t[both])


def test_eval_mode_is_the_identity(rng):
    X = rng.standard_normal((4, 5))
    layer = Dropout(0.5).eval()
    assert layer.forward(X) is X
    dA = rng.standard_normal((4, 5))
    np.testing.assert_array_equal(layer.backward(dA), dA)


def test_p_zero_and_p_one(rng):
    X = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(Dropout(0.0).forward(X), X)
    layer = Dropout(1.0)
    np.testing.assert_array_equal(layer.forward(np.full((3, 4), np.inf)), np.zeros((3, 4)))
    np.testing.assert_array_equal(layer.backward(np.ones((3, 4))), np.zeros((3, 4)))
    expected = torch.nn.functional.dropout(torch.ones(3, 4), 1.0).numpy()
    np.testing.assert_array_equal(layer.forward(X), expected)


def test_seed_makes_masks_reproducible(rng):
    X = rng.standard_normal((10, 10))
    first, second = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    for _ in range(2):
        np.testing.assert_array_equal(first.forward(X), second.forward(X))
    assert not np.array_equal(first.forward(X), first.forward(X))  # a new mask each call


def test_without_seed_the_default_generator_is_used(rng, monkeypatch):
    X = rng.standard_normal((10, 10))
    outputs = []
    for _ in range(2):
        monkeypatch.setattr(scratchcnn.random, "_generator", np.random.default_rng(5))
        outputs.append(Dropout(0.5).forward(X))
    np.testing.assert_array_equal(*outputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_batch_last_layout_are_kept(rng, dtype):
    X = from_batch_last(rng.standard_normal((3, 4, 4, 6)).astype(dtype))
    layer = Dropout(0.5, seed=0)
    A = layer.forward(X)
    dX = layer.backward(np.ones_like(A))
    for array in (A, dX):
        assert array.dtype == dtype
        assert array.transpose(1, 2, 3, 0).flags.c_contiguous


def test_repr_and_config():
    layer = Dropout(0.25, seed=3)
    assert repr(layer) == "Dropout(p=0.25)"
    config = json.loads(json.dumps(layer.get_config()))
    assert config == {"p": 0.25, "seed": 3}
    assert repr(LAYER_REGISTRY["Dropout"](**config)) == repr(layer)
    assert Dropout(seed=np.random.default_rng(0)).get_config() == {"p": 0.5, "seed": None}


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_p_out_of_range(p):
    with pytest.raises(ValueError, match=rf"Dropout: p has to be between 0 and 1, but got p={p}"):
        Dropout(p)


def test_p_type():
    with pytest.raises(TypeError, match=r"Dropout: p must be a number in \[0, 1\], but got '0.5'"):
        Dropout("0.5")


def test_seed_type():
    with pytest.raises(
        TypeError,
        match=r"Dropout: seed must be an int, a Generator or None, but "
        r"got 1.5",
    ):
        Dropout(0.5, seed=1.5)


def test_backward_with_wrong_gradient_shape():
    layer = Dropout(0.5)
    layer.forward(np.ones((2, 3)))
    with pytest.raises(
        ValueError,
        match=r"Dropout\(p=0.5\): backward expected a gradient dA of "
        r"shape \(2, 3\)",
    ):
        layer.backward(np.ones((3, 2)))


def test_backward_before_forward():
    with pytest.raises(
        ValueError,
        match=r"Dropout\(p=0.5\): backward\(\) called before "
        r"forward\(\)",
    ):
        Dropout().backward(np.ones(3))
