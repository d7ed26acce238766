"""Frozen layers (``trainable = False``) in a model, against PyTorch's ``requires_grad=False``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from scratchcnn.initializers import DefaultInitializer
from scratchcnn.layers import BatchNorm2d, Conv2d, Dense, Flatten, MaxPool2d, ReLU
from scratchcnn.model import Sequential, load
from scratchcnn.optimizers import SGD, Adam

PARAMETRIC = (0, 1, 5, 7)  # the indices of the layers with parameters, in both networks


def small_net(optimizer: object) -> Sequential:
    """(2, 6, 6) -> Conv 3@3x3 pad 1 -> BN -> ReLU -> pool -> Flatten -> 27 -> 5 -> 3."""
    init = DefaultInitializer(seed=4)
    return Sequential(
        [Conv2d(2, 3, 3, padding=1, initializer=init), BatchNorm2d(3), ReLU(), MaxPool2d(2),
         Flatten(), Dense(27, 5, initializer=init), ReLU(), Dense(5, 3, initializer=init)],
        optimizer=optimizer, dtype=np.float64,
    )


def torch_twin(model: Sequential) -> nn.Sequential:
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(27, 5), nn.ReLU(),
                        nn.Linear(5, 3)).double()
    with torch.no_grad():
        for i in PARAMETRIC:
            layer = model.layers[i]
            W = layer.W.T if isinstance(layer, Dense) else layer.W
            net[i].weight.copy_(torch.from_numpy(np.ascontiguousarray(W)))
            net[i].bias.copy_(torch.from_numpy(layer.b))
    return net


def weights(model: Sequential) -> list[np.ndarray]:
    return [p.copy() for i in PARAMETRIC for p in model.layers[i].params().values()]


def torch_weights(net: nn.Sequential) -> list[np.ndarray]:
    out = []
    for i in PARAMETRIC:
        W = net[i].weight.detach().numpy()
        out += [W.T if isinstance(net[i], nn.Linear) else W, net[i].bias.detach().numpy()]
    return out


@pytest.mark.parametrize("frozen", [(0,), (5,), (1, 7), (0, 1, 5)], ids=str)
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: SGD(lr=0.1, momentum=0.9, weight_decay=0.01),
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
        (lambda: Adam(lr=0.01, weight_decay=0.05), lambda p: torch.optim.Adam(p, lr=0.01,
                                                                             weight_decay=0.05)),
    ],
    ids=["sgd", "adam"],
)
def test_training_with_frozen_layers_matches_torch(rng, frozen, ours, theirs):  # type: ignore[no-untyped-def]
    model = small_net(ours())
    net = torch_twin(model)
    for i in frozen:
        model.layers[i].trainable = False
        net[i].requires_grad_(False)
    before = weights(model)
    X, y = rng.standard_normal((10, 2, 6, 6)), rng.integers(0, 3, 10)
    history = model.fit(X, y, epochs=2, batch_size=4, shuffle=False, verbose=0)

    optimizer = theirs(net.parameters())
    losses = []
    for _ in range(2):
        total = 0.0
        for lo in range(0, 10, 4):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(net(torch.from_numpy(X[lo:lo + 4])),
                                               torch.from_numpy(y[lo:lo + 4]))
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y[lo:lo + 4])
        losses.append(total / 10)
    for a, b in zip(weights(model), torch_weights(net), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-10)
    np.testing.assert_allclose(model.layers[1].running_mean, net[1].running_mean.numpy(),
                               rtol=1e-10)  # a frozen BatchNorm still tracks statistics
    for i in frozen:  # bit for bit untouched, and no gradients computed
        index = PARAMETRIC.index(i)
        for name, value in zip(("W", "b"), before[2 * index: 2 * index + 2], strict=True):
            np.testing.assert_array_equal(model.layers[i].params()[name], value)
        assert all(g is None for g in model.layers[i].grads().values())


def test_frozen_middle_layer_still_passes_the_gradient_back(rng):
    model = small_net(SGD(lr=0.1))
    model.layers[5].trainable = False
    model.train()
    model.loss.forward(model.forward(rng.standard_normal((4, 2, 6, 6))), np.array([0, 1, 2, 0]))
    model.backward(model.loss.backward())
    assert model.layers[5].grads() == {"W": None, "b": None}
    assert model.layers[0].dW is not None and np.abs(model.layers[0].dW).sum() > 0


def test_freezing_drops_old_gradients_and_unfreezing_trains_again(rng):
    layer = Dense(3, 2)
    layer.forward(rng.standard_normal((4, 3)))
    layer.backward(np.ones((4, 2)))
    assert layer.dW is not None
    layer.trainable = False
    assert layer.dW is None and layer.db is None
    layer.forward(rng.standard_normal((4, 3)))
    assert layer.backward(np.ones((4, 2))).shape == (4, 3)
    assert layer.dW is None
    layer.trainable = True
    layer.forward(rng.standard_normal((4, 3)))
    layer.backward(np.ones((4, 2)))
    assert layer.dW is not None


def test_frozen_flag_survives_save_and_load(tmp_path, rng):
    model = small_net(Adam(lr=0.01))
    model.layers[0].trainable = False
    model.layers[1].trainable = False
    model.fit(rng.standard_normal((8, 2, 6, 6)), rng.integers(0, 3, 8), epochs=1, verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = load(tmp_path / "m.npz")
    assert [layer.trainable for layer in loaded.layers] == [layer.trainable
                                                            for layer in model.layers]
    assert model.get_config()["layers"][0]["trainable"] is False
    assert "trainable" not in model.get_config()["layers"][5]


def test_trainable_must_be_a_bool():
    with pytest.raises(TypeError, match=r"Dense\(in_features=3, out_features=2\): trainable must "
                       r"be True or False, but got 0"):
        Dense(3, 2).trainable = 0


def test_summary_counts_frozen_parameters_as_non_trainable():
    model = small_net(SGD())
    model.layers[0].trainable = False
    text = model.summary((2, 6, 6))
    conv = model.layers[0].num_params()
    assert f"Trainable params: {model.num_params() - conv:,}" in text
    assert f"Non-trainable params: {conv + 6:,}" in text  # + BatchNorm's running statistics


def test_backward_stops_at_the_first_trainable_layer(rng):
    model = small_net(SGD(lr=0.1))
    for i in (0, 1):  # a frozen convolutional backbone
        model.layers[i].trainable = False
    calls = []
    original = model.layers[0].backward
    model.layers[0].backward = lambda dA: calls.append(dA) or original(dA)  # type: ignore[method-assign]
    before = model.layers[5].W.copy()
    model.train_step(rng.standard_normal((4, 2, 6, 6)), np.array([0, 1, 2, 0]))
    assert calls == [] and not np.array_equal(model.layers[5].W, before)
    model.layers[0].trainable = True  # unfrozen: trained again, and its backward runs
    model.train_step(rng.standard_normal((4, 2, 6, 6)), np.array([0, 1, 2, 0]))
    assert len(calls) == 1 and model.layers[0].dW is not None
