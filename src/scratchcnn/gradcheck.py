"""Finite-difference gradient checks, for tests and for learners checking their own layers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scratchcnn.layers.base import Layer


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to ``x``, perturbed in place.

    Use float64 arrays: float32 differences are dominated by rounding.
    """
    grad = np.zeros_like(x)
    flat_x = x.reshape(-1)  # a view: x must be contiguous so perturbations reach f
    if not np.shares_memory(flat_x, x):
        raise ValueError("numerical_gradient: x must be a contiguous array")
    flat_grad = grad.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        f_plus = f()
        flat_x[i] = original - eps
        f_minus = f()
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def layer_gradient_errors(
    layer: Layer, X: np.ndarray, seed: int = 0, eps: float = 1e-6
) -> dict[str, float]:
    """Max relative error between ``backward`` and central differences, for dX and each param.

    The scalar checked is ``sum(forward(X) * dA)`` with a fixed random ``dA``. Returns a dict
    such as ``{"X": 3e-10, "W": 1e-10, "b": 2e-11}``.
    """
    X = np.array(X, dtype=np.float64)
    out = layer.forward(X)
    dA = np.random.default_rng(seed).standard_normal(out.shape)
    dX = layer.backward(dA.copy())
    analytic = {"X": dX, **{k: np.array(v) for k, v in layer.grads().items()}}

    def loss() -> float:
        return float(np.sum(layer.forward(X) * dA))

    targets = {"X": X, **layer.params()}
    errors = {}
    for name, array in targets.items():
        numeric = numerical_gradient(loss, array, eps)
        scale = max(1.0, float(np.max(np.abs(numeric))))
        errors[name] = float(np.max(np.abs(numeric - analytic[name]))) / scale
    return errors
