"""Per-layer ONNX exporters: ``ONNX_EXPORTERS[OurLayer](layer, graph, x, name) -> output``.

Each function adds the nodes that compute the layer on tensor ``x`` (batched, PyTorch's
(N, C, *spatial) layout) and returns the name of its output. ``name`` is the layer's index
path (``"3"``); weights are named like torch's state dict (``"3.weight"``). Export is for
inference: Dropout is the identity and BatchNorm uses its running statistics (batch
statistics when it does not track any), as in ``model.eval()``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scratchcnn.interop.onnx_graph import INT64_MAX, OnnxGraph
from scratchcnn.interop.registry import Registry
from scratchcnn.layers import (
    AvgPool1d,
    AvgPool2d,
    BatchNorm2d,
    Concat,
    Conv1d,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2d,
    Layer,
    LeakyReLU,
    MaxPool1d,
    MaxPool2d,
    PadChannelsShortcut,
    ReLU,
    Residual,
    Sigmoid,
    Softmax,
    Tanh,
)

ONNX_EXPORTERS = Registry("ONNX export")


def export_layers(layers: Sequence[Layer], graph: OnnxGraph, x: str, prefix: str = "") -> str:
    """Add every layer's nodes after tensor ``x``; returns the last output's name.

    Layer ``i`` is named ``prefix + str(i)``; containers (residual blocks) call this for
    their branches with their own prefix.
    """
    for i, layer in enumerate(layers):
        name = f"{prefix}{i}"
        exporter = ONNX_EXPORTERS.get(type(layer))
        if exporter is None:
            raise TypeError(
                f"export_onnx: layer {name} {layer!r} cannot be exported to ONNX; exportable "
                f"layers: {ONNX_EXPORTERS.names()}"
            )
        shape = graph.shapes.get(x)
        x = exporter(layer, graph, x, name)
        if shape is not None:
            graph.shapes[x] = tuple(layer.output_shape(shape))
    return x


_PAD_MODES = {"reflect": "reflect", "replicate": "edge"}


def _circular_pad(graph: OnnxGraph, x: str, pads: tuple, name: str) -> str:
    """Wrap-around padding, one spatial axis at a time: Concat(x[-left:], x, x[:right])."""
    for k, (left, right) in enumerate(pads):
        axis = 2 + k
        parts = []
        if left:
            parts.append(graph.slice(x, axis, -left, INT64_MAX, f"{name}.wrap_left{k}"))
        parts.append(x)
        if right:
            parts.append(graph.slice(x, axis, 0, right, f"{name}.wrap_right{k}"))
        if len(parts) > 1:
            x = graph.node("Concat", parts, f"{name}.circular{k}", axis=axis)
    return x


def _explicit_pad(graph: OnnxGraph, x: str, pads: tuple, mode: str, name: str) -> str:
    """Pad the spatial axes with ``mode`` ('reflect', 'replicate' or 'circular')."""
    if mode == "circular":
        return _circular_pad(graph, x, pads, name)
    begins = [0, 0, *(left for left, _ in pads)]
    ends = [0, 0, *(right for _, right in pads)]
    amounts = graph.ints(begins + ends, f"{name}.pads")
    return graph.node("Pad", [x, amounts], f"{name}.padded", mode=_PAD_MODES[mode])


@ONNX_EXPORTERS.register(Conv1d, Conv2d)
def _conv(layer: Conv1d | Conv2d, graph: OnnxGraph, x: str, name: str) -> str:
    pads = layer.pads
    if layer.padding_mode != "zeros" and any(left or right for left, right in pads):
        x = _explicit_pad(graph, x, pads, layer.padding_mode, name)
        pads = ((0, 0),) * len(pads)
    inputs = [x, graph.weight(layer.W, f"{name}.weight")]
    if layer.bias:
        inputs.append(graph.weight(layer.b, f"{name}.bias"))
    return graph.node(
        "Conv",
        inputs,
        f"{name}.conv",
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.stride),
        dilations=list(layer.dilation),
        group=layer.groups,
        pads=[left for left, _ in pads] + [right for _, right in pads],
    )


@ONNX_EXPORTERS.register(Dense)
def _dense(layer: Dense, graph: OnnxGraph, x: str, name: str) -> str:
    # Gemm computes x @ B + C with B of shape (in, out): our W as it is
    inputs = [x, graph.weight(layer.W, f"{name}.weight")]
    if "b" in layer.param_names:  # a Dense without bias has no "b"
        inputs.append(graph.weight(layer.b, f"{name}.bias"))
    return graph.node("Gemm", inputs, f"{name}.gemm")


def _pool_attributes(layer: MaxPool1d | MaxPool2d | AvgPool1d | AvgPool2d) -> dict:
    return {
        "kernel_shape": list(layer.kernel_size),
        "strides": list(layer.stride),
        "pads": [*layer.padding, *layer.padding],
        "ceil_mode": int(layer.ceil_mode),
    }


def _torch_ceil_mode(
    layer: MaxPool1d | MaxPool2d | AvgPool1d | AvgPool2d, graph: OnnxGraph, x: str, y: str
) -> str:
    """Drop the last window where PyTorch does and ONNX does not.

    With ceil_mode both keep a last partial window, but PyTorch drops it when it would
    start inside the right padding; ONNX keeps it. Knowing the input size, slice it off.
    """
    if not layer.ceil_mode:
        return y
    shape = graph.shapes.get(x)
    if shape is None:
        raise ValueError(
            f"export_onnx: {layer!r} with ceil_mode=True needs the input's size to match "
            "PyTorch's output size in ONNX; pass input_shape"
        )
    ours = layer.output_shape(shape)[1:]
    for axis, (size, k, s, p, want) in enumerate(
        zip(shape[1:], layer.kernel_size, layer.stride, layer.padding, ours, strict=True)
    ):
        onnx_size = -(-(size + 2 * p - k) // s) + 1
        if onnx_size != want:
            y = graph.slice(y, 2 + axis, 0, want, f"{y}.torch_ceil{axis}")
    return y


@ONNX_EXPORTERS.register(MaxPool1d, MaxPool2d)
def _max_pool(layer: MaxPool1d | MaxPool2d, graph: OnnxGraph, x: str, name: str) -> str:
    y = graph.node("MaxPool", [x], f"{name}.maxpool", **_pool_attributes(layer))
    return _torch_ceil_mode(layer, graph, x, y)


@ONNX_EXPORTERS.register(AvgPool1d, AvgPool2d)
def _avg_pool(layer: AvgPool1d | AvgPool2d, graph: OnnxGraph, x: str, name: str) -> str:
    y = graph.node(
        "AveragePool",
        [x],
        f"{name}.avgpool",
        count_include_pad=int(layer.count_include_pad),
        **_pool_attributes(layer),
    )
    return _torch_ceil_mode(layer, graph, x, y)


@ONNX_EXPORTERS.register(GlobalAvgPool2d)
def _global_avg_pool(layer: GlobalAvgPool2d, graph: OnnxGraph, x: str, name: str) -> str:
    pooled = graph.node("GlobalAveragePool", [x], f"{name}.pooled")
    return graph.node("Flatten", [pooled], f"{name}.flat", axis=1)


@ONNX_EXPORTERS.register(BatchNorm2d)
def _batchnorm(layer: BatchNorm2d, graph: OnnxGraph, x: str, name: str) -> str:
    C = layer.num_features
    scale = layer.W if layer.affine else np.ones(C)
    shift = layer.b if layer.affine else np.zeros(C)
    if layer.track_running_stats:
        inputs = [
            x,
            graph.weight(scale, f"{name}.weight"),
            graph.weight(shift, f"{name}.bias"),
            graph.weight(layer.running_mean, f"{name}.running_mean"),
            graph.weight(layer.running_var, f"{name}.running_var"),
        ]
        return graph.node("BatchNormalization", inputs, f"{name}.bn", epsilon=layer.eps)
    # no running statistics: normalize with the batch's, as eval mode does then
    mean = graph.reduce_mean(x, [0, 2, 3], f"{name}.mean")
    centered = graph.node("Sub", [x, mean], f"{name}.centered")
    squares = graph.node("Mul", [centered, centered], f"{name}.squares")
    var = graph.reduce_mean(squares, [0, 2, 3], f"{name}.var")
    eps = graph.weight(np.array(layer.eps), f"{name}.eps")
    std = graph.node("Sqrt", [graph.node("Add", [var, eps], f"{name}.var_eps")], f"{name}.std")
    normalized = graph.node("Div", [centered, std], f"{name}.normalized")
    if not layer.affine:
        return normalized
    scale_name = graph.weight(np.reshape(scale, (1, C, 1, 1)), f"{name}.weight")
    shift_name = graph.weight(np.reshape(shift, (1, C, 1, 1)), f"{name}.bias")
    scaled = graph.node("Mul", [normalized, scale_name], f"{name}.scaled")
    return graph.node("Add", [scaled, shift_name], f"{name}.shifted")


@ONNX_EXPORTERS.register(Flatten)
def _flatten(layer: Flatten, graph: OnnxGraph, x: str, name: str) -> str:
    return graph.node("Flatten", [x], f"{name}.flat", axis=1)


@ONNX_EXPORTERS.register(Dropout)
def _dropout(layer: Dropout, graph: OnnxGraph, x: str, name: str) -> str:
    return graph.node("Identity", [x], f"{name}.dropout")


@ONNX_EXPORTERS.register(ReLU)
def _relu(layer: ReLU, graph: OnnxGraph, x: str, name: str) -> str:
    return graph.node("Relu", [x], f"{name}.relu")


@ONNX_EXPORTERS.register(LeakyReLU)
def _leaky_relu(layer: LeakyReLU, graph: OnnxGraph, x: str, name: str) -> str:
    return graph.node("LeakyRelu", [x], f"{name}.leaky_relu", alpha=layer.negative_slope)


@ONNX_EXPORTERS.register(Tanh)
def _tanh(layer: Tanh, graph: OnnxGraph, x: str, name: str) -> str:
    return graph.node("Tanh", [x], f"{name}.tanh")


@ONNX_EXPORTERS.register(Sigmoid)
def _sigmoid(layer: Sigmoid, graph: OnnxGraph, x: str, name: str) -> str:
    return graph.node("Sigmoid", [x], f"{name}.sigmoid")


@ONNX_EXPORTERS.register(Softmax)
def _softmax(layer: Softmax, graph: OnnxGraph, x: str, name: str) -> str:
    return graph.node("Softmax", [x], f"{name}.softmax", axis=layer.dim)


@ONNX_EXPORTERS.register(Residual)
def _residual(layer: Residual, graph: OnnxGraph, x: str, name: str) -> str:
    body = export_layers(layer.body, graph, x, f"{name}.body.")
    shortcut = (
        x
        if layer.shortcut is None
        else export_layers(layer.shortcut, graph, x, f"{name}.shortcut.")
    )
    return graph.node("Add", [body, shortcut], f"{name}.add")


@ONNX_EXPORTERS.register(Concat)
def _concat(layer: Concat, graph: OnnxGraph, x: str, name: str) -> str:
    outputs = [
        export_layers(branch, graph, x, f"{name}.branches.{b}.")
        for b, branch in enumerate(layer.branches)
    ]
    return graph.node("Concat", outputs, f"{name}.concat", axis=layer.dim)


@ONNX_EXPORTERS.register(PadChannelsShortcut)
def _pad_channels(layer: PadChannelsShortcut, graph: OnnxGraph, x: str, name: str) -> str:
    s = layer.stride
    inputs = [
        x,
        graph.ints([0, 0], f"{name}.starts"),
        graph.ints([INT64_MAX, INT64_MAX], f"{name}.ends"),
        graph.ints([2, 3], f"{name}.axes"),
        graph.ints([s, s], f"{name}.steps"),
    ]
    subsampled = graph.node("Slice", inputs, f"{name}.subsampled")
    before = layer.pad_before
    after = layer.out_channels - layer.in_channels - before
    pads = graph.ints([0, before, 0, 0, 0, after, 0, 0], f"{name}.pads")
    return graph.node("Pad", [subsampled, pads], f"{name}.padded", mode="constant")
