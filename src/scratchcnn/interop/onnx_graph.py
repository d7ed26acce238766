"""A small builder over ``onnx.helper``: nodes, weights and unique names for one graph.

Layer exporters call ``graph.node(...)`` and ``graph.weight(...)`` and return the name of
their output tensor, so they never deal with protobufs or name clashes. The few operators
whose signature changed between opsets (ReduceMean) get a method that hides it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

INT64_MAX = np.iinfo(np.int64).max


class OnnxGraph:
    """Nodes and initializers in the order they are added; ``dtype`` is the weights' dtype."""

    def __init__(self, onnx: Any, opset: int, dtype: np.dtype) -> None:
        self.onnx = onnx
        self.opset = opset
        self.dtype = np.dtype(dtype)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        # per-sample shapes of the tensors whose sizes are known (an input_shape was given)
        self.shapes: dict[str, tuple[int, ...]] = {}
        self._used: set[str] = set()

    def unique(self, hint: str) -> str:
        """``hint``, or ``hint_1``, ``hint_2``, ... if taken."""
        name, k = hint, 0
        while name in self._used:
            k += 1
            name = f"{hint}_{k}"
        self._used.add(name)
        return name

    def weight(self, array: np.ndarray, hint: str) -> str:
        """A float initializer in the graph's dtype; returns its name."""
        return self.constant(np.asarray(array, dtype=self.dtype), hint)

    def constant(self, array: np.ndarray, hint: str) -> str:
        """An initializer kept in its own dtype (int64 shapes, pads, axes)."""
        name = self.unique(hint)
        tensor = self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name)
        self.initializers.append(tensor)
        return name

    def ints(self, values: Any, hint: str) -> str:
        return self.constant(np.asarray(values, dtype=np.int64), hint)

    def node(self, op: str, inputs: list[str], hint: str, **attributes: Any) -> str:
        """Add one node with one output; returns the output's name."""
        output = self.unique(hint)
        self.nodes.append(
            self.onnx.helper.make_node(
                op, inputs, [output], name=self.unique(f"{hint}/{op}"), **attributes
            )
        )
        return output

    def reduce_mean(self, x: str, axes: list[int], hint: str, keepdims: bool = True) -> str:
        """ReduceMean over ``axes``: an attribute before opset 18, an input from 18 on."""
        if self.opset >= 18:
            return self.node(
                "ReduceMean", [x, self.ints(axes, f"{hint}/axes")], hint, keepdims=int(keepdims)
            )
        return self.node("ReduceMean", [x], hint, axes=axes, keepdims=int(keepdims))

    def slice(self, x: str, axis: int, start: int, end: int, hint: str) -> str:
        """``x[..., start:end, ...]`` along ``axis`` (``end=INT64_MAX`` for "to the end")."""
        inputs = [
            x,
            self.ints([start], f"{hint}/starts"),
            self.ints([end], f"{hint}/ends"),
            self.ints([axis], f"{hint}/axes"),
        ]
        return self.node("Slice", inputs, hint)

    def rename_output(self, tensor: str, name: str) -> None:
        """Give the graph's final tensor the public name ``name`` (an Identity if needed)."""
        for node in self.nodes:
            for k, output in enumerate(node.output):
                if output == tensor:
                    node.output[k] = name
                    self._used.add(name)
                    return
        self.nodes.append(self.onnx.helper.make_node("Identity", [tensor], [name], name=name))
