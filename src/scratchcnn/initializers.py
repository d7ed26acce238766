"""Weight initializers: ``W(*shape)`` and ``B(n)`` return float32 arrays for a layer to adopt.

Fan-in and fan-out come from the weight's shape (docs/design.md):

* ``(K,)``: SimpleConv1d's kernel, fan_in = fan_out = K;
* ``(in_features, out_features)``: the notebooks' Dense layout (PyTorch's Linear is transposed);
* ``(C_out, C_in / groups, *kernel)``: a convolution, fan_in = C_in / groups * prod(kernel),
  fan_out = C_out * prod(kernel) (as ``torch.nn.init`` computes them).

Each initializer takes ``seed``: an int, a ``np.random.Generator``, or None for the library's
default generator (reseeded by ``scratchcnn.manual_seed``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from scratchcnn.random import default_rng, make_rng
from scratchcnn.validation import check_positive_int


def _check_shape(shape: tuple[Any, ...], owner: str) -> tuple[int, ...]:
    """Normalize ``W``'s arguments: ints, or one tuple of ints, each positive."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if len(shape) == 0:
        raise ValueError(f"{owner}: W() needs at least one dimension, but got shape ()")
    return tuple(check_positive_int(n, "each dimension of the shape", owner) for n in shape)


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shape, by the rules in this module's docstring."""
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


class _Initializer:
    """Shared parts: the generator, the shape checks and the bias size check."""

    def __init__(self, seed: int | np.random.Generator | None = None) -> None:
        self.seed = seed
        # None is resolved at each draw, so manual_seed() called after construction still counts.
        self._rng = None if seed is None else make_rng(seed)

    def _generator(self) -> np.random.Generator:
        return default_rng() if self._rng is None else self._rng

    def _normal(self, shape: tuple[int, ...], std: float) -> np.ndarray:
        return self._generator().standard_normal(shape, dtype=np.float32) * np.float32(std)

    def _bias_size(self, n: Any) -> int:
        return check_positive_int(n, "n", f"{type(self).__name__}.B")

    def W(self, *shape: int) -> np.ndarray:
        raise NotImplementedError

    def B(self, n: int, fan_in: int | None = None) -> np.ndarray:
        """Zeros of shape ``(n,)``; ``fan_in`` is accepted for a common interface and unused."""
        return np.zeros(self._bias_size(n), dtype=np.float32)

    def extra_repr(self) -> str:
        return "" if self.seed is None else f"seed={self.seed!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class SimpleInitializer(_Initializer):
    """The notebooks' initializer: W is ``sigma`` times a standard normal draw, B is zeros.

    ``sigma`` must be a positive number, e.g. ``SimpleInitializer(0.01).W(784, 400)``.
    """

    def __init__(self, sigma: float, seed: int | np.random.Generator | None = None) -> None:
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.integer, np.floating)):
            raise TypeError(f"SimpleInitializer: sigma must be a number, but got {sigma!r}")
        if not (math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"SimpleInitializer: sigma must be positive, but got sigma={sigma}")
        super().__init__(seed)
        self.sigma = float(sigma)

    def W(self, *shape: int) -> np.ndarray:
        """Weights of ``shape``, drawn from N(0, sigma**2)."""
        return self._normal(_check_shape(shape, "SimpleInitializer.W"), self.sigma)

    def extra_repr(self) -> str:
        seed = "" if self.seed is None else f", seed={self.seed!r}"
        return f"sigma={self.sigma}{seed}"


class XavierInitializer(_Initializer):
    """Glorot (Xavier) normal: W ~ N(0, 2 / (fan_in + fan_out)); biases are zeros.

    Glorot and Bengio (2010) ask that a layer keep the variance of its activations on the way
    forward (Var W = 1/fan_in) and of its gradients on the way back (Var W = 1/fan_out); the
    harmonic compromise 2 / (fan_in + fan_out) is ``torch.nn.init.xavier_normal_``. It suits
    tanh and sigmoid; the notebooks' simpler variant uses std 1/sqrt(fan_in).
    """

    def W(self, *shape: int) -> np.ndarray:
        """Weights of ``shape`` with std sqrt(2 / (fan_in + fan_out))."""
        checked = _check_shape(shape, "XavierInitializer.W")
        fan_in, fan_out = compute_fans(checked)
        return self._normal(checked, math.sqrt(2.0 / (fan_in + fan_out)))


class HeInitializer(_Initializer):
    """He (Kaiming) normal: W ~ N(0, 2 / fan_in); biases are zeros.

    ReLU zeroes half of its inputs, so the variance 2 / fan_in (twice LeCun's) keeps the
    activations' scale through deep ReLU stacks: ``torch.nn.init.kaiming_normal_``'s default.
    ``mode="fan_out"`` uses 2 / fan_out instead, which keeps the gradients' scale on the way
    back (``kaiming_normal_(mode="fan_out")``, what torchvision's ResNets use).
    """

    def __init__(self, seed: int | np.random.Generator | None = None, mode: str = "fan_in") -> None:
        super().__init__(seed)
        if mode not in ("fan_in", "fan_out"):
            raise ValueError(
                f"HeInitializer: mode must be 'fan_in' or 'fan_out', but got {mode!r}"
            )
        self.mode = mode

    def W(self, *shape: int) -> np.ndarray:
        """Weights of ``shape`` with std sqrt(2 / fan_in) (or fan_out, per ``mode``)."""
        checked = _check_shape(shape, "HeInitializer.W")
        fan_in, fan_out = compute_fans(checked)
        fan = fan_in if self.mode == "fan_in" else fan_out
        return self._normal(checked, math.sqrt(2.0 / fan))

    def extra_repr(self) -> str:
        parts = [super().extra_repr()] + ([f"mode={self.mode!r}"] if self.mode != "fan_in" else [])
        return ", ".join(part for part in parts if part)


class DefaultInitializer(_Initializer):
    """PyTorch's default for Linear and Conv layers: W and b uniform in ±1/sqrt(fan_in).

    This is what a layer uses when given ``initializer=None``. The bias needs the weight's
    fan_in: pass ``B(n, fan_in=...)``, or call ``W(*shape)`` first and then ``B(n)``, which
    reuses that weight's fan_in when ``n`` is its number of outputs (shape[1] for a Dense
    ``(in, out)``, shape[0] for a conv kernel, any n for a 1-D kernel).
    """

    def __init__(self, seed: int | np.random.Generator | None = None) -> None:
        super().__init__(seed)
        self._last_shape: tuple[int, ...] | None = None

    def _uniform(self, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        bound = np.float32(1.0 / math.sqrt(fan_in))
        # uniform in [0, 1) moved to [-bound, bound), all in float32
        draw = self._generator().random(shape, dtype=np.float32)
        return (draw * np.float32(2.0) - np.float32(1.0)) * bound

    def W(self, *shape: int) -> np.ndarray:
        """Weights of ``shape``, uniform in ±1/sqrt(fan_in)."""
        checked = _check_shape(shape, "DefaultInitializer.W")
        self._last_shape = checked
        return self._uniform(checked, compute_fans(checked)[0])

    def B(self, n: int, fan_in: int | None = None) -> np.ndarray:
        """Biases of shape ``(n,)``, uniform in ±1/sqrt(fan_in)."""
        n = self._bias_size(n)
        if fan_in is None:
            fan_in = self._fan_in_from_last_weight(n)
        fan_in = check_positive_int(fan_in, "fan_in", "DefaultInitializer.B")
        return self._uniform((n,), fan_in)

    def _fan_in_from_last_weight(self, n: int) -> int:
        last = self._last_shape
        if last is not None:
            n_out = None if len(last) == 1 else (last[1] if len(last) == 2 else last[0])
            if n_out is None or n_out == n:
                return compute_fans(last)[0]
        raise ValueError(
            f"DefaultInitializer.B: the bias bound 1/sqrt(fan_in) needs the weight's fan_in; "
            f"pass B({n}, fan_in=...) or call W(*shape) for a weight with {n} outputs first "
            f"(last weight shape: {last})"
        )
