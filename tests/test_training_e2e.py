"""End to end: a whole model against PyTorch (gradients and fit steps), and real training runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits
from torch import nn

from scratchcnn.datasets import read_idx
from scratchcnn.initializers import DefaultInitializer
from scratchcnn.layers import Conv2d, Dense, Flatten, MaxPool2d, ReLU
from scratchcnn.model import Sequential
from scratchcnn.optimizers import SGD, Adam
from scratchcnn.zoo import lenet5


# -- the whole model against PyTorch, float64 -------------------------------------------------
def cnn(optimizer: object, seed: int = 0) -> Sequential:
    """(2, 8, 8) -> Conv 4@3x3 pad 1 -> ReLU -> pool -> Conv 6@3x3 pad 1 -> ReLU -> 5 -> 4."""
    init = DefaultInitializer(seed=seed)
    return Sequential(
        [
            Conv2d(2, 4, 3, padding=1, initializer=init),
            ReLU(),
            MaxPool2d(2),
            Conv2d(4, 6, 3, padding=1, initializer=init),
            ReLU(),
            Flatten(),
            Dense(96, 5, initializer=init),
            ReLU(),
            Dense(5, 4, initializer=init),
        ],
        optimizer=optimizer,
        dtype=np.float64,
    )


def torch_twin(model: Sequential) -> nn.Sequential:
    """The same network in PyTorch, with our weights copied in (Dense W is Linear.weight.T)."""
    c1, c2, d1, d2 = (layer for layer in model.layers if layer.param_names)
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(96, 5),
        nn.ReLU(),
        nn.Linear(5, 4),
    ).double()
    with torch.no_grad():
        for module, layer in zip((net[0], net[3], net[6], net[8]), (c1, c2, d1, d2), strict=True):
            W = layer.W.T if isinstance(layer, Dense) else layer.W
            module.weight.copy_(torch.from_numpy(np.ascontiguousarray(W)))
            module.bias.copy_(torch.from_numpy(layer.b))
    return net


def torch_grads(net: nn.Sequential) -> list[np.ndarray]:
    grads = []
    for module in (net[0], net[3], net[6], net[8]):
        W = module.weight.grad.numpy()
        grads += [W.T if isinstance(module, nn.Linear) else W, module.bias.grad.numpy()]
    return grads


def torch_weights(net: nn.Sequential) -> list[np.ndarray]:
    out = []
    for module in (net[0], net[3], net[6], net[8]):
        W = module.weight.detach().numpy()
        out += [W.T if isinstance(module, nn.Linear) else W, module.bias.detach().numpy()]
    return out


def test_loss_and_gradients_match_torch(rng: np.random.Generator) -> None:
    model = cnn("sgd")
    net = torch_twin(model)
    X, y = rng.standard_normal((6, 2, 8, 8)), rng.integers(0, 4, 6)
    model.train()
    loss = model.loss.forward(model.forward(X), y)
    model.backward(model.loss.backward())
    expected = nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(y))
    expected.backward()
    assert loss == pytest.approx(expected.item(), abs=1e-10)
    ours = [g for layer in model.layers for g in layer.grads().values()]
    for a, b in zip(ours, torch_grads(net), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: SGD(lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        (lambda: Adam(lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    ],
    ids=["sgd-momentum", "adam"],
)
def test_fit_steps_match_a_torch_training_loop(ours, theirs, rng: np.random.Generator) -> None:  # type: ignore[no-untyped-def]
    model = cnn(ours())
    net = torch_twin(model)
    X, y = rng.standard_normal((14, 2, 8, 8)), rng.integers(0, 4, 14)
    history = model.fit(X, y, epochs=2, batch_size=4, shuffle=False, verbose=0)

    optimizer = theirs(net.parameters())
    losses = []
    for _ in range(2):
        epoch_loss = 0.0
        for lo in range(0, 14, 4):
            xb, yb = torch.from_numpy(X[lo : lo + 4]), torch.from_numpy(y[lo : lo + 4])
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(net(xb), yb)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item() * len(yb)
        losses.append(epoch_loss / 14)
    ours_now = [p for layer in model.layers for p in layer.params().values()]
    for a, b in zip(ours_now, torch_weights(net), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-10)


# -- real training ----------------------------------------------------------------------------
def test_digits_reach_95_percent() -> None:
    """scikit-learn's 8x8 digits, 80/20 stratified split: >= 95% test accuracy in ~10 epochs."""
    digits = load_digits()
    X = (digits.images / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, test_size=0.2, stratify=digits.target, random_state=0
    )
    init = DefaultInitializer(seed=0)
    model = Sequential(
        [
            Conv2d(1, 16, 3, padding=1, initializer=init),
            ReLU(),
            Conv2d(16, 32, 3, padding=1, initializer=init),
            ReLU(),
            MaxPool2d(2),
            Flatten(),
            Dense(512, 10, initializer=init),
        ],
        optimizer=Adam(lr=3e-3),
    )
    # One BLAS thread: these matrices are small, and on a busy 2-core runner OpenBLAS threads
    # spin against each other (measured: 4 s with one thread, 50-70 s with the default).
    with threadpool_limits(limits=1, user_api="blas"):
        history = model.fit(X_train, y_train, epochs=10, batch_size=32, seed=0, verbose=0)
    assert history.epochs == 10 and history["loss"][-1] < history["loss"][0]
    loss, accuracy = model.evaluate(X_test, y_test)
    assert accuracy >= 0.95, f"test accuracy {accuracy:.4f}, loss {loss:.4f}"
    assert np.mean(model.predict(X_test) == y_test) == pytest.approx(accuracy)


@pytest.mark.slow
def test_lenet5_on_real_mnist(shared) -> None:  # type: ignore[no-untyped-def]
    """LeNet-5 on MNIST's test split: train on the first 8,000, >= 97% on the last 2,000."""
    mnist = shared("data/mnist/t10k-images-idx3-ubyte.gz").parent
    images = read_idx(mnist / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(mnist / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    X = images.reshape(-1, 1, 28, 28)
    X_train, y_train, X_test, y_test = X[:8000], labels[:8000], X[-2000:], labels[-2000:]
    model = lenet5(seed=0, optimizer=Adam(lr=2e-3))

    def decay(event: dict) -> None:  # the learning rate falls by 30% after each epoch
        if event["event"] == "epoch":
            model.optimizer.lr *= 0.7

    scale = np.float32(1 / 255)
    history = model.fit(
        X_train * scale, y_train, epochs=10, batch_size=32, seed=0, verbose=0, callbacks=[decay]
    )
    assert history.epochs == 10
    loss, accuracy = model.evaluate(X_test * scale, y_test)
    assert accuracy >= 0.97, f"test accuracy {accuracy:.4f}, loss {loss:.4f}"
