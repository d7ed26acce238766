"""``export_onnx``: a Sequential as an ONNX file, for onnxruntime and other runtimes.

The graph has one input ``"input"`` (N, C, *spatial) and one output ``"output"``, both with
a dynamic batch axis ``"batch"``, float32 weights named like torch's state dict, and opset
``DEFAULT_OPSET`` (17: the ReduceMean-with-axes-attribute era that onnxruntime, TensorRT and
OpenVINO releases from 2022 on all read) unless asked otherwise. It computes what
``model.eval()`` computes. The file is checked with ``onnx.checker`` and written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import scratchcnn
from scratchcnn.atomic import atomic_write_bytes
from scratchcnn.interop.onnx_graph import OnnxGraph
from scratchcnn.interop.onnx_layers import export_layers
from scratchcnn.interop.optional import require
from scratchcnn.layers import (
    AvgPool1d,
    AvgPool2d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Dense,
    Dropout,
    GlobalAvgPool2d,
    LeakyReLU,
    MaxPool1d,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from scratchcnn.model import Sequential
from scratchcnn.validation import check_positive_int

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax over one axis and Slice/Pad with tensor inputs
_PROTOBUF_LIMIT = 2**31 - 1
_SPATIAL_NAMES = {1: ["length"], 2: ["height", "width"]}
_ANY_SHAPE = (ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, Dropout)


def _inferred_input_dims(model: Sequential) -> list[int | str]:
    """Per-sample input dims read off the first layers; symbolic names where unknown."""
    spatial: list[str] | None = None
    for layer in model.layers:
        if isinstance(layer, _ANY_SHAPE):
            continue
        if isinstance(layer, (MaxPool1d, AvgPool1d, MaxPool2d, AvgPool2d, GlobalAvgPool2d)):
            nd = 1 if isinstance(layer, (MaxPool1d, AvgPool1d)) else 2
            spatial = spatial or _SPATIAL_NAMES[nd]
            continue  # pooling keeps the channels: a later layer may tell them
        if isinstance(layer, (Conv1d, Conv2d)):
            return [layer.in_channels, *_SPATIAL_NAMES[layer._nd]]
        if isinstance(layer, BatchNorm2d):
            return [layer.num_features, *_SPATIAL_NAMES[2]]
        if isinstance(layer, Dense) and spatial is None:
            return [layer.in_features]
        break
    if spatial is not None:
        return ["channels", *spatial]
    raise ValueError(
        "export_onnx: cannot tell the input's shape from the model's layers; pass "
        "input_shape, e.g. input_shape=(1, 28, 28)"
    )


def _check_opset(opset: Any, onnx: Any) -> int:
    newest = int(onnx.defs.onnx_opset_version())
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise TypeError(f"export_onnx: opset must be an int, but got {opset!r}")
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"export_onnx: opset must be between {MIN_OPSET} and {newest} (the newest this "
            f"onnx package knows), but got opset={opset}"
        )
    return int(opset)


def build_onnx_model(
    model: Sequential, input_shape: Sequence[int] | None = None, opset: int = DEFAULT_OPSET
) -> Any:
    """The checked ``onnx.ModelProto`` that ``export_onnx`` writes (see there)."""
    owner = "export_onnx"
    if not isinstance(model, Sequential):
        raise TypeError(
            f"{owner}: expected a scratchcnn Sequential, but got {type(model).__name__}"
        )
    onnx = require("onnx", owner)
    opset = _check_opset(opset, onnx)
    output_dims: list[int | str] | None = None
    if input_shape is None:
        input_dims = _inferred_input_dims(model)
    else:
        if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
            raise TypeError(
                f"{owner}: input_shape must be a tuple of ints such as (1, 28, 28), but got "
                f"{input_shape!r}"
            )
        input_dims = [
            check_positive_int(n, "each entry of input_shape", owner) for n in input_shape
        ]
        output_dims = ["batch", *model.output_shape(input_shape, owner)]
    graph = OnnxGraph(onnx, opset, np.dtype(np.float32))
    graph.unique("input")
    if input_shape is not None:
        graph.shapes["input"] = tuple(input_dims)
    graph.rename_output(export_layers(model.layers, graph, "input"), "output")

    helper, float32 = onnx.helper, onnx.TensorProto.FLOAT
    proto_graph = helper.make_graph(
        graph.nodes,
        "scratchcnn",
        [helper.make_tensor_value_info("input", float32, ["batch", *input_dims])],
        [helper.make_tensor_value_info("output", float32, output_dims)],
        initializer=graph.initializers,
    )
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(
        proto_graph,
        opset_imports=opsets,
        producer_name="scratchcnn",
        producer_version=scratchcnn.__version__,
        doc_string=repr(model),
        # the oldest IR version that holds this opset, so older runtimes read the file
        ir_version=helper.find_min_ir_version_for(opsets),
    )
    if proto.ByteSize() > _PROTOBUF_LIMIT:
        raise ValueError(
            f"{owner}: the model takes {proto.ByteSize() / 1e9:.1f} GB as ONNX, more than one "
            "ONNX file can hold (2 GB)"
        )
    if output_dims is None:  # let ONNX's shape inference describe the output
        inferred = onnx.shape_inference.infer_shapes(proto).graph.output[0]
        proto.graph.output[0].CopyFrom(inferred)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(
    model: Sequential,
    path: str | os.PathLike[str],
    input_shape: Sequence[int] | None = None,
    opset: int = DEFAULT_OPSET,
) -> Path:
    """Write ``model`` as an ONNX file at ``path``; returns the path.

    ``input_shape`` is one sample's shape, (C, H, W) or (C, L); it fixes the spatial sizes
    and is checked against the model. Without it, the channels come from the first layer
    and the spatial axes stay symbolic (``"height"``, ``"width"``). The batch axis is always
    dynamic. Weights are written as float32; the graph computes ``model.eval()``'s forward.
    A layer without an ONNX exporter is a TypeError naming it.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"export_onnx: the folder {str(folder)!r} does not exist")
    proto = build_onnx_model(model, input_shape, opset)
    return atomic_write_bytes(path, proto.SerializeToString())
