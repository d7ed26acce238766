"""Adam and AdamW: moment estimates with bias correction, coupled or decoupled weight decay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from scratchcnn.kernels.adam import AdamScalars, adam_step
from scratchcnn.optimizers.base import Optimizer, State, check_bool, non_negative, number


class Adam(Optimizer):
    """Adam, like ``torch.optim.Adam``: moment estimates with bias correction.

    g = grad + weight_decay * W (L2, coupled; ``decoupled_weight_decay=True`` is AdamW);
    m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g; with ``amsgrad``, v_max = max(v_max, v)
    takes v's place below; W -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps),
    with t the parameter's own step count. State: ``m``, ``v``, ``step`` (+ ``v_max``).
    """

    name = "adam"
    _always_decoupled: ClassVar[bool] = False

    def __init__(
        self,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        owner = type(self).__name__
        super().__init__(lr, maximize)
        if isinstance(betas, str) or not isinstance(betas, Sequence) or len(betas) != 2:
            raise TypeError(f"{owner}: betas must be a pair of numbers, but got {betas!r}")
        self.eps = non_negative(eps, "eps", owner, "epsilon value")
        for i, beta in enumerate(betas):
            if not 0.0 <= number(beta, f"betas[{i}]", owner) < 1.0:
                raise ValueError(f"{owner}: Invalid beta parameter at index {i}: {beta}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.weight_decay = non_negative(weight_decay, "weight_decay", owner)
        self.amsgrad = check_bool(amsgrad, "amsgrad", owner)
        self.decoupled_weight_decay = self._always_decoupled or check_bool(
            decoupled_weight_decay, "decoupled_weight_decay", owner
        )

    def _slots(self) -> tuple[str, ...]:
        return ("m", "v", "step", "v_max") if self.amsgrad else ("m", "v", "step")

    def _step(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        if not state:
            state["m"] = np.zeros_like(param)
            state["v"] = np.zeros_like(param)
            state["step"] = 0
            if self.amsgrad:
                state["v_max"] = np.zeros_like(param)
        state["step"] += 1
        scalars = AdamScalars.of_step(
            self.lr,
            self.betas,
            self.eps,
            self.weight_decay,
            self.decoupled_weight_decay,
            state["step"],
        )
        v_max = state["v_max"] if self.amsgrad else None
        adam_step(param, grad, state["m"], state["v"], v_max, scalars)

    def get_config(self) -> dict[str, Any]:
        config = {
            "lr": self.lr,
            "betas": list(self.betas),
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "amsgrad": self.amsgrad,
            "maximize": self.maximize,
        }
        if not self._always_decoupled:
            config["decoupled_weight_decay"] = self.decoupled_weight_decay
        return config


class AdamW(Adam):
    """AdamW, like ``torch.optim.AdamW``: Adam with decoupled weight decay (default 0.01).

    Before the Adam step, W *= 1 - lr * weight_decay, instead of adding weight_decay * W to
    the gradient, so the decay is not rescaled by the moment estimates (Loshchilov & Hutter).
    """

    name = "adamw"
    _always_decoupled = True

    def __init__(
        self,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
