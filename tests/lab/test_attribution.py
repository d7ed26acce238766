"""Saliency, Grad-CAM and feature maps against finite differences and hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn import zoo
from scratchcnn.gradcheck import numerical_gradient
from scratchcnn.lab.attribution import (
    class_activation_map,
    feature_maps,
    last_conv_block,
    place_on_input,
    saliency_map,
    unit_centres,
)
from scratchcnn.layers import Conv2d, Dense, Flatten, GlobalAvgPool2d, MaxPool2d, ReLU, Tanh
from scratchcnn.model import Sequential


def _small_cnn():
    return Sequential(
        [Conv2d(2, 3, 3, padding=1), Tanh(), MaxPool2d(2), Flatten(), Dense(3 * 3 * 3, 4)],
        dtype=np.float64,
    )


def test_saliency_is_the_gradient_of_the_class_score(rng):
    model = _small_cnn()
    X = rng.standard_normal((2, 2, 6, 6))
    grad, classes = saliency_map(model, X)
    np.testing.assert_array_equal(classes, model.predict(X))
    for n in range(2):
        x = X[n : n + 1].copy()

        def score(x=x, n=n):
            return float(model.forward(x)[0, classes[n]])

        numeric = numerical_gradient(score, x)
        np.testing.assert_allclose(grad[n : n + 1], numeric, rtol=1e-6, atol=1e-9)


def test_saliency_of_a_linear_model_is_its_weight_column(rng):
    dense = Dense(5, 3)
    model = Sequential([dense], dtype=np.float64)
    X = rng.standard_normal((4, 5))
    grad, classes = saliency_map(model, X, target=2)
    np.testing.assert_array_equal(classes, [2, 2, 2, 2])
    np.testing.assert_allclose(grad, np.tile(dense.W[:, 2], (4, 1)), rtol=1e-12)


def test_saliency_of_one_unbatched_sample_and_a_float32_model(rng):
    model = zoo.lenet5(seed=0)
    x = rng.random((1, 28, 28)).astype(np.float32)
    grad, classes = saliency_map(model, x, target=3)
    assert grad.shape == (1, 1, 28, 28) and grad.dtype == np.float64
    assert classes.tolist() == [3]
    assert model.dtype == np.float32 and model.layer_flags[0]["compute_input_grad"] is False


def test_grad_cam_is_cam_for_global_pooling_and_dense(rng):
    """With GAP + Dense, d score / d A_k is W[k, c] / (H*W) everywhere: CAM by hand."""
    conv, dense = Conv2d(1, 4, 3), Dense(4, 3)
    model = Sequential([conv, ReLU(), GlobalAvgPool2d(), dense], dtype=np.float64)
    X = rng.standard_normal((2, 1, 7, 7))
    cam, classes = class_activation_map(model, X)
    A = np.maximum(model.layers[0].forward(X), 0)  # (N, 4, 5, 5)
    expected = np.einsum("nkhw,kn->nhw", A, dense.W[:, classes]) / 25
    np.testing.assert_allclose(cam, np.maximum(expected, 0), rtol=1e-12, atol=1e-15)
    assert last_conv_block(model) == 1


def test_grad_cam_needs_a_convolution():
    with pytest.raises(ValueError, match="class_activation_map: the model has no convolution"):
        class_activation_map(Sequential([Dense(3, 2)]), np.zeros((1, 3)))


def test_bad_target():
    with pytest.raises(ValueError, match=r"saliency_map: target must be a class in \[0, 4\)"):
        saliency_map(_small_cnn(), np.zeros((1, 2, 6, 6)), target=7)


def test_unit_centres_of_lenet_by_hand():
    """conv 5 -> centre 2; pool 2 -> 2 + 0.5; conv 5 at jump 2 -> 2.5 + 2*2 = 6.5."""
    model = zoo.lenet5(seed=0)
    assert unit_centres(model.layers, (1, 28, 28), 0) == ((2.0, 2.0), (1, 1))
    assert unit_centres(model.layers, (1, 28, 28), 4) == ((6.5, 6.5), (2, 2))
    padded = [Conv2d(1, 1, 3, padding=1), Conv2d(1, 1, 3, stride=2, padding=1)]
    assert unit_centres(padded, (1, 8, 8), 1) == ((0.0, 0.0), (2, 2))


def test_place_on_input_interpolates_between_unit_centres():
    maps = np.arange(6.0).reshape(1, 2, 3)  # units at rows 1, 3 and columns 1, 3, 5
    placed = place_on_input(maps, (1.0, 1.0), (2, 2), (5, 7))
    assert placed.shape == (1, 5, 7)
    assert placed[0, 1, 1] == 0.0 and placed[0, 3, 5] == 5.0
    assert placed[0, 2, 3] == pytest.approx((1 + 4) / 2)  # halfway between rows
    assert placed[0, 1, 2] == pytest.approx(0.5)
    assert placed[0, 1, 6] == pytest.approx(1.0)  # fading past the last centre: 2 -> 0


def test_feature_maps_are_each_blocks_output(rng):
    model = zoo.lenet5(seed=0)
    x = rng.random((1, 28, 28)).astype(np.float32)
    blocks = feature_maps(model, x)
    assert [(i, label, maps.shape) for i, label, maps in blocks] == [
        (1, "conv2d + relu", (6, 24, 24)),
        (4, "conv2d_1 + relu_1", (16, 8, 8)),
    ]
    first = np.maximum(model.layers[0].forward(x[None].astype(np.float64)), 0)[0]
    np.testing.assert_allclose(blocks[0][2], first, rtol=1e-5, atol=1e-6)
