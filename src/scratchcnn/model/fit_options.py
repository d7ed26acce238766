"""What ``fit`` does around each step beyond the step itself: the learning-rate schedule,
gradient clipping and the augmentation transform.

``FitOptions`` checks them once, then ``fit`` calls it at fixed points: ``begin`` (a resumed
run's schedule continues from the checkpoint), ``train_batch`` (augment with the epoch's
stream), ``clip`` (after the gradients are checked, before the updates), ``after_step`` and
``after_epoch`` (the schedule's ``step()``, per "step" or per "epoch"). The schedule's state
goes into the model (``_lr_schedule_state``) after every step, so a checkpoint holds it.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from scratchcnn.clip import clip_grad_norm
from scratchcnn.schedules import LRScheduler
from scratchcnn.transforms import deterministic_part

_INTERVALS = ("epoch", "step")


class FitOptions:
    """The checked ``lr_schedule``, ``lr_schedule_interval``, ``clip_grad_norm``, ``transform``."""

    def __init__(
        self,
        model: Any,
        lr_schedule: Any,
        lr_schedule_interval: str,
        max_grad_norm: Any,
        transform: Any,
        owner: str,
    ) -> None:
        if lr_schedule is not None:
            if not isinstance(lr_schedule, LRScheduler):
                raise TypeError(
                    f"{owner}: lr_schedule must be a schedule from scratchcnn.schedules (e.g. "
                    f"CosineAnnealingLR(model.optimizer, T_max=...)), but got "
                    f"{type(lr_schedule).__name__}"
                )
            if lr_schedule.optimizer is not model.optimizer:
                raise ValueError(
                    f"{owner}: lr_schedule wraps another optimizer than this model's; build it "
                    "on model.optimizer"
                )
        if lr_schedule_interval not in _INTERVALS:
            raise ValueError(
                f"{owner}: lr_schedule_interval must be 'epoch' or 'step', but got "
                f"{lr_schedule_interval!r}"
            )
        if max_grad_norm is not None:
            if isinstance(max_grad_norm, bool) or not isinstance(max_grad_norm, numbers.Real):
                raise TypeError(
                    f"{owner}: clip_grad_norm must be a number (the max norm) or None, but got "
                    f"{max_grad_norm!r}"
                )
            if not float(max_grad_norm) > 0:
                raise ValueError(
                    f"{owner}: clip_grad_norm must be positive, but got {max_grad_norm}"
                )
        if transform is not None and not callable(transform):
            raise TypeError(
                f"{owner}: transform must be a callable (X, rng) -> X, e.g. a "
                f"scratchcnn.transforms.Compose, but got {type(transform).__name__}"
            )
        self.model = model
        self.schedule = lr_schedule
        self.interval = lr_schedule_interval
        self.max_grad_norm = None if max_grad_norm is None else float(max_grad_norm)
        self.transform = transform
        self.eval_transform = deterministic_part(transform)
        self.owner = owner
        self.rng: np.random.Generator | None = None
        self.lr_used: float | None = None

    def begin(self) -> None:
        """Continue a resumed run's schedule: a fresh schedule takes the checkpoint's state."""
        saved = getattr(self.model, "_lr_schedule_state", None)
        schedule = self.schedule
        if schedule is None:
            self.model._lr_schedule_state = None  # a fit without one leaves none to resume
            return
        if saved is None or self.model.history.epochs == 0:
            return
        if schedule.last_epoch == 0:  # built for this fit, not stepped yet
            try:
                schedule.load_state_dict(saved)
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"{self.owner}: the model's saved learning-rate schedule does not fit "
                    f"lr_schedule={schedule!r}: {error}"
                ) from error

    def start_epoch(self, seed: int, epoch: int) -> None:
        """The augmentation stream of ``epoch``: its own, apart from shuffling and Dropout."""
        if self.transform is not None:
            self.rng = np.random.default_rng([seed, epoch, 0, 1])

    def train_batch(self, Xb: np.ndarray) -> np.ndarray:
        if self.transform is None:
            return Xb
        out = self.transform(Xb, self.rng)
        return np.asarray(out).astype(Xb.dtype, copy=False)

    def clip(self, layers: list[Any]) -> None:
        if self.max_grad_norm is not None:
            clip_grad_norm(layers, self.max_grad_norm)

    def after_step(self) -> None:
        self.lr_used = float(self.model.optimizer.lr)  # the rate this step's update used
        if self.schedule is not None and self.interval == "step":
            self._step()

    def epoch_lr(self) -> float:
        """The rate of the epoch's last step (a per-step schedule has moved on since)."""
        return self.lr_used if self.lr_used is not None else float(self.model.optimizer.lr)

    def after_epoch(self) -> None:
        if self.schedule is not None and self.interval == "epoch":
            self._step()

    def _step(self) -> None:
        self.schedule.step()
        self.model._lr_schedule_state = self.schedule.state_dict()
