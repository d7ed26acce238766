"""``estimate``: what a training run will cost, before it starts.

FLOPs per step come from the layer shapes (as in ``explain``). Peak memory is added up from
what each layer keeps between forward and backward (a convolution's im2col columns and its
output, pooling's argmax, a mask, ...), the largest pair of gradients alive at once during
backward, the parameters with their gradients, optimizer state and the copy ``fit`` keeps to
restore after a diverging step, and the optimizer's temporaries. Seconds per epoch come from
timing training steps on this machine, on a copy of the model (the model itself is not
touched): one warm-up step (buffers, compiled kernels), then two timed steps.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

import numpy as np

from scratchcnn.kernels import direct
from scratchcnn.kernels.conv import uses_winograd
from scratchcnn.lab.explain import _paths, explain, format_bytes
from scratchcnn.layers import (
    BatchNorm2d,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    ReLU,
    SimpleConv1d,
)
from scratchcnn.layers.base import Layer
from scratchcnn.layers.conv import _ConvNd
from scratchcnn.layers.pooling import _MaxPool

# optimizer state slots per parameter, and parameter-sized temporaries during its update
_OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "rmsprop": 1, "adagrad": 1, "adam": 2, "adamw": 2}
_UPDATE_TEMPORARIES = {"sgd": 1, "adam": 3, "adamw": 3}


@dataclass(frozen=True)
class Estimate:
    """The cost of training: FLOPs, peak memory (with its parts) and time.

    ``memory`` maps each part to bytes: parameters, gradients, optimizer_state,
    restore_copy (``fit``'s copy of the weights), batch, layers (what forward keeps for
    backward, with the layers' reused buffers), backward (the largest pair of gradient arrays
    alive at once) or update (optimizer temporaries), whichever is larger. ``peak_bytes`` is
    their sum. Times are None when no calibration ran.
    """

    input_shape: tuple[int, ...]
    batch_size: int
    n_samples: int
    epochs: int
    dtype: str
    steps_per_epoch: int
    forward_flops_per_sample: int
    flops_per_step: int
    memory: dict[str, int]
    dataset_bytes: int
    seconds_per_step: float | None
    seconds_per_epoch: float | None

    @property
    def peak_bytes(self) -> int:
        return sum(self.memory.values())

    @property
    def total_seconds(self) -> float | None:
        return None if self.seconds_per_epoch is None else self.seconds_per_epoch * self.epochs

    def __str__(self) -> str:
        lines = [
            f"Pre-flight estimate: {self.n_samples:,} samples of shape {self.input_shape}, "
            f"batch {self.batch_size}, {self.epochs} epoch(s), {self.dtype}",
            f"  steps per epoch   {self.steps_per_epoch:,}",
            f"  FLOPs per step    {self.flops_per_step:,} (forward + backward; "
            f"{self.forward_flops_per_sample:,} forward per sample)",
            f"  peak memory       {format_bytes(self.peak_bytes)} while training, of which",
        ]
        lines += [
            f"    {format_bytes(size):>10}  {_MEMORY_PARTS[name]}"
            for name, size in self.memory.items()
            if size
        ]
        lines.append(f"  the data itself   {format_bytes(self.dataset_bytes)} in {self.dtype}")
        if self.seconds_per_step is not None and self.seconds_per_epoch is not None:
            total = self.seconds_per_epoch * self.epochs
            lines += [
                f"  time per step     {_duration(self.seconds_per_step)} (measured on this "
                "machine)",
                f"  time per epoch    {_duration(self.seconds_per_epoch)}",
                f"  time in all       {_duration(total)} for {self.epochs} epoch(s) (training "
                "steps only; validation adds a forward pass over the held-out samples)",
            ]
        return "\n".join(lines)


_MEMORY_PARTS = {
    "parameters": "parameters",
    "gradients": "their gradients",
    "optimizer_state": "optimizer state (Adam: 2 numbers per parameter, momentum 1, SGD 0)",
    "restore_copy": "fit's copy of the weights, restored if a step diverges",
    "batch": "the batch",
    "layers": "what the layers keep from forward for backward (im2col columns, outputs)",
    "backward_or_update": "gradients in flight during backward, or the optimizer's temporaries",
}


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


# -- memory per layer -------------------------------------------------------------------------
def _kept_elements(layer: Layer, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> float:
    """Elements per sample a layer allocates in a training forward and keeps until backward.

    Convolutions keep their im2col columns (none on the Winograd and direct paths), the padded
    input (none position-major: ``kernels/positions.py``) and their output buffer;
    pooling its output and argmax (one byte per output, counted as a quarter element);
    element-wise layers their output unless they work in place.
    """
    n_out = math.prod(out_shape)
    paths = _paths(layer)
    if paths is not None:  # a block: what its inner layers keep, and the combined output
        kept = 0.0
        for path in paths.values():
            shape = in_shape
            for inner in path:
                after = tuple(inner.output_shape(shape))
                kept += _kept_elements(inner, shape, after)
                shape = after
        return kept + n_out
    if isinstance(layer, _ConvNd) and layer._position_major():
        return n_out  # keeps its input as it came, which the layer before made
    if isinstance(layer, _ConvNd):
        pointwise = all(k == 1 for k in layer.kernel_size) and all(s == 1 for s in layer.stride)
        # Winograd and direct keep only the padded input (WinogradSaved, DirectSaved)
        args = (layer.W, layer.stride, layer.dilation, layer.groups)
        columns = (
            0
            if pointwise or uses_winograd(*args) or direct.applies(*args)
            else n_out // layer.out_channels * layer.in_channels * math.prod(layer.kernel_size)
        )
        padded = 0
        if any(left or right for left, right in layer.pads):
            padded = in_shape[0] * math.prod(
                n + left + right for n, (left, right) in zip(in_shape[1:], layer.pads, strict=True)
            )
        return columns + padded + n_out
    if isinstance(layer, _MaxPool):
        return n_out * 1.25
    if isinstance(layer, ReLU):
        return 0 if layer.inplace else n_out
    if isinstance(layer, LeakyReLU):
        return 2 * n_out
    if isinstance(layer, Dropout):
        return 2 * n_out if layer.p > 0 else 0
    if isinstance(layer, BatchNorm2d):
        return 2 * n_out
    if isinstance(layer, Flatten):
        return 0
    return n_out  # Dense, SimpleConv1d, average pooling, Tanh, Sigmoid, Softmax, ...


def _gradient_elements(layer: Layer, in_shape: tuple[int, ...], first: bool) -> float:
    """Elements per sample of the input gradient (dX) a layer's backward allocates."""
    n_in = math.prod(in_shape)
    paths = _paths(layer)
    if paths is not None:  # each path's input gradient, their sum, and the largest inside
        inner = 0.0
        for path in paths.values():
            shape, grads = in_shape, []
            for k, current in enumerate(path):
                grads.append(_gradient_elements(current, shape, first and k == 0))
                shape = tuple(current.output_shape(shape))
            inner = max(inner, max((a + b for a, b in itertools.pairwise(grads)), default=0))
        return inner + n_in * (len(paths) + 1)
    if first or isinstance(layer, Flatten):
        return 0  # nothing below needs it / a view
    if isinstance(layer, ReLU):
        return 0  # in place over dA inside a model
    if isinstance(layer, _ConvNd) and layer._position_major():
        return n_in  # written straight into dX: no column gradient, no padded dX
    extra = 0
    if isinstance(layer, _ConvNd) and direct.applies(
        layer.W, layer.stride, layer.dilation, layer.groups
    ):  # stride 1: dY with (KW-1)*DW zero columns on each side (kernels/direct.py); else
        # the column gradient W^T dY, one im2col's worth (kernels/conv.py)
        channels, *rows, width = layer.output_shape(in_shape)
        if all(s == 1 for s in layer.stride):
            pad = 2 * (layer.kernel_size[-1] - 1) * layer.dilation[-1]
            extra = channels * math.prod(rows) * (width + pad)
        else:
            extra = layer.in_channels * math.prod(layer.kernel_size) * math.prod(rows) * width
    if isinstance(layer, _ConvNd) and any(left or right for left, right in layer.pads):
        padded = in_shape[0] * math.prod(
            n + left + right for n, (left, right) in zip(in_shape[1:], layer.pads, strict=True)
        )
        return padded + n_in + extra
    return n_in + extra


def _layout_copies(layers: Sequence[Layer], shapes: Sequence[tuple[int, ...]]) -> float:
    """Elements per sample of the copies a training forward keeps between memory layouts.

    A position-major Conv1d converts an input that does not come position-major from the
    layer before (element-wise layers keep the layout), and Flatten copies a position-major
    input batch-last (``kernels/layout.py``).
    """
    copies, position_major = 0.0, False  # the batch arrives in PyTorch's layout
    for layer, in_shape in zip(layers, shapes, strict=False):
        if isinstance(layer, _ConvNd) and layer._position_major():
            copies += 0 if position_major else math.prod(in_shape)
            position_major = True
        elif isinstance(layer, Flatten) and position_major:
            copies += math.prod(in_shape)
            position_major = False
        elif not isinstance(layer, (ReLU, LeakyReLU, Dropout)):
            position_major = False
    return copies


def _training_flops(layers: Sequence[Layer], records: Sequence[Any]) -> int:
    """Per-sample FLOPs of forward + backward: 3x forward for conv/dense (forward, dW, dX),
    2x for the first layer with parameters (no dX), 2x for the rest (forward, dX)."""
    total = 0
    seen_params = False
    for layer, record in zip(layers, records, strict=True):
        if isinstance(layer, (_ConvNd, Dense, SimpleConv1d)):
            total += record.flops * (3 if seen_params else 2)
        elif seen_params or layer.param_names:
            total += 2 * record.flops
        else:
            total += record.flops  # before the first parameters: no backward at all
        seen_params = seen_params or bool(layer.param_names)
    return total


def memory_parts(model: Any, input_shape: Sequence[int], batch_size: int) -> dict[str, int]:
    """The parts of a training step's peak memory, in bytes (see ``Estimate.memory``)."""
    itemsize = model.dtype.itemsize
    shapes = [tuple(int(n) for n in input_shape), *model._trace_shapes(input_shape, "estimate")]
    first_trainable = model._first_trainable
    kept = 0.0
    grads = []
    for i, layer in enumerate(model.layers):
        kept += _kept_elements(layer, shapes[i], shapes[i + 1])
        if i >= first_trainable:
            grads.append(_gradient_elements(layer, shapes[i], i == first_trainable))
    kept += _layout_copies(model.layers, shapes)
    backward = max((a + b for a, b in itertools.pairwise(grads)), default=0)
    backward = max(backward, max(grads, default=0))
    params = [p for layer in model.layers for p in layer.params().values()]
    param_elements = sum(p.size for p in params)
    buffer_elements = sum(b.size for layer in model.layers for b in layer.buffers().values())
    name = getattr(model.optimizer, "name", "")
    slots = _OPTIMIZER_SLOTS.get(name, 2)
    temporaries = _UPDATE_TEMPORARIES.get(name, 2) * max((p.size for p in params), default=0)
    batch = batch_size * itemsize
    return {
        "parameters": param_elements * itemsize,
        "gradients": param_elements * itemsize,
        "optimizer_state": slots * param_elements * itemsize,
        "restore_copy": (param_elements + buffer_elements) * itemsize,
        "batch": batch * math.prod(shapes[0]),
        "layers": int(kept * batch),
        "backward_or_update": int(max(backward * batch, temporaries * itemsize)),
    }


# -- timing -----------------------------------------------------------------------------------
def _random_batch(model: Any, input_shape: tuple[int, ...], n: int) -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    X = rng.random((n, *input_shape), dtype=np.float64).astype(model.dtype)
    out_shape = model.output_shape(input_shape, "Sequential.estimate")
    if len(out_shape) == 1 and out_shape[0] > 1:
        return X, rng.integers(0, out_shape[0], size=n)
    return X, rng.standard_normal((n, *out_shape)).astype(model.dtype)


def time_steps(model: Any, input_shape: tuple[int, ...], batch_size: int, steps: int = 2) -> float:
    """Mean seconds of ``steps`` training steps on a copy of ``model``, after one warm-up step."""
    net = deepcopy(model)
    X, y = _random_batch(net, input_shape, batch_size)
    net.train_step(X, y)  # allocates the buffers, compiles kernels
    start = time.perf_counter()
    for _ in range(steps):
        net.train_step(X, y)
    return (time.perf_counter() - start) / steps


def estimate(
    model: Any,
    input_shape: Sequence[int],
    batch_size: int = 32,
    n_samples: int = 60_000,
    epochs: int = 1,
    calibrate: bool = True,
) -> Estimate:
    """FLOPs per step, peak training memory and (with ``calibrate``) seconds per epoch."""
    from scratchcnn.validation import check_positive_int

    owner = "Sequential.estimate"
    batch_size = check_positive_int(batch_size, "batch_size", owner)
    n_samples = check_positive_int(n_samples, "n_samples", owner)
    epochs = check_positive_int(epochs, "epochs", owner)
    shape = tuple(int(n) for n in input_shape)
    model._trace_shapes(shape, owner)
    records = explain(model.layers, shape, model.dtype).records
    full, rest = divmod(n_samples, batch_size)
    steps = full + (1 if rest else 0)
    step_batch = min(batch_size, n_samples)
    seconds_per_step = seconds_per_epoch = None
    if calibrate:
        seconds_per_step = time_steps(model, shape, step_batch)
        # a step's time grows with its batch: the last, partial batch costs its share
        seconds_per_epoch = seconds_per_step * (full + rest / batch_size)
    return Estimate(
        input_shape=shape,
        batch_size=batch_size,
        n_samples=n_samples,
        epochs=epochs,
        dtype=model.dtype.name,
        steps_per_epoch=steps,
        forward_flops_per_sample=sum(r.flops for r in records),
        flops_per_step=_training_flops(model.layers, records) * step_batch,
        memory=memory_parts(model, shape, step_batch),
        dataset_bytes=n_samples * math.prod(shape) * model.dtype.itemsize,
        seconds_per_step=seconds_per_step,
        seconds_per_epoch=seconds_per_epoch,
    )
