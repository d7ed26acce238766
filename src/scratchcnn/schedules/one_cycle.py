"""The 1cycle policy (Smith & Topin 2017) with torch's ``OneCycleLR`` phases and arithmetic."""

from __future__ import annotations

import math
from typing import Any

from scratchcnn.schedules.base import LRScheduler, check_int, check_real

_ANNEAL_STRATEGIES = ("cos", "linear")


def anneal_cos(start: float, end: float, pct: float) -> float:
    """Cosine from ``start`` (pct=0) to ``end`` (pct=1)."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def anneal_linear(start: float, end: float, pct: float) -> float:
    """Straight line from ``start`` (pct=0) to ``end`` (pct=1)."""
    return (end - start) * pct + start


class OneCycleLR(LRScheduler):
    """Warm up from ``max_lr / div_factor`` to ``max_lr``, then anneal to
    ``initial_lr / final_div_factor``; one ``step()`` per batch, ``total_steps`` in all.

    ``total_steps`` or both ``epochs`` and ``steps_per_epoch``. ``three_phase`` adds torch's
    symmetric descent back to the initial rate before the final annealing. With
    ``cycle_momentum`` the momentum (SGD, RMSprop) or Adam's beta1 moves the other way between
    ``max_momentum`` and ``base_momentum``. Stepping past ``total_steps`` is an error, as in torch.
    """

    _state_keys = ("last_momentum",)

    def __init__(
        self,
        optimizer: Any,
        max_lr: float,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        owner = "OneCycleLR"
        if total_steps is not None:
            self.total_steps = check_int(total_steps, "total_steps", owner, 1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = check_int(epochs, "epochs", owner, 1) * check_int(
                steps_per_epoch, "steps_per_epoch", owner, 1
            )
        else:
            raise ValueError(f"{owner}: define either total_steps or (epochs and steps_per_epoch)")
        self.max_lr = check_real(max_lr, "max_lr", owner)
        self.pct_start = check_real(pct_start, "pct_start", owner)
        if not 0.0 <= self.pct_start <= 1.0:
            raise ValueError(f"{owner}: pct_start must be in [0, 1], but got pct_start={pct_start}")
        if anneal_strategy not in _ANNEAL_STRATEGIES:
            raise ValueError(
                f"{owner}: anneal_strategy must be one of 'cos' or 'linear', but got "
                f"{anneal_strategy!r}"
            )
        self.anneal_strategy = anneal_strategy
        self.div_factor = check_real(div_factor, "div_factor", owner)
        self.final_div_factor = check_real(final_div_factor, "final_div_factor", owner)
        if self.div_factor <= 0 or self.final_div_factor <= 0:
            raise ValueError(f"{owner}: div_factor and final_div_factor must be positive")
        self.three_phase = bool(three_phase)
        self.cycle_momentum = bool(cycle_momentum)
        self.base_momentum = check_real(base_momentum, "base_momentum", owner)
        self.max_momentum = check_real(max_momentum, "max_momentum", owner)
        self.use_beta1 = hasattr(optimizer, "betas")
        if self.cycle_momentum and not (self.use_beta1 or hasattr(optimizer, "momentum")):
            raise ValueError(
                f"{owner}: optimizer must support momentum or beta1 with cycle_momentum=True, "
                f"but got {type(optimizer).__name__}; pass cycle_momentum=False"
            )
        self.last_momentum: float | None = None
        if check_int(last_epoch, "last_epoch", owner, -1) == -1:
            optimizer.initial_lr = self.initial_lr  # the base class starts from it
            if self.cycle_momentum:
                self._set_momentum(optimizer, self.max_momentum)
        super().__init__(optimizer, last_epoch)

    @property
    def initial_lr(self) -> float:
        return self.max_lr / self.div_factor

    @property
    def min_lr(self) -> float:
        return self.initial_lr / self.final_div_factor

    def _phases(self) -> list[tuple[float, float, float, float, float]]:
        """(end_step, start_lr, end_lr, start_momentum, end_momentum) of each phase."""
        lo, hi, low_m, high_m = self.initial_lr, self.max_lr, self.base_momentum, self.max_momentum
        warm_end = float(self.pct_start * self.total_steps) - 1
        last = float(self.total_steps - 1)
        if self.three_phase:
            return [
                (warm_end, lo, hi, high_m, low_m),
                (float(2 * self.pct_start * self.total_steps) - 2, hi, lo, low_m, high_m),
                (last, lo, self.min_lr, high_m, high_m),
            ]
        return [(warm_end, lo, hi, high_m, low_m), (last, hi, self.min_lr, low_m, high_m)]

    def _next_lr(self, lr: float) -> float:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times, but total_steps is {self.total_steps}"
            )
        anneal = anneal_cos if self.anneal_strategy == "cos" else anneal_linear
        phases = self._phases()
        start_step = 0.0
        for i, (end_step, start_lr, end_lr, start_m, end_m) in enumerate(phases):
            if step <= end_step or i == len(phases) - 1:
                if end_step == start_step:
                    raise ValueError(
                        f"OneCycleLR: phase {i + 1} of the cycle has no steps (pct_start="
                        f"{self.pct_start}, total_steps={self.total_steps}); choose another "
                        "pct_start"
                    )
                pct = (step - start_step) / (end_step - start_step)
                if self.cycle_momentum:
                    self._set_momentum(self.optimizer, anneal(start_m, end_m, pct))
                return anneal(start_lr, end_lr, pct)
            start_step = end_step
        raise AssertionError("unreachable: the last phase always matches")  # pragma: no cover

    def _set_momentum(self, optimizer: Any, momentum: float) -> None:
        if self.use_beta1:
            optimizer.betas = (momentum, *tuple(optimizer.betas)[1:])
        else:
            optimizer.momentum = momentum
        self.last_momentum = momentum

    def load_state_dict(self, state: Any) -> None:
        super().load_state_dict(state)
        if self.cycle_momentum and self.last_momentum is not None:
            self._set_momentum(self.optimizer, float(self.last_momentum))

    def get_config(self) -> dict[str, Any]:
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "anneal_strategy": self.anneal_strategy,
            "cycle_momentum": self.cycle_momentum,
            "base_momentum": self.base_momentum,
            "max_momentum": self.max_momentum,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "three_phase": self.three_phase,
        }
