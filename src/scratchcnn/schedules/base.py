"""The schedule base class: stepping, the optimizer's rate, and saving for resume."""


from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, ClassVar


def check_real(value: Any, name: str, owner: str) -> float:
    """``value`` as a finite Python float (a ``TypeError`` for non-numbers and bools)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, but got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{owner}: {name} must be finite, but got {name}={value}")
    return number


def check_int(value: Any, name: str, owner: str, minimum: int) -> int:
    """``value`` as a Python int of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int, but got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{owner}: {name} must be at least {minimum}, but got {name}={value}")
    return value


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and sets ``optimizer.lr``.

    Subclasses implement ``_next_lr(lr)`` (torch's ``get_lr``: the rate for ``last_epoch``
    from the current one) and, where torch has one, ``_closed_form_lr()``. ``last_epoch=-1``
    starts a new schedule; a non-negative value needs ``optimizer.initial_lr`` (set by the
    schedule that ran before), as in torch.
    """

    _state_keys: ClassVar[tuple[str, ...]] = ()  # subclass attributes kept by state_dict

    def __init__(self, optimizer: Any, last_epoch: int = -1) -> None:
        owner = type(self).__name__
        if isinstance(optimizer, LRScheduler) or not hasattr(optimizer, "lr"):
            raise TypeError(
                f"{owner}: expected an optimizer (an object with an 'lr' attribute), but got "
                f"{type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        last_epoch = check_int(last_epoch, "last_epoch", owner, -1)
        if last_epoch == -1:
            if getattr(optimizer, "initial_lr", None) is None:
                optimizer.initial_lr = float(optimizer.lr)
        elif getattr(optimizer, "initial_lr", None) is None:
            raise ValueError(
                f"{owner}: last_epoch={last_epoch} resumes a schedule, but the optimizer has no "
                "initial_lr; build the schedule with last_epoch=-1 and use load_state_dict"
            )
        self.base_lrs = [float(optimizer.initial_lr)]
        self.last_epoch = last_epoch
        self._is_initial = False
        self._initial_step()

    # -- stepping ----------------------------------------------------------------------------
    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def step(self) -> None:
        """Advance one step (an epoch or a batch) and set ``optimizer.lr`` to the new rate."""
        self._step_count += 1
        self._update_lr(None)

    def _update_lr(self, epoch: int | None) -> None:
        if epoch is None:
            self.last_epoch += 1
            lr = self._next_lr(float(self.optimizer.lr))
        else:
            self.last_epoch = epoch
            lr = self._closed_form_lr()
        self.optimizer.lr = lr
        self._last_lr = [float(self.optimizer.lr)]

    def _next_lr(self, lr: float) -> float:
        raise NotImplementedError

    def _closed_form_lr(self) -> float:
        return self._next_lr(float(self.optimizer.lr))

    def get_last_lr(self) -> list[float]:
        """The rate set by the last step, as a one-element list (torch's per-group list)."""
        return list(self._last_lr)

    @property
    def base_lr(self) -> float:
        return self.base_lrs[0]

    # -- configuration and saving ------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (without the optimizer), JSON-able."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the schedule, as JSON-able values.

        ``{"class": name, "config": {...}, "last_epoch", "step_count", "base_lrs",
        "last_lr", ...}``; like torch's, it holds the hyperparameters too.
        """
        state = {
            "class": type(self).__name__,
            "config": self.get_config(),
            "last_epoch": self.last_epoch,
            "step_count": self._step_count,
            "base_lrs": list(self.base_lrs),
            "last_lr": list(self._last_lr),
        }
        for key in self._state_keys:
            value = getattr(self, key)
            state[key] = list(value) if isinstance(value, tuple) else value
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from ``state`` (from ``state_dict``); sets ``optimizer.lr`` to its rate."""
        owner = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{owner}: state must be a dict, but got {type(state).__name__}")
        if state.get("class") != type(self).__name__:
            raise ValueError(
                f"{owner}: the state was saved by {state.get('class')!r}, not by "
                f"{type(self).__name__}"
            )
        expected = {"class", "config", "last_epoch", "step_count", "base_lrs", "last_lr"}
        expected |= set(self._state_keys)
        if set(state) != expected:
            missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
            raise ValueError(f"{owner}: state keys differ: missing {missing}, unexpected {extra}")
        self._load_config(dict(state["config"]))
        self.last_epoch = int(state["last_epoch"])
        self._step_count = int(state["step_count"])
        self.base_lrs = [float(v) for v in state["base_lrs"]]
        self._last_lr = [float(v) for v in state["last_lr"]]
        for key in self._state_keys:
            setattr(self, key, state[key])
        self.optimizer.lr = self._last_lr[0]
        self.optimizer.initial_lr = self.base_lrs[0]

    def _load_config(self, config: dict[str, Any]) -> None:
        for key, value in config.items():
            setattr(self, key, value)
