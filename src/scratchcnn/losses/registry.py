"""Losses by name, for models and saved model files."""

from __future__ import annotations

from typing import Any

from scratchcnn.losses.base import Loss
from scratchcnn.losses.cross_entropy import SoftmaxCrossEntropy
from scratchcnn.losses.mse import MSE

LOSSES: dict[str, type[Loss]] = {
    "cross_entropy": SoftmaxCrossEntropy,
    "softmax_cross_entropy": SoftmaxCrossEntropy,
    "mse": MSE,
}


def make_loss(name: str, **kwargs: Any) -> Loss:
    """A loss by name (case-insensitive): 'cross_entropy', 'softmax_cross_entropy' or 'mse'.

    Keyword arguments go to the constructor: ``make_loss("cross_entropy", label_smoothing=0.1)``.
    """
    if not isinstance(name, str):
        raise TypeError(f"make_loss: name must be a str, but got {name!r}")
    key = name.lower()
    if key not in LOSSES:
        valid = ", ".join(repr(k) for k in LOSSES)
        raise ValueError(f"make_loss: unknown loss {name!r}; expected one of {valid}")
    return LOSSES[key](**kwargs)
