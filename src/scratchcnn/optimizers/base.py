"""The optimizer base class: per-parameter state, the in-place update loop, ``state_dict``.

One optimizer can serve many layers: its state (momentum buffers, moment estimates, step
counts) is kept per (layer, parameter name) and dropped when the layer is garbage collected.
State arrays share their parameter's dtype, and hyperparameters are Python floats, so a
float32 model is updated without float64 temporaries. ``lr`` may be changed between steps.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from scratchcnn.layers.base import Layer
from scratchcnn.validation import name_constructor_errors

State = dict[str, Any]  # slot name -> np.ndarray, or int for "step"


def check_bool(value: Any, name: str, owner: str) -> bool:
    """``value`` as a bool, after checking it is one (a TypeError names the argument)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, but got {value!r}")
    return bool(value)


def number(value: Any, name: str, owner: str) -> float:
    """``value`` as a Python float, after checking it is a real (non-bool) finite number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"{owner}: {name} must be a number, but got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{owner}: Invalid {name} value: {value}")
    return float(value)


def non_negative(value: Any, name: str, owner: str, what: str | None = None) -> float:
    """A float >= 0; the message follows torch.optim's ("Invalid learning rate: -1")."""
    checked = number(value, name, owner)
    if checked < 0:
        raise ValueError(f"{owner}: Invalid {what or name + ' value'}: {value}")
    return checked


class Optimizer:
    """Base class: ``update(layer)`` applies ``_step`` to every parameter that has a gradient.

    Subclasses set ``name`` (for ``make_optimizer``), implement ``_step(param, grad, state)``
    (in-place on ``param``), ``_slots()`` (the state entries each parameter carries) and
    ``get_config()`` (constructor arguments, so ``type(opt)(**opt.get_config())`` rebuilds it).
    ``maximize=True`` (every optimizer takes it, keyword-only as in torch) steps along the
    gradient instead of against it: ``_step`` then receives the negated gradient. A layer
    with ``trainable = False`` is left untouched.
    """

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name_constructor_errors(cls)

    def __init__(self, lr: float, maximize: bool = False) -> None:
        self.lr = lr
        self.maximize = check_bool(maximize, "maximize", type(self).__name__)
        self._state: dict[int, dict[str, State]] = {}

    @property
    def lr(self) -> float:
        """The learning rate, a Python float; assign a new value between steps to schedule it."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = non_negative(value, "lr", type(self).__name__, "learning rate")

    # -- the update --------------------------------------------------------------------------
    def update(self, layer: Layer) -> Layer:
        """Update each parameter of ``layer`` whose gradient is not None, in place; return it."""
        owner = type(self).__name__
        if not getattr(layer, "trainable", True):
            return layer
        params = layer.params()
        layer_state = self._layer_state(layer)
        for name, grad in layer.grads().items():
            if grad is None:
                continue
            param = params[name]
            if not isinstance(param, np.ndarray) or param.dtype.kind != "f":
                raise TypeError(
                    f"{owner}: parameter {name} of {layer!r} must be a floating ndarray to be "
                    f"updated in place, but got {type(param).__name__}"
                )
            grad = np.asarray(grad)
            if grad.shape != param.shape:
                raise ValueError(
                    f"{owner}: gradient d{name} of {layer!r} has shape {grad.shape}, but "
                    f"parameter {name} has shape {param.shape}"
                )
            state = layer_state.setdefault(name, {})
            for slot, value in state.items():
                # a layer that switched dtype (float32 -> float64 input) takes its state along
                if isinstance(value, np.ndarray) and value.dtype != param.dtype:
                    state[slot] = value.astype(param.dtype)
            grad = grad.astype(param.dtype, copy=False)
            self._step(param, -grad if self.maximize else grad, state)
        return layer

    def _step(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        raise NotImplementedError

    def _slots(self) -> tuple[str, ...]:
        """Names of the state entries of each parameter, with the current hyperparameters."""
        return ()

    def _layer_state(self, layer: Layer) -> dict[str, State]:
        key = id(layer)
        if key not in self._state:
            self._state[key] = {}
            # ids are reused after a layer dies, so its state must go with it
            weakref.finalize(layer, self._state.pop, key, None)
        return self._state[key]

    # -- saving and resuming -----------------------------------------------------------------
    def state_dict(self, layers: Sequence[Layer]) -> dict[str, np.ndarray | float | int]:
        """Copies of the state of ``layers``, keyed ``"<index>.<param>.<slot>"`` ("3.W.m").

        A block's nested parameter names keep their dots: ``"2.body.0.W.m"``.

        Arrays are copies; step counts are ints. Hyperparameters are in ``get_config()``.
        """
        out: dict[str, np.ndarray | float | int] = {}
        for index, layer in enumerate(layers):
            for pname, state in self._state.get(id(layer), {}).items():
                for slot, value in state.items():
                    key = f"{index}.{pname}.{slot}"
                    out[key] = value.copy() if isinstance(value, np.ndarray) else int(value)
        return out

    def load_state_dict(self, layers: Sequence[Layer], state: Mapping[str, Any]) -> None:
        """Replace the state of ``layers`` with ``state`` (from ``state_dict``), checked first.

        Every key must name a layer index, one of its parameters and a slot this optimizer
        uses; arrays must have their parameter's shape and are copied in its dtype.
        """
        owner = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{owner}: state must be a dict, but got {type(state).__name__}")
        slots = self._slots()
        loaded: dict[int, dict[str, State]] = {}
        for key, value in state.items():
            parts = str(key).split(".")
            if len(parts) < 3 or not parts[0].isdigit() or int(parts[0]) >= len(layers):
                raise ValueError(
                    f"{owner}: unexpected key {key!r}; expected '<layer index>.<param>.<slot>' "
                    f"with a layer index below {len(layers)}"
                )
            # nested parameter names (a Residual's "body.0.W") contain dots; slots do not
            index, pname, slot = int(parts[0]), ".".join(parts[1:-1]), parts[-1]
            layer = layers[index]
            if pname not in layer.param_names or slot not in slots:
                raise ValueError(
                    f"{owner}: unexpected key {key!r}: {layer!r} has parameters "
                    f"{list(layer.param_names)} and {type(self).__name__} keeps {list(slots)}"
                )
            loaded.setdefault(index, {}).setdefault(pname, {})[slot] = self._checked_slot(
                key, value, layer.params()[pname], owner
            )
        for index, params in loaded.items():
            for pname, entries in params.items():
                missing = [s for s in slots if s not in entries]
                if missing:
                    raise ValueError(
                        f"{owner}: missing keys {[f'{index}.{pname}.{s}' for s in missing]}"
                    )
        for index, layer in enumerate(layers):
            layer_state = self._layer_state(layer)
            layer_state.clear()
            layer_state.update(loaded.get(index, {}))

    @staticmethod
    def _checked_slot(key: str, value: Any, param: Any, owner: str) -> np.ndarray | int:
        if key.endswith(".step"):
            step = np.asarray(value)
            ok = step.shape == () and step.dtype.kind in "iuf" and float(step).is_integer()
            if not ok or step < 0:
                raise ValueError(
                    f"{owner}: {key} must be a non-negative integer, but got {value!r}"
                )
            return int(step)
        if not isinstance(param, np.ndarray):
            raise ValueError(f"{owner}: {key}: the layer's parameter is not an array yet")
        array = np.asarray(value)
        if array.shape != param.shape:
            raise ValueError(
                f"{owner}: {key} has shape {array.shape}, but the parameter has shape "
                f"{param.shape}"
            )
        return array.astype(param.dtype, copy=True)

    # -- description -------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments as JSON-able values."""
        return {"lr": self.lr, "maximize": self.maximize}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
