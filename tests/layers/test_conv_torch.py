"""Conv1d / Conv2d against torch.nn.Conv1d / Conv2d in float64 over a seeded random grid.

Each case copies our W and b into the torch module and compares the output, dX, dW and db
(max abs error <= 1e-10 relative to the values' scale). The grid covers kernel sizes 1..7,
strides 1..3, dilations 1..3, int / per-axis / 'same' / 'valid' padding in every
padding_mode, groups up to depthwise, odd sizes where windows don't fit evenly, batch 1 and
unbatched input, and bias=False.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
import torch

from scratchcnn.kernels import positions
from scratchcnn.layers import Conv1d, Conv2d

MODES = ("zeros", "reflect", "replicate", "circular")
TOLERANCE = 1e-10


def _random_case(draw: random.Random, nd: int) -> dict[str, Any]:
    """One valid configuration: constructor arguments, the input shape, and an id."""
    groups = draw.choice([1, 1, 1, 2, 3, "depthwise"])
    if groups == "depthwise":
        groups = draw.randint(1, 5)
        in_channels = groups
    else:
        in_channels = groups * draw.randint(1, 3)
    out_channels = groups * draw.randint(1, 3)
    kernel = tuple(draw.randint(1, 7) for _ in range(nd))
    dilation = tuple(draw.choice([1, 1, 2, 3]) for _ in range(nd))
    stride = tuple(draw.choice([1, 1, 2, 3]) for _ in range(nd))
    mode = draw.choice(MODES)
    style = draw.choice(["int", "tuple", "same", "valid"])
    if style == "same" and any(s != 1 for s in stride):
        style = "tuple"
    if style == "int":
        padding: Any = draw.randint(0, 3)
        pads = [(padding, padding)] * nd
    elif style == "tuple":
        padding = tuple(draw.randint(0, 3) for _ in range(nd))
        pads = [(p, p) for p in padding]
    elif style == "same":
        padding = "same"
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        pads = [(t // 2, t - t // 2) for t in totals]
    else:
        padding = "valid"
        pads = [(0, 0)] * nd
    # Smallest input the kernel and the mode allow, plus a random amount so that windows
    # often don't fit evenly.
    spatial = []
    for k, d, (left, right) in zip(kernel, dilation, pads, strict=True):
        need = max(1, d * (k - 1) + 1 - left - right)
        if mode == "reflect":
            need = max(need, max(left, right) + 1)
        elif mode == "circular":
            need = max(need, max(left, right))
        spatial.append(need + draw.randint(0, 6))
    batch = draw.choice([None, 1, 2, 3])
    shape = (in_channels, *spatial) if batch is None else (batch, in_channels, *spatial)
    kwargs = dict(
        kernel_size=kernel[0]
        if nd == 1 or (draw.random() < 0.3 and len(set(kernel)) == 1)
        else kernel,
        stride=stride[0] if nd == 1 else stride,
        padding=padding,
        dilation=dilation[0] if nd == 1 else dilation,
        groups=groups,
        bias=draw.random() < 0.8,
        padding_mode=mode,
    )
    return {"nd": nd, "in": in_channels, "out": out_channels, "kwargs": kwargs, "shape": shape}


def _grid(nd: int, count: int, seed: int) -> list[Any]:
    draw = random.Random(seed)  # a local generator: the grid is the same on every run
    cases = [_random_case(draw, nd) for _ in range(count)]
    return [
        pytest.param(case, id=f"{nd}d-{i}-{case['in']}-{case['out']}-{case['shape']}")
        for i, case in enumerate(cases)
    ]


# Hand-picked cases the random grid might miss.
SPECIAL = [
    {"nd": 2, "in": 1, "out": 6, "kwargs": dict(kernel_size=5, padding=2), "shape": (2, 1, 28, 28)},
    {"nd": 2, "in": 6, "out": 16, "kwargs": dict(kernel_size=5), "shape": (2, 6, 14, 14)},
    {"nd": 2, "in": 4, "out": 8, "kwargs": dict(kernel_size=1), "shape": (3, 4, 5, 6)},
    {"nd": 2, "in": 4, "out": 8, "kwargs": dict(kernel_size=1, stride=2), "shape": (3, 4, 5, 6)},
    {
        "nd": 2, "in": 6, "out": 12,
        "kwargs": dict(kernel_size=3, groups=6, padding="same", padding_mode="reflect"),
        "shape": (2, 6, 5, 5),
    },
    {
        "nd": 2, "in": 2, "out": 2,
        "kwargs": dict(
            kernel_size=(2, 4), padding="same", dilation=(3, 1), padding_mode="circular"
        ),
        "shape": (2, 3, 4),
    },
    {
        "nd": 1, "in": 3, "out": 3,
        "kwargs": dict(kernel_size=7, padding=3, padding_mode="reflect", bias=False),
        "shape": (1, 3, 4),
    },
    {"nd": 1, "in": 2, "out": 4, "kwargs": dict(kernel_size=6, padding="same"), "shape": (2, 9)},
]  # fmt: skip


# PyTorch warns that it pads even kernels with 'same' by a copy; that is its own business.
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@pytest.mark.parametrize(
    "case",
    [*_grid(1, 100, seed=1), *_grid(2, 150, seed=2), *[pytest.param(c) for c in SPECIAL]],
)
def test_matches_torch(
    case: dict[str, Any], rng: np.random.Generator, kernel_path: str
) -> None:
    _check_against_torch(case, rng)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@pytest.mark.parametrize("case", _grid(1, 100, seed=1))
def test_conv1d_batch_last_route_matches_torch(
    case: dict[str, Any], rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 1-D grid again with the position-major path off: im2col, the reference, and the
    direct convolution (the default grid runs most 1-D layers position-major)."""
    monkeypatch.setattr(positions, "ENABLED", False)
    _check_against_torch(case, rng)


def _check_against_torch(case: dict[str, Any], rng: np.random.Generator) -> None:
    ours_type, torch_type = (
        (Conv1d, torch.nn.Conv1d) if case["nd"] == 1 else (Conv2d, torch.nn.Conv2d)
    )
    ours = ours_type(case["in"], case["out"], **case["kwargs"])
    theirs = torch_type(case["in"], case["out"], **case["kwargs"], dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.W.astype(np.float64)))
        if ours.b is not None:
            theirs.bias.copy_(torch.from_numpy(ours.b.astype(np.float64)))

    X = rng.standard_normal(case["shape"])
    A = ours.forward(X)
    dA = rng.standard_normal(A.shape)
    dX = ours.backward(dA)

    X_t = torch.from_numpy(X).requires_grad_()
    A_t = theirs(X_t)
    A_t.backward(torch.from_numpy(dA))
    pairs = {"A": (A, A_t), "dX": (dX, X_t.grad), "dW": (ours.dW, theirs.weight.grad)}
    if ours.b is not None:
        pairs["db"] = (ours.db, theirs.bias.grad)
    for name, (got, expected) in pairs.items():
        expected = expected.detach().numpy()
        assert got.shape == expected.shape, name
        assert got.dtype == np.float64, name
        scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
        error = float(np.abs(got - expected).max(initial=0.0)) / scale
        assert error <= TOLERANCE, f"{name}: relative error {error:.2e}"
