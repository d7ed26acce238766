"""Ready-made architectures: LeNet-5, the notebooks' CNN, AlexNet, VGG16 and a 1-D CNN.

Each factory is called as ``factory(input_shape=(C, H, W), num_classes=K, **kwargs)`` and
returns a ``Sequential``. The first Dense layer's size comes from the convolutional part's
``output_shape``, so any input large enough works; too small an input is a ValueError naming
the layer that runs out of pixels. ``seed`` (int or Generator) makes the weights
reproducible; other keyword arguments (``loss``, ``optimizer``, ``dtype``) go to Sequential.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from scratchcnn.initializers import DefaultInitializer
from scratchcnn.layers import (
    Conv1d,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    Layer,
    MaxPool2d,
    ReLU,
    Tanh,
)
from scratchcnn.model import Sequential
from scratchcnn.random import make_rng
from scratchcnn.validation import check_positive_int, check_probability

Seed = int | np.random.Generator | None


def _check_input_shape(input_shape: Any, n_dims: int, owner: str) -> tuple[int, ...]:
    example = "(C, H, W)" if n_dims == 3 else "(C, L)"
    if (
        isinstance(input_shape, (str, bytes))
        or not isinstance(input_shape, Sequence)
        or len(input_shape) != n_dims
    ):
        raise ValueError(
            f"{owner}: input_shape must be a tuple {example} of {n_dims} ints, but got "
            f"{input_shape!r}"
        )
    return tuple(check_positive_int(n, "each entry of input_shape", owner) for n in input_shape)


def _initializer(seed: Seed) -> DefaultInitializer:
    """One initializer shared by all layers, so one seed draws every weight from one stream."""
    return DefaultInitializer(seed=None if seed is None else make_rng(seed))


def _shape_after(
    layers: Sequence[Layer], input_shape: tuple[int, ...], owner: str
) -> tuple[int, ...]:
    """The per-sample shape after ``layers``; a clear error when the input is too small."""
    shape = input_shape
    for i, layer in enumerate(layers):
        try:
            shape = tuple(layer.output_shape(shape))
        except ValueError as error:
            raise ValueError(
                f"{owner}: input_shape {input_shape} is too small for this architecture: "
                f"layer {i} {layer!r} fails on its input of shape {shape}: {error}"
            ) from error
    return shape


def _inplace_relu() -> ReLU:
    """ReLU in place: in the zoo each one follows a Conv or Dense, which keep their inputs."""
    return ReLU(inplace=True)


def _classifier(
    features: list[Layer],
    input_shape: tuple[int, ...],
    hidden: Sequence[int | float],
    num_classes: int,
    init: DefaultInitializer,
    owner: str,
    activation: Callable[[], Layer] = _inplace_relu,
) -> list[Layer]:
    """``features`` + Flatten + Dense/activation stack; a float in ``hidden`` is a Dropout p."""
    layers = [*features, Flatten()]
    width = math.prod(_shape_after(features, input_shape, owner))
    for item in hidden:
        if isinstance(item, float):
            if item > 0:
                layers.append(Dropout(item))
        else:
            layers += [Dense(width, item, initializer=init), activation()]
            width = item
    layers.append(Dense(width, num_classes, initializer=init))
    return layers


def lenet5(
    input_shape: Sequence[int] = (1, 28, 28),
    num_classes: int = 10,
    activation: str = "relu",
    seed: Seed = None,
    **model_kwargs: Any,
) -> Sequential:
    """LeNet-5 as in the notebooks: Conv 6@5x5 -> pool -> Conv 16@5x5 -> pool -> 120 -> 84 -> K.

    No padding and 2x2 max pooling after each convolution, ReLU by default (the notebooks'
    Keras version; ``activation="tanh"`` for LeCun's). 44,426 parameters at (1, 28, 28).
    """
    owner = "lenet5"
    shape = _check_input_shape(input_shape, 3, owner)
    num_classes = check_positive_int(num_classes, "num_classes", owner)
    activations = {"relu": _inplace_relu, "tanh": Tanh}
    if activation not in activations:
        raise ValueError(f"{owner}: activation must be 'relu' or 'tanh', but got {activation!r}")
    act = activations[activation]
    init = _initializer(seed)
    features = [
        Conv2d(shape[0], 6, 5, initializer=init),
        act(),
        MaxPool2d(2),
        Conv2d(6, 16, 5, initializer=init),
        act(),
        MaxPool2d(2),
    ]
    layers = _classifier(features, shape, [120, 84], num_classes, init, owner, act)
    return Sequential(layers, **model_kwargs)


def seed_cnn(
    input_shape: Sequence[int] = (1, 28, 28),
    num_classes: int = 10,
    dropout: bool = False,
    seed: Seed = None,
    **model_kwargs: Any,
) -> Sequential:
    """The notebooks' Keras MNIST CNN: Conv 32@3x3 -> Conv 64@3x3 -> pool 2 -> 128 -> K.

    ReLU after each convolution and the hidden Dense layer; 1,199,882 parameters at
    (1, 28, 28). ``dropout=True`` adds Keras' example Dropout(0.25) after the pooling and
    Dropout(0.5) after the hidden layer (no parameters).
    """
    owner = "seed_cnn"
    shape = _check_input_shape(input_shape, 3, owner)
    num_classes = check_positive_int(num_classes, "num_classes", owner)
    init = _initializer(seed)
    features: list[Layer] = [
        Conv2d(shape[0], 32, 3, initializer=init),
        ReLU(inplace=True),
        Conv2d(32, 64, 3, initializer=init),
        ReLU(inplace=True),
        MaxPool2d(2),
    ]
    if dropout:
        features.append(Dropout(0.25))
    hidden: list[int | float] = [128, 0.5] if dropout else [128]
    return Sequential(
        _classifier(features, shape, hidden, num_classes, init, owner), **model_kwargs
    )


def alexnet(
    input_shape: Sequence[int] = (3, 224, 224),
    num_classes: int = 1000,
    dropout: float = 0.5,
    seed: Seed = None,
    **model_kwargs: Any,
) -> Sequential:
    """AlexNet in torchvision's layout: 5 convolutions (64, 192, 384, 256, 256) -> 4096 -> 4096.

    61,100,840 parameters at (3, 224, 224), as ``torchvision.models.alexnet()``. There is no
    adaptive pooling: the first Dense layer takes the features' size for the given input
    (256 * 6 * 6 at 224x224). ``dropout`` is the p of the two Dropout layers (0 for none).
    """
    owner = "alexnet"
    shape = _check_input_shape(input_shape, 3, owner)
    num_classes = check_positive_int(num_classes, "num_classes", owner)
    p = check_probability(dropout, "dropout", owner)
    init = _initializer(seed)
    features = [
        Conv2d(shape[0], 64, 11, stride=4, padding=2, initializer=init),
        ReLU(inplace=True),
        MaxPool2d(3, stride=2),
        Conv2d(64, 192, 5, padding=2, initializer=init),
        ReLU(inplace=True),
        MaxPool2d(3, stride=2),
        Conv2d(192, 384, 3, padding=1, initializer=init),
        ReLU(inplace=True),
        Conv2d(384, 256, 3, padding=1, initializer=init),
        ReLU(inplace=True),
        Conv2d(256, 256, 3, padding=1, initializer=init),
        ReLU(inplace=True),
        MaxPool2d(3, stride=2),
    ]
    hidden = [p, 4096, p, 4096]
    return Sequential(
        _classifier(features, shape, hidden, num_classes, init, owner), **model_kwargs
    )


VGG16_CONFIG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip


def vgg16(
    input_shape: Sequence[int] = (3, 224, 224),
    num_classes: int = 1000,
    dropout: float = 0.5,
    seed: Seed = None,
    **model_kwargs: Any,
) -> Sequential:
    """VGG16 (configuration D) in torchvision's layout: 13 3x3 convolutions -> 4096 -> 4096.

    138,357,544 parameters at (3, 224, 224), as ``torchvision.models.vgg16()`` (about
    0.55 GB of float32 weights). No adaptive pooling: the first Dense layer takes the
    features' size (512 * 7 * 7 at 224x224). ``dropout`` is the p of both Dropout layers.
    """
    owner = "vgg16"
    shape = _check_input_shape(input_shape, 3, owner)
    num_classes = check_positive_int(num_classes, "num_classes", owner)
    p = check_probability(dropout, "dropout", owner)
    init = _initializer(seed)
    features: list[Layer] = []
    channels = shape[0]
    for item in VGG16_CONFIG:
        if item == "M":
            features.append(MaxPool2d(2, stride=2))
        else:
            conv = Conv2d(channels, int(item), 3, padding=1, initializer=init)
            features += [conv, ReLU(inplace=True)]
            channels = int(item)
    hidden = [4096, p, 4096, p]
    return Sequential(
        _classifier(features, shape, hidden, num_classes, init, owner), **model_kwargs
    )


def mnist1d_cnn(
    input_shape: Sequence[int] = (1, 40),
    num_classes: int = 10,
    channels: int = 25,
    seed: Seed = None,
    **model_kwargs: Any,
) -> Sequential:
    """The MNIST-1D paper's CNN: three Conv1d (25 channels, stride 2) with ReLU, then Dense.

    Conv1d(1, 25, 5, stride=2, padding=1) -> Conv1d(25, 25, 3, stride=2, padding=1) twice
    -> Flatten -> Dense(25 * L_out, K); input (C, L), 5,210 parameters at (1, 40).
    """
    owner = "mnist1d_cnn"
    shape = _check_input_shape(input_shape, 2, owner)
    num_classes = check_positive_int(num_classes, "num_classes", owner)
    channels = check_positive_int(channels, "channels", owner)
    init = _initializer(seed)
    features = [
        Conv1d(shape[0], channels, 5, stride=2, padding=1, initializer=init),
        ReLU(inplace=True),
        Conv1d(channels, channels, 3, stride=2, padding=1, initializer=init),
        ReLU(inplace=True),
        Conv1d(channels, channels, 3, stride=2, padding=1, initializer=init),
        ReLU(inplace=True),
    ]
    return Sequential(_classifier(features, shape, [], num_classes, init, owner), **model_kwargs)


MODELS: dict[str, Callable[..., Sequential]] = {
    "lenet5": lenet5,
    "seed_cnn": seed_cnn,
    "alexnet": alexnet,
    "vgg16": vgg16,
    "mnist1d_cnn": mnist1d_cnn,
}


def get_model(name: str, **kwargs: Any) -> Sequential:
    """A model by name, e.g. ``get_model("lenet5", input_shape=(1, 32, 32))``."""
    if not isinstance(name, str):
        raise TypeError(f"get_model: name must be a str, but got {name!r}")
    key = name.lower().replace("-", "_")
    if key not in MODELS:
        raise ValueError(
            f"get_model: unknown model {name!r}; expected one of {', '.join(map(repr, MODELS))}"
        )
    return MODELS[key](**kwargs)
