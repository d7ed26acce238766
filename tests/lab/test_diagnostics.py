"""Diagnostics: the warnings fire on broken training, and stay quiet on healthy training."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from scratchcnn import callbacks
from scratchcnn.classifier import small_cnn
from scratchcnn.initializers import DefaultInitializer
from scratchcnn.lab.diagnostics import Diagnostics
from scratchcnn.layers import Dense, ReLU, Sigmoid
from scratchcnn.model import Sequential
from scratchcnn.optimizers import make_optimizer


def _fit(layers, X, y, epochs=1, lr=1e-3, optimizer="adam", **kwargs):
    model = Sequential(layers, optimizer=make_optimizer(optimizer, lr=lr))
    diagnostics = Diagnostics(verbose=False, **kwargs)
    model.fit(X, y, epochs=epochs, batch_size=32, verbose=0, seed=0, callbacks=[diagnostics])
    return model, diagnostics


def _blobs(rng, n=128, features=8, classes=3):
    y = rng.integers(0, classes, n)
    centres = rng.standard_normal((classes, features)) * 2
    return (centres[y] + rng.standard_normal((n, features))).astype(np.float32), y


def test_exported_from_callbacks():
    assert callbacks.Diagnostics is Diagnostics


def test_healthy_training_has_no_warnings(rng):
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = (digits.images[:640, None] / 16).astype(np.float32)
    y = digits.target[:640]
    model, diagnostics = _fit(small_cnn((1, 8, 8), 10, seed=0), X, y, epochs=3, lr=3e-3)
    assert diagnostics.messages == []
    epochs = {r.epoch for r in diagnostics.records}
    assert epochs == {1, 2, 3}
    conv = [r for r in diagnostics.records if r.name == "conv2d"]
    assert all(r.grad_norm > 0 and 1e-5 < r.update_ratio < 0.1 for r in conv)
    relu = [r for r in diagnostics.records if r.name == "relu"]
    assert all(r.dead_fraction is not None and r.dead_fraction < 0.5 for r in relu)
    assert all(r.saturated_fraction is None and r.grad_norm is None for r in relu)
    assert "forward" not in model.layers[0].__dict__  # the measuring wrappers are gone


def test_a_huge_initialisation_explodes(rng):
    init = DefaultInitializer(seed=0)
    layers = []
    for _ in range(6):
        dense = Dense(16, 16, initializer=init)
        dense.W *= 12  # far beyond a sensible initialisation
        layers += [dense, ReLU()]
    X, y = _blobs(rng, features=16)
    _, diagnostics = _fit(
        [*layers, Dense(16, 3, initializer=init)], X, y, lr=1e-12, optimizer="sgd"
    )
    exploding = [m for m in diagnostics.messages if "exploding gradients" in m]
    assert exploding, diagnostics.messages
    assert exploding[0].startswith("dense")
    assert "times its weights' norm" in exploding[0] and "smaller initial weights" in exploding[0]


def test_negative_biases_kill_the_relus(rng):
    first = Dense(8, 16, initializer=DefaultInitializer(seed=0))
    first.b[...] = -50.0
    X, y = _blobs(rng)
    _, diagnostics = _fit([first, ReLU(), Dense(16, 3)], X, y)
    (dead,) = [m for m in diagnostics.messages if "never fired" in m]
    assert dead.startswith("relu: 100% of its units never fired")
    assert "negative biases" in dead
    record = next(r for r in diagnostics.records if r.name == "relu")
    assert record.dead_fraction == 1.0 and record.activation_mean == 0.0
    # nothing reaches the first layer: its gradient vanishes
    assert any(m.startswith("dense: vanishing gradients") for m in diagnostics.messages)


def test_saturated_sigmoid(rng):
    first = Dense(8, 16, initializer=DefaultInitializer(seed=1))
    first.W *= 60
    X, y = _blobs(rng)
    _, diagnostics = _fit([first, Sigmoid(), Dense(16, 3)], X, y)
    (text,) = [m for m in diagnostics.messages if "saturated" in m]
    assert text.startswith("sigmoid: ") and "within 1% of 0 or 1" in text
    record = next(r for r in diagnostics.records if r.name == "sigmoid")
    assert record.saturated_fraction > 0.5


def test_deep_sigmoids_vanish(rng):
    init = DefaultInitializer(seed=2)
    layers = []
    for _ in range(8):
        layers += [Dense(8, 8, initializer=init), Sigmoid()]
    X, y = _blobs(rng)
    _, diagnostics = _fit([*layers, Dense(8, 3, initializer=init)], X, y)
    (text,) = [m for m in diagnostics.messages if "vanishing" in m]
    name = text.split(":")[0]
    assert name in {"dense", "dense_1", "dense_2"}  # a layer near the input
    assert "vanishing gradients" in text and "of the last layer's (dense_8)" in text


def test_a_too_high_learning_rate_shows_in_the_update_ratio(rng):
    X, y = _blobs(rng)
    _, diagnostics = _fit([Dense(8, 16), ReLU(), Dense(16, 3)], X, y, lr=5.0, optimizer="sgd")
    assert any("the learning rate is probably too high" in m for m in diagnostics.messages)


def test_warnings_print_once_when_verbose(rng, capsys):
    first = Dense(8, 4)
    first.b[...] = -50.0
    X, y = _blobs(rng)
    model = Sequential([first, ReLU(), Dense(4, 3)])
    model.fit(X, y, epochs=2, batch_size=32, verbose=0, callbacks=[Diagnostics(every=2)])
    printed = capsys.readouterr().out
    assert printed.count("relu: 100% of its units never fired") == 1
    assert printed.startswith("Diagnostics, epoch 1: ")


def test_interrupted_training_removes_the_wrappers(rng):
    class Stop:
        def __call__(self, event):
            if event["event"] == "batch" and event["step"] == 2:
                raise KeyboardInterrupt

    X, y = _blobs(rng)
    model = Sequential([Dense(8, 4), ReLU(), Dense(4, 3)])
    diagnostics = Diagnostics(verbose=False)
    history = model.fit(X, y, epochs=2, verbose=0, callbacks=[diagnostics, Stop()])
    assert history.interrupted
    assert all("forward" not in layer.__dict__ for layer in model.layers)


def test_plot_and_json(rng, tmp_path):
    X, y = _blobs(rng)
    _, diagnostics = _fit([Dense(8, 16), ReLU(), Dense(16, 3)], X, y, epochs=2)
    path = diagnostics.plot(tmp_path / "diagnostics.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 800
    data = json.loads(json.dumps(diagnostics.to_dict()))
    assert len(data["records"]) == 2 * 3 and data["records"][0]["name"] == "dense"


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="Diagnostics: every must be a positive int"):
        Diagnostics(every=0)
    with pytest.raises(ValueError, match="plot_diagnostics: no records"):
        Diagnostics().plot(tmp_path / "d.png")
