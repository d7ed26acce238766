"""check_gradients: a whole model against finite differences, and broken layers caught."""

from __future__ import annotations

import types

import numpy as np
import pytest

import scratchcnn
from scratchcnn import zoo
from scratchcnn.gradcheck import check_gradients
from scratchcnn.layers import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Tanh,
)
from scratchcnn.model import Sequential


def _data(rng, shape, n=3, classes=10):
    return rng.standard_normal((n, *shape)), rng.integers(0, classes, n)


def test_exported_from_the_package():
    assert scratchcnn.check_gradients is check_gradients


def test_lenet5_passes_and_is_left_untouched(rng):
    model = zoo.lenet5(seed=1)
    before = {k: v.copy() for k, v in model.params().items()}
    X, y = _data(rng, (1, 28, 28))
    report = check_gradients(model, X, y, entries=8)
    assert report.passed, str(report)
    names = [(c.layer_index, c.name) for c in report.checks]
    assert names[0] == (None, "X")
    assert names[1:] == [(i, p) for i in (0, 3, 7, 9, 11) for p in ("W", "b")]
    assert all(c.checked + c.kinks == min(8, c.size) for c in report.checks)
    assert report.worst.relative_error < 1e-5
    assert model.dtype == np.float32 and model.layer_flags[0]["compute_input_grad"] is False
    for key, value in model.params().items():
        assert value.dtype == np.float32
        np.testing.assert_array_equal(value, before[key])
    assert "PASSED" in str(report)


def test_smooth_model_with_every_kind_of_layer(rng):
    layers = [
        Conv2d(2, 4, 3, padding=1),
        BatchNorm2d(4),
        Tanh(),
        AvgPool2d(2),
        Conv2d(4, 3, 3, stride=2, padding="valid"),
        Sigmoid(),
        Flatten(),
        Dropout(0.5),
        Dense(3 * 1 * 1, 5),
        LeakyReLU(0.1),
        Dense(5, 3),
    ]
    model = Sequential(layers, dtype=np.float64)
    X, y = _data(rng, (2, 6, 6), n=4, classes=3)
    report = check_gradients(model, X, y, entries=12)
    assert report.passed, str(report)
    assert report.worst.relative_error < 1e-5
    assert sum(c.kinks for c in report.checks) == 0  # nothing kinked in a smooth net


def test_one_hot_targets_and_mse(rng):
    model = Sequential([Dense(4, 3), Tanh(), Dense(3, 2)], loss="mse")
    X = rng.standard_normal((5, 4))
    y = rng.standard_normal((5, 2))
    assert check_gradients(model, X, y).passed


def _broken_weight_gradient(layer):
    original = type(layer).backward

    def backward(self, dA):
        dX = original(self, dA)
        self.dW = self.dW * 1.01  # one percent off
        return dX

    return types.MethodType(backward, layer)


def test_a_wrong_weight_gradient_is_named(rng, monkeypatch):
    model = zoo.lenet5(seed=2)
    monkeypatch.setattr(model.layers[9], "backward", _broken_weight_gradient(model.layers[9]))
    X, y = _data(rng, (1, 28, 28))
    report = check_gradients(model, X, y, entries=6)
    assert not report.passed
    failing = [(c.layer_index, c.name) for c in report.checks if not c.passed]
    assert failing == [(9, "W")]
    assert report.worst.layer_index == 9 and report.worst.name == "W"
    assert report.worst.relative_error == pytest.approx(0.01 / 1.01, rel=1e-3)
    text = str(report)
    assert "FAILED: worst is layer 9 dense_1 Dense(in_features=120, out_features=84)" in text
    assert "parameter W" in text
    assert (
        "look at that layer's backward, then at the input gradient (dX) of layer 10 "
        "relu_3, 11 dense_2" in text
    )


def test_a_wrong_input_gradient_points_above_the_first_wrong_layer(rng, monkeypatch):
    """ReLU 4's dX is wrong: everything below it is spoiled, nothing above it."""
    model = zoo.lenet5(seed=3)
    relu = model.layers[4]
    original = ReLU.backward

    def backward(self, dA):
        return original(self, dA) * 0.9

    monkeypatch.setattr(relu, "backward", types.MethodType(backward, relu))
    X, y = _data(rng, (1, 28, 28))
    report = check_gradients(model, X, y, entries=6)
    failing = {c.layer_index for c in report.checks if not c.passed}
    assert failing == {None, 0, 3}
    assert report.first_wrong.layer_index == 3
    assert "layer 4 relu_1, 5 maxpool2d_1, 6 flatten, 7 dense" in report.suspects()


def test_kinks_are_counted_not_failed():
    """An input exactly at a ReLU's kink: finite differences straddle it, backward says 0."""
    first = Dense(2, 2)
    first.W[...] = np.eye(2, dtype=np.float32)
    first.b[...] = 0
    model = Sequential([first, ReLU(), Dense(2, 2)], dtype=np.float64)
    X = np.array([[0.0, 1.0]])
    report = check_gradients(model, X, np.array([1]))
    (x_check,) = [c for c in report.checks if c.layer_index is None]
    assert x_check.kinks == 1 and x_check.checked == 1
    assert report.passed


def test_max_pooling_and_relu_model_on_1d_inputs(rng):
    model = zoo.mnist1d_cnn(seed=0)
    X, y = _data(rng, (1, 40), n=2)
    assert check_gradients(model, X, y, entries=5).passed


def test_bad_arguments():
    model = Sequential([Dense(2, 2)])
    X, y = np.zeros((1, 2)), np.array([0])
    with pytest.raises(TypeError, match="check_gradients: model must be a scratchcnn Sequential"):
        check_gradients([Dense(2, 2)], X, y)
    with pytest.raises(ValueError, match="check_gradients: entries must be a positive int"):
        check_gradients(model, X, y, entries=0)
    with pytest.raises(ValueError, match=r"check_gradients: eps must be a number in \(0, 1\)"):
        check_gradients(model, X, y, eps=0.0)
    with pytest.raises(ValueError, match="check_gradients: samples of shape"):
        check_gradients(model, np.zeros((1, 3)), y)
    with pytest.raises(ValueError, match=r"check_gradients: class labels must be in \[0, 2\)"):
        check_gradients(model, X, np.array([5]))
