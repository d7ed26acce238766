"""Schedules of one shape each: step, multi-step, constant, linear, exponential, cosine."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

from scratchcnn.schedules.base import LRScheduler, check_int, check_real
from scratchcnn.validation import check_positive_int


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` steps: base * gamma**(t // step_size)."""

    def __init__(
        self, optimizer: Any, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = check_positive_int(step_size, "step_size", "StepLR")
        self.gamma = check_real(gamma, "gamma", "StepLR")
        super().__init__(optimizer, last_epoch)

    def _next_lr(self, lr: float) -> float:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return lr
        return lr * self.gamma

    def _closed_form_lr(self) -> float:
        return self.base_lr * self.gamma ** (self.last_epoch // self.step_size)

    def get_config(self) -> dict[str, Any]:
        return {"step_size": self.step_size, "gamma": self.gamma}


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each of ``milestones`` (step indices, increasing)."""

    def __init__(
        self, optimizer: Any, milestones: Sequence[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        owner = "MultiStepLR"
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Sequence):
            raise TypeError(f"{owner}: milestones must be a list of ints, but got {milestones!r}")
        self.milestones = [check_int(m, "milestones", owner, 0) for m in milestones]
        if self.milestones != sorted(self.milestones):
            raise ValueError(f"{owner}: milestones must be increasing, but got {self.milestones}")
        self.gamma = check_real(gamma, "gamma", owner)
        super().__init__(optimizer, last_epoch)

    def _next_lr(self, lr: float) -> float:
        hits = self.milestones.count(self.last_epoch)
        return lr * self.gamma**hits if hits else lr

    def _closed_form_lr(self) -> float:
        return self.base_lr * self.gamma ** bisect.bisect_right(self.milestones, self.last_epoch)

    def get_config(self) -> dict[str, Any]:
        return {"milestones": list(self.milestones), "gamma": self.gamma}


class ConstantLR(LRScheduler):
    """The rate times ``factor`` for the first ``total_iters`` steps, then the rate itself."""

    def __init__(
        self, optimizer: Any, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1
    ) -> None:
        self.factor = check_real(factor, "factor", "ConstantLR")
        if not 0.0 <= self.factor <= 1.0:
            raise ValueError(f"ConstantLR: factor must be in [0, 1], but got factor={factor}")
        self.total_iters = check_int(total_iters, "total_iters", "ConstantLR", 0)
        super().__init__(optimizer, last_epoch)

    def _next_lr(self, lr: float) -> float:
        if self.last_epoch == 0:
            return lr * self.factor
        if self.last_epoch != self.total_iters:
            return lr
        return lr * (1.0 / self.factor)

    def _closed_form_lr(self) -> float:
        return self.base_lr * (
            self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor)
        )

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "total_iters": self.total_iters}


class LinearLR(LRScheduler):
    """Linear warm-up (or decay): the factor goes from ``start_factor`` to ``end_factor``
    over ``total_iters`` steps, then stays."""

    def __init__(
        self,
        optimizer: Any,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        owner = "LinearLR"
        self.start_factor = check_real(start_factor, "start_factor", owner)
        self.end_factor = check_real(end_factor, "end_factor", owner)
        if not 0.0 < self.start_factor <= 1.0:
            raise ValueError(
                f"{owner}: start_factor must be in (0, 1], but got start_factor={start_factor}"
            )
        if not 0.0 <= self.end_factor <= 1.0:
            raise ValueError(
                f"{owner}: end_factor must be in [0, 1], but got end_factor={end_factor}"
            )
        self.total_iters = check_positive_int(total_iters, "total_iters", owner)
        super().__init__(optimizer, last_epoch)

    def _next_lr(self, lr: float) -> float:
        if self.last_epoch == 0:
            return lr * self.start_factor
        if self._is_initial or self.last_epoch > self.total_iters:
            return lr
        delta = self.end_factor - self.start_factor
        return lr * (
            1.0 + delta / (self.total_iters * self.start_factor + (self.last_epoch - 1) * delta)
        )

    def _closed_form_lr(self) -> float:
        fraction = min(self.total_iters, self.last_epoch) / self.total_iters
        return self.base_lr * (
            self.start_factor + (self.end_factor - self.start_factor) * fraction
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "start_factor": self.start_factor,
            "end_factor": self.end_factor,
            "total_iters": self.total_iters,
        }


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every step: lr = base * gamma**t."""

    def __init__(self, optimizer: Any, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = check_real(gamma, "gamma", "ExponentialLR")
        super().__init__(optimizer, last_epoch)

    def _next_lr(self, lr: float) -> float:
        return lr if self._is_initial else lr * self.gamma

    def _closed_form_lr(self) -> float:
        return self.base_lr * self.gamma**self.last_epoch

    def get_config(self) -> dict[str, Any]:
        return {"gamma": self.gamma}


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the base rate to ``eta_min`` over ``T_max`` steps.

    lr = eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2, computed step by step
    as torch does; past ``T_max`` it rises again (a cosine, not a clamp), as in torch.
    """

    def __init__(
        self, optimizer: Any, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        self.T_max = check_positive_int(T_max, "T_max", "CosineAnnealingLR")
        self.eta_min = check_real(eta_min, "eta_min", "CosineAnnealingLR")
        super().__init__(optimizer, last_epoch)

    def _next_lr(self, lr: float) -> float:
        t, T, eta_min, base = self.last_epoch, self.T_max, self.eta_min, self.base_lr
        if self._is_initial:
            return lr
        if self._step_count == 1 and t > 0:
            return eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / T)) / 2
        if (t - 1 - T) % (2 * T) == 0:
            return lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
        return (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (
            lr - eta_min
        ) + eta_min

    def _closed_form_lr(self) -> float:
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * cosine / 2

    def get_config(self) -> dict[str, Any]:
        return {"T_max": self.T_max, "eta_min": self.eta_min}

