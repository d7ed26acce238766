"""``explain``: the notebooks' size arithmetic, worked out for every layer of a model.

For each layer: the output-size formula with the numbers filled in
(``(28 + 2*0 - 5) // 1 + 1 = 24``), the parameter count as a formula (``5*5*1*6 + 6 = 156``),
forward FLOPs and activation memory per sample, and the receptive field and stride ("jump")
measured in input pixels. Warnings point at rows or columns a kernel never reads, pixels a
pooling layer drops, asymmetric 'same' padding, and a Dense layer that holds most of the
parameters. No data runs: everything comes from shapes.

FLOPs count multiplies and adds: a convolution or Dense layer does 2 per multiply-accumulate
(the bias add takes the place of the first add), pooling ``window - 1`` comparisons (max) or
``window`` adds (average) per output, element-wise layers one operation per element.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from scratchcnn.layers import (
    BatchNorm2d,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2d,
    Layer,
    SimpleConv1d,
)
from scratchcnn.layers.conv import _ConvNd
from scratchcnn.layers.pooling import _AvgPool, _MaxPool, _Pool
from scratchcnn.summary import layer_names

_AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
_AXIS_UNITS = {"L": "positions", "D": "planes", "H": "rows", "W": "columns"}


@dataclass(frozen=True)
class LayerRecord:
    """What ``explain`` works out for one layer (shapes are per sample, without the batch).

    ``size_formulas`` holds one worked formula per spatial axis (empty for layers without
    one); ``children`` the records of a block's inner layers (named ``residual.body.conv2d``).
    ``receptive_field`` and ``jump`` are per spatial axis in input pixels (None where
    unknown), and ``whole_input`` is True once every output depends on the whole input.
    """

    index: int
    name: str
    layer: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    size_formulas: tuple[str, ...]
    params: int
    param_formula: str
    flops: int
    activation_bytes: int
    receptive_field: tuple[int, ...] | None
    jump: tuple[int, ...] | None
    whole_input: bool
    warnings: tuple[str, ...] = ()
    children: tuple[LayerRecord, ...] = ()


@dataclass(frozen=True)
class Explanation:
    """The result of ``explain``: per-layer records, all warnings, totals; ``str()`` is the text."""

    input_shape: tuple[int, ...]
    dtype: str
    records: list[LayerRecord]
    warnings: list[str] = field(default_factory=list)

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.records)

    @property
    def total_flops(self) -> int:
        """Forward FLOPs per sample."""
        return sum(r.flops for r in self.records)

    @property
    def total_activation_bytes(self) -> int:
        """Bytes of all layer outputs for one sample."""
        return sum(r.activation_bytes for r in self.records)

    def __str__(self) -> str:
        return format_explanation(self)


# -- arithmetic per kind of layer -------------------------------------------------------------
def _axes(n: int) -> tuple[str, ...]:
    return _AXIS_NAMES.get(n, tuple(f"axis {i}" for i in range(n)))


def _conv_formula(n: int, pads: tuple[int, int], k: int, s: int, d: int, out: int) -> str:
    left, right = pads
    padding = f"2*{left}" if left == right else f"{left} + {right}"
    kernel = f"{k}" if d == 1 else f"{d}*({k}-1) - 1"
    return f"({n} + {padding} - {kernel}) // {s} + 1 = {out}"


def _pool_formula(n: int, p: int, k: int, s: int, ceil_mode: bool, out: int) -> str:
    if not ceil_mode:
        return f"({n} + 2*{p} - {k}) // {s} + 1 = {out}"
    text = f"ceil(({n} + 2*{p} - {k}) / {s}) + 1"
    if -(-(n + 2 * p - k) // s) + 1 != out:
        text += " - 1 (the last window would start in the padding)"
    return f"{text} = {out}"


def _labelled(formulas: list[str], axes: tuple[str, ...]) -> tuple[str, ...]:
    """``("H, W: ... = 24",)`` when every axis has the same formula, else one per axis."""
    if len(set(formulas)) == 1:
        return (f"{', '.join(axes)}: {formulas[0]}",)
    return tuple(f"{axis}: {text}" for axis, text in zip(axes, formulas, strict=True))


def _unread(n: int, pads: tuple[int, int], reach: int, out: int, s: int) -> int:
    """Trailing input positions (not padding) that no window reads along one axis."""
    left, right = pads
    spanned = (out - 1) * s + reach
    return max(0, n + left + right - spanned - right)


def _window_layer(
    layer: Layer,
    in_shape: tuple[int, ...],
    out_shape: tuple[int, ...],
    name: str,
) -> tuple[tuple[str, ...], list[tuple[int, int, int]], list[str]]:
    """Formulas, per-axis (reach, stride, unread) and warnings of a convolution or pooling."""
    spatial, out_spatial = in_shape[1:], out_shape[1:]
    axes = _axes(len(spatial))
    conv = isinstance(layer, _ConvNd)
    kernel = layer.kernel_size
    stride = layer.stride
    dilation = layer.dilation if conv else (1,) * len(spatial)
    pads = layer.pads if conv else tuple((p, p) for p in layer.padding)
    formulas, geometry, warnings = [], [], []
    losses: list[tuple[str, tuple[int, int, int, int]]] = []
    for i, axis in enumerate(axes):
        n, k, s, d, o = spatial[i], kernel[i], stride[i], dilation[i], out_spatial[i]
        if conv:
            formulas.append(_conv_formula(n, pads[i], k, s, d, o))
        else:
            formulas.append(_pool_formula(n, pads[i][0], k, s, layer.ceil_mode, o))
        reach = d * (k - 1) + 1
        unread = _unread(n, pads[i], reach, o, s)
        geometry.append((reach, s, unread))
        if unread:
            losses.append((axis, (n, k, s, unread)))
    if losses:
        same = len({key for _, key in losses}) == 1
        groups = [losses] if same else [[item] for item in losses]
        for group in groups:
            where = " and ".join(axis for axis, _ in group)
            units = " and ".join(_AXIS_UNITS.get(axis, "positions") for axis, _ in group)
            n, k, s, unread = group[0][1]
            read = n - unread
            if conv:
                warnings.append(
                    f"{name} {layer!r}: along {where} the kernel {k} with stride {s} reads "
                    f"{read} of the {n} input {units}; the last {unread} never reach the "
                    f"output (pad the input, or pick sizes where {n} + padding - {k} is "
                    f"a multiple of {s})"
                )
            else:
                warnings.append(
                    f"{name} {layer!r}: pooling drops the last {unread} of {n} {units} along "
                    f"{where}: windows of {k} with stride {s} cover only {read} (use an input "
                    f"size that divides evenly, padding, or ceil_mode=True)"
                )
    if conv and any(left != right for left, right in pads):
        sides = ", ".join(
            f"{a}: {left} before, {right} after"
            for a, (left, right) in zip(axes, pads, strict=True)
            if left != right
        )
        warnings.append(
            f"{name} {layer!r}: padding='same' is asymmetric ({sides}) because the kernel "
            "is even; the output is shifted by half a pixel (PyTorch pads the same way)"
        )
    return _labelled(formulas, axes), geometry, warnings


def _param_formula(layer: Layer, in_shape: tuple[int, ...]) -> str:
    count = layer.num_params()
    if isinstance(layer, _ConvNd):
        per_group = layer.in_channels // layer.groups
        c_in = str(per_group) if layer.groups == 1 else f"({layer.in_channels}/{layer.groups})"
        text = "*".join([*map(str, layer.kernel_size), c_in, str(layer.out_channels)])
        if layer.bias:
            text += f" + {layer.out_channels}"
    elif isinstance(layer, Dense):
        text = f"{layer.in_features}*{layer.out_features}"
        if layer.b is not None:
            text += f" + {layer.out_features}"
    elif isinstance(layer, SimpleConv1d):
        text = f"{layer.filter_size} + 1"
    elif isinstance(layer, BatchNorm2d) and count:
        text = f"2*{layer.num_features}"
    else:
        return f"{count:,}"
    return f"{text} = {count:,}"


def _flops(layer: Layer, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
    """Forward FLOPs for one sample (see the module docstring for what counts)."""
    outputs = math.prod(out_shape)
    if isinstance(layer, _ConvNd):
        per_output = layer.in_channels // layer.groups * math.prod(layer.kernel_size)
        return 2 * outputs * per_output
    if isinstance(layer, Dense):
        return 2 * outputs * layer.in_features
    if isinstance(layer, SimpleConv1d):
        return 2 * outputs * layer.filter_size
    if isinstance(layer, _MaxPool):
        return outputs * (math.prod(layer.kernel_size) - 1)
    if isinstance(layer, _AvgPool):
        return outputs * math.prod(layer.kernel_size)
    if isinstance(layer, GlobalAvgPool2d):
        return math.prod(in_shape)
    if isinstance(layer, Flatten):
        return 0
    if isinstance(layer, BatchNorm2d):
        return 2 * outputs
    if isinstance(layer, Dropout):
        return outputs
    if not layer.param_names:  # element-wise: activations
        return outputs
    return 2 * outputs * max(1, layer.num_params() // max(1, outputs))


# -- the walk over the layers -----------------------------------------------------------------
@dataclass
class _Geometry:
    """The receptive field and jump per spatial axis so far (None: unknown), or whole input."""

    field: tuple[int, ...] | None
    jump: tuple[int, ...] | None
    whole: bool

    def after_window(self, geometry: list[tuple[int, int, int]]) -> None:
        if self.field is not None and self.jump is not None and not self.whole:
            self.field = tuple(
                r + (reach - 1) * j
                for r, j, (reach, _, _) in zip(self.field, self.jump, geometry, strict=True)
            )
            self.jump = tuple(j * s for j, (_, s, _) in zip(self.jump, geometry, strict=True))


def _paths(layer: Layer) -> dict[str, list[Layer]] | None:
    """The named paths of a block of layers (Residual, Concat), or None for a plain layer."""
    paths = getattr(layer, "_paths", None)
    return paths if isinstance(paths, dict) else None


def _walk(
    layers: Sequence[Layer],
    shape: tuple[int, ...],
    geometry: _Geometry,
    itemsize: int,
    prefix: str,
    owner: str,
) -> tuple[list[LayerRecord], list[str], tuple[int, ...]]:
    """Records for ``layers`` from input ``shape``; updates ``geometry`` as it goes."""
    names = layer_names([type(layer).__name__ for layer in layers])
    records: list[LayerRecord] = []
    all_warnings: list[str] = []
    for index, (short, layer) in enumerate(zip(names, layers, strict=True)):
        name = prefix + short
        try:
            out = tuple(int(n) for n in layer.output_shape(shape))
        except (ValueError, TypeError) as error:
            raise type(error)(f"{owner} layer {index} {name}: {error}") from error
        formulas: tuple[str, ...] = ()
        warnings: list[str] = []
        children: tuple[LayerRecord, ...] = ()
        flops = _flops(layer, shape, out)
        param_formula = _param_formula(layer, shape)
        paths = _paths(layer)
        if paths is not None:
            children, warnings, geometry_after = _walk_paths(
                paths, shape, geometry, itemsize, f"{name}.", owner
            )
            flops = sum(c.flops for c in children) + math.prod(out)  # + combining the paths
            counts = [f"{c.params:,}" for c in children if c.params]
            if counts:
                param_formula = f"{' + '.join(counts)} = {layer.num_params():,}"
            geometry.field, geometry.jump, geometry.whole = geometry_after
        elif isinstance(layer, (_ConvNd, _Pool)):
            formulas, window, warnings = _window_layer(layer, shape, out, name)
            geometry.after_window(window)
        elif isinstance(layer, SimpleConv1d):
            formulas = (f"L: {shape[0]} - {layer.filter_size} + 1 = {out[0]}",)
            geometry.after_window([(layer.filter_size, 1, 0)])
        elif isinstance(layer, (Flatten, GlobalAvgPool2d, Dense)):
            if isinstance(layer, Flatten):
                formulas = (f"{'*'.join(map(str, shape))} = {math.prod(shape):,}",)
            elif isinstance(layer, Dense):
                formulas = (f"out_features = {layer.out_features}",)
            whole_now = isinstance(layer, (Flatten, GlobalAvgPool2d)) or len(shape) == 1
            geometry.whole = geometry.whole or whole_now
        elif isinstance(getattr(layer, "stride", None), int) and len(out) == len(shape) > 1:
            # a subsampling layer without a kernel (a ResNet's option A shortcut)
            formulas = (f"ceil({shape[1]} / {layer.stride}) = {out[1]}",)
            geometry.after_window([(1, layer.stride, 0)] * (len(shape) - 1))
        elif out[1:] != shape[1:] and not geometry.whole:
            geometry.field = geometry.jump = None  # an unknown layer that resizes: unknown
        records.append(
            LayerRecord(
                index=index,
                name=name,
                layer=repr(layer) if paths is None else _block_text(layer, paths),
                input_shape=shape,
                output_shape=out,
                size_formulas=formulas,
                params=layer.num_params(),
                param_formula=param_formula,
                flops=flops,
                activation_bytes=math.prod(out) * itemsize,
                receptive_field=None if geometry.whole else geometry.field,
                jump=None if geometry.whole else geometry.jump,
                whole_input=geometry.whole,
                warnings=tuple(warnings),
                children=children,
            )
        )
        all_warnings += warnings
        shape = out
    return records, all_warnings, shape


def _block_text(layer: Layer, paths: dict[str, list[Layer]]) -> str:
    """``Residual(body: 5 layers, shortcut: identity)``: a block's repr on one line."""
    parts = [
        f"{name}: {len(path)} layer{'s' if len(path) != 1 else ''}" if path else f"{name}: identity"
        for name, path in paths.items()
    ]
    return f"{type(layer).__name__}({', '.join(parts)})"


def _walk_paths(
    paths: dict[str, list[Layer]],
    shape: tuple[int, ...],
    geometry: _Geometry,
    itemsize: int,
    prefix: str,
    owner: str,
) -> tuple[tuple[LayerRecord, ...], list[str], tuple[Any, Any, bool]]:
    """Every path of a block from the block's input; the geometry is the widest path's."""
    children: list[LayerRecord] = []
    warnings: list[str] = []
    fields, jumps, whole = [], [], geometry.whole
    for path_name, path in paths.items():
        inner = _Geometry(geometry.field, geometry.jump, geometry.whole)
        records, texts, _ = _walk(path, shape, inner, itemsize, f"{prefix}{path_name}.", owner)
        children += records
        warnings += texts
        fields.append(inner.field)
        jumps.append(inner.jump)
        whole = whole or inner.whole
    if any(f is None for f in fields) or any(j is None for j in jumps):
        return tuple(children), warnings, (None, None, whole)
    field = tuple(max(values) for values in zip(*fields, strict=True))
    jump = tuple(max(values) for values in zip(*jumps, strict=True))
    return tuple(children), warnings, (field, jump, whole)


def explain(
    layers: Sequence[Layer], input_shape: Sequence[int], dtype: Any = np.float32
) -> Explanation:
    """Work out sizes, parameters, FLOPs, memory and receptive fields for ``layers``.

    ``input_shape`` is one sample's shape without the batch axis, e.g. (1, 28, 28). Blocks
    of paths (Residual, Concat) get records for their inner layers in ``children``, and their
    receptive field is their widest path's. Raises the ValueError ``output_shape`` raises
    when a layer does not fit its input.
    """
    shape = tuple(int(n) for n in input_shape)
    spatial = len(shape) - 1
    geometry = _Geometry(
        (1,) * spatial if spatial >= 1 else None,
        (1,) * spatial if spatial >= 1 else None,
        spatial < 1,
    )
    owner = f"explain: samples of shape {shape} do not fit"
    records, all_warnings, _ = _walk(layers, shape, geometry, np.dtype(dtype).itemsize, "", owner)
    for position, text in _dominant_dense(records, layers):
        record = records[position]
        records[position] = replace(record, warnings=(*record.warnings, text))
        all_warnings.append(text)
    return Explanation(
        input_shape=shape,
        dtype=np.dtype(dtype).name,
        records=records,
        warnings=all_warnings,
    )


def _dominant_dense(records: list[LayerRecord], layers: Sequence[Layer]) -> list[tuple[int, str]]:
    """``(position, warning)`` for a Dense layer holding more than half of all parameters."""
    total = sum(r.params for r in records)
    out = []
    for record, layer in zip(records, layers, strict=True):
        if isinstance(layer, Dense) and total and record.params > total / 2:
            share = record.params / total
            out.append(
                (
                    record.index,
                    f"{record.name} {record.layer} holds {record.params:,} of the model's "
                    f"{total:,} parameters ({share:.0%}): as in the notebooks' AlexNet and VGG16, "
                    f"most weights sit in one fully connected layer. Fewer features before it "
                    f"(more pooling or strides, or a global average pool) shrink it the most.",
                )
            )
    return out


# -- text -------------------------------------------------------------------------------------
def format_bytes(n: float) -> str:
    """``13.5 KiB``, ``2.3 MiB``: binary units, one decimal."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _field_text(record: LayerRecord) -> str:
    if record.whole_input:
        return "receptive field: the whole input"
    if record.receptive_field is None or record.jump is None:
        return "receptive field: unknown after this layer"
    size = "x".join(map(str, record.receptive_field))
    jump = "x".join(map(str, record.jump))
    return f"receptive field {size} input pixels, stride from the input {jump}"


def format_explanation(explanation: Explanation) -> str:
    """The per-layer text ``Sequential.explain`` prints."""
    lines = [
        f"Input {explanation.input_shape} per sample, {explanation.dtype}",
        "",
    ]
    for r in explanation.records:
        lines.append(f"[{r.index}] {r.name}: {r.layer}")
        lines.append(f"    output {r.output_shape}")
        lines += [f"      {text}" for text in r.size_formulas]
        lines.append(f"    params  {r.param_formula}")
        lines.append(
            f"    FLOPs   {r.flops:,} forward per sample; output {format_bytes(r.activation_bytes)}"
            " per sample"
        )
        lines.append(f"    {_field_text(r)}")
        for child in r.children:
            lines.append(f"    - {child.name}: {child.layer}")
            lines.append(f"        output {child.output_shape}; params {child.param_formula}")
            lines += [f"        {text}" for text in child.size_formulas]
    lines += [
        "",
        f"Total: {explanation.total_params:,} parameters, {explanation.total_flops:,} forward "
        f"FLOPs and {format_bytes(explanation.total_activation_bytes)} of layer outputs per "
        "sample",
    ]
    if explanation.warnings:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in explanation.warnings]
    return "\n".join(lines)
