"""Parallel paths joined by concatenation, as in Inception modules (``torch.cat`` of branches)."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.grad_mode import is_grad_enabled
from scratchcnn.layers.branching import _Branching, accumulate, build_path, path_config
from scratchcnn.validation import as_float_array, check_grad_shape


class Concat(_Branching):
    """``torch.cat([branch(X) for branch in branches], dim)``; each branch a list of layers.

    An empty branch is the identity (X itself). ``dim`` counts the batch axis as in PyTorch
    (1, the channels, by default; negative counts from the end) and cannot be 0: input is
    batched, (N, *S). All branch outputs must agree on every other axis. Parameters have keys
    ``"branches.<branch>.<layer>.<name>"``, e.g. ``"branches.1.0.W"``.
    """

    def __init__(self, branches: Any, dim: int = 1, optimizer: Any = None) -> None:
        super().__init__(optimizer)
        owner = "Concat"
        if isinstance(branches, (str, bytes, dict)) or not isinstance(branches, (list, tuple)):
            raise TypeError(
                f"{owner}: branches must be a list of lists of layers, but got "
                f"{type(branches).__name__}"
            )
        if len(branches) < 1:
            raise ValueError(f"{owner}: expected at least one branch, but got an empty list")
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"{owner}: dim must be an int, but got {dim!r}")
        if dim == 0:
            raise ValueError(f"{owner}: dim must not be 0 (the batch axis); use 1 for the channels")
        self.dim = int(dim)
        paths = [
            (f"branches.{i}", build_path(branch, owner, f"branches[{i}]"))
            for i, branch in enumerate(branches)
        ]
        self._init_paths(paths)

    @property
    def branches(self) -> list[list[Any]]:
        return list(self._paths.values())

    def _last_overwrites(self) -> dict[str, bool]:
        # each branch gets its own slice of dA, which nobody else reads
        return {name: self.overwrite_dA for name in self._paths}

    def _axis(self, ndim: int) -> int:
        """``dim`` as a non-negative axis of a batched array with ``ndim`` axes."""
        if not -ndim < self.dim < ndim:
            raise ValueError(
                f"{self._label()}: dimension out of range (expected to be in range of "
                f"[{-ndim + 1}, {ndim - 1}] without the batch axis 0, but got {self.dim})"
            )
        return self.dim % ndim

    def _joined_shape(self, shapes: list[tuple[int, ...]], batched: bool) -> tuple[int, ...]:
        """The concatenation's shape; an error when the branches disagree off ``dim``."""
        ndim = len(shapes[0]) + (0 if batched else 1)
        axis = self._axis(ndim) - (0 if batched else 1)
        for i, shape in enumerate(shapes):
            rest = [n for k, n in enumerate(shape) if k != axis]
            first = [n for k, n in enumerate(shapes[0]) if k != axis]
            if len(shape) != len(shapes[0]) or rest != first:
                raise ValueError(
                    f"{self._label()}: Sizes of branches must match except in dimension "
                    f"{self.dim}: branch 0 gives {shapes[0]} but branch {i} gives {shape}"
                )
        joined = list(shapes[0])
        joined[axis] = sum(shape[axis] for shape in shapes)
        return tuple(joined)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The branches' per-sample output shapes joined along ``dim`` (minus the batch axis)."""
        shapes = [self._path_shape(name, tuple(input_shape)) for name in self._paths]
        return self._joined_shape(shapes, batched=False)

    def forward(self, X: np.ndarray) -> np.ndarray:
        owner = self._label()
        X = as_float_array(X, owner)
        if X.ndim < 2:
            raise ValueError(
                f"{owner}: expected batched input (N, *S) of at least 2D, but got input of "
                f"shape {tuple(X.shape)}"
            )
        X, shared = self._shared_input(X)
        with self._flags_set():
            outputs = [
                self._run_path(name, shared) if path else X for name, path in self._paths.items()
            ]
        shape = self._joined_shape([tuple(A.shape) for A in outputs], batched=True)
        axis = self._axis(len(shape))
        out = self._output_buffer(np.empty_like(outputs[0], shape=shape))
        np.concatenate(outputs, axis=axis, out=out)
        sizes = [A.shape[axis] for A in outputs]
        self._cache = (shape, out.dtype, axis, sizes) if is_grad_enabled() else None
        return out

    def backward(self, dA: np.ndarray) -> np.ndarray | None:
        shape, dtype, axis, sizes = self._cached()
        owner = self._label()
        dA = as_float_array(dA, owner, "dA").astype(dtype, copy=False)
        check_grad_shape(dA, shape, owner)
        bounds = np.cumsum([0, *sizes])
        grads = []
        with self._flags_set():
            pairs = zip(self._paths.items(), bounds[:-1], bounds[1:], strict=True)
            for (name, path), lo, hi in pairs:
                part = dA[(slice(None),) * axis + (slice(int(lo), int(hi)),)]
                grads.append(self._backprop_path(name, part) if path else part)
        self._apply_optimizer()
        if not self.compute_input_grad:
            return None
        if len(grads) == 1:
            only = grads[0]
            return only.copy() if np.may_share_memory(only, dA) and not self.overwrite_dA else only
        return accumulate(grads, dA, self.overwrite_dA)

    def get_config(self) -> dict[str, Any]:
        return {"branches": [path_config(path) for path in self._paths.values()], "dim": self.dim}

    def extra_repr(self) -> str:
        return "" if self.dim == 1 else f"dim={self.dim}"
