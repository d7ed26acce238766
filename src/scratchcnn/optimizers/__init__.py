"""Optimizers with ``torch.optim``'s update rules: ``update(layer)`` changes parameters in place.

One file per family: ``base.py`` (the shared machinery: per-parameter state, ``state_dict``),
``sgd.py``, ``adagrad.py``, ``rmsprop.py``, ``adam.py`` (Adam and AdamW), and ``registry.py``
(lookup by name for models, the CLI and saved files).
"""

from scratchcnn.optimizers.adagrad import AdaGrad, Adagrad
from scratchcnn.optimizers.adam import Adam, AdamW
from scratchcnn.optimizers.base import Optimizer
from scratchcnn.optimizers.registry import OPTIMIZERS, make_optimizer
from scratchcnn.optimizers.rmsprop import RMSprop
from scratchcnn.optimizers.sgd import SGD

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AdaGrad",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "make_optimizer",
]
