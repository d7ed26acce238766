"""``to_torch`` and ``from_torch``: a Sequential to a ``torch.nn.Sequential`` and back.

Layer ``i`` becomes module ``i`` (GlobalAvgPool2d becomes one nested
``Sequential(AdaptiveAvgPool2d(1), Flatten())``; Residual, Concat and PadChannelsShortcut
become the modules of torch_modules.py), so state-dict names line up; weights
travel through ``state_dict`` / ``load_state_dict``, which also checks that both sides
agree on every name and shape. torch is imported only when these functions run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.interop import torch_names as names
from scratchcnn.interop.optional import require
from scratchcnn.interop.torch_layers import (
    FromTorch,
    ToTorch,
    register_torch_modules,
    safe_inplace,
)
from scratchcnn.model import Sequential


def _check_model(model: Any, owner: str) -> Sequential:
    if not isinstance(model, Sequential):
        raise TypeError(
            f"{owner}: expected a scratchcnn Sequential, but got {type(model).__name__}"
        )
    return model


def to_torch(model: Sequential) -> Any:
    """An equivalent ``torch.nn.Sequential`` holding copies of our weights.

    Same dtype as the model (float32 or float64), same mode (train or eval), inputs and
    outputs in PyTorch's (N, C, *spatial) layout. The result does not share memory with
    the model.
    """
    owner = "to_torch"
    model = _check_model(model, owner)
    torch = require("torch", owner)
    # built on the meta device: no random init that load_state_dict would overwrite anyway
    # (strict=True below fills every parameter and buffer)
    with torch.device("meta"):
        modules = [
            ToTorch(torch.nn, owner, f"layer {i}").module(layer)
            for i, layer in enumerate(model.layers)
        ]
    dtype = getattr(torch, model.dtype.name)
    module = torch.nn.Sequential(*modules).to_empty(device="cpu").to(dtype)
    weights = {key: torch.from_numpy(value) for key, value in names.state_dict(model).items()}
    module.load_state_dict(weights, strict=True)
    return module.train(model.training)


def _torch_dtype(module: Any, owner: str) -> np.dtype:
    dtypes = {
        str(p.dtype) for p in (*module.parameters(), *module.buffers()) if p.is_floating_point()
    }
    if not dtypes:
        return np.dtype(np.float32)
    if len(dtypes) > 1:
        raise ValueError(
            f"{owner}: the module mixes dtypes {sorted(dtypes)}; convert it first, e.g. "
            "module.double()"
        )
    dtype = dtypes.pop().removeprefix("torch.")
    if dtype not in ("float32", "float64"):
        raise ValueError(
            f"{owner}: scratchcnn computes in float32 or float64, but the module is {dtype}; "
            "convert it first, e.g. module.float()"
        )
    return np.dtype(dtype)


def from_torch(module: Any, **model_kwargs: Any) -> Sequential:
    """A scratchcnn Sequential equivalent to a ``torch.nn.Sequential`` of supported modules.

    Weights, BatchNorm running statistics, dtype and train/eval mode are copied. Keyword
    arguments (``loss``, ``optimizer``) go to Sequential. An unsupported module is a
    TypeError naming it; an unsupported option of a supported one a ValueError.
    """
    owner = "from_torch"
    torch = require("torch", owner)
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(f"{owner}: expected a torch.nn.Sequential, but got {type(module).__name__}")
    children = list(module)
    if not children:
        raise ValueError(f"{owner}: the torch.nn.Sequential is empty")
    register_torch_modules()
    layers = [
        FromTorch(torch.nn, owner, f"module {i}", children[i + 1 :]).layer(child)
        for i, child in enumerate(children)
    ]
    safe_inplace(layers)
    dtype = _torch_dtype(module, owner)
    model = Sequential(layers, dtype=dtype, **model_kwargs)
    names.load_state_dict(model, module.state_dict(), strict=True)
    return model.train(module.training)
