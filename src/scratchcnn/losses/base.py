"""The loss base class: reductions ('mean', 'sum', 'none') and the backward contract.

``forward(outputs, targets)`` returns the reduced loss: a float for 'mean' and 'sum', an
array of per-element losses for 'none'. ``backward()`` returns the gradient of that float
with respect to ``outputs``, in their dtype; with 'none' it needs ``backward(dloss)``, the
gradient of something with respect to each per-element loss (as torch's
``loss.backward(gradient)``). 'mean' divides by the batch size (or the total weight), so a
model's parameter gradients are those of the mean loss: layers sum over the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.validation import as_float_array, check_finite, name_constructor_errors

REDUCTIONS = ("mean", "sum", "none")


class Loss:
    """Base class: ``forward`` caches what ``backward`` needs; calling the loss runs forward.

    Subclasses compute per-element losses and their gradients; ``_reduce`` and
    ``_upstream`` turn those into the reduction's value and the gradient's scale.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name_constructor_errors(cls)

    def __init__(self, reduction: str = "mean") -> None:
        if not isinstance(reduction, str) or reduction not in REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: {reduction!r} is not a valid value for reduction; "
                f"expected one of {', '.join(repr(r) for r in REDUCTIONS)}"
            )
        self.reduction = reduction
        self._cache: Any = None

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float | np.ndarray:
        raise NotImplementedError

    def backward(self, dloss: Any = None) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, logits: np.ndarray, labels: np.ndarray) -> float | np.ndarray:
        return self.forward(logits, labels)

    def _cached(self) -> Any:
        if self._cache is None:
            raise ValueError(f"{self!r}: backward() called before forward()")
        return self._cache

    # -- reductions ------------------------------------------------------------------------
    def _reduce(self, losses: np.ndarray, denominator: float) -> float | np.ndarray:
        """The reduced loss: sum / denominator, the sum, or the array itself ('none')."""
        if self.reduction == "none":
            return losses
        total = float(losses.sum())
        if self.reduction == "sum":
            return total
        with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0 is NaN, as in torch
            return float(np.float64(total) / denominator)

    def _upstream(self, dloss: Any, shape: tuple[int, ...], denominator: float,
                  dtype: np.dtype) -> np.ndarray | float:
        """The gradient arriving at each per-element loss: a scalar, or an array ('none')."""
        owner = repr(self)
        if self.reduction == "none":
            if dloss is None:
                raise ValueError(
                    f"{owner}: the loss is not a scalar (one value per element, shape {shape}); "
                    "backward needs its gradient: backward(dloss) with dloss of that shape"
                )
            grad = as_float_array(dloss, owner, "dloss")
            if grad.shape != shape:
                raise ValueError(
                    f"{owner}: expected dloss of the loss's shape {shape}, but got dloss of "
                    f"shape {grad.shape}"
                )
            check_finite(grad, owner, "dloss")
            return grad.astype(dtype, copy=False)
        scale = 1.0
        if dloss is not None:
            value = as_float_array(dloss, owner, "dloss")
            if value.shape != ():
                raise ValueError(
                    f"{owner}: the loss is a scalar, so dloss must be one number, but got "
                    f"dloss of shape {value.shape}"
                )
            scale = float(value)
        if self.reduction == "mean":
            scale = scale / denominator if denominator != 0 else 0.0  # torch: zero gradient
        return scale

    # -- description -----------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments as JSON-able values, so ``type(loss)(**config)`` rebuilds it."""
        return {"reduction": self.reduction}

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


def batch_total(loss: Any, value: float, n: int) -> float:
    """A batch's loss summed over its ``n`` samples: ``value * n`` for a mean, ``value`` for 'sum'.

    Models add these up over an epoch and divide by the samples seen, so an epoch's loss is
    the mean loss per sample whatever the reduction.
    """
    return value if getattr(loss, "reduction", "mean") == "sum" else value * n


def as_dtype(labels: np.ndarray, dtype: np.dtype, owner: str, name: str) -> np.ndarray:
    """Numeric ``labels`` in ``dtype`` (no float64 detour for integers), checked finite."""
    if labels.dtype.kind not in "iubf":
        as_float_array(labels, owner, name)  # raises the TypeError for non-numbers
    check_finite(labels, owner, name)
    return labels.astype(dtype, copy=False)
