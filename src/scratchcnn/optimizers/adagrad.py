"""AdaGrad: per-parameter step sizes that shrink with the accumulated squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.optimizers.base import Optimizer, State, non_negative


class AdaGrad(Optimizer):
    """AdaGrad, like ``torch.optim.Adagrad`` (``Adagrad`` is the same class).

    g = grad + weight_decay * W; sum += g * g; W -= clr * g / (sqrt(sum) + eps), with
    clr = lr / (1 + (t - 1) * lr_decay) at the parameter's step t. ``sum`` starts at
    ``initial_accumulator_value``. Arguments in torch's order and with its defaults.
    State per parameter: ``sum`` and ``step``.
    """

    name = "adagrad"

    def __init__(
        self,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        owner = type(self).__name__
        super().__init__(lr, maximize)
        self.lr_decay = non_negative(lr_decay, "lr_decay", owner)
        self.weight_decay = non_negative(weight_decay, "weight_decay", owner)
        self.initial_accumulator_value = non_negative(
            initial_accumulator_value, "initial_accumulator_value", owner
        )
        self.eps = non_negative(eps, "eps", owner, "epsilon value")

    def _slots(self) -> tuple[str, ...]:
        return ("sum", "step")

    def _step(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        if not state:
            state["sum"] = np.full_like(param, self.initial_accumulator_value)
            state["step"] = 0
        state["step"] += 1
        g = grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * param
        clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        state["sum"] += g * g
        std = np.sqrt(state["sum"])
        std += self.eps
        param -= clr * (g / std)

    def get_config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "lr_decay": self.lr_decay,
            "weight_decay": self.weight_decay,
            "initial_accumulator_value": self.initial_accumulator_value,
            "eps": self.eps,
            "maximize": self.maximize,
        }


Adagrad = AdaGrad  # torch's spelling
