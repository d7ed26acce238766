"""The layers of issue 9 inside models: summary rows, save/load, a whole model against torch."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from scratchcnn.initializers import DefaultInitializer
from scratchcnn.layers import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Dense,
    Flatten,
    GlobalMaxPool2d,
    Identity,
    ReLU,
)
from scratchcnn.model import Sequential, load
from scratchcnn.optimizers import Adam


def image_model() -> Sequential:
    init = DefaultInitializer(seed=1)
    return Sequential(
        [Conv2d(1, 4, 3, initializer=init), BatchNorm2d(4), ReLU(), AdaptiveAvgPool2d((3, None)),
         Flatten(), Dense(48, 6, initializer=init), BatchNorm1d(6, momentum=None), Identity(),
         ReLU(), Dense(6, 3, initializer=init)],
        optimizer=Adam(lr=0.01, amsgrad=True), dtype=np.float64,
    )


def sequence_model() -> Sequential:
    init = DefaultInitializer(seed=2)
    return Sequential(
        [Conv1d(2, 3, 3, initializer=init), BatchNorm1d(3), AdaptiveAvgPool1d(4), Flatten(),
         Dense(12, 2, initializer=init)], dtype=np.float64,
    )


def row(text: str, name: str) -> str:
    """A summary row's shape and count, with the spacing squeezed out."""
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return " ".join(line.split()[2:])


def test_summary_rows():
    text = image_model().summary((1, 8, 6))
    assert row(text, "adaptiveavgpool2d") == "(None, 4, 3, 4) 0"
    assert row(text, "batchnorm1d") == "(None, 6) 12" and row(text, "identity") == "(None, 6) 0"
    assert "Non-trainable params: 21" in text  # running stats, and BatchNorm1d's batch count
    text = sequence_model().summary((2, 10))
    assert row(text, "adaptiveavgpool1d") == "(None, 3, 4) 0"
    pooled = Sequential([Conv2d(1, 2, 3), GlobalMaxPool2d(), Dense(2, 2)])
    assert row(pooled.summary((1, 5, 5)), "globalmaxpool2d") == "(None, 2) 0"


def test_trained_model_round_trips_through_a_file(tmp_path, rng):
    for model, shape in ((image_model(), (12, 1, 8, 6)), (sequence_model(), (12, 2, 10))):
        X, y = rng.standard_normal(shape), rng.integers(0, 2, shape[0])
        model.fit(X, y, epochs=2, batch_size=4, verbose=0)
        model.save(tmp_path / "m.npz")
        loaded = load(tmp_path / "m.npz")
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
        assert [repr(layer) for layer in loaded.layers] == [repr(layer) for layer in model.layers]
        before = [p.copy() for p in model.params().values()]
        model.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
        loaded.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
        for a, b, c in zip(model.params().values(), loaded.params().values(), before,
                           strict=True):
            np.testing.assert_array_equal(a, b)  # resumed identically, optimizer state included
            assert not np.array_equal(a, c) or not a.any()


def test_image_model_forward_and_backward_match_torch(rng):
    model = image_model()
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.AdaptiveAvgPool2d((3, None)), nn.Flatten(), nn.Linear(48, 6),
                        nn.BatchNorm1d(6, momentum=None), nn.Identity(), nn.ReLU(),
                        nn.Linear(6, 3)).double()
    with torch.no_grad():
        for i in (0, 5, 9):
            W = model.layers[i].W.T if isinstance(model.layers[i], Dense) else model.layers[i].W
            net[i].weight.copy_(torch.from_numpy(np.ascontiguousarray(W)))
            net[i].bias.copy_(torch.from_numpy(model.layers[i].b))
    X, y = rng.standard_normal((5, 1, 8, 6)), rng.integers(0, 3, 5)
    model.train()
    loss = model.loss.forward(model.forward(X), y)
    model.backward(model.loss.backward())
    expected = nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(y))
    expected.backward()
    assert abs(loss - expected.item()) < 1e-12
    for i in (0, 1, 5, 6, 9):
        W = net[i].weight.grad.numpy()
        np.testing.assert_allclose(model.layers[i].dW, W.T if i in (5, 9) else W, atol=1e-12)
        np.testing.assert_allclose(model.layers[i].db, net[i].bias.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(model.layers[6].running_var, net[6].running_var.numpy(),
                               rtol=1e-12)
