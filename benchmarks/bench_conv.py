"""Per convolution: scratchcnn's Conv1d/Conv2d against PyTorch's on the CPU, and the share of peak.

The convolutions of the suite's workloads (LeNet-5's two 5x5 layers, seed_cnn's 32->64,
VGG block's and the residual block's 3x3 layers, MNIST-1D's strided Conv1d layers), batch
128, float32. Each is timed forward (a training forward: what backward needs is kept) and
forward + backward (dX and dW; a first layer computes no dX, as in a model). Each side gets
its faster natural layout: PyTorch channels_last tensors (NCL for 1-D), scratchcnn the views
its layers hand each other (batch-last; position-major for 1-D). Rounds alternate between
the two so they share the machine's noise; medians are printed.

"% of peak" is a direct convolution's FLOPs (2 per multiply-add; training = forward + dX +
dW) over the float32 matmul rate of the faster library on this machine: how close each
comes to what the cores can do. Winograd layers do 4x fewer multiplications, so they can pass
100%. Which algorithm each of our layers takes is printed too.

    python benchmarks/bench_conv.py [--rounds 7] [--batch 128] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flops import matmul_gflops, torch_matmul_gflops
from scratchcnn.kernels import conv as conv_kernels
from scratchcnn.kernels import direct
from scratchcnn.kernels.layout import from_batch_last, from_position_major
from scratchcnn.layers import Conv1d, Conv2d

# (name, in_channels, out_channels, kernel, padding, input size, input gradient?[, stride,
# spatial dimensions]): stride 1 and 2-D unless given
CONVOLUTIONS = [
    ("lenet5 conv1, 1->6, 5x5, 28x28", 1, 6, 5, 0, 28, False),
    ("lenet5 conv2, 6->16, 5x5, 12x12", 6, 16, 5, 0, 12, True),
    ("seed_cnn conv2, 32->64, 3x3, 26x26", 32, 64, 3, 0, 26, True),
    ("vgg_block conv1, 3->32, 3x3, 32x32", 3, 32, 3, 1, 32, False),
    ("vgg_block 32->32, 3x3, 32x32", 32, 32, 3, 1, 32, True),
    ("vgg_block 64->64, 3x3, 16x16", 64, 64, 3, 1, 16, True),
    ("resblock 64->64, 3x3, 32x32", 64, 64, 3, 1, 32, True),
    ("mnist1d conv1, 1->25, k5 s2, 40", 1, 25, 5, 1, 40, False, 2, 1),
    ("mnist1d conv2, 25->25, k3 s2, 19", 25, 25, 3, 1, 19, True, 2, 1),
]


def _spec(spec: tuple) -> tuple:
    """(name, c_in, c_out, k, padding, size, input_grad, stride, nd) with the defaults."""
    return (*spec, 1, 2)[:9] if len(spec) == 7 else spec


def _out_size(spec: tuple) -> int:
    _, _, _, k, p, size, _, stride, _ = _spec(spec)
    return (size + 2 * p - k) // stride + 1


def algorithm(layer: Conv1d | Conv2d) -> str:
    """Which of our kernels the layer runs on."""
    if layer._position_major():
        return "position-major"
    if conv_kernels.uses_winograd(layer.W, layer.stride, layer.dilation, layer.groups):
        return "Winograd"
    if direct.applies(layer.W, layer.stride, layer.dilation, layer.groups):
        return "direct"
    return "im2col"


def ours(spec: tuple, batch: int, rng: np.random.Generator) -> tuple[Callable, Callable, str]:
    _, c_in, c_out, k, p, size, input_grad, stride, nd = _spec(spec)
    layer = (Conv1d if nd == 1 else Conv2d)(c_in, c_out, k, stride=stride, padding=p)
    layer.compute_input_grad = input_grad
    layer.reuse_output = True  # as inside a Sequential
    out = _out_size(spec)
    if nd == 1:  # position-major (L, C, N)
        X = from_position_major(rng.standard_normal((size, c_in, batch), dtype=np.float32))
        dA = from_position_major(rng.standard_normal((out, c_out, batch), dtype=np.float32))
    else:
        X = from_batch_last(rng.standard_normal((c_in, size, size, batch), dtype=np.float32))
        dA = from_batch_last(rng.standard_normal((c_out, out, out, batch), dtype=np.float32))

    def both() -> None:
        layer.forward(X)
        layer.backward(dA)

    return (lambda: layer.forward(X)), both, algorithm(layer)


def theirs(spec: tuple, batch: int, rng: np.random.Generator) -> tuple[Callable, Callable]:
    _, c_in, c_out, k, p, size, input_grad, stride, nd = _spec(spec)
    out = _out_size(spec)
    if nd == 1:  # NCL: channels_last exists for 4-D tensors only
        X = torch.from_numpy(rng.standard_normal((batch, c_in, size), dtype=np.float32))
        X = X.requires_grad_(input_grad)
        net = torch.nn.Conv1d(c_in, c_out, k, stride=stride, padding=p)
        dA = torch.from_numpy(rng.standard_normal((batch, c_out, out), dtype=np.float32))
    else:
        cl = torch.channels_last
        X = torch.from_numpy(rng.standard_normal((batch, c_in, size, size), dtype=np.float32))
        X = X.to(memory_format=cl).requires_grad_(input_grad)
        net = torch.nn.Conv2d(c_in, c_out, k, stride=stride, padding=p).to(memory_format=cl)
        dA = torch.from_numpy(rng.standard_normal((batch, c_out, out, out), dtype=np.float32))
        dA = dA.to(memory_format=cl)

    def both() -> None:
        net(X).backward(dA)

    return (lambda: net(X)), both


def timed(step: Callable[[], object], repeats: int) -> float:
    """Seconds per call, the best of ``repeats`` after one warm-up call."""
    step()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best


def direct_flops(spec: tuple, batch: int) -> tuple[int, int]:
    """(forward, training) FLOPs of a direct convolution."""
    _, c_in, c_out, k, _, _, input_grad, _, nd = _spec(spec)
    forward = 2 * batch * c_out * _out_size(spec) ** nd * c_in * k**nd
    return forward, forward * (3 if input_grad else 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3, help="calls timed per round")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.environ["SCRATCHCNN_NUM_THREADS"] = str(args.threads)
    torch.set_num_threads(args.threads)
    peak = max(matmul_gflops(), torch_matmul_gflops())
    rng = np.random.default_rng(0)
    rows = []
    for spec in CONVOLUTIONS:
        our_fwd, our_both, kind = ours(spec, args.batch, rng)
        torch_fwd, torch_both = theirs(spec, args.batch, rng)
        times: dict[str, list[float]] = {"of": [], "ob": [], "tf": [], "tb": []}
        for _ in range(args.rounds):
            times["of"].append(timed(our_fwd, args.repeats))
            times["tf"].append(timed(torch_fwd, args.repeats))
            times["ob"].append(timed(our_both, args.repeats))
            times["tb"].append(timed(torch_both, args.repeats))
        m = {key: statistics.median(values) for key, values in times.items()}
        _, training = direct_flops(spec, args.batch)
        share = {side: training / m[side + "b"] / 1e9 / peak for side in "ot"}
        rows.append(
            f"| {spec[0]} | {kind} | {m['of'] * 1e3:.2f} | {m['tf'] * 1e3:.2f} | "
            f"{m['ob'] * 1e3:.2f} | {m['tb'] * 1e3:.2f} | {share['o']:.0%} | {share['t']:.0%} |"
        )
        print(rows[-1], flush=True)
    print(
        f"\nbatch {args.batch}, float32, {args.threads} threads, medians of {args.rounds} "
        f"interleaved rounds; peak = {peak:.0f} GFLOP/s (float32 matmul)\n"
    )
    print(
        "| convolution | ours | ours fwd ms | PyTorch fwd ms | ours fwd+bwd ms | "
        "PyTorch fwd+bwd ms | ours % of peak | PyTorch % |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
