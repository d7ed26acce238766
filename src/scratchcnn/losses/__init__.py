"""Losses with ``torch.nn``'s semantics: ``forward(outputs, targets)``, then ``backward()``.

``base.py`` holds the shared part (reductions, the backward contract), ``cross_entropy.py``
and ``mse.py`` one loss each, ``registry.py`` the lookup by name for models and saved files.
"""

from scratchcnn.losses.base import REDUCTIONS, Loss, batch_total
from scratchcnn.losses.cross_entropy import SoftmaxCrossEntropy
from scratchcnn.losses.mse import MSE
from scratchcnn.losses.registry import LOSSES, make_loss

__all__ = ["LOSSES", "MSE", "REDUCTIONS", "Loss", "SoftmaxCrossEntropy", "batch_total",
           "make_loss"]
