"""Gradient clipping by global norm, like ``torch.nn.utils.clip_grad_norm_``."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from scratchcnn.layers.base import Layer


def _layers_of(layers_or_model: Any, owner: str) -> list[Layer]:
    if isinstance(layers_or_model, Layer):
        return [layers_or_model]
    layers = getattr(layers_or_model, "layers", layers_or_model)
    if not isinstance(layers, Iterable):
        raise TypeError(
            f"{owner}: expected a model, a layer or a list of layers, but got "
            f"{type(layers_or_model).__name__}"
        )
    layers = list(layers)
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(
                f"{owner}: expected a model, a layer or a list of layers, but item {i} is "
                f"{type(layer).__name__}"
            )
    return layers


def _norm_type(norm_type: Any, owner: str) -> float:
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        return math.inf
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real):
        raise TypeError(f"{owner}: norm_type must be a positive number or 'inf', got {norm_type!r}")
    value = float(norm_type)
    if not value > 0:
        raise ValueError(f"{owner}: norm_type must be positive or inf, but got {norm_type}")
    return value


def vector_norm(a: np.ndarray, p: float) -> float:
    """The p-norm of ``a`` flattened, accumulated in float64 (``p`` may be inf)."""
    if a.size == 0:
        return 0.0
    if p == math.inf:
        return float(np.max(np.abs(a)))
    flat = a.reshape(-1).astype(np.float64, copy=False)
    if p == 2.0:
        return math.sqrt(float(np.dot(flat, flat)))
    if p == 1.0:
        return float(np.sum(np.abs(flat)))
    return float(np.sum(np.abs(flat) ** p) ** (1.0 / p))


def clip_grad_norm(
    layers_or_model: Any,
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all gradients in place so their global ``norm_type``-norm is at most ``max_norm``.

    The norm is taken over every gradient of the layers together (each gradient's norm, then
    the norm of those), as in torch; gradients are multiplied by min(1, max_norm / (total +
    1e-6)). Returns the total norm before clipping as a float (computed in float64). Layers
    without gradients yet (before a backward) are skipped.
    """
    owner = "clip_grad_norm"
    layers = _layers_of(layers_or_model, owner)
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real):
        raise TypeError(f"{owner}: max_norm must be a number, but got {max_norm!r}")
    max_norm = float(max_norm)
    if not max_norm >= 0 or math.isnan(max_norm):
        raise ValueError(f"{owner}: max_norm must be non-negative, but got {max_norm}")
    p = _norm_type(norm_type, owner)
    grads = [
        grad
        for layer in layers
        for grad in layer.grads().values()
        if isinstance(grad, np.ndarray)
    ]
    if not grads:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.array([vector_norm(g, p) for g in grads])
        total = vector_norm(norms, p)
    if error_if_nonfinite and not math.isfinite(total):
        raise ValueError(
            f"{owner}: the total norm of order {norm_type} of the gradients is {total}, so they "
            "cannot be clipped; pass error_if_nonfinite=False to clip anyway"
        )
    coef = min(max_norm / (total + 1e-6), 1.0)
    if coef < 1.0 or math.isnan(coef):
        for grad in grads:
            grad *= grad.dtype.type(coef)
    return total
