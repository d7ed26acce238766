"""Per-layer converters between our layers and ``torch.nn`` modules, both directions.

``TO_TORCH[OurLayer](layer, to) -> torch module`` builds the module with the layer's options
(weights are copied afterwards through the state-dict names); ``to.nn`` is ``torch.nn`` and
``to.sequential(layers, name)`` converts an inner path. ``FROM_TORCH[key](module, came) ->
Layer`` builds our layer; the key is a ``torch.nn`` class name (exact classes only) or one of
the classes in torch_modules.py. ``came.following`` are the modules after it,
``came.layers(modules, name)`` converts an inner path. An option we do not support is an
``UnsupportedOptionError`` (a ValueError) naming the module and the option.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

import numpy as np

from scratchcnn.interop.registry import Registry
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

TO_TORCH = Registry("to_torch")
FROM_TORCH = Registry("from_torch")


def describe(module: Any) -> str:
    """A torch module on one line: ``Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))``."""
    return f"{type(module).__name__}({module.extra_repr()})"


@dataclass(frozen=True)
class ToTorch:
    """What a to-torch converter gets besides its layer: torch.nn, and who to blame."""

    nn: ModuleType
    owner: str
    where: str  # "layer 3", or "layer 3.body.1" inside a block

    def module(self, layer: Layer) -> Any:
        """The torch module for ``layer``, without weights; a TypeError if torch has none."""
        convert = TO_TORCH.get(type(layer))
        if convert is None:
            raise TypeError(
                f"{self.owner}: {self.where} {layer!r} has no PyTorch equivalent; supported "
                f"layers: {TO_TORCH.names()}"
            )
        return convert(layer, self)

    def sequential(self, layers: Sequence[Layer], name: str) -> Any:
        """An inner path as a ``torch.nn.Sequential``, its layers named ``<where>.<name>.<j>``."""
        return self.nn.Sequential(
            *(
                replace(self, where=f"{self.where}.{name}.{j}").module(layer)
                for j, layer in enumerate(layers)
            )
        )


@dataclass(frozen=True)
class FromTorch:
    """What a from-torch converter gets besides its module: what follows it, who to blame."""

    nn: ModuleType
    owner: str
    where: str  # "module 3", or "module 3.body.1" inside a block
    following: Sequence[Any] = ()

    def layer(self, module: Any) -> Layer:
        """Our layer for one torch module (exact classes only: a subclass may compute else)."""
        name = type(module).__name__
        convert = FROM_TORCH.get(type(module))
        if convert is None and type(module) is getattr(self.nn, name, None):
            convert = FROM_TORCH.get(name)
        if convert is None:
            raise TypeError(
                f"{self.owner}: {self.where} {describe(module)} ({type(module).__module__}."
                f"{name}) is not supported; supported torch.nn modules: {FROM_TORCH.names()}"
            )
        try:
            return convert(module, self)
        except (TypeError, ValueError) as error:
            if str(error).startswith(f"{self.owner}: "):  # from an inner module: already placed
                raise
            raise type(error)(f"{self.owner}: {self.where}: {error}") from error

    def layers(self, modules: Sequence[Any], name: str) -> list[Layer]:
        """An inner path's modules as our layers, named ``<where>.<name>.<j>``."""
        modules = list(modules)
        layers = [
            replace(self, where=f"{self.where}.{name}.{j}", following=modules[j + 1 :]).layer(m)
            for j, m in enumerate(modules)
        ]
        return safe_inplace(layers)


# layers that return a fresh array and keep their input (or nothing), never their output, for
# backward: an in-place ReLU right after one of them cannot spoil a cache
_INPLACE_SAFE_BEFORE_RELU = (
    Conv1d,
    Conv2d,
    Dense,
    BatchNorm2d,
    MaxPool1d,
    MaxPool2d,
    AvgPool1d,
    AvgPool2d,
    GlobalAvgPool2d,
    Residual,
    Concat,
    PadChannelsShortcut,
)


def safe_inplace(layers: list[Layer]) -> list[Layer]:
    """In-place ReLU only where it cannot overwrite what another layer (or the caller) needs.

    The first layer of a model or path gets the caller's array (or a block's input, which
    the other path reads too); torch's autograd would refuse what our caches cannot detect.
    """
    for i, layer in enumerate(layers):
        if isinstance(layer, ReLU) and layer.inplace:
            if i == 0 or not isinstance(layers[i - 1], _INPLACE_SAFE_BEFORE_RELU):
                layer.inplace = False
    return layers


class UnsupportedOptionError(ValueError):
    """A torch module option with no scratchcnn equivalent (the message names the option)."""


# -- our layers -> torch ---------------------------------------------------------------------
@TO_TORCH.register(Conv1d, Conv2d)
def _conv_to_torch(layer: Conv1d | Conv2d, to: ToTorch) -> Any:
    cls = to.nn.Conv1d if isinstance(layer, Conv1d) else to.nn.Conv2d
    return cls(
        layer.in_channels,
        layer.out_channels,
        layer.kernel_size,
        stride=layer.stride,
        padding=layer.padding,
        dilation=layer.dilation,
        groups=layer.groups,
        bias=layer.bias,
        padding_mode=layer.padding_mode,
    )


@TO_TORCH.register(Dense)
def _dense_to_torch(layer: Dense, to: ToTorch) -> Any:
    return to.nn.Linear(layer.in_features, layer.out_features, bias="b" in layer.param_names)


@TO_TORCH.register(MaxPool1d, MaxPool2d)
def _max_pool_to_torch(layer: MaxPool1d | MaxPool2d, to: ToTorch) -> Any:
    cls = to.nn.MaxPool1d if isinstance(layer, MaxPool1d) else to.nn.MaxPool2d
    return cls(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)


@TO_TORCH.register(AvgPool1d, AvgPool2d)
def _avg_pool_to_torch(layer: AvgPool1d | AvgPool2d, to: ToTorch) -> Any:
    cls = to.nn.AvgPool1d if isinstance(layer, AvgPool1d) else to.nn.AvgPool2d
    return cls(
        layer.kernel_size,
        layer.stride,
        layer.padding,
        ceil_mode=layer.ceil_mode,
        count_include_pad=layer.count_include_pad,
    )


@TO_TORCH.register(GlobalAvgPool2d)
def _global_avg_pool_to_torch(layer: GlobalAvgPool2d, to: ToTorch) -> Any:
    # one module, so that layer indices and state-dict names stay aligned
    return to.nn.Sequential(to.nn.AdaptiveAvgPool2d(1), to.nn.Flatten())


@TO_TORCH.register(BatchNorm2d)
def _batchnorm_to_torch(layer: BatchNorm2d, to: ToTorch) -> Any:
    return to.nn.BatchNorm2d(
        layer.num_features,
        eps=layer.eps,
        momentum=layer.momentum,
        affine=layer.affine,
        track_running_stats=layer.track_running_stats,
    )


@TO_TORCH.register(Flatten)
def _flatten_to_torch(layer: Flatten, to: ToTorch) -> Any:
    return to.nn.Flatten()


@TO_TORCH.register(Dropout)
def _dropout_to_torch(layer: Dropout, to: ToTorch) -> Any:
    return to.nn.Dropout(layer.p)


@TO_TORCH.register(ReLU)
def _relu_to_torch(layer: ReLU, to: ToTorch) -> Any:
    return to.nn.ReLU(inplace=layer.inplace)


@TO_TORCH.register(LeakyReLU)
def _leaky_relu_to_torch(layer: LeakyReLU, to: ToTorch) -> Any:
    return to.nn.LeakyReLU(layer.negative_slope)


@TO_TORCH.register(Tanh, Sigmoid)
def _plain_activation_to_torch(layer: Tanh | Sigmoid, to: ToTorch) -> Any:
    return getattr(to.nn, type(layer).__name__)()


@TO_TORCH.register(Softmax)
def _softmax_to_torch(layer: Softmax, to: ToTorch) -> Any:
    return to.nn.Softmax(dim=layer.dim)


# -- torch -> our layers ---------------------------------------------------------------------
class _NoDraw:
    """An initializer of zeros: from_torch overwrites every weight, so drawing them is waste."""

    def W(self, *shape: int) -> np.ndarray:
        return np.zeros(shape, dtype=np.float32)

    def B(self, n: int, fan_in: int | None = None) -> np.ndarray:
        return np.zeros(n, dtype=np.float32)


_NO_DRAW = _NoDraw()


def _require(condition: bool, module: Any, what: str) -> None:
    if not condition:
        raise UnsupportedOptionError(f"{describe(module)}: {what}")


@FROM_TORCH.register("Conv1d", "Conv2d")
def _conv_from_torch(module: Any, came: FromTorch) -> Layer:
    cls = Conv1d if type(module).__name__ == "Conv1d" else Conv2d
    padding = module.padding if isinstance(module.padding, str) else tuple(module.padding)
    return cls(
        module.in_channels,
        module.out_channels,
        tuple(module.kernel_size),
        stride=tuple(module.stride),
        padding=padding,
        dilation=tuple(module.dilation),
        groups=module.groups,
        bias=module.bias is not None,
        padding_mode=module.padding_mode,
        initializer=_NO_DRAW,
    )


@FROM_TORCH.register("Linear")
def _linear_from_torch(module: Any, came: FromTorch) -> Layer:
    _require(module.bias is not None, module, "bias=False is not supported (Dense has a bias)")
    return Dense(module.in_features, module.out_features, initializer=_NO_DRAW)


def _pool_args(module: Any) -> dict[str, Any]:
    return {
        "kernel_size": module.kernel_size,
        "stride": module.stride,
        "padding": module.padding,
        "ceil_mode": bool(module.ceil_mode),
    }


@FROM_TORCH.register("MaxPool1d", "MaxPool2d")
def _max_pool_from_torch(module: Any, came: FromTorch) -> Layer:
    dilation = module.dilation if isinstance(module.dilation, tuple) else (module.dilation,)
    _require(all(d == 1 for d in dilation), module, "dilation other than 1 is not supported")
    _require(not module.return_indices, module, "return_indices=True is not supported")
    cls = MaxPool1d if type(module).__name__ == "MaxPool1d" else MaxPool2d
    return cls(**_pool_args(module))


@FROM_TORCH.register("AvgPool1d", "AvgPool2d")
def _avg_pool_from_torch(module: Any, came: FromTorch) -> Layer:
    _require(
        getattr(module, "divisor_override", None) is None,
        module,
        "divisor_override is not supported",
    )
    cls = AvgPool1d if type(module).__name__ == "AvgPool1d" else AvgPool2d
    return cls(**_pool_args(module), count_include_pad=bool(module.count_include_pad))


def _is_global_pool(module: Any) -> bool:
    size = module.output_size
    return all(n == 1 for n in (size if isinstance(size, tuple) else (size, size)))


def _is_flatten(module: Any) -> bool:
    return type(module).__name__ == "Flatten" and (module.start_dim, module.end_dim) == (1, -1)


@FROM_TORCH.register("AdaptiveAvgPool2d")
def _adaptive_avg_pool_from_torch(module: Any, came: FromTorch) -> Layer:
    # (N, C, 1, 1) then Flatten is GlobalAvgPool2d's (N, C); our Flatten leaves (N, C) alone
    _require(
        _is_global_pool(module) and bool(came.following) and _is_flatten(came.following[0]),
        module,
        "only AdaptiveAvgPool2d(1) followed by Flatten() is supported (it becomes GlobalAvgPool2d)",
    )
    return GlobalAvgPool2d()


@FROM_TORCH.register("BatchNorm2d")
def _batchnorm_from_torch(module: Any, came: FromTorch) -> Layer:
    _require(
        module.momentum is not None,
        module,
        "momentum=None (a cumulative average) is not supported",
    )
    return BatchNorm2d(
        module.num_features,
        eps=module.eps,
        momentum=module.momentum,
        affine=module.affine,
        track_running_stats=module.track_running_stats,
    )


@FROM_TORCH.register("Flatten")
def _flatten_from_torch(module: Any, came: FromTorch) -> Layer:
    _require(_is_flatten(module), module, "only Flatten(start_dim=1, end_dim=-1) is supported")
    return Flatten()


@FROM_TORCH.register("Dropout")
def _dropout_from_torch(module: Any, came: FromTorch) -> Layer:
    return Dropout(float(module.p))


@FROM_TORCH.register("ReLU")
def _relu_from_torch(module: Any, came: FromTorch) -> Layer:
    # from_torch turns inplace off where the layer before keeps its output for backward
    return ReLU(inplace=bool(module.inplace))


@FROM_TORCH.register("LeakyReLU")
def _leaky_relu_from_torch(module: Any, came: FromTorch) -> Layer:
    return LeakyReLU(float(module.negative_slope))


@FROM_TORCH.register("Tanh")
def _tanh_from_torch(module: Any, came: FromTorch) -> Layer:
    return Tanh()


@FROM_TORCH.register("Sigmoid")
def _sigmoid_from_torch(module: Any, came: FromTorch) -> Layer:
    return Sigmoid()


@FROM_TORCH.register("Softmax")
def _softmax_from_torch(module: Any, came: FromTorch) -> Layer:
    _require(module.dim is not None, module, "dim=None (implicit dim) is not supported")
    return Softmax(dim=module.dim)


@TO_TORCH.register(Residual)
def _residual_to_torch(layer: Residual, to: ToTorch) -> Any:
    from scratchcnn.interop import torch_modules

    shortcut = None if layer.shortcut is None else to.sequential(layer.shortcut, "shortcut")
    return torch_modules.Residual(to.sequential(layer.body, "body"), shortcut)


@TO_TORCH.register(Concat)
def _concat_to_torch(layer: Concat, to: ToTorch) -> Any:
    from scratchcnn.interop import torch_modules

    branches = [to.sequential(branch, f"branches.{b}") for b, branch in enumerate(layer.branches)]
    return torch_modules.Concat(branches, layer.dim)


@TO_TORCH.register(PadChannelsShortcut)
def _pad_channels_to_torch(layer: PadChannelsShortcut, to: ToTorch) -> Any:
    from scratchcnn.interop import torch_modules

    return torch_modules.PadChannelsShortcut(layer.in_channels, layer.out_channels, layer.stride)


def register_torch_modules() -> None:
    """Register the from-torch converters of torch_modules.py (they need torch imported)."""
    from scratchcnn.interop import torch_modules

    if torch_modules.Residual in FROM_TORCH:
        return

    @FROM_TORCH.register(torch_modules.Residual)
    def _residual_from_torch(module: Any, came: FromTorch) -> Layer:
        shortcut = None if module.shortcut is None else came.layers(module.shortcut, "shortcut")
        return Residual(came.layers(module.body, "body"), shortcut)

    @FROM_TORCH.register(torch_modules.Concat)
    def _concat_from_torch(module: Any, came: FromTorch) -> Layer:
        branches = [came.layers(b, f"branches.{k}") for k, b in enumerate(module.branches)]
        return Concat(branches, dim=module.dim)

    @FROM_TORCH.register(torch_modules.PadChannelsShortcut)
    def _pad_channels_from_torch(module: Any, came: FromTorch) -> Layer:
        return PadChannelsShortcut(module.in_channels, module.out_channels, module.stride)


@FROM_TORCH.register("Sequential")
def _nested_from_torch(module: Any, came: FromTorch) -> Layer:
    children = list(module)
    if (
        len(children) == 2
        and type(children[0]).__name__ == "AdaptiveAvgPool2d"
        and _is_global_pool(children[0])
        and _is_flatten(children[1])
    ):
        return GlobalAvgPool2d()  # what to_torch writes for GlobalAvgPool2d
    raise UnsupportedOptionError(
        f"{describe(module)}: a nested Sequential is supported only as (AdaptiveAvgPool2d(1), "
        "Flatten()); flatten the others: torch.nn.Sequential(*first, *second)"
    )
