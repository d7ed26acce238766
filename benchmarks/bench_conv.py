"""Forward + backward of LeNet-5's two conv layers: scratchcnn against PyTorch on the CPU.

Batch 128, float32. Conv2d(1, 6, 5, padding=2) on 28x28 is a first layer (no input
gradient, as in a model); Conv2d(6, 16, 5) on 14x14 also returns dX. Each side gets its
natural layout: PyTorch contiguous NCHW tensors, scratchcnn the batch-last views that its
layers pass each other. Rounds alternate between the two to share the machine's noise.
Prints each round and the ratio torch_time / ours (> 1 means scratchcnn is faster).

    python benchmarks/bench_conv.py [--rounds 15] [--batch 128] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from torch.nn.functional import conv2d

from scratchcnn.kernels.layout import from_batch_last
from scratchcnn.layers import Conv2d

# (in_channels, out_channels, kernel, padding, input size, input gradient?)
LAYERS = [(1, 6, 5, 2, 28, False), (6, 16, 5, 0, 14, True)]


def make_ours(batch: int, rng: np.random.Generator) -> Callable[[], None]:
    """One training step of both layers in scratchcnn."""
    steps = []
    for c_in, c_out, k, p, size, input_grad in LAYERS:
        layer = Conv2d(c_in, c_out, k, padding=p)
        layer.compute_input_grad = input_grad
        # Batch-last memory seen as NCHW, as one layer hands data to the next.
        X = from_batch_last(rng.standard_normal((c_in, size, size, batch), dtype=np.float32))
        out = size + 2 * p - k + 1
        dA = from_batch_last(rng.standard_normal((c_out, out, out, batch), dtype=np.float32))
        steps.append((layer, X, dA))

    def step() -> None:
        for layer, X, dA in steps:
            layer.forward(X)
            layer.backward(dA)

    return step


def make_torch(batch: int, rng: np.random.Generator) -> Callable[[], None]:
    """The same step with torch.nn.functional.conv2d and autograd."""
    steps = []
    for c_in, c_out, k, p, size, input_grad in LAYERS:
        X = torch.from_numpy(rng.standard_normal((batch, c_in, size, size), dtype=np.float32))
        X.requires_grad_(input_grad)
        W = torch.from_numpy(rng.standard_normal((c_out, c_in, k, k), dtype=np.float32))
        b = torch.zeros(c_out, dtype=torch.float32)
        W.requires_grad_()
        b.requires_grad_()
        out = size + 2 * p - k + 1
        dA = torch.from_numpy(rng.standard_normal((batch, c_out, out, out), dtype=np.float32))
        steps.append((X, W, b, p, dA))

    def step() -> None:
        for X, W, b, p, dA in steps:
            conv2d(X, W, b, padding=p).backward(dA)

    return step


def timed(step: Callable[[], None], repeats: int) -> float:
    """Seconds per step, the best of ``repeats`` back-to-back steps (after the round's warm-up)."""
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=3, help="steps timed per round")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    ours, theirs = make_ours(args.batch, rng), make_torch(args.batch, rng)

    ratios = []
    for round_ in range(args.rounds):
        t_ours = timed(ours, args.repeats)
        t_torch = timed(theirs, args.repeats)
        ratios.append(t_torch / t_ours)
        print(
            f"round {round_ + 1:2d}: scratchcnn {t_ours * 1e3:7.2f} ms   "
            f"torch {t_torch * 1e3:7.2f} ms   ratio {ratios[-1]:.2f}"
        )
    print(
        f"LeNet-5 conv layers, batch {args.batch}, float32, forward+backward: torch_time / ours "
        f"min {min(ratios):.2f}  median {statistics.median(ratios):.2f}  max {max(ratios):.2f}"
    )


if __name__ == "__main__":
    main()
