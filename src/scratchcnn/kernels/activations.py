"""Element-wise activations and softmax as pure functions, stable for any input size.

NumPy ufuncs keep their input's memory order, so these keep batch-last views batch-last and
float32 stays float32.
"""

from __future__ import annotations

import numpy as np


def sigmoid(X: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-X)) without overflow: exp only ever sees -|X|.

    For X < 0 it uses exp(X) / (1 + exp(X)), which keeps tiny results accurate instead of
    rounding 1 - sigmoid(|X|) to 0.
    """
    e = np.exp(-np.abs(X))  # in (0, 1]: never overflows
    denominator = np.add(e, 1, out=np.empty_like(e))
    A = np.divide(1, denominator, out=np.empty_like(e))
    np.divide(e, denominator, out=A, where=X < 0)
    return A


def softmax(X: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(X) / sum(exp(X)) along ``axis``, shifted by the maximum so exp never overflows."""
    with np.errstate(over="ignore"):  # only far-below-max entries can overflow, to -inf: exp 0
        A = np.subtract(X, np.max(X, axis=axis, keepdims=True))
    np.exp(A, out=A)
    A /= np.sum(A, axis=axis, keepdims=True)
    return A


def softmax_backward(dA: np.ndarray, A: np.ndarray, axis: int = -1) -> np.ndarray:
    """Jacobian-vector product of softmax: dX = A * (dA - sum(dA * A, axis)).

    The Jacobian diag(A) - A A^T is never formed; this is its product with dA.
    """
    dot = np.sum(dA * A, axis=axis, keepdims=True)
    dX = np.subtract(dA, dot)
    dX *= A
    return dX
