"""``Diagnostics``: a callback that watches each layer's health while a model trains.

Every ``every``-th training step (and the first of each epoch) it records, per layer: the
mean and standard deviation of the layer's output, for ReLU layers the fraction of units
(channels of a feature map, or features) that stayed at 0 for every sample measured in the
epoch, for Tanh and Sigmoid the fraction of outputs stuck near their limits, and for layers
with parameters the gradient norm and the update/weight ratio (how much one optimizer step
changed the weights, relative to their size). At the end of each epoch the means become one
``LayerStats`` per layer, and warnings in plain words name the layer when gradients explode
or vanish, ReLUs die, or tanh/sigmoid saturate.

Outputs are measured by wrapping each top-level layer's ``forward`` for the run (removed
again when training ends, also after a Ctrl+C); measuring costs a few passes over the
activations on the measured steps only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from scratchcnn.grad_mode import is_grad_enabled
from scratchcnn.layers import ReLU, Sigmoid, Tanh
from scratchcnn.model.callbacks import Callback
from scratchcnn.summary import layer_names


@dataclass(frozen=True)
class LayerStats:
    """One layer's measurements averaged over the measured steps of one epoch.

    ``dead_fraction`` is set for ReLU layers, ``saturated_fraction`` for Tanh and Sigmoid,
    ``grad_norm`` and ``update_ratio`` for layers with parameters (None otherwise).
    """

    epoch: int
    index: int
    name: str
    layer: str
    activation_mean: float
    activation_std: float
    dead_fraction: float | None
    saturated_fraction: float | None
    grad_norm: float | None
    update_ratio: float | None
    weight_norm: float | None = None


class _Accumulator:
    """Sums over the measured steps of one epoch, for one layer."""

    def __init__(self) -> None:
        self.steps = 0
        self.mean = 0.0
        self.var = 0.0
        self.active: np.ndarray | None = None  # per unit: fired at least once
        self.saturated = 0.0
        self.grad_steps = 0
        self.grad_norm = 0.0
        self.update_ratio = 0.0
        self.weight_norm = 0.0


def _norm(arrays: Any) -> float:
    """The 2-norm of several arrays taken as one vector (inf when any is not finite)."""
    total = 0.0
    for a in arrays:
        if a is None:
            continue
        value = float(np.linalg.norm(np.ravel(a)))
        total += value * value
    return math.sqrt(total)


class Diagnostics(Callback):
    """Per-layer training health, per epoch: pass it to ``fit(callbacks=[...])``.

    ``every``: measure every that many steps (and the first step of each epoch).
    ``verbose``: print each warning once, when it first appears. After training,
    ``records`` holds the ``LayerStats``, ``messages`` the warnings, ``plot(path)`` draws
    them, ``to_dict()`` is JSON-able. Thresholds: a ReLU is mostly dead above
    ``dead_threshold`` (0.5) of its units; tanh/sigmoid saturate above
    ``saturation_threshold`` (0.5) of outputs within 1% of their limits; gradients explode
    when one layer's norm exceeds ``explode_ratio`` (100) times the last layer's or its own
    weights' norm, or is not finite, and vanish below ``vanish_ratio`` (1e-3) times the last
    layer's; an
    update/weight ratio above ``update_limit`` (0.1) per step means the learning rate is too
    high (about 1e-3 is healthy).
    """

    def __init__(
        self,
        every: int = 10,
        verbose: bool = True,
        dead_threshold: float = 0.5,
        saturation_threshold: float = 0.5,
        explode_ratio: float = 100.0,
        vanish_ratio: float = 1e-3,
        update_limit: float = 0.1,
    ) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"Diagnostics: every must be a positive int, but got {every!r}")
        self.every = every
        self.verbose = bool(verbose)
        self.dead_threshold = float(dead_threshold)
        self.saturation_threshold = float(saturation_threshold)
        self.explode_ratio = float(explode_ratio)
        self.vanish_ratio = float(vanish_ratio)
        self.update_limit = float(update_limit)
        self.records: list[LayerStats] = []
        self.messages: list[str] = []
        self._warned: set[tuple[str, str]] = set()
        self._wrapped: list[tuple[Any, bool, Any]] = []
        self._measuring = False
        self._acc: list[_Accumulator] = []
        self._before: list[list[np.ndarray]] | None = None
        self._names: list[str] = []

    # -- the hooks ------------------------------------------------------------------------
    def on_train_begin(self, info: dict[str, Any]) -> None:
        layers = self.model.layers
        self._names = layer_names([type(layer).__name__ for layer in layers])
        for index, layer in enumerate(layers):
            had_own = "forward" in layer.__dict__
            original = layer.forward
            layer.forward = self._wrap(index, original)
            self._wrapped.append((layer, had_own, original))

    def on_epoch_begin(self, epoch: int) -> None:
        self._acc = [_Accumulator() for _ in self.model.layers]
        self._start_measuring()

    def on_batch_end(self, event: dict[str, Any]) -> None:
        if self._measuring:
            self._measure_step()
        self._measuring = False
        if event["step"] % self.every == 0 and event["step"] < event["steps"]:
            self._start_measuring()

    def on_epoch_end(self, event: dict[str, Any]) -> None:
        self._measuring = False
        self._before = None
        stats = [self._summary(event["epoch"], i) for i in range(len(self.model.layers))]
        self.records += stats
        for text in self._warnings(stats):
            self.messages.append(text)
            if self.verbose:
                print(f"Diagnostics, epoch {event['epoch']}: {text}", flush=True)

    def on_train_end(self, history: Any) -> None:
        for layer, had_own, original in self._wrapped:
            if had_own:
                layer.forward = original
            else:
                layer.__dict__.pop("forward", None)
        self._wrapped = []
        self._measuring = False
        self._before = None

    # -- measuring ------------------------------------------------------------------------
    def _wrap(self, index: int, original: Any) -> Any:
        def forward(X: np.ndarray) -> np.ndarray:
            A = original(X)
            if self._measuring and is_grad_enabled():
                self._measure_output(index, A)
            return A

        return forward

    def _start_measuring(self) -> None:
        self._measuring = True
        self._before = [
            [np.array(p, copy=True) for p in layer.params().values()] for layer in self.model.layers
        ]

    def _measure_output(self, index: int, A: np.ndarray) -> None:
        acc = self._acc[index]
        layer = self.model.layers[index]
        values = np.asarray(A)
        with np.errstate(over="ignore", invalid="ignore"):
            mean = float(values.mean(dtype=np.float64))
            var = float(values.var(dtype=np.float64))
        acc.steps += 1
        acc.mean += mean
        acc.var += var
        if isinstance(layer, ReLU) and values.ndim >= 2:
            axes = (0, *range(2, values.ndim))  # a unit: one channel (or one feature)
            fired = np.any(values > 0, axis=axes)
            acc.active = fired if acc.active is None else acc.active | fired
        elif isinstance(layer, Tanh):
            acc.saturated += float(np.mean(np.abs(values) > 0.99))
        elif isinstance(layer, Sigmoid):
            acc.saturated += float(np.mean((values < 0.01) | (values > 0.99)))

    def _measure_step(self) -> None:
        if self._before is None:
            return
        for index, layer in enumerate(self.model.layers):
            if not layer.param_names and not layer.params():
                continue
            grads = list(layer.grads().values())
            if all(g is None for g in grads):
                continue
            acc = self._acc[index]
            acc.grad_steps += 1
            acc.grad_norm += _norm(grads)
            now = list(layer.params().values())
            weight = _norm(self._before[index])
            acc.weight_norm += weight
            change = _norm([a - b for a, b in zip(now, self._before[index], strict=True)])
            acc.update_ratio += change / weight if weight > 0 else 0.0
        self._before = None

    def _summary(self, epoch: int, index: int) -> LayerStats:
        acc = self._acc[index]
        layer = self.model.layers[index]
        steps = max(acc.steps, 1)
        dead = None
        if isinstance(layer, ReLU) and acc.active is not None:
            dead = 1.0 - float(np.mean(acc.active))
        saturated = acc.saturated / steps if isinstance(layer, (Tanh, Sigmoid)) else None
        grad = update = weight = None
        if acc.grad_steps:
            grad = acc.grad_norm / acc.grad_steps
            update = acc.update_ratio / acc.grad_steps
            weight = acc.weight_norm / acc.grad_steps
        return LayerStats(
            epoch=epoch,
            index=index,
            name=self._names[index],
            layer=repr(layer),
            activation_mean=acc.mean / steps,
            activation_std=math.sqrt(max(acc.var / steps, 0.0)),
            dead_fraction=dead,
            saturated_fraction=saturated,
            grad_norm=grad,
            update_ratio=update,
            weight_norm=weight,
        )

    # -- words ----------------------------------------------------------------------------
    def _once(self, name: str, kind: str, text: str, out: list[str]) -> None:
        if (name, kind) not in self._warned:
            self._warned.add((name, kind))
            out.append(text)

    def _warnings(self, stats: list[LayerStats]) -> list[str]:
        out: list[str] = []
        for s in stats:
            if s.dead_fraction is not None and s.dead_fraction > self.dead_threshold:
                self._once(
                    s.name,
                    "dead",
                    (
                        f"{s.name}: {s.dead_fraction:.0%} of its units never fired this epoch "
                        "(output 0 for every sample measured). A dead ReLU passes no gradient, so "
                        "it cannot recover. Usual causes: a learning rate that is too high, or "
                        "large negative biases. Try a lower learning rate, LeakyReLU, or He "
                        "initialisation."
                    ),
                    out,
                )
            if s.saturated_fraction is not None and s.saturated_fraction > (
                self.saturation_threshold
            ):
                limits = "-1 or 1" if "Tanh" in s.layer else "0 or 1"
                self._once(
                    s.name,
                    "saturated",
                    (
                        f"{s.name}: {s.saturated_fraction:.0%} of its outputs are saturated "
                        f"(within 1% of {limits}), where its slope is almost 0 and hardly any "
                        "gradient passes back. Scale the inputs (e.g. to mean 0, std 1), start "
                        "from smaller weights, or use ReLU."
                    ),
                    out,
                )
            if s.update_ratio is not None and s.update_ratio > self.update_limit:
                self._once(
                    s.name,
                    "update",
                    (
                        f"{s.name}: each step changes its weights by {s.update_ratio:.0%} of their "
                        "size (about 0.1% is healthy): the learning rate is probably too high."
                    ),
                    out,
                )
        self._gradient_warnings([s for s in stats if s.grad_norm is not None], out)
        return out

    def _gradient_warnings(self, trained: list[LayerStats], out: list[str]) -> None:
        """Exploding or vanishing gradients among the layers with parameters."""
        advice = (
            "Each layer multiplies the gradient on its way back, and weights that are too "
            "large make it grow layer after layer. Use smaller initial weights (He or "
            "Glorot), a lower learning rate, BatchNorm, or gradient clipping."
        )
        for s in trained:
            if s.grad_norm is None:
                continue
            if not math.isfinite(s.grad_norm):
                text = f"{s.name}: exploding gradients: its gradient is infinite or NaN. {advice}"
                self._once(s.name, "explode", text, out)
            elif s.weight_norm and s.grad_norm > self.explode_ratio * s.weight_norm:
                text = (
                    f"{s.name}: exploding gradients: its gradient norm {s.grad_norm:.3g} is "
                    f"{s.grad_norm / s.weight_norm:,.0f} times its weights' norm "
                    f"({s.weight_norm:.3g}), so a usual learning rate throws the weights far "
                    f"off. {advice}"
                )
                self._once(s.name, "explode", text, out)
        if len(trained) < 2:
            return
        last = trained[-1]
        if not last.grad_norm or not math.isfinite(last.grad_norm):
            return
        ratios = [
            (s.grad_norm / last.grad_norm, s)
            for s in trained[:-1]
            if s.grad_norm is not None and math.isfinite(s.grad_norm)
        ]
        if not ratios:
            return
        ratio, worst = max(ratios, key=lambda pair: pair[0])
        if ratio > self.explode_ratio:
            text = (
                f"{worst.name}: exploding gradients: its gradient norm is {worst.grad_norm:.3g}, "
                f"{ratio:,.0f} times that of the last layer ({last.name}). {advice}"
            )
            self._once(worst.name, "explode", text, out)
        ratio, weakest = min(ratios, key=lambda pair: pair[0])
        if ratio < self.vanish_ratio:
            text = (
                f"{weakest.name}: vanishing gradients: its gradient norm is "
                f"{weakest.grad_norm:.3g}, only {ratio:.1e} of the last layer's ({last.name}), "
                "so the layers near the input barely learn. Saturated tanh/sigmoid units, dead "
                "ReLUs or too-small weights shrink the gradient on its way back; try ReLU, He "
                "initialisation, BatchNorm or a residual connection."
            )
            self._once(weakest.name, "vanish", text, out)

    # -- results --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """``{"records": [...], "messages": [...]}`` with plain floats (NaN/inf as None)."""

        def clean(value: Any) -> Any:
            if isinstance(value, float) and not math.isfinite(value):
                return None
            return value

        return {
            "records": [{k: clean(v) for k, v in asdict(r).items()} for r in self.records],
            "messages": list(self.messages),
        }

    def plot(self, path: Any, title: str = "") -> Any:
        """Write the per-epoch curves to a PNG (see ``scratchcnn.plots.plot_diagnostics``)."""
        from scratchcnn.plots.diagnostics import plot_diagnostics

        return plot_diagnostics(self, path, title=title)
