"""Activation layers: ReLU, LeakyReLU, Tanh, Sigmoid and Softmax.

Element-wise layers accept any shape, 0-d included, and keep the input's memory order (NumPy
ufuncs write in their input's order), so batch-last views from a convolution stay batch-last
with no copy. Each ``backward`` uses what its ``forward`` cached: the output, or a 0/1 mask.
NumPy turns 0-d results into scalars; ``as_array`` turns them back, so a 0-d input gives a
0-d array out of forward and backward, as a 0-d tensor does in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.kernels import compiled
from scratchcnn.kernels.activations import sigmoid, softmax, softmax_backward
from scratchcnn.layers.base import Layer
from scratchcnn.validation import as_float_array, check_grad_shape


def as_array(value: np.ndarray | np.generic) -> np.ndarray:
    """``value`` as an ndarray: a NumPy scalar (a ufunc's result on 0-d input) becomes 0-d."""
    return value if isinstance(value, np.ndarray) else np.asarray(value)


def _positive_mask(X: np.ndarray) -> np.ndarray:
    """1.0 where X > 0, else 0.0, in X's dtype and memory order.

    Writing the comparison straight into a float array is several times faster than
    multiplying by a bool array, which makes NumPy cast element by element through a buffer.
    """
    return np.greater(X, 0, out=np.empty_like(X), casting="unsafe")


class _Activation(Layer):
    """Shared input and gradient checks of the activation layers."""

    def _input(self, X: Any) -> np.ndarray:
        return as_float_array(X, self)

    def _grad(self, dA: Any, like: np.ndarray) -> np.ndarray:
        """dA checked against the forward output ``like`` and given its dtype."""
        dA = as_float_array(dA, self, "dA").astype(like.dtype, copy=False)
        check_grad_shape(dA, like.shape, self)
        return dA


class ReLU(_Activation):
    """max(X, 0) element-wise, like ``torch.nn.ReLU``; any shape. Gradient 0 at X = 0.

    ``inplace=True`` (PyTorch's option) writes the result over X, saving a full-size
    allocation per call. Use it after layers that do not keep their output for backward
    (Conv, Dense, pooling): the zoo does. In a model, a layer before an in-place ReLU may
    rectify its output itself (``Layer.rectify_output``); the ReLU then has
    ``input_rectified`` set and passes X through.
    """

    input_rectified: bool = False

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = self._input(X)
        if self.input_rectified:  # max(X, 0) is X already (the layer before applied it)
            self._cache = X
            return X
        in_place = self.inplace and X.flags.writeable
        A = compiled.relu_forward(X, in_place) if compiled.usable() else None
        if A is None:
            A = as_array(np.maximum(X, 0, out=X if in_place else None))
        self._cache = A
        return A

    def get_config(self) -> dict[str, Any]:
        return {"inplace": self.inplace}

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""

    def backward(self, dA: np.ndarray) -> np.ndarray:
        A = self._cached()
        dA = self._grad(dA, A)
        # one fused pass when Numba is there and dA has A's memory layout (the usual case)
        in_place = self.overwrite_dA and dA.flags.writeable
        dX = compiled.relu_backward(A, dA, in_place) if compiled.usable() else None
        if dX is None:
            mask = _positive_mask(A)
            dX = np.multiply(dA, mask, out=dA) if in_place else np.multiply(mask, dA, out=mask)
        self._apply_optimizer()
        return dX

    def backward_applied(self, dA: np.ndarray) -> np.ndarray:
        """backward when the layer after has applied this ReLU's gradient to dA already.

        A max pool after a ReLU does that in its own backward pass (``rectified_input``);
        dA is checked and returned as it is.
        """
        dA = self._grad(dA, self._cached())
        self._apply_optimizer()
        return dA


class LeakyReLU(_Activation):
    """X where X > 0, else ``negative_slope * X``, like ``torch.nn.LeakyReLU``; any shape."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(
            negative_slope, (int, float, np.integer, np.floating)
        ):
            raise TypeError(
                f"LeakyReLU: negative_slope must be a number, but got {negative_slope!r}"
            )
        self.negative_slope = float(negative_slope)

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = self._input(X)
        # slope where X <= 0 and 1 where X > 0, built so that both values are exact
        positive = _positive_mask(X)
        factor = np.subtract(1, positive, out=np.empty_like(positive))
        factor *= self.negative_slope
        factor += positive
        self._cache = factor
        return as_array(X * factor)

    def backward(self, dA: np.ndarray) -> np.ndarray:
        factor = self._cached()
        dX = as_array(self._grad(dA, factor) * factor)
        self._apply_optimizer()
        return dX

    def get_config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(_Activation):
    """tanh(X) element-wise, like ``torch.nn.Tanh``; any shape. dX = dA * (1 - A**2)."""

    def forward(self, X: np.ndarray) -> np.ndarray:
        A = as_array(np.tanh(self._input(X)))
        self._cache = A
        return A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        A = self._cached()
        dX = as_array(np.multiply(A, A))
        np.subtract(1, dX, out=dX)
        dX *= self._grad(dA, A)
        self._apply_optimizer()
        return dX


class Sigmoid(_Activation):
    """1 / (1 + exp(-X)) element-wise, like ``torch.nn.Sigmoid``; any shape, no overflow.

    dX = dA * (1 - A) * A.
    """

    def forward(self, X: np.ndarray) -> np.ndarray:
        A = sigmoid(self._input(X))
        self._cache = A
        return A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        A = self._cached()
        dX = as_array(np.subtract(1, A))
        dX *= self._grad(dA, A)
        dX *= A
        self._apply_optimizer()
        return dX


class Softmax(_Activation):
    """exp(X) / sum(exp(X)) along ``dim``, like ``torch.nn.Softmax(dim)``; any shape.

    ``dim`` counts the batch axis, as in PyTorch: use ``dim=1`` (or the default -1) for
    (N, K) logits. Stable for large inputs. ``backward`` is the full Jacobian-vector product.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"Softmax: dim must be an int, but got {dim!r}")
        self.dim = int(dim)

    def _check_dim(self, ndim: int) -> None:
        if not -max(ndim, 1) <= self.dim < max(ndim, 1):
            raise ValueError(
                f"{self!r}: dimension out of range (expected to be in range of "
                f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}] for {ndim}D input, but got {self.dim})"
            )

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = self._input(X)
        self._check_dim(X.ndim)
        A = softmax(X, axis=self.dim) if X.ndim else np.ones_like(X)
        self._cache = A
        return A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        A = self._cached()
        dA = self._grad(dA, A)
        dX = softmax_backward(dA, A, axis=self.dim) if A.ndim else np.zeros_like(A)
        self._apply_optimizer()
        return dX

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The input shape; ``dim`` must fit the batched rank (one more than per-sample)."""
        self._check_dim(len(input_shape) + 1)
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
