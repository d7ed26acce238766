"""The same architecture in PyTorch: a ``torch.nn.Sequential`` built from our layer list.

Each of our layers maps to the ``torch.nn`` module of the same name and arguments (our
constructor arguments are PyTorch's), and parameters are copied, so both models start from
identical weights. Dense stores ``W`` as (in_features, out_features), the transpose of
``nn.Linear.weight``. Blocks (Residual, Concat) become small modules over converted paths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

_CONV_ARGS = ("stride", "padding", "dilation", "groups", "padding_mode")
_POOL_ARGS = ("kernel_size", "stride", "padding", "ceil_mode")


def _config(layer: Any) -> dict[str, Any]:
    config = dict(layer.get_config()) if hasattr(layer, "get_config") else {}
    return config


def _arg(layer: Any, config: dict[str, Any], name: str, default: Any = None) -> Any:
    """A constructor argument: from get_config(), else the attribute of that name."""
    value = config.get(name, getattr(layer, name, default))
    return tuple(value) if isinstance(value, list) else value


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(array, dtype=np.float32, copy=True, order="C"))


def _conv(layer: Any, config: dict[str, Any], module_type: type[nn.Module]) -> nn.Module:
    W = layer.W
    has_bias = getattr(layer, "b", None) is not None
    kwargs = {k: _arg(layer, config, k) for k in _CONV_ARGS if _arg(layer, config, k) is not None}
    module = module_type(
        _arg(layer, config, "in_channels", W.shape[1] * kwargs.get("groups", 1)),
        _arg(layer, config, "out_channels", W.shape[0]),
        _arg(layer, config, "kernel_size", tuple(W.shape[2:])),
        bias=has_bias,
        **kwargs,
    )
    with torch.no_grad():
        module.weight.copy_(_tensor(W))
        if has_bias:
            module.bias.copy_(_tensor(layer.b))
    return module


def _dense(layer: Any, config: dict[str, Any]) -> nn.Module:
    W = layer.W
    has_bias = getattr(layer, "b", None) is not None
    module = nn.Linear(W.shape[0], W.shape[1], bias=has_bias)
    with torch.no_grad():
        module.weight.copy_(_tensor(W.T))
        if has_bias:
            module.bias.copy_(_tensor(layer.b))
    return module


def _pool(layer: Any, config: dict[str, Any], module_type: type[nn.Module]) -> nn.Module:
    kwargs = {k: _arg(layer, config, k) for k in _POOL_ARGS if _arg(layer, config, k) is not None}
    if module_type in (nn.AvgPool1d, nn.AvgPool2d):
        kwargs["count_include_pad"] = _arg(layer, config, "count_include_pad", True)
    return module_type(**kwargs)


class GlobalAvgPool2d(nn.Module):
    """(N, C, H, W) -> (N, C), the mean over the spatial axes."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


def _batchnorm(layer: Any, config: dict[str, Any]) -> nn.Module:
    module = nn.BatchNorm2d(
        _arg(layer, config, "num_features"),
        eps=_arg(layer, config, "eps", 1e-5),
        momentum=_arg(layer, config, "momentum", 0.1),
    )
    with torch.no_grad():
        for ours, theirs in (
            (("gamma", "W", "weight"), module.weight),
            (("beta", "b", "bias"), module.bias),
            (("running_mean",), module.running_mean),
            (("running_var",), module.running_var),
        ):
            for name in ours:
                value = getattr(layer, name, None)
                if isinstance(value, np.ndarray):
                    theirs.copy_(_tensor(value))
                    break
    return module


class Residual(nn.Module):
    """body(x) + shortcut(x) (the identity when None), added in place as torchvision does.

    Not in place after a final ReLU, whose backward needs its output.
    """

    def __init__(self, body: nn.Sequential, shortcut: nn.Module | None) -> None:
        super().__init__()
        self.body, self.shortcut = body, shortcut
        self.in_place = not isinstance(body[-1], nn.ReLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        skip = x if self.shortcut is None else self.shortcut(x)
        if self.in_place:
            out += skip
            return out
        return out + skip


class PadChannelsShortcut(nn.Module):
    """He et al.'s option A: x[:, :, ::s, ::s] with zero channels padded before and after."""

    def __init__(self, before: int, after: int, stride: int) -> None:
        super().__init__()
        self.before, self.after, self.stride = before, after, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.stride
        return nn.functional.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, self.before, self.after))


class Concat(nn.Module):
    def __init__(self, branches: list[nn.Module], dim: int) -> None:
        super().__init__()
        self.branches, self.dim = nn.ModuleList(branches), dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=self.dim)


def _residual(layer: Any, config: dict[str, Any]) -> nn.Module:
    shortcut = None if layer.shortcut is None else to_torch(layer.shortcut)
    return Residual(to_torch(layer.body), shortcut)


def _pad_channels(layer: Any, config: dict[str, Any]) -> nn.Module:
    before = layer.pad_before
    after = layer.out_channels - layer.in_channels - before
    return PadChannelsShortcut(before, after, layer.stride)


def _concat(layer: Any, config: dict[str, Any]) -> nn.Module:
    branches = [to_torch(branch) if branch else nn.Identity() for branch in layer.branches]
    return Concat(branches, layer.dim)


_CONVERTERS: dict[str, Callable[[Any, dict[str, Any]], nn.Module]] = {
    "Conv1d": lambda layer, config: _conv(layer, config, nn.Conv1d),
    "Conv2d": lambda layer, config: _conv(layer, config, nn.Conv2d),
    "Dense": _dense,
    "MaxPool1d": lambda layer, config: _pool(layer, config, nn.MaxPool1d),
    "MaxPool2d": lambda layer, config: _pool(layer, config, nn.MaxPool2d),
    "AvgPool1d": lambda layer, config: _pool(layer, config, nn.AvgPool1d),
    "AvgPool2d": lambda layer, config: _pool(layer, config, nn.AvgPool2d),
    "GlobalAvgPool2d": lambda layer, config: GlobalAvgPool2d(),
    "Flatten": lambda layer, config: nn.Flatten(),
    "ReLU": lambda layer, config: nn.ReLU(inplace=bool(config.get("inplace", False))),
    "LeakyReLU": lambda layer, config: nn.LeakyReLU(_arg(layer, config, "negative_slope", 0.01)),
    "Tanh": lambda layer, config: nn.Tanh(),
    "Sigmoid": lambda layer, config: nn.Sigmoid(),
    "Dropout": lambda layer, config: nn.Dropout(_arg(layer, config, "p", 0.5)),
    "BatchNorm2d": _batchnorm,
    "Residual": _residual,
    "PadChannelsShortcut": _pad_channels,
    "Concat": _concat,
}


def to_torch(layers: Sequence[Any]) -> nn.Sequential:
    """A float32 ``nn.Sequential`` equivalent to our layer list, with the same weights."""
    modules = []
    for layer in layers:
        name = type(layer).__name__
        if name not in _CONVERTERS:
            raise ValueError(f"to_torch: no PyTorch equivalent known for layer {layer!r}")
        modules.append(_CONVERTERS[name](layer, _config(layer)))
    return nn.Sequential(*modules).float()


def max_abs_logit_difference(
    our_forward: Callable[[np.ndarray], np.ndarray], net: nn.Module, X: np.ndarray
) -> float:
    """Largest |ours - torch| over the logits of X, both in eval mode (a wiring check)."""
    net.eval()
    with torch.inference_mode():
        theirs = net(torch.from_numpy(np.ascontiguousarray(X))).numpy()
    net.train()
    return float(np.max(np.abs(np.asarray(our_forward(X)) - theirs)))
