"""FLOP counts from layer shapes, and the machine's measured float32 matmul rate.

A FLOP here is one multiply or one add of a matrix product: a convolution or dense layer does
``2 * MACs`` per image forward. Training does the forward, the weight gradient (the same MACs)
and the input gradient (the same MACs again) for every layer except the first layer with
parameters, whose input gradient nobody needs (both libraries skip it). Bias adds,
activations, pooling and the optimizer are not counted: they are memory-bound, not FLOPs.
Blocks (Residual, Concat) count each of their paths on the block's input; when a block holds
the first layers with parameters, each path's first such layer skips its input gradient.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np


def layer_forward_flops(layer: Any, input_shape: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """Forward FLOPs of one layer for one image, and its per-image output shape."""
    output_shape = tuple(layer.output_shape(tuple(input_shape)))
    W = getattr(layer, "W", None)
    if not isinstance(W, np.ndarray) or "W" not in getattr(layer, "param_names", ()):
        return 0, output_shape
    if W.ndim >= 3:
        # Conv: every output element is a dot product over (C_in / groups) * prod(kernel).
        macs = math.prod(output_shape) * math.prod(W.shape[1:])
    elif W.ndim == 2:
        # Dense (in_features, out_features): each output element is a dot product over in.
        macs = math.prod(output_shape) * W.shape[0]
    elif type(layer).__name__ == "SimpleConv1d":
        # a (K,) filter
        macs = math.prod(output_shape) * W.shape[0]
    else:
        # BatchNorm's per-channel scale: memory-bound, like bias adds
        macs = 0
    return 2 * int(macs), output_shape


def count_flops(layers: Sequence[Any], input_shape: tuple[int, ...]) -> dict[str, Any]:
    """Per-image FLOPs of a layer list: forward, training (fwd + bwd) and per layer."""
    counted = _count(layers, tuple(input_shape), seen_params=False)
    return {key: counted[key] for key in ("forward", "training", "per_layer")}


def _count(layers: Sequence[Any], shape: tuple[int, ...], seen_params: bool) -> dict[str, Any]:
    per_layer = []
    forward = training = 0
    for layer in layers:
        paths = getattr(layer, "paths", None)
        if isinstance(paths, dict):  # a block: every path reads the block's input
            inner = [_count(path, shape, seen_params) for path in paths.values()]
            flops = sum(part["forward"] for part in inner)
            train = sum(part["training"] for part in inner)
            seen_params = seen_params or any(part["seen_params"] for part in inner)
            shape = tuple(layer.output_shape(shape))
        else:
            flops, shape = layer_forward_flops(layer, shape)
            # forward + dW, and dX unless this is the first layer with parameters
            train = flops * (3 if seen_params else 2) if flops else 0
            seen_params = seen_params or bool(flops)
        per_layer.append({"layer": repr(layer), "forward": flops, "training": train})
        forward += flops
        training += train
    return {
        "forward": forward, "training": training, "per_layer": per_layer,
        "seen_params": seen_params,
    }  # fmt: skip


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best-of-``repeats`` float32 ``np.matmul`` rate of two (n, n) matrices, in GFLOP/s."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n), dtype=np.float32)
    B = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    np.matmul(A, B, out=out)  # warm-up: thread pool start, page faults
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(A, B, out=out)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best / 1e9


def torch_matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """The same probe with ``torch.mm`` (for comparison: PyTorch ships its own BLAS)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    A = torch.randn(n, n, generator=generator)
    B = torch.randn(n, n, generator=generator)
    out = torch.empty(n, n)
    torch.mm(A, B, out=out)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(A, B, out=out)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best / 1e9
