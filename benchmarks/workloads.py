"""What is benchmarked: the models, their data, and one training step / inference in each library.

Models: ``lenet5``, ``seed_cnn`` and ``mnist1d_cnn`` from ``scratchcnn.zoo``, ``vgg_block``,
two VGG stages (3x3 convs with padding 1, 32 and 64 channels) on 32x32x3 input, and
``resblock``, one ResNet BasicBlock (two 3x3 convs, 64 channels, BatchNorm, ReLU, identity skip)
on 64x32x32 input with a global-average-pool head, both built here so that larger channel
counts and skip connections are covered. Every model trains with Adam (lr 1e-3) on softmax
cross-entropy in float32, in both libraries.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

MODELS = ("lenet5", "seed_cnn", "mnist1d_cnn", "vgg_block", "resblock")
INPUT_SHAPES: dict[str, tuple[int, ...]] = {
    "lenet5": (1, 28, 28),
    "seed_cnn": (1, 28, 28),
    "mnist1d_cnn": (1, 40),
    "vgg_block": (3, 32, 32),
    "resblock": (64, 32, 32),
}
NUM_CLASSES = 10
LR = 1e-3

StepFn = Callable[[Any, Any], Any]


# -- models ------------------------------------------------------------------------------------
def _vgg_block_layers() -> list[Any]:
    from scratchcnn.layers import Conv2d, Dense, Flatten, MaxPool2d, ReLU

    # in-place ReLUs after the convolutions, as the zoo's models have them
    return [
        Conv2d(3, 32, 3, padding=1), ReLU(inplace=True),
        Conv2d(32, 32, 3, padding=1), ReLU(inplace=True),
        MaxPool2d(2),
        Conv2d(32, 64, 3, padding=1), ReLU(inplace=True),
        Conv2d(64, 64, 3, padding=1), ReLU(inplace=True),
        MaxPool2d(2),
        Flatten(),
        Dense(64 * 8 * 8, NUM_CLASSES),
    ]  # fmt: skip


def _resblock_layers() -> list[Any]:
    from scratchcnn.layers import BatchNorm2d, Conv2d, Dense, GlobalAvgPool2d, ReLU, Residual

    # torchvision's BasicBlock (stride 1, identity skip); its ReLU after the addition is the
    # model's next layer, in place as in torchvision
    body = [
        Conv2d(64, 64, 3, padding=1, bias=False), BatchNorm2d(64), ReLU(inplace=True),
        Conv2d(64, 64, 3, padding=1, bias=False), BatchNorm2d(64),
    ]  # fmt: skip
    return [Residual(body), ReLU(inplace=True), GlobalAvgPool2d(), Dense(64, NUM_CLASSES)]


_BUILT_HERE = {"vgg_block": _vgg_block_layers, "resblock": _resblock_layers}


def build_model(name: str, seed: int = 0) -> Any:
    """Our ``Sequential`` for ``name`` with Adam(lr=1e-3) and softmax cross-entropy."""
    import scratchcnn
    from scratchcnn import zoo
    from scratchcnn.losses import SoftmaxCrossEntropy
    from scratchcnn.model import Sequential
    from scratchcnn.optimizers import Adam

    if name not in INPUT_SHAPES:
        raise ValueError(f"build_model: unknown model {name!r}; choose from {', '.join(MODELS)}")
    recipe = {"loss": SoftmaxCrossEntropy(), "optimizer": Adam(lr=LR)}
    if name in _BUILT_HERE:
        scratchcnn.manual_seed(seed)
        return Sequential(_BUILT_HERE[name](), **recipe)
    return zoo.get_model(
        name, input_shape=INPUT_SHAPES[name], num_classes=NUM_CLASSES, seed=seed, **recipe
    )


# -- data --------------------------------------------------------------------------------------
@functools.cache
def _real_data(name: str) -> tuple[Any, str]:
    """The dataset a model is measured on, loaded once per process; None when unavailable."""
    try:
        if INPUT_SHAPES[name] == (1, 28, 28):
            from scratchcnn.datasets import load_fashion_mnist

            return load_fashion_mnist(download=False), "fashion-mnist"
        if name == "mnist1d_cnn":
            from scratchcnn.datasets import make_mnist1d

            return make_mnist1d(), "mnist1d"
    except Exception as error:  # any failure to load means: measure on random data
        return None, f"random ({type(error).__name__}: {error})"
    return None, "random"


def load_data(
    name: str, n_train: int, n_test: int, seed: int = 0, real: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """(X_train, y_train, X_test, y_test, source): real data when installed, else random.

    The 28x28 models use Fashion-MNIST (no download: random data of the same shape when it is
    not installed), the 1-D CNN MNIST-1D (generated offline), the VGG and residual blocks
    random data of their input shapes.
    ``real=False`` always gives random data (enough where only shapes matter).
    """
    shape = INPUT_SHAPES[name]
    data, source = _real_data(name) if real else (None, "random")
    rng = np.random.default_rng(seed)
    if data is None:
        X = rng.standard_normal((n_train + n_test, *shape), dtype=np.float32)
        y = rng.integers(0, NUM_CLASSES, size=n_train + n_test)
        data = (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])
    (X_train, y_train), (X_test, y_test) = data
    X_train, X_test = _cycle(X_train, n_train), _cycle(X_test, n_test)
    y_train, y_test = _cycle(y_train, n_train), _cycle(y_test, n_test)
    return (
        np.ascontiguousarray(X_train, dtype=np.float32),
        y_train.astype(np.int64),
        np.ascontiguousarray(X_test, dtype=np.float32),
        y_test.astype(np.int64),
        source,
    )


def _cycle(array: np.ndarray, n: int) -> np.ndarray:
    """The first n rows, repeating the array when it is shorter."""
    reps = -(-n // len(array))
    return np.concatenate([array] * reps)[:n] if reps > 1 else array[:n]


# -- our library -------------------------------------------------------------------------------
def set_mode(model: Any, training: bool) -> None:
    model.train(training)


def our_train_step(model: Any) -> tuple[StepFn, str]:
    """A function doing one full step on (X, y), and how it is done.

    ``model.train_step`` when the model has one; otherwise the step is written from the
    model's public pieces: ``model.forward``, the loss, ``model.backward`` (which stops at the
    first layer with parameters and skips its dX) and the optimizer on every layer with
    parameters. ``fit`` does the same plus finiteness checks, shuffling and progress.
    """
    if callable(getattr(model, "train_step", None)):
        return model.train_step, "model.train_step"
    loss, optimizer = model.loss, model.optimizer
    trainable = [layer for layer in model.layers if layer.param_names]

    def step(X: np.ndarray, y: np.ndarray) -> float:
        value = loss.forward(model.forward(X), y)
        model.backward(loss.backward())
        for layer in trainable:
            optimizer.update(layer)
        return value

    return step, "model.forward, loss, model.backward, optimizer.update per layer"


def our_predict(model: Any, batch_size: int) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    """Class probabilities of X in eval mode: ``model.predict_proba`` at ``batch_size``."""
    predict = getattr(model, "predict_proba", None)
    if callable(predict) and "batch_size" in inspect.signature(predict).parameters:
        return (lambda X: predict(X, batch_size=batch_size)), "model.predict_proba"

    def forward(X: np.ndarray) -> np.ndarray:
        batches = []
        for start in range(0, len(X), batch_size):
            out = X[start : start + batch_size]
            for layer in model.layers:
                out = layer.forward(out)
            out = np.exp(out - out.max(axis=1, keepdims=True))
            batches.append(out / out.sum(axis=1, keepdims=True))
        return np.concatenate(batches)

    return forward, "forward over model.layers + softmax"


def our_logits(model: Any, X: np.ndarray) -> np.ndarray:
    model.eval()
    out = np.array(model.forward(X))
    model.train()
    return out


# -- PyTorch -----------------------------------------------------------------------------------
def torch_train_step(net: Any) -> StepFn:
    """One full PyTorch step (zero_grad, forward, cross-entropy, backward, Adam step)."""
    import torch

    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    criterion = torch.nn.CrossEntropyLoss()

    def step(X: Any, y: Any) -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(net(X), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def torch_predict(net: Any) -> Callable[[Any], Any]:
    """Class probabilities under ``torch.inference_mode`` (the caller sets eval mode)."""
    import torch

    def predict(X: Any) -> Any:
        with torch.inference_mode():
            return torch.softmax(net(X), dim=1)

    return predict
