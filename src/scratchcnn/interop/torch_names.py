"""PyTorch's state-dict names for our parameters: ``state_dict`` and ``load_state_dict``.

A model's layer ``i`` is module ``i`` of the ``torch.nn.Sequential`` that ``to_torch`` builds,
so layer 0's ``W`` is ``"0.weight"``, BatchNorm's running mean ``"3.running_mean"``. Dense
keeps ``W`` as (in_features, out_features), the transpose of ``Linear.weight``; the entries
here do that transposition. Nothing here imports torch: values may be torch tensors or NumPy
arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from scratchcnn.interop.registry import Registry
from scratchcnn.layers import BatchNorm2d, Concat, Conv1d, Conv2d, Dense, Layer, Residual
from scratchcnn.model import Sequential

TORCH_NAMES = Registry("PyTorch state-dict names")


@dataclass(frozen=True)
class Entry:
    """One state-dict entry: our ``layer.attr``, in torch's layout (transposed for Linear).

    ``attr=None`` marks an entry torch has and we do not (BatchNorm's
    ``num_batches_tracked``): written as 0, accepted and ignored when loading.
    """

    layer: Layer
    attr: str | None
    transposed: bool = False

    def value(self) -> np.ndarray:
        if self.attr is None:
            return np.array(0, dtype=np.int64)
        value = np.asarray(getattr(self.layer, self.attr))
        return value.T if self.transposed else value

    def assign(self, value: np.ndarray) -> None:
        """Copy ``value`` (torch layout) into the parameter, in place: optimizers keep state
        by array identity, and the parameter keeps its dtype."""
        if self.attr is not None:
            getattr(self.layer, self.attr)[...] = value.T if self.transposed else value


Entries = dict[str, Entry]


@TORCH_NAMES.register(Conv1d, Conv2d)
def _conv_names(layer: Conv1d | Conv2d) -> Entries:
    entries = {"weight": Entry(layer, "W")}
    if layer.bias:
        entries["bias"] = Entry(layer, "b")
    return entries


@TORCH_NAMES.register(Dense)
def _dense_names(layer: Dense) -> Entries:
    entries = {"weight": Entry(layer, "W", transposed=True)}
    if "b" in layer.param_names:  # a Dense without bias has no "b"
        entries["bias"] = Entry(layer, "b")
    return entries


@TORCH_NAMES.register(BatchNorm2d)
def _batchnorm_names(layer: BatchNorm2d) -> Entries:
    entries: Entries = {}
    if layer.affine:
        entries.update(weight=Entry(layer, "W"), bias=Entry(layer, "b"))
    if layer.track_running_stats:
        entries.update(
            running_mean=Entry(layer, "running_mean"),
            running_var=Entry(layer, "running_var"),
            num_batches_tracked=Entry(layer, None),
        )
    return entries


@TORCH_NAMES.register(Residual)
def _residual_names(layer: Residual) -> Entries:
    entries = {}
    for name, path in (("body", layer.body), ("shortcut", layer.shortcut or [])):
        for j, inner in enumerate(path):
            entries.update(layer_entries(inner, f"{name}.{j}."))
    return entries


@TORCH_NAMES.register(Concat)
def _concat_names(layer: Concat) -> Entries:
    entries = {}
    for b, branch in enumerate(layer.branches):
        for j, inner in enumerate(branch):
            entries.update(layer_entries(inner, f"branches.{b}.{j}."))
    return entries


def layer_entries(layer: Layer, prefix: str = "") -> Entries:
    """The state-dict entries of one layer, keyed ``prefix + name``."""
    names: Callable[[Layer], Entries] | None = TORCH_NAMES.get(type(layer))
    if names is None:
        if layer.param_names or layer.buffer_names:
            raise TypeError(
                f"{layer!r}: no PyTorch state-dict names are known for {type(layer).__name__}; "
                f"known layers with parameters: {TORCH_NAMES.names()}"
            )
        return {}
    return {prefix + name: entry for name, entry in names(layer).items()}


def model_entries(model: Any, owner: str = "state_dict") -> Entries:
    """Every entry of a Sequential, keyed like ``torch.nn.Sequential.state_dict()``."""
    if not isinstance(model, Sequential):
        raise TypeError(
            f"{owner}: expected a scratchcnn Sequential, but got {type(model).__name__}"
        )
    entries: Entries = {}
    for i, layer in enumerate(model.layers):
        entries.update(layer_entries(layer, f"{i}."))
    return entries


def state_dict(model: Any) -> dict[str, np.ndarray]:
    """Our parameters and buffers under torch's names, as NumPy copies in torch's layout.

    ``torch_module.load_state_dict({k: torch.from_numpy(v) for k, v in ...items()})`` fills
    the module that ``to_torch(model)`` describes.
    """
    return {key: np.array(entry.value()) for key, entry in model_entries(model).items()}


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` returns, as torch does."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _as_numpy(value: Any, key: str) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"load_state_dict: the value of {key!r} must be a tensor or array of numbers, but "
            f"got {type(value).__name__} with dtype {array.dtype}"
        )
    return array


def load_state_dict(
    model: Any, torch_state_dict: Mapping[str, Any], strict: bool = True
) -> IncompatibleKeys:
    """Fill ``model`` from a torch state dict (``module.state_dict()`` of the same architecture).

    Keys are torch's (``"0.weight"``, ``"3.running_mean"``); values torch tensors or arrays,
    cast to the model's dtype. As in torch, ``strict=True`` makes missing and unexpected keys
    an error, a shape mismatch is always one, and nothing is changed unless everything fits.
    ``num_batches_tracked`` is optional (we do not track it). Returns the missing and
    unexpected keys.
    """
    if not isinstance(torch_state_dict, Mapping):
        raise TypeError(
            "load_state_dict: expected a state dict (a mapping from names to tensors), but got "
            f"{type(torch_state_dict).__name__}"
        )
    entries = model_entries(model, "load_state_dict")
    values = {key: _as_numpy(value, key) for key, value in torch_state_dict.items()}
    missing = [
        key for key, entry in entries.items() if key not in values and entry.attr is not None
    ]
    unexpected = [key for key in values if key not in entries]
    errors = []
    if strict and missing:
        errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing))
    if strict and unexpected:
        errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected))
    for key, entry in entries.items():
        if key in values and entry.attr is not None:
            given, current = values[key].shape, entry.value().shape
            if given != current:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {given} from "
                    f"checkpoint, the shape in current model is {current}."
                )
    if errors:
        raise ValueError(
            f"load_state_dict: Error(s) in loading state_dict for {type(model).__name__}:\n\t"
            + "\n\t".join(errors)
        )
    for key, entry in entries.items():
        if key in values:
            entry.assign(values[key])
    return IncompatibleKeys(missing, unexpected)
