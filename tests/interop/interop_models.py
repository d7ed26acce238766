"""Models the interop tests share: every zoo model at a small input, and some with every option."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from scratchcnn import zoo
from scratchcnn.layers import (
    AvgPool1d,
    AvgPool2d,
    BatchNorm2d,
    Concat,
    Conv1d,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2d,
    Layer,
    LeakyReLU,
    MaxPool1d,
    MaxPool2d,
    PadChannelsShortcut,
    ReLU,
    Residual,
    Sigmoid,
    Softmax,
    Tanh,
)
from scratchcnn.model import Sequential

# name -> (factory arguments, per-sample input shape); inputs small enough for a quick test
ZOO_CASES: dict[str, tuple[dict[str, Any], tuple[int, ...]]] = {
    "lenet5": ({"input_shape": (1, 28, 28)}, (1, 28, 28)),
    "lenet5_tanh": ({"input_shape": (1, 32, 32), "activation": "tanh"}, (1, 32, 32)),
    "seed_cnn": ({"input_shape": (1, 28, 28), "dropout": True}, (1, 28, 28)),
    "mnist1d_cnn": ({"input_shape": (1, 40)}, (1, 40)),
    "alexnet": ({"input_shape": (3, 63, 63), "num_classes": 10}, (3, 63, 63)),
    "vgg16": ({"input_shape": (3, 32, 32), "num_classes": 10}, (3, 32, 32)),
    "resnet20": ({"input_shape": (3, 16, 16)}, (3, 16, 16)),
    "resnet18": ({"input_shape": (3, 32, 32), "num_classes": 10}, (3, 32, 32)),
}


def zoo_model(name: str, dtype: Any) -> Sequential:
    """A zoo model by case name, seeded."""
    kwargs, _ = ZOO_CASES[name]
    return zoo.MODELS[name.removesuffix("_tanh")](seed=7, dtype=dtype, **kwargs)


def _all_layers(layers: list[Layer]) -> list[Layer]:
    """The layers and, depth first, those inside residual and concatenation blocks."""
    found = []
    for layer in layers:
        found.append(layer)
        if isinstance(layer, Residual):
            found += _all_layers([*layer.body, *(layer.shortcut or [])])
        elif isinstance(layer, Concat):
            found += _all_layers([inner for branch in layer.branches for inner in branch])
    return found


def _randomize_batchnorm(model: Sequential, rng: np.random.Generator) -> Sequential:
    """Non-trivial gamma, beta and running statistics, so that none of them can be ignored."""
    for layer in _all_layers(model.layers):
        if isinstance(layer, BatchNorm2d):
            if layer.affine:
                layer.W[...] = rng.uniform(0.5, 1.5, layer.W.shape)
                layer.b[...] = rng.normal(size=layer.b.shape)
            if layer.track_running_stats:
                layer.running_mean[...] = rng.normal(size=layer.running_mean.shape)
                layer.running_var[...] = rng.uniform(0.5, 2.0, layer.running_var.shape)
    return model


def options_model_2d(dtype: Any, rng: np.random.Generator) -> Sequential:
    """Every 2-D layer and option the converters handle, input (3, 11, 11)."""
    layers = [
        Conv2d(3, 6, (3, 2), stride=(1, 2), padding=(2, 1), dilation=(2, 1)),
        BatchNorm2d(6, eps=1e-3, momentum=0.3),
        ReLU(inplace=True),
        Conv2d(6, 6, 3, padding="same", padding_mode="reflect", groups=3, bias=False),
        BatchNorm2d(6, affine=False),
        LeakyReLU(0.2),
        MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        Conv2d(6, 4, 2, padding=1, padding_mode="circular"),
        BatchNorm2d(4, track_running_stats=False),
        Tanh(),
        Conv2d(4, 4, 3, padding=1, padding_mode="replicate"),
        AvgPool2d(
            2, stride=2, padding=1, ceil_mode=True, count_include_pad=False
        ),  # drops a window
        Sigmoid(),
        GlobalAvgPool2d(),
        Flatten(),
        Dense(4, 8),
        Dropout(0.0),
        Dense(8, 5),
        Softmax(dim=1),
    ]
    return _randomize_batchnorm(Sequential(layers, loss="mse", dtype=dtype), rng)


def options_model_1d(dtype: Any, rng: np.random.Generator) -> Sequential:
    """The 1-D layers with their options, input (2, 17)."""
    layers = [
        Conv1d(2, 4, 3, stride=2, padding=2, padding_mode="circular"),
        ReLU(),
        MaxPool1d(2, padding=1),
        Conv1d(4, 4, 2, dilation=2, padding="same", padding_mode="replicate"),
        AvgPool1d(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
        Flatten(),
        Dense(16, 3),
    ]
    return Sequential(layers, dtype=dtype)


def branching_model(dtype: Any, rng: np.random.Generator) -> Sequential:
    """Residual blocks (identity, option A and projection shortcuts) and Concat, input (2, 9, 9)."""
    layers = [
        Conv2d(2, 4, 3, padding=1),
        Residual(
            [
                Conv2d(4, 4, 3, padding=1, bias=False),
                BatchNorm2d(4),
                ReLU(inplace=True),
                Conv2d(4, 4, 3, padding=1),
            ]
        ),
        ReLU(),
        Residual([Conv2d(4, 6, 3, stride=2, padding=1), Tanh()], [PadChannelsShortcut(4, 6, 2)]),
        Concat([[Conv2d(6, 3, 1)], [], [MaxPool2d(3, stride=1, padding=1), Conv2d(6, 2, 1)]]),
        Residual([Conv2d(11, 5, 3, padding=1)], [Conv2d(11, 5, 1, bias=False), BatchNorm2d(5)]),
        GlobalAvgPool2d(),
        Dense(5, 3),
    ]
    return _randomize_batchnorm(Sequential(layers, dtype=dtype), rng)


OPTION_MODELS: dict[str, tuple[Callable[..., Sequential], tuple[int, ...]]] = {
    "options_2d": (options_model_2d, (3, 11, 11)),
    "options_1d": (options_model_1d, (2, 17)),
    "branching": (branching_model, (2, 9, 9)),
}
