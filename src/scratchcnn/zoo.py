"""Ready-made architectures: LeNet-5, the notebooks' CNN, AlexNet, VGG16, a 1-D CNN, ResNets.

Each factory is called as ``factory(input_shape=(C, H, W), num_classes=K, **kwargs)`` and
returns a ``Sequential``. The first Dense layer's size comes from the convolutional part's
``output_shape``, so any input large enough works; too small an input is a ValueError naming
the layer that runs out of pixels. ``seed`` (int or Generator) makes the weights
reproducible; other keyword arguments (``loss``, ``optimizer``, ``dtype``) go to Sequential.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from scratchcnn.initializers import DefaultInitializer, HeInitializer
from scratchcnn.layers import (
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2d,
    Layer,
    MaxPool2d,
    PadChannelsShortcut,
    ReLU,
    Residual,
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


# -- residual networks -----------------------------------------------------------------------
def _basic_block(c_in: int, c_out: int, stride: int, shortcut: str, he: HeInitializer) -> Residual:
    """torchvision's BasicBlock without its final ReLU (the next layer of the model).

    3x3 conv (stride) -> BN -> ReLU -> 3x3 conv -> BN, plus the identity when the shape is
    kept, else option A (``PadChannelsShortcut``) or B (1x1 strided conv -> BN).
    """
    body: list[Layer] = [
        Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False, initializer=he),
        BatchNorm2d(c_out),
        ReLU(inplace=True),  # BatchNorm keeps its normalized input, not its output
        Conv2d(c_out, c_out, 3, padding=1, bias=False, initializer=he),
        BatchNorm2d(c_out),
    ]
    if stride == 1 and c_in == c_out:
        return Residual(body)
    if shortcut == "A":
        return Residual(body, [PadChannelsShortcut(c_in, c_out, stride)])
    projection = Conv2d(c_in, c_out, 1, stride=stride, bias=False, initializer=he)
    return Residual(body, [projection, BatchNorm2d(c_out)])


def _resnet_stages(
    width: int, stages: Sequence[tuple[int, int, int]], shortcut: str, he: HeInitializer
) -> list[Layer]:
    """``(channels, blocks, first stride)`` per stage: blocks, each followed by ReLU."""
    layers: list[Layer] = []
    for channels, blocks, first_stride in stages:
        for k in range(blocks):
            stride = first_stride if k == 0 else 1
            layers += [_basic_block(width, channels, stride, shortcut, he), ReLU(inplace=True)]
            width = channels
    return layers


def _resnet_head(
    layers: list[Layer], input_shape: tuple[int, ...], num_classes: int, init: Any, owner: str
) -> list[Layer]:
    """Global average pooling and the Dense classifier, after checking the input fits."""
    width = _shape_after(layers, input_shape, owner)[0]
    return [*layers, GlobalAvgPool2d(), Dense(width, num_classes, initializer=init)]


def resnet18(
    input_shape: Sequence[int] = (3, 224, 224),
    num_classes: int = 1000,
    seed: Seed = None,
    **model_kwargs: Any,
) -> Sequential:
    """ResNet-18 in torchvision's layout: 11,689,512 parameters at (3, 224, 224).

    7x7/2 conv 64 -> BN -> ReLU -> 3x3/2 max pool (padding 1) -> four stages of two
    BasicBlocks (64, 128, 256, 512 channels; stages 2-4 start with stride 2 and a 1x1
    conv + BN shortcut) -> global average pool (``AdaptiveAvgPool2d((1, 1))`` + flatten) ->
    Dense(512, K). Convolutions are He-normal (fan_out), as torchvision initializes them.
    """
    owner = "resnet18"
    shape = _check_input_shape(input_shape, 3, owner)
    num_classes = check_positive_int(num_classes, "num_classes", owner)
    rng = None if seed is None else make_rng(seed)
    he = HeInitializer(seed=rng, mode="fan_out")
    stem: list[Layer] = [
        Conv2d(shape[0], 64, 7, stride=2, padding=3, bias=False, initializer=he),
        BatchNorm2d(64),
        ReLU(inplace=True),
        MaxPool2d(3, stride=2, padding=1),
    ]
    stages = [(64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, 2)]
    layers = stem + _resnet_stages(64, stages, "B", he)
    head = _resnet_head(layers, shape, num_classes, DefaultInitializer(seed=rng), owner)
    return Sequential(head, **model_kwargs)


def cifar_resnet(
    depth: int = 20,
    input_shape: Sequence[int] = (3, 32, 32),
    num_classes: int = 10,
    shortcut: str = "A",
    seed: Seed = None,
    **model_kwargs: Any,
) -> Sequential:
    """He et al. (2016)'s CIFAR-10 ResNet of ``depth`` = 6n + 2 layers (20, 32, 44, 56, 110).

    3x3 conv 16 -> BN -> ReLU -> three stages of n BasicBlocks (16, 32, 64 channels; stages
    2 and 3 start with stride 2) -> global average pool -> Dense(64, K). ``shortcut="A"``
    (the paper's choice) zero-pads the new channels (``PadChannelsShortcut``, no parameters):
    269,722 parameters for depth 20 at (3, 32, 32); ``"B"`` uses 1x1 conv + BN projections.
    Any input of at least 1x1 works, e.g. (1, 28, 28): 28 -> 14 -> 7.
    """
    owner = "cifar_resnet"
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)):
        raise TypeError(f"{owner}: depth must be an int, but got {depth!r}")
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(
            f"{owner}: depth must be 6n + 2 for n >= 1 (8, 14, 20, 32, 44, 56, 110, ...), but "
            f"got depth={depth}"
        )
    if shortcut not in ("A", "B"):
        raise ValueError(f"{owner}: shortcut must be 'A' or 'B', but got {shortcut!r}")
    shape = _check_input_shape(input_shape, 3, owner)
    num_classes = check_positive_int(num_classes, "num_classes", owner)
    rng = None if seed is None else make_rng(seed)
    he = HeInitializer(seed=rng, mode="fan_out")
    n = (int(depth) - 2) // 6
    stem: list[Layer] = [
        Conv2d(shape[0], 16, 3, padding=1, bias=False, initializer=he),
        BatchNorm2d(16),
        ReLU(inplace=True),
    ]
    layers = stem + _resnet_stages(16, [(16, n, 1), (32, n, 2), (64, n, 2)], shortcut, he)
    head = _resnet_head(layers, shape, num_classes, DefaultInitializer(seed=rng), owner)
    return Sequential(head, **model_kwargs)


def resnet20(
    input_shape: Sequence[int] = (3, 32, 32),
    num_classes: int = 10,
    seed: Seed = None,
    **model_kwargs: Any,
) -> Sequential:
    """He et al.'s ResNet-20 for CIFAR-10 with option A shortcuts: ``cifar_resnet(depth=20)``."""
    return cifar_resnet(20, input_shape, num_classes, seed=seed, **model_kwargs)


MODELS: dict[str, Callable[..., Sequential]] = {
    "lenet5": lenet5,
    "seed_cnn": seed_cnn,
    "alexnet": alexnet,
    "vgg16": vgg16,
    "mnist1d_cnn": mnist1d_cnn,
    "resnet18": resnet18,
    "resnet20": resnet20,
    **{f"resnet{d}": functools.partial(cifar_resnet, d) for d in (32, 44, 56, 110)},
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
