"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.optimizers.base import Optimizer, State, check_bool, non_negative, number


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, like ``torch.optim.SGD``.

    g = grad + weight_decay * W; with momentum, buf = momentum * buf + (1 - dampening) * g
    (buf = g on the first step) and g = buf, or g + momentum * buf when ``nesterov``;
    then W -= lr * g. Arguments in torch's order and with its defaults (lr 1e-3).
    State per parameter: ``momentum_buffer`` (only with momentum).
    """

    name = "sgd"

    def __init__(
        self,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(lr, maximize)
        self.momentum = non_negative(momentum, "momentum", "SGD")
        self.dampening = number(dampening, "dampening", "SGD")
        self.weight_decay = non_negative(weight_decay, "weight_decay", "SGD")
        self.nesterov = check_bool(nesterov, "nesterov", "SGD")
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")

    def _slots(self) -> tuple[str, ...]:
        return ("momentum_buffer",) if self.momentum != 0 else ()

    def _step(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        g = grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * param
        if self.momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        param -= self.lr * g

    def get_config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "dampening": self.dampening,
            "weight_decay": self.weight_decay,
            "nesterov": self.nesterov,
            "maximize": self.maximize,
        }
