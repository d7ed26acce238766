"""The shared base of layers that run several paths of layers on one input (Residual, Concat).

A *path* is a list of layers applied in order, like a small Sequential. The block owns them:
``params()``, ``grads()`` and ``buffers()`` use nested keys (``"body.0.W"``), ``train``/``eval``
and dtypes reach every inner layer, and ``get_config`` stores each inner layer as
``{"class": name, "config": ...}``, which the constructor rebuilds through ``LAYER_REGISTRY``
only (loading never runs code from a file).

The flags a Sequential sets (docs/design.md) are passed on with care: inner outputs are always
consumed inside the block, so every inner layer may reuse its output buffer; a gradient that
fans out to two paths must not be overwritten in place by the first one; and when nobody needs
the block's input gradient, each path stops at its first layer with parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from scratchcnn.grad_mode import is_grad_enabled
from scratchcnn.kernels.layout import from_batch_last, to_batch_last
from scratchcnn.layers.base import FLAG_NAMES, LAYER_REGISTRY, Layer

Path = list[Layer]


def layer_from_spec(spec: Any, owner: str, where: str) -> Layer:
    """A layer, or one rebuilt from ``{"class": name, "config": {...}}`` via the registry."""
    if isinstance(spec, Layer):
        return spec
    if not isinstance(spec, dict):
        raise TypeError(
            f"{owner}: {where} must be a scratchcnn Layer, but got {type(spec).__name__}"
        )
    name = spec.get("class")
    cls = LAYER_REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None:
        known = ", ".join(sorted(LAYER_REGISTRY))
        raise ValueError(f"{owner}: {where} has unknown layer class {name!r}; known: {known}")
    config = spec.get("config", {})
    if not isinstance(config, dict):
        raise TypeError(f"{owner}: {where} ({name}) has a config that is not a dict")
    try:
        return cls(**config)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{owner}: cannot build {where} {name}({config}): {error}") from error


def build_path(layers: Any, owner: str, name: str) -> Path:
    """``layers`` (Layers or layer specs) as a list; a clear error for anything else."""
    if isinstance(layers, (Layer, str, bytes, dict)) or not isinstance(layers, Sequence):
        raise TypeError(
            f"{owner}: {name} must be a list of layers, but got {type(layers).__name__}"
        )
    path = [layer_from_spec(item, owner, f"{name}[{i}]") for i, item in enumerate(layers)]
    for i, layer in enumerate(path):
        if layer.optimizer is not None:
            raise ValueError(
                f"{owner}: {name}[{i}] {layer!r} carries its own optimizer; build inner layers "
                "without one (the model's, or the block's, optimizer updates them)"
            )
    return path


def path_config(path: Path) -> list[dict[str, Any]]:
    return [{"class": type(layer).__name__, "config": layer.get_config()} for layer in path]


def _first_trainable(path: Path) -> int:
    return next((i for i, layer in enumerate(path) if layer.param_names), len(path))


def accumulate(grads: list[np.ndarray], dA: np.ndarray, may_overwrite_dA: bool) -> np.ndarray:
    """The sum of the paths' input gradients, in place into one of them when that is safe.

    An addend may be written over when it is writeable, overlaps no other addend, and is not
    (part of) the caller's ``dA`` unless the caller allowed ``dA`` to be overwritten.
    """
    for k, target in enumerate(grads):
        others = grads[:k] + grads[k + 1 :]
        if (
            target.flags.writeable
            and (may_overwrite_dA or not np.may_share_memory(target, dA))
            and not any(np.may_share_memory(target, other) for other in others)
        ):
            for other in others:
                target += other
            return target
    total = grads[0] + grads[1]
    for other in grads[2:]:
        total += other
    return total


def _axis_order(a: np.ndarray) -> tuple[int, ...]:
    """The axes from the largest stride to the smallest: the memory layout of a dense array."""
    return tuple(int(axis) for axis in np.argsort([-abs(s) for s in a.strides], kind="stable"))


class _Branching(Layer):
    """A layer made of named paths of layers; subclasses combine the paths' outputs.

    Subclasses call ``_init_paths`` with ``(name, layers)`` pairs, implement ``forward``,
    ``backward`` and ``output_shape`` with ``_run_path`` / ``_backprop_path`` /
    ``_path_shape`` inside ``with self._flags_set():``, and say in ``_last_overwrites``
    whether the last layer of each path may overwrite its dA.
    """

    def _init_paths(self, paths: list[tuple[str, Path]]) -> None:
        seen: dict[int, str] = {}
        for name, path in paths:
            for i, layer in enumerate(path):
                where = f"{name}[{i}]"
                if id(layer) in seen:
                    raise ValueError(
                        f"{self._label(paths)}: the same layer object {layer!r} is "
                        f"{seen[id(layer)]} and {where}; its parameters would be updated twice "
                        "per step (build a new layer instead)"
                    )
                seen[id(layer)] = where
        self._paths = dict(paths)
        self._workspace: dict[str, np.ndarray] = {}

    # -- the flags of the inner layers -------------------------------------------------------
    def _last_overwrites(self) -> dict[str, bool]:
        """May the last layer of each path write over the dA it receives? (by path name)"""
        raise NotImplementedError

    def inner_flags(self) -> dict[str, dict[str, bool]]:
        """The flags the block gives each inner layer (``"body.0"``: {...}) while it runs it.

        Inner outputs are consumed inside the block before its next forward (``reuse_output``);
        inside a path each gradient comes from the next layer and nobody else reads it
        (``overwrite_dA``), the last layer's is the block's choice (``_last_overwrites``);
        without the block's input gradient, each path's first trainable layer skips its own.
        A path's dX may go into its layer's output buffer (``grad_in_output_buffer``) where
        the path consumes it, and for the first layer where the block's own dX is consumed
        before its next forward (the block has that flag itself).
        """
        flags = {}
        last = self._last_overwrites()
        for name, path in self._paths.items():
            start = self._start(path)
            for i in range(len(path)):
                flags[f"{name}.{i}"] = {
                    "compute_input_grad": self.compute_input_grad or i != start,
                    "reuse_output": True,
                    "overwrite_dA": i < len(path) - 1 or last[name],
                    "grad_in_output_buffer": i > 0 or self.grad_in_output_buffer,
                }
        return flags

    def _start(self, path: Path) -> int:
        """Where a path's backward starts: 0, or its first trainable layer without dX."""
        return 0 if self.compute_input_grad else _first_trainable(path)

    @contextmanager
    def _flags_set(self) -> Iterator[None]:
        """Give the inner layers their flags while the block runs them, as a model does."""
        layers = dict(self.named_layers())
        previous = {
            key: {name: getattr(layer, name) for name in FLAG_NAMES}
            for key, layer in layers.items()
        }
        try:
            for key, flags in self.inner_flags().items():
                for flag, value in flags.items():
                    setattr(layers[key], flag, value)
            yield
        finally:
            for key, flags in previous.items():
                for flag, value in flags.items():
                    setattr(layers[key], flag, value)

    # -- running the paths -------------------------------------------------------------------
    def _shared_input(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(X, view)``: X in the batch-last layout, and a read-only view for the paths.

        Batch-last once here (free when X came from a layer; a copy the first convolution
        would make anyway for data in PyTorch's layout) keeps the join of the paths from mixing
        memory orders, which makes an addition several times slower. Through the read-only
        view an in-place layer (ReLU(inplace=True)) at the start of a path computes a new array
        instead of writing over what the other paths read.
        """
        if X.ndim >= 2:
            X = from_batch_last(to_batch_last(X))
        view = X.view()
        view.flags.writeable = False
        return X, view

    def _run_path(self, name: str, X: np.ndarray) -> np.ndarray:
        A = X
        for i, layer in enumerate(self._paths[name]):
            try:
                A = layer.forward(A)
            except (ValueError, TypeError) as error:
                if type(error) not in (ValueError, TypeError):
                    raise
                raise type(error)(f"{self._label()}: {name}[{i}]: {error}") from error
        return A

    def _backprop_path(self, name: str, dA: np.ndarray) -> np.ndarray | None:
        """dA through the path in reverse; None when the block's input gradient is not needed."""
        path = self._paths[name]
        for layer in reversed(path[self._start(path) :]):
            dA = layer.backward(dA)
        return dA if self.compute_input_grad else None

    def _path_shape(self, name: str, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        shape = tuple(input_shape)
        for i, layer in enumerate(self._paths[name]):
            try:
                shape = tuple(layer.output_shape(shape))
            except (ValueError, TypeError) as error:
                raise type(error)(
                    f"{self._label()}: {name}[{i}] does not fit its input of shape {shape}: {error}"
                ) from error
        return shape

    def _output_buffer(self, like: np.ndarray) -> np.ndarray:
        """Where the block writes its output: with ``reuse_output`` (inside a Sequential) a
        buffer kept between calls (one for training, one for inference), else a new array;
        in ``like``'s memory layout either way."""
        if not self.reuse_output:
            return np.empty_like(like)
        key = "output" if is_grad_enabled() else "inference_output"
        buffer = self._workspace.get(key)
        if (
            buffer is None
            or buffer.shape != like.shape
            or buffer.dtype != like.dtype
            or _axis_order(buffer) != _axis_order(like)
        ):
            buffer = np.empty_like(like)
            self._workspace[key] = buffer
        return buffer

    # -- the layer contract ------------------------------------------------------------------
    @property
    def paths(self) -> dict[str, list[Layer]]:
        """The block's paths by name (``{"body": [...], "shortcut": [...]}``), in order."""
        return {name: list(path) for name, path in self._paths.items()}

    def named_layers(self) -> Iterator[tuple[str, Layer]]:
        """``("body.0", layer)`` pairs: every direct inner layer with its key prefix."""
        for name, path in self._paths.items():
            for i, layer in enumerate(path):
                yield f"{name}.{i}", layer

    @property
    def param_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self.params()) if "_paths" in self.__dict__ else ()

    @property
    def buffer_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self.buffers()) if "_paths" in self.__dict__ else ()

    def params(self) -> dict[str, np.ndarray]:
        return {
            f"{p}.{k}": v for p, layer in self.named_layers() for k, v in layer.params().items()
        }

    def grads(self) -> dict[str, np.ndarray | None]:
        return {f"{p}.{k}": v for p, layer in self.named_layers() for k, v in layer.grads().items()}

    def buffers(self) -> dict[str, np.ndarray]:
        return {
            f"{p}.{k}": v for p, layer in self.named_layers() for k, v in layer.buffers().items()
        }

    def _inner(self, name: str) -> tuple[Layer, str]:
        """The inner layer that owns the nested array ``name`` and the name it has there."""
        for path_name, path in self._paths.items():
            if name.startswith(path_name + "."):
                index, _, inner_name = name[len(path_name) + 1 :].partition(".")
                if index.isdigit() and int(index) < len(path) and inner_name:
                    return path[int(index)], inner_name
        raise KeyError(f"{self._label()}: no inner array named {name!r}")

    def _get_array(self, name: str) -> Any:
        layer, inner_name = self._inner(name)
        return layer._get_array(inner_name)

    def _set_array(self, name: str, value: Any) -> None:
        layer, inner_name = self._inner(name)
        layer._set_array(inner_name, value)

    @property
    def trainable(self) -> bool:
        """False when every inner layer is frozen; setting it freezes or thaws them all."""
        return any(getattr(layer, "trainable", True) for _, layer in self.named_layers())

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{self._label()}: trainable must be True or False, but got {value!r}")
        for _, layer in self.named_layers():
            layer.trainable = bool(value)

    def train(self, mode: bool = True) -> Layer:
        super().train(mode)
        for _, layer in self.named_layers():
            layer.train(mode)
        return self

    def _adopt_dtype(self, dtype: np.dtype) -> None:
        for _, layer in self.named_layers():
            layer._adopt_dtype(dtype)

    def _clear_cache(self) -> None:
        self._cache = None
        for _, layer in self.named_layers():
            layer._clear_cache()

    def summary_rows(
        self, input_shape: tuple[int, ...], indent: str = "  "
    ) -> list[tuple[str, tuple[int, ...], int]]:
        """``(name (type), output shape, params)`` for each inner layer, nested ones indented."""
        rows: list[tuple[str, tuple[int, ...], int]] = []
        for name, path in self._paths.items():
            shape = tuple(input_shape)
            if not path:
                rows.append((f"{indent}{name} (identity)", shape, 0))
            for i, layer in enumerate(path):
                layer_input, shape = shape, tuple(layer.output_shape(shape))
                label = f"{indent}{name}.{i} ({type(layer).__name__})"
                rows.append((label, shape, layer.num_params()))
                if isinstance(layer, _Branching):
                    rows += layer.summary_rows(layer_input, indent + "  ")
        return rows

    def _label(self, paths: list[tuple[str, Path]] | None = None) -> str:
        """A one-line name for messages: ``Residual(body=[Conv2d, ReLU], shortcut=identity)``."""
        items = paths if paths is not None else list(self._paths.items())
        parts = [
            f"{name}=[{', '.join(type(layer).__name__ for layer in path)}]"
            if path
            else f"{name}=identity"
            for name, path in items
        ]
        return f"{type(self).__name__}({', '.join(parts)})"

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        for name, path in self._paths.items():
            if not path:
                lines.append(f"  ({name}): identity")
                continue
            lines.append(f"  ({name}): [")
            for i, layer in enumerate(path):
                inner = repr(layer).replace("\n", "\n    ")
                lines.append(f"    ({i}): {inner}")
            lines.append("  ]")
        extra = self.extra_repr()
        if extra:
            lines.append(f"  {extra}")
        lines.append(")")
        return "\n".join(lines)
