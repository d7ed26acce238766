"""Finite-difference gradient checks, for tests and for learners checking their own layers.

``numerical_gradient`` and ``layer_gradient_errors`` check one function or one layer;
``check_gradients`` checks a whole model (every parameter and the input) in one call.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

import numpy as np

from scratchcnn.layers.base import Layer
from scratchcnn.summary import layer_names


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to ``x``, perturbed in place.

    Use float64 arrays: float32 differences are dominated by rounding.
    """
    grad = np.zeros_like(x)
    flat_x = x.reshape(-1)  # a view: x must be contiguous so perturbations reach f
    if not np.shares_memory(flat_x, x):
        raise ValueError("numerical_gradient: x must be a contiguous array")
    flat_grad = grad.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        f_plus = f()
        flat_x[i] = original - eps
        f_minus = f()
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def layer_gradient_errors(
    layer: Layer, X: np.ndarray, seed: int = 0, eps: float = 1e-6
) -> dict[str, float]:
    """Max relative error between ``backward`` and central differences, for dX and each param.

    The scalar checked is ``sum(forward(X) * dA)`` with a fixed random ``dA``. Returns a dict
    such as ``{"X": 3e-10, "W": 1e-10, "b": 2e-11}``.
    """
    X = np.array(X, dtype=np.float64)
    out = layer.forward(X)
    dA = np.random.default_rng(seed).standard_normal(out.shape)
    dX = layer.backward(dA.copy())
    analytic = {"X": dX, **{k: np.array(v) for k, v in layer.grads().items()}}

    def loss() -> float:
        return float(np.sum(layer.forward(X) * dA))

    targets = {"X": X, **layer.params()}
    errors = {}
    for name, array in targets.items():
        numeric = numerical_gradient(loss, array, eps)
        scale = max(1.0, float(np.max(np.abs(numeric))))
        errors[name] = float(np.max(np.abs(numeric - analytic[name]))) / scale
    return errors


# -- the whole model ---------------------------------------------------------------------------
DEFAULT_ENTRIES = 30
DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-8


@dataclass(frozen=True)
class TensorCheck:
    """One parameter (or the input) of one layer, compared against central differences.

    ``relative_error`` is ``max |analytic - numeric| / max(max |numeric|, max |analytic|)``
    over the ``checked`` entries, the denominator at least ``atol * max(1, |loss|) / rtol``
    so that a gradient that is zero (a bias before BatchNorm) does not divide noise by noise.
    ``kinks`` counts entries left out because a kink (ReLU at 0, a max-pooling tie) lies
    within ``eps`` of them, where finite differences are wrong.
    """

    layer_index: int | None
    layer: str
    name: str
    shape: tuple[int, ...]
    size: int
    checked: int
    kinks: int
    max_abs_error: float
    relative_error: float
    passed: bool

    @property
    def where(self) -> str:
        """``"layer 3 conv2d_1 Conv2d(...), parameter W"`` or ``"the input X"``."""
        if self.layer_index is None:
            return "the input X"
        return f"layer {self.layer_index} {self.layer}, parameter {self.name}"


@dataclass(frozen=True)
class GradientReport:
    """What ``check_gradients`` found: one ``TensorCheck`` per tensor, the worst, pass/fail."""

    checks: list[TensorCheck]
    rtol: float
    atol: float
    eps: float
    samples: int
    loss: float
    layer_labels: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def worst(self) -> TensorCheck:
        """The tensor with the largest relative error (a failing one first)."""
        return max(self.checks, key=lambda c: (not c.passed, c.relative_error))

    @property
    def first_wrong(self) -> TensorCheck | None:
        """The failing tensor nearest the output: where backward first goes wrong."""
        failing = [c for c in self.checks if not c.passed]
        if not failing:
            return None
        return max(failing, key=lambda c: -1 if c.layer_index is None else c.layer_index)

    def suspects(self) -> str:
        """Where the bug is, in words: the first wrong layer, or the input gradients above it.

        A wrong parameter gradient shows in that layer alone; a wrong input gradient (dX)
        spoils every layer below it. So the culprit is the failing layer nearest the output,
        or the dX of a layer above it, up to and including the next layer whose parameter
        gradients are right.
        """
        first = self.first_wrong
        if first is None:
            return "every gradient matches its finite differences"
        start = -1 if first.layer_index is None else first.layer_index
        right_above = [
            c.layer_index
            for c in self.checks
            if c.passed and c.layer_index is not None and c.layer_index > start
        ]
        stop = min(right_above, default=len(self.layer_labels))
        # the layer at ``stop`` has right parameter gradients, but its dX may still be wrong
        last = min(stop + 1, len(self.layer_labels))
        above = [f"{i} {self.layer_labels[i]}" for i in range(start + 1, last)]
        text = f"the first wrong gradient, going backward from the loss, is {first.where}"
        if first.layer_index is not None:
            text += "; look at that layer's backward"
            if above:
                text += f", then at the input gradient (dX) of layer {', '.join(above)}"
        elif above:
            text += f"; look at the input gradient (dX) of layer {', '.join(above)}"
        return text

    def __str__(self) -> str:
        rows = [
            (
                "input" if c.layer_index is None else f"[{c.layer_index}] {c.layer}",
                c.name,
                str(c.shape),
                f"{c.checked}/{c.size}" + (f" ({c.kinks} kinks)" if c.kinks else ""),
                f"{c.relative_error:.1e}",
                "ok" if c.passed else "WRONG",
            )
            for c in self.checks
        ]
        header = ("layer", "param", "shape", "entries checked", "rel. error", "")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(6)]
        lines = [
            f"Gradient check: float64 copy of the model, {self.samples} samples, central "
            f"differences with eps={self.eps:g}",
            "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
        ]
        lines += [
            "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        worst = self.worst
        verdict = "PASSED" if self.passed else "FAILED"
        lines.append(
            f"{verdict}: worst is {worst.where}, relative error {worst.relative_error:.2e} "
            f"(tolerance {self.rtol:g}, or absolute error below {self.atol:g})"
        )
        if not self.passed:
            lines.append(self.suspects()[0].upper() + self.suspects()[1:])
        return "\n".join(lines)


def backward_to_input(model: Any, dA: np.ndarray) -> np.ndarray:
    """Backpropagate ``dA`` through every layer of ``model`` and return the input gradient.

    ``model.backward`` stops at the first layer with parameters (nothing needs the data's
    gradient to train); this runs the same backward, with the model's own layer flags, down
    to the input. It changes ``model``: use it on a copy.
    """
    flags = getattr(model, "_layer_flags", None)
    if flags is None or not hasattr(model, "_set_flags"):
        for layer in reversed(model.layers):
            dA = layer.backward(dA)
        return dA
    # the model's own flags, but every layer computes its input gradient
    previous = model._set_flags([(True, *rest) for _, *rest in flags])
    try:
        for layer in reversed(model.layers):
            dA = layer.backward(dA)
    finally:
        model._set_flags(previous)
    return dA


def _float64_copy(model: Any) -> Any:
    """A deep copy of ``model`` in float64.

    Dropout runs as in evaluation (its mask is random, so finite differences of it are
    noise); every other layer, BatchNorm included, runs in training mode.
    """
    from scratchcnn.layers import Dropout

    copy = deepcopy(model)
    copy.dtype = np.dtype(np.float64)
    copy.train()
    for layer in copy.layers:
        layer._adopt_dtype(np.dtype(np.float64))
        if isinstance(layer, Dropout):
            layer.train(False)
    return copy


def check_gradients(
    model: Any,
    X: Any,
    y: Any,
    entries: int = DEFAULT_ENTRIES,
    eps: float = 1e-6,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    seed: int = 0,
) -> GradientReport:
    """Check every parameter gradient of ``model`` and the input gradient on (X, y).

    The loss is the model's own (its mean over the batch); ``backward`` runs through every
    layer, and each tensor is compared against central differences in float64 on a copy of
    the model (the model itself is not touched). Tensors with more than ``entries`` elements
    are checked at ``entries`` random positions (``seed``). A tensor passes when its
    relative error is at most ``rtol`` or its largest absolute error at most
    ``atol * max(1, |loss|)`` (finite differences cannot resolve less). Use a small batch:
    each checked entry costs two forward passes.
    """
    owner = "check_gradients"
    if not hasattr(model, "layers") or not hasattr(model, "loss"):
        raise TypeError(
            f"{owner}: model must be a scratchcnn Sequential, got {type(model).__name__}"
        )
    if isinstance(entries, bool) or not isinstance(entries, int) or entries < 1:
        raise ValueError(f"{owner}: entries must be a positive int, but got {entries!r}")
    if not (isinstance(eps, (int, float)) and 0 < eps < 1):
        raise ValueError(f"{owner}: eps must be a number in (0, 1), but got {eps!r}")
    X_checked, out_shape = model._check_X(X, owner)
    y = model._check_y(y, X_checked.shape[0], out_shape, owner)
    net = _float64_copy(model)
    X64 = np.array(X_checked, dtype=np.float64)  # contiguous, ours to perturb

    def loss() -> float:
        return float(net.loss.forward(net.forward(X64.copy()), y))

    loss0 = loss()
    dX = backward_to_input(net, net.loss.backward())
    analytic = {(None, "X"): np.array(dX, dtype=np.float64)}
    for i, layer in enumerate(net.layers):
        for name, grad in layer.grads().items():
            analytic[(i, name)] = np.array(grad, dtype=np.float64)

    names = layer_names([type(layer).__name__ for layer in net.layers])
    rng = np.random.default_rng(seed)
    targets: list[tuple[int | None, str, str, np.ndarray]] = [(None, "input", "X", X64)]
    targets += [
        (i, f"{names[i]} {model.layers[i]!r}", name, array)
        for i, layer in enumerate(net.layers)
        for name, array in layer.params().items()
    ]
    floor = atol * max(1.0, abs(loss0))
    checks = []
    for index, label, name, array in targets:
        flat = array.reshape(-1)
        if not np.shares_memory(flat, array):
            raise ValueError(f"{owner}: {label} {name} is not contiguous; cannot perturb it")
        picks = (
            np.arange(flat.size)
            if flat.size <= entries
            else np.sort(rng.choice(flat.size, size=entries, replace=False))
        )
        grad = analytic[(index, name)].reshape(-1)[picks]
        numeric = np.empty(picks.size)
        bend = np.empty(picks.size)  # |right slope - left slope|
        for k, position in enumerate(picks):
            original = flat[position]
            flat[position] = original + eps
            plus = loss()
            flat[position] = original - eps
            minus = loss()
            flat[position] = original
            numeric[k] = (plus - minus) / (2 * eps)
            bend[k] = abs((plus - loss0) - (loss0 - minus)) / eps
        error = np.abs(numeric - grad)
        scale = max(float(np.abs(numeric).max()), float(np.abs(grad).max()))
        allowed = max(rtol * scale, floor)
        # An entry fails its tolerance only because of a kink within eps when its one-sided
        # slopes disagree by more than its error; smooth curvature bends them by eps*f'',
        # far less than a wrong backward's error.
        kink = (error > allowed) & (bend >= error)
        keep = ~kink
        max_abs = float(error[keep].max(initial=0.0))
        scale = max(
            float(np.abs(numeric[keep]).max(initial=0.0)),
            float(np.abs(grad[keep]).max(initial=0.0)),
        )
        # gradients smaller than floor / rtol count as that size: their errors are noise
        relative = max_abs / max(scale, floor / rtol)
        checks.append(
            TensorCheck(
                layer_index=index,
                layer=label,
                name=name,
                shape=tuple(array.shape),
                size=int(flat.size),
                checked=int(keep.sum()),
                kinks=int(kink.sum()),
                max_abs_error=max_abs,
                relative_error=relative,
                passed=relative <= rtol,
            )
        )
    return GradientReport(
        checks=checks,
        rtol=rtol,
        atol=atol,
        eps=eps,
        samples=int(X64.shape[0]),
        loss=loss0,
        layer_labels=tuple(names),
    )
