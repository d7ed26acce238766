"""Dropout: zero random elements while training, to keep units from co-adapting."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.layers.base import Layer
from scratchcnn.random import default_rng
from scratchcnn.validation import as_float_array, check_grad_shape, check_probability


def _random_like(rng: np.random.Generator, X: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) numbers shaped like X, in X's dtype and memory order.

    Drawing in memory order keeps a batch-last view batch-last, so the products with X and
    dA below run over contiguous memory.
    """
    order = sorted(range(X.ndim), key=lambda axis: -abs(X.strides[axis]))
    U = rng.random(tuple(X.shape[axis] for axis in order), dtype=X.dtype)
    return U.transpose(np.argsort(order))


class Dropout(Layer):
    """Inverted dropout, like ``torch.nn.Dropout(p)``; any shape.

    In training mode each element is zeroed with probability ``p`` and the rest are scaled
    by 1 / (1 - p), so eval mode (``layer.eval()``) is the identity. ``seed`` (int or
    Generator) gives the layer its own random stream; None draws from
    ``scratchcnn.random.default_rng()``.
    """

    def __init__(self, p: float = 0.5, seed: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = check_probability(p, "p", "Dropout")
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, (int, np.integer, np.random.Generator))
        ):
            raise TypeError(f"Dropout: seed must be an int, a Generator or None, but got {seed!r}")
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = as_float_array(X, self)
        if not self.training or self.p == 0.0:
            self._cache = (None, X.shape, X.dtype)
            return X
        if self.p == 1.0:  # everything dropped; X * 0 would turn infinities into NaN
            scale = np.zeros_like(X)
            self._cache = (scale, X.shape, X.dtype)
            return np.zeros_like(X)
        rng = self._rng if self._rng is not None else default_rng()
        # keep an element when its uniform draw is >= p: probability 1 - p
        scale = np.greater_equal(
            _random_like(rng, X), self.p, out=np.empty_like(X), casting="unsafe"
        )
        scale /= 1.0 - self.p
        self._cache = (scale, X.shape, X.dtype)
        return np.multiply(X, scale, out=np.empty_like(X))

    def backward(self, dA: np.ndarray) -> np.ndarray:
        scale, shape, dtype = self._cached()
        dA = as_float_array(dA, self, "dA").astype(dtype, copy=False)
        check_grad_shape(dA, shape, self)
        self._apply_optimizer()
        return dA if scale is None else np.multiply(dA, scale, out=np.empty_like(scale))

    def get_config(self) -> dict[str, Any]:
        seed = int(self.seed) if isinstance(self.seed, (int, np.integer)) else None
        return {"p": self.p, "seed": seed}

    def extra_repr(self) -> str:
        return f"p={self.p}"
