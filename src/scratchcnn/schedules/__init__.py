"""Learning-rate schedules with ``torch.optim.lr_scheduler``'s names, arguments and arithmetic.

A schedule wraps an optimizer: constructing it sets the optimizer's ``lr`` to the rate of
step 0, each ``step()`` moves one step (an epoch or a batch, as the caller decides) and writes
the new rate into ``optimizer.lr``. The rates are computed with the same recursive formulas
PyTorch uses, so they agree with torch's to the last bit or two, not only in closed form.
``state_dict()`` is JSON-able and ``load_state_dict`` restores it (and the optimizer's rate),
so a resumed run continues the schedule exactly.

Like torch, the first schedule built on an optimizer records its rate as
``optimizer.initial_lr``; later ones (e.g. the parts of a ``SequentialLR``) start from it.
"""

from scratchcnn.schedules.base import LRScheduler
from scratchcnn.schedules.decay import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    MultiStepLR,
    StepLR,
)
from scratchcnn.schedules.one_cycle import OneCycleLR
from scratchcnn.schedules.sequential import SequentialLR

__all__ = [
    "ConstantLR",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "SequentialLR",
    "StepLR",
]
