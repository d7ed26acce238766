"""Optimizers by name, for models, the command line and saved model files."""

from __future__ import annotations

import inspect
from typing import Any

from scratchcnn.optimizers.adagrad import AdaGrad
from scratchcnn.optimizers.adam import Adam, AdamW
from scratchcnn.optimizers.base import Optimizer
from scratchcnn.optimizers.rmsprop import RMSprop
from scratchcnn.optimizers.sgd import SGD

OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, AdaGrad, RMSprop, Adam, AdamW)
}


def make_optimizer(name: str, **kwargs: Any) -> Optimizer:
    """An optimizer by name (case-insensitive), e.g. ``make_optimizer("adam", lr=1e-3)``.

    Names: 'sgd', 'momentum' (SGD with momentum=0.9 unless given), 'adagrad', 'rmsprop',
    'adam', 'adamw'. Keyword arguments go to the constructor.
    """
    if not isinstance(name, str):
        raise TypeError(f"make_optimizer: name must be a str, but got {name!r}")
    key = name.lower()
    if key == "momentum":
        key = "sgd"
        kwargs.setdefault("momentum", 0.9)
    if key not in OPTIMIZERS:
        valid = ", ".join(repr(n) for n in ("sgd", "momentum", *list(OPTIMIZERS)[1:]))
        raise ValueError(f"make_optimizer: unknown optimizer {name!r}; expected one of {valid}")
    cls = OPTIMIZERS[key]
    accepted = list(inspect.signature(cls).parameters)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(
            f"make_optimizer: {cls.__name__} got unexpected arguments {unknown}; it takes "
            f"{accepted}"
        )
    return cls(**kwargs)
