"""Dense (fully connected) layer: the notebooks' ``A = X @ W + b``."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.layers.base import Layer
from scratchcnn.memory import check_allocation
from scratchcnn.random import default_rng
from scratchcnn.validation import (
    as_float_array,
    check_grad_shape,
    check_initializer,
    check_ndim,
    check_positive_int,
)


class Dense(Layer):
    """A = X @ W + b: (N, in_features) -> (N, out_features), or (in_features,) unbatched.

    ``W`` is (in_features, out_features), the transpose of ``torch.nn.Linear.weight``, and
    ``b`` is (out_features,), or None with ``bias=False`` (torch's third positional
    argument, as in ``Linear(10, 8, False)``). Without an ``initializer`` (an object with
    ``W(*shape)`` and ``B(n)``, passed by keyword) both are drawn like PyTorch's default:
    uniform in ±1/sqrt(in_features), from ``scratchcnn.random.default_rng()``.
    """

    param_names = ("W", "b")
    owns_output = True  # a new array; backward reads the input

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        initializer: Any = None,
        optimizer: Any = None,
    ) -> None:
        if not isinstance(bias, (bool, np.bool_)):
            hint = (
                "; pass an initializer by keyword (initializer=...)"
                if callable(getattr(bias, "W", None))
                else ""
            )
            raise TypeError(f"Dense: bias must be True or False, but got {bias!r}{hint}")
        self.bias = bool(bias)
        self.param_names = ("W", "b") if self.bias else ("W",)
        super().__init__(optimizer)
        self.in_features = check_positive_int(in_features, "in_features", "Dense")
        self.out_features = check_positive_int(out_features, "out_features", "Dense")
        check_initializer(initializer, "Dense", uses_bias=self.bias)
        shape = (self.in_features, self.out_features)
        b: np.ndarray | None = None
        check_allocation(shape, np.float32, "W", repr(self), peak_factor=3)  # float64 draw
        if initializer is None:
            bound = 1.0 / np.sqrt(self.in_features)
            rng = default_rng()
            W = rng.uniform(-bound, bound, shape).astype(np.float32)
            if self.bias:
                b = rng.uniform(-bound, bound, self.out_features).astype(np.float32)
        else:
            W = np.asarray(initializer.W(*shape))
            if self.bias:
                b = np.asarray(initializer.B(self.out_features))
        if W.shape != shape or (b is not None and b.shape != (self.out_features,)):
            raise ValueError(
                f"{self!r}: the initializer must give W of shape {shape} and b of shape "
                f"({self.out_features},), but gave {W.shape} and {None if b is None else b.shape}"
            )
        self.W = W
        self.b = b

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = as_float_array(X, self)
        check_ndim(X, (1, 2), self, "1D (unbatched) or 2D (batched)")
        self.output_shape(X.shape[-1:])
        self._adopt_dtype(X.dtype)
        A = X @ self.W
        if self.b is not None:
            A += self.b
        self._cache = X
        return A

    def backward(self, dA: np.ndarray) -> np.ndarray | None:
        X = self._cached()
        dA = as_float_array(dA, self, "dA").astype(X.dtype, copy=False)
        check_grad_shape(dA, (*X.shape[:-1], self.out_features), self)
        if self._wants_param_grads():
            self.dW = np.outer(X, dA) if X.ndim == 1 else X.T @ dA
            if self.bias:
                self.db = dA.copy() if X.ndim == 1 else dA.sum(axis=0)
        dX = self._input_grad(X, dA) if self.compute_input_grad else None
        self._apply_optimizer()
        return dX

    def _input_grad(self, X: np.ndarray, dA: np.ndarray) -> np.ndarray:
        """dX = dA W^T (N, in_features), in X's memory order.

        A Flatten after a convolution hands over a batch-last view (its transpose is
        contiguous); dX then comes out the same way, (W dA^T)^T, so the layers before get
        their gradient batch-last with no transposing copy (1.2 ms of seed_cnn's step).
        """
        if X.ndim == 2 and X.shape[0] > 1 and X.T.flags.c_contiguous:
            return (self.W @ dA.T).T
        return dA @ self.W.T

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """(in_features,) -> (out_features,) for one sample."""
        if tuple(input_shape) != (self.in_features,):
            raise ValueError(
                f"{self!r}: expected input with {self.in_features} features in its last "
                f"axis, but got per-sample input shape {tuple(input_shape)}"
            )
        return (self.out_features,)

    def get_config(self) -> dict[str, Any]:
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias,
        }

    def extra_repr(self) -> str:
        text = f"in_features={self.in_features}, out_features={self.out_features}"
        return text if self.bias else text + ", bias=False"
