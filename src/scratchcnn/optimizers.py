"""Optimizers with ``torch.optim``'s update rules: ``update(layer)`` changes parameters in place.

One optimizer can serve many layers: its state (momentum buffers, moment estimates, step
counts) is kept per (layer, parameter name) and dropped when the layer is garbage collected.
State arrays share their parameter's dtype, and hyperparameters are Python floats, so a
float32 model is updated without float64 temporaries. ``lr`` may be changed between steps.
"""

from __future__ import annotations

import inspect
import math
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from scratchcnn.layers.base import Layer

State = dict[str, Any]  # slot name -> np.ndarray, or int for "step"


def _number(value: Any, name: str, owner: str) -> float:
    """``value`` as a Python float, after checking it is a real (non-bool) finite number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"{owner}: {name} must be a number, but got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{owner}: Invalid {name} value: {value}")
    return float(value)


def _non_negative(value: Any, name: str, owner: str, what: str | None = None) -> float:
    """A float >= 0; the message follows torch.optim's ("Invalid learning rate: -1")."""
    number = _number(value, name, owner)
    if number < 0:
        raise ValueError(f"{owner}: Invalid {what or name + ' value'}: {value}")
    return number


class Optimizer:
    """Base class: ``update(layer)`` applies ``_step`` to every parameter that has a gradient.

    Subclasses set ``name`` (for ``make_optimizer``), implement ``_step(param, grad, state)``
    (in-place on ``param``), ``_slots()`` (the state entries each parameter carries) and
    ``get_config()`` (constructor arguments, so ``type(opt)(**opt.get_config())`` rebuilds it).
    """

    name: ClassVar[str] = ""

    def __init__(self, lr: float) -> None:
        self.lr = lr
        self._state: dict[int, dict[str, State]] = {}

    @property
    def lr(self) -> float:
        """The learning rate, a Python float; assign a new value between steps to schedule it."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _non_negative(value, "lr", type(self).__name__, "learning rate")

    # -- the update --------------------------------------------------------------------------
    def update(self, layer: Layer) -> Layer:
        """Update each parameter of ``layer`` whose gradient is not None, in place; return it."""
        owner = type(self).__name__
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
            self._step(param, grad.astype(param.dtype, copy=False), state)
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
        return {"lr": self.lr}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, like ``torch.optim.SGD``.

    g = grad + weight_decay * W; with momentum, buf = momentum * buf + (1 - dampening) * g
    (buf = g on the first step) and g = buf, or g + momentum * buf when ``nesterov``;
    then W -= lr * g. State per parameter: ``momentum_buffer`` (only with momentum).
    """

    name = "sgd"

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0,
        nesterov: bool = False,
        weight_decay: float = 0,
        dampening: float = 0,
    ) -> None:
        super().__init__(lr)
        self.momentum = _non_negative(momentum, "momentum", "SGD")
        self.weight_decay = _non_negative(weight_decay, "weight_decay", "SGD")
        self.dampening = _number(dampening, "dampening", "SGD")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"SGD: nesterov must be a bool, but got {nesterov!r}")
        self.nesterov = bool(nesterov)
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
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
            "dampening": self.dampening,
        }


class AdaGrad(Optimizer):
    """AdaGrad, like ``torch.optim.Adagrad`` (without lr_decay).

    g = grad + weight_decay * W; sum += g * g; W -= lr * g / (sqrt(sum) + eps).
    Each parameter's step size shrinks with its own accumulated squared gradients.
    State per parameter: ``sum`` and ``step``.
    """

    name = "adagrad"

    def __init__(self, lr: float = 0.01, eps: float = 1e-10, weight_decay: float = 0) -> None:
        super().__init__(lr)
        self.eps = _non_negative(eps, "eps", "AdaGrad", "epsilon value")
        self.weight_decay = _non_negative(weight_decay, "weight_decay", "AdaGrad")

    def _slots(self) -> tuple[str, ...]:
        return ("sum", "step")

    def _step(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        if not state:
            state["sum"] = np.zeros_like(param)
            state["step"] = 0
        state["step"] += 1
        g = grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * param
        state["sum"] += g * g
        std = np.sqrt(state["sum"])
        std += self.eps
        param -= self.lr * (g / std)

    def get_config(self) -> dict[str, Any]:
        return {"lr": self.lr, "eps": self.eps, "weight_decay": self.weight_decay}


class RMSprop(Optimizer):
    """RMSprop, like ``torch.optim.RMSprop`` (not centered).

    g = grad + weight_decay * W; square_avg = alpha * square_avg + (1 - alpha) * g * g;
    avg = sqrt(square_avg) + eps; with momentum, buf = momentum * buf + g / avg and
    W -= lr * buf, else W -= lr * g / avg. State: ``square_avg``, ``step`` (+ ``momentum_buffer``).
    """

    name = "rmsprop"

    def __init__(
        self,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0,
        weight_decay: float = 0,
    ) -> None:
        super().__init__(lr)
        self.alpha = _non_negative(alpha, "alpha", "RMSprop")
        self.eps = _non_negative(eps, "eps", "RMSprop", "epsilon value")
        self.momentum = _non_negative(momentum, "momentum", "RMSprop")
        self.weight_decay = _non_negative(weight_decay, "weight_decay", "RMSprop")

    def _slots(self) -> tuple[str, ...]:
        extra = ("momentum_buffer",) if self.momentum > 0 else ()
        return ("square_avg", "step", *extra)

    def _step(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        if not state:
            state["square_avg"] = np.zeros_like(param)
            state["step"] = 0
            if self.momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
        state["step"] += 1
        g = grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * param
        square_avg = state["square_avg"]
        square_avg *= self.alpha
        square_avg += (1 - self.alpha) * (g * g)
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
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
        }


class Adam(Optimizer):
    """Adam, like ``torch.optim.Adam``: moment estimates with bias correction.

    g = grad + weight_decay * W (L2, coupled); m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g;
    W -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps), with t the parameter's own
    step count. State per parameter: ``m``, ``v`` and ``step``.
    """

    name = "adam"
    _decoupled: ClassVar[bool] = False

    def __init__(
        self,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
    ) -> None:
        owner = type(self).__name__
        super().__init__(lr)
        if isinstance(betas, str) or not isinstance(betas, Sequence) or len(betas) != 2:
            raise TypeError(f"{owner}: betas must be a pair of numbers, but got {betas!r}")
        self.eps = _non_negative(eps, "eps", owner, "epsilon value")
        for i, beta in enumerate(betas):
            if not 0.0 <= _number(beta, f"betas[{i}]", owner) < 1.0:
                raise ValueError(f"{owner}: Invalid beta parameter at index {i}: {beta}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.weight_decay = _non_negative(weight_decay, "weight_decay", owner)

    def _slots(self) -> tuple[str, ...]:
        return ("m", "v", "step")

    def _step(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        if not state:
            state["m"] = np.zeros_like(param)
            state["v"] = np.zeros_like(param)
            state["step"] = 0
        state["step"] += 1
        step = state["step"]
        beta1, beta2 = self.betas
        g = grad
        if self.weight_decay != 0:
            if self._decoupled:
                param *= 1 - self.lr * self.weight_decay
            else:
                g = g + self.weight_decay * param
        m, v = state["m"], state["v"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        step_size = self.lr / (1 - beta1**step)
        denom = np.sqrt(v)
        denom /= math.sqrt(1 - beta2**step)
        denom += self.eps
        param -= step_size * (m / denom)

    def get_config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "betas": list(self.betas),
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }


class AdamW(Adam):
    """AdamW, like ``torch.optim.AdamW``: Adam with decoupled weight decay.

    Before the Adam step, W *= 1 - lr * weight_decay, instead of adding weight_decay * W to
    the gradient, so the decay is not rescaled by the moment estimates (Loshchilov & Hutter).
    """

    name = "adamw"
    _decoupled = True

    def __init__(
        self,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(lr, betas, eps, weight_decay)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, AdaGrad, RMSprop, Adam, AdamW)
}


def make_optimizer(name: str, **kwargs: Any) -> Optimizer:
    """An optimizer by name (case-insensitive), e.g. ``make_optimizer("adam", lr=1e-3)``.

    Names: 'sgd', 'momentum' (SGD with momentum=0.9 unless given), 'adagrad', 'rmsprop',
    'adam', 'adamw'. Keyword arguments go to the constructor.
    """
    if not isinstance(name, str):
        raise TypeError(f"make_optimizer: name must be a str, but got {name!r}")
    key = name.lower()
    if key == "momentum":
        key = "sgd"
        kwargs.setdefault("momentum", 0.9)
    if key not in OPTIMIZERS:
        valid = ", ".join(repr(n) for n in ("sgd", "momentum", *list(OPTIMIZERS)[1:]))
        raise ValueError(f"make_optimizer: unknown optimizer {name!r}; expected one of {valid}")
    cls = OPTIMIZERS[key]
    accepted = list(inspect.signature(cls).parameters)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(
            f"make_optimizer: {cls.__name__} got unexpected arguments {unknown}; it takes "
            f"{accepted}"
        )
    return cls(**kwargs)
