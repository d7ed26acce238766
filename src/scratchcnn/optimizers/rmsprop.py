"""RMSprop: steps scaled by a running average of squared gradients, optionally centered."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.optimizers.base import Optimizer, State, check_bool, non_negative


class RMSprop(Optimizer):
    """RMSprop, like ``torch.optim.RMSprop``.

    g = grad + weight_decay * W; square_avg = alpha * square_avg + (1 - alpha) * g * g;
    with ``centered`` also grad_avg = alpha * grad_avg + (1 - alpha) * g and the variance
    square_avg - grad_avg**2 replaces square_avg; avg = sqrt(that) + eps. With momentum,
    buf = momentum * buf + g / avg and W -= lr * buf, else W -= lr * g / avg.
    State: ``square_avg``, ``step`` (+ ``momentum_buffer``, + ``grad_avg`` when centered).
    """

    name = "rmsprop"

    def __init__(
        self,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(lr, maximize)
        self.alpha = non_negative(alpha, "alpha", "RMSprop")
        self.eps = non_negative(eps, "eps", "RMSprop", "epsilon value")
        self.weight_decay = non_negative(weight_decay, "weight_decay", "RMSprop")
        self.momentum = non_negative(momentum, "momentum", "RMSprop")
        self.centered = check_bool(centered, "centered", "RMSprop")

    def _slots(self) -> tuple[str, ...]:
        extra = ("momentum_buffer",) if self.momentum > 0 else ()
        extra += ("grad_avg",) if self.centered else ()
        return ("square_avg", "step", *extra)

    def _step(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        if not state:
            state["square_avg"] = np.zeros_like(param)
            state["step"] = 0
            if self.momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if self.centered:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        g = grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * param
        square_avg = state["square_avg"]
        square_avg *= self.alpha
        square_avg += (1 - self.alpha) * (g * g)
        if self.centered:
            grad_avg = state["grad_avg"]
            grad_avg += (1 - self.alpha) * (g - grad_avg)  # torch's lerp
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += self.eps
        if self.momentum > 0:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += g / avg
            param -= self.lr * buf
        else:
            param -= self.lr * (g / avg)

    def get_config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "alpha": self.alpha,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "momentum": self.momentum,
            "centered": self.centered,
            "maximize": self.maximize,
        }
