"""Per-layer converters between our layers and ``torch.nn`` modules, both directions.

``TO_TORCH[OurLayer](layer, nn) -> torch module`` builds the module with the layer's
options (weights are copied afterwards through the state-dict names). ``FROM_TORCH["Name"]
(module, following) -> Layer`` builds our layer from ``torch.nn.Name``; ``following`` are the
modules after it in the Sequential, for the few conversions that depend on what comes next.
An option we do not support is a ValueError naming the module and the option.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from scratchcnn.interop.registry import Registry
from scratchcnn.layers import (
    AvgPool1d,
    AvgPool2d,
    BatchNorm2d,
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
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)

TO_TORCH = Registry("to_torch")
FROM_TORCH = Registry("from_torch")


class UnsupportedOptionError(ValueError):
    """A torch module option with no scratchcnn equivalent (the message names the option)."""


# -- our layers -> torch ---------------------------------------------------------------------
@TO_TORCH.register(Conv1d, Conv2d)
def _conv_to_torch(layer: Conv1d | Conv2d, nn: ModuleType) -> Any:
    cls = nn.Conv1d if isinstance(layer, Conv1d) else nn.Conv2d
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
def _dense_to_torch(layer: Dense, nn: ModuleType) -> Any:
    return nn.Linear(layer.in_features, layer.out_features)


@TO_TORCH.register(MaxPool1d, MaxPool2d)
def _max_pool_to_torch(layer: MaxPool1d | MaxPool2d, nn: ModuleType) -> Any:
    cls = nn.MaxPool1d if isinstance(layer, MaxPool1d) else nn.MaxPool2d
    return cls(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)


@TO_TORCH.register(AvgPool1d, AvgPool2d)
def _avg_pool_to_torch(layer: AvgPool1d | AvgPool2d, nn: ModuleType) -> Any:
    cls = nn.AvgPool1d if isinstance(layer, AvgPool1d) else nn.AvgPool2d
    return cls(
        layer.kernel_size,
        layer.stride,
        layer.padding,
        ceil_mode=layer.ceil_mode,
        count_include_pad=layer.count_include_pad,
    )


@TO_TORCH.register(GlobalAvgPool2d)
def _global_avg_pool_to_torch(layer: GlobalAvgPool2d, nn: ModuleType) -> Any:
    # one module, so that layer indices and state-dict names stay aligned
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())


@TO_TORCH.register(BatchNorm2d)
def _batchnorm_to_torch(layer: BatchNorm2d, nn: ModuleType) -> Any:
    return nn.BatchNorm2d(
        layer.num_features,
        eps=layer.eps,
        momentum=layer.momentum,
        affine=layer.affine,
        track_running_stats=layer.track_running_stats,
    )


@TO_TORCH.register(Flatten)
def _flatten_to_torch(layer: Flatten, nn: ModuleType) -> Any:
    return nn.Flatten()


@TO_TORCH.register(Dropout)
def _dropout_to_torch(layer: Dropout, nn: ModuleType) -> Any:
    return nn.Dropout(layer.p)


@TO_TORCH.register(ReLU)
def _relu_to_torch(layer: ReLU, nn: ModuleType) -> Any:
    return nn.ReLU(inplace=layer.inplace)


@TO_TORCH.register(LeakyReLU)
def _leaky_relu_to_torch(layer: LeakyReLU, nn: ModuleType) -> Any:
    return nn.LeakyReLU(layer.negative_slope)


@TO_TORCH.register(Tanh, Sigmoid)
def _plain_activation_to_torch(layer: Tanh | Sigmoid, nn: ModuleType) -> Any:
    return getattr(nn, type(layer).__name__)()


@TO_TORCH.register(Softmax)
def _softmax_to_torch(layer: Softmax, nn: ModuleType) -> Any:
    return nn.Softmax(dim=layer.dim)


# -- torch -> our layers ---------------------------------------------------------------------
def describe(module: Any) -> str:
    """A torch module on one line: ``Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))``."""
    return f"{type(module).__name__}({module.extra_repr()})"


def _require(condition: bool, module: Any, what: str) -> None:
    if not condition:
        raise UnsupportedOptionError(f"{describe(module)}: {what}")


@FROM_TORCH.register("Conv1d", "Conv2d")
def _conv_from_torch(module: Any, following: Sequence[Any]) -> Layer:
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
    )


@FROM_TORCH.register("Linear")
def _linear_from_torch(module: Any, following: Sequence[Any]) -> Layer:
    _require(module.bias is not None, module, "bias=False is not supported (Dense has a bias)")
    return Dense(module.in_features, module.out_features)


def _pool_args(module: Any) -> dict[str, Any]:
    return {
        "kernel_size": module.kernel_size,
        "stride": module.stride,
        "padding": module.padding,
        "ceil_mode": bool(module.ceil_mode),
    }


@FROM_TORCH.register("MaxPool1d", "MaxPool2d")
def _max_pool_from_torch(module: Any, following: Sequence[Any]) -> Layer:
    dilation = module.dilation if isinstance(module.dilation, tuple) else (module.dilation,)
    _require(all(d == 1 for d in dilation), module, "dilation other than 1 is not supported")
    _require(not module.return_indices, module, "return_indices=True is not supported")
    cls = MaxPool1d if type(module).__name__ == "MaxPool1d" else MaxPool2d
    return cls(**_pool_args(module))


@FROM_TORCH.register("AvgPool1d", "AvgPool2d")
def _avg_pool_from_torch(module: Any, following: Sequence[Any]) -> Layer:
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
def _adaptive_avg_pool_from_torch(module: Any, following: Sequence[Any]) -> Layer:
    # (N, C, 1, 1) then Flatten is GlobalAvgPool2d's (N, C); our Flatten leaves (N, C) alone
    _require(
        _is_global_pool(module) and bool(following) and _is_flatten(following[0]),
        module,
        "only AdaptiveAvgPool2d(1) followed by Flatten() is supported (it becomes GlobalAvgPool2d)",
    )
    return GlobalAvgPool2d()


@FROM_TORCH.register("BatchNorm2d")
def _batchnorm_from_torch(module: Any, following: Sequence[Any]) -> Layer:
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
def _flatten_from_torch(module: Any, following: Sequence[Any]) -> Layer:
    _require(_is_flatten(module), module, "only Flatten(start_dim=1, end_dim=-1) is supported")
    return Flatten()


@FROM_TORCH.register("Dropout")
def _dropout_from_torch(module: Any, following: Sequence[Any]) -> Layer:
    return Dropout(float(module.p))


@FROM_TORCH.register("ReLU")
def _relu_from_torch(module: Any, following: Sequence[Any]) -> Layer:
    # from_torch turns inplace off where the layer before keeps its output for backward
    return ReLU(inplace=bool(module.inplace))


@FROM_TORCH.register("LeakyReLU")
def _leaky_relu_from_torch(module: Any, following: Sequence[Any]) -> Layer:
    return LeakyReLU(float(module.negative_slope))


@FROM_TORCH.register("Tanh")
def _tanh_from_torch(module: Any, following: Sequence[Any]) -> Layer:
    return Tanh()


@FROM_TORCH.register("Sigmoid")
def _sigmoid_from_torch(module: Any, following: Sequence[Any]) -> Layer:
    return Sigmoid()


@FROM_TORCH.register("Softmax")
def _softmax_from_torch(module: Any, following: Sequence[Any]) -> Layer:
    _require(module.dim is not None, module, "dim=None (implicit dim) is not supported")
    return Softmax(dim=module.dim)


@FROM_TORCH.register("Sequential")
def _nested_from_torch(module: Any, following: Sequence[Any]) -> Layer:
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
