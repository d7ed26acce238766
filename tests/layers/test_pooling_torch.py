"""Pooling layers against PyTorch in float64 over many seeded random configurations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchcnn.layers import AvgPool1d, AvgPool2d, GlobalAvgPool2d, MaxPool1d, MaxPool2d

# every test runs on the compiled Numba loops and on the NumPy fallback
pytestmark = pytest.mark.usefixtures("kernel_path")

OURS = {
    ("max", 1): (MaxPool1d, torch.nn.MaxPool1d),
    ("max", 2): (MaxPool2d, torch.nn.MaxPool2d),
    ("avg", 1): (AvgPool1d, torch.nn.AvgPool1d),
    ("avg", 2): (AvgPool2d, torch.nn.AvgPool2d),
}


def assert_close(ours, theirs):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
    assert float(np.max(np.abs(ours - theirs), initial=0.0)) <= 1e-10 * scale


def random_config(rng, spatial_dims):
    kernel = tuple(int(k) for k in rng.integers(1, 8, spatial_dims))
    stride = tuple(int(s) for s in rng.integers(1, 4, spatial_dims))
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    # any size whose padded length holds one window; odd sizes come up often
    spatial = tuple(
        int(rng.integers(max(1, k - 2 * p), k + 9)) for k, p in zip(kernel, padding, strict=True)
    )
    return kernel, stride, padding, spatial


def compare(layer, torch_layer, X):
    A = layer.forward(X)
    X_t = torch.tensor(X, requires_grad=True)
    A_t = torch_layer(X_t)
    assert_close(A, A_t)
    dA = np.random.default_rng(A.size).standard_normal(A.shape)
    A_t.backward(torch.tensor(dA))
    assert_close(layer.backward(dA), X_t.grad)


@pytest.mark.parametrize("spatial_dims", [1, 2])
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", range(40))
def test_matches_pytorch_on_random_configurations(rng, kind, spatial_dims, case):
    kernel, stride, padding, spatial = random_config(rng, spatial_dims)
    ceil_mode = bool(case % 2)
    options = {"ceil_mode": ceil_mode}
    if kind == "avg":
        options["count_include_pad"] = bool(case % 4 < 2)
    ours, theirs = OURS[kind, spatial_dims]
    layer = ours(kernel, stride, padding, **options)
    torch_layer = theirs(kernel, stride, padding, **options)
    batch = (int(rng.integers(1, 4)),) if case % 5 else ()  # every fifth case unbatched
    shape = (*batch, int(rng.integers(1, 4)), *spatial)
    if kind == "max" and case % 3 == 0:
        X = rng.integers(0, 3, shape).astype(np.float64)  # many ties
    else:
        X = rng.standard_normal(shape)
    compare(layer, torch_layer, X)


@pytest.mark.parametrize("spatial_dims", [1, 2])
def test_max_pool_ties_route_the_gradient_like_pytorch(rng, spatial_dims):
    shape = (2, 3, 9) if spatial_dims == 1 else (2, 3, 9, 8)
    X = rng.integers(0, 2, shape).astype(np.float64)  # ties in almost every window
    ours, theirs = OURS["max", spatial_dims]
    for kernel, stride, padding in [(2, 2, 0), (3, 1, 1), (3, 2, 1), (4, 3, 2)]:
        compare(ours(kernel, stride, padding), theirs(kernel, stride, padding), X)


def test_max_pool_of_relu_zeros_like_pytorch(rng):
    X = np.maximum(rng.standard_normal((4, 3, 10, 10)), 0.0)  # zero plateaus, as after ReLU
    compare(MaxPool2d(2), torch.nn.MaxPool2d(2), X)
    compare(MaxPool2d(3, 2, 1, True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True), X)


@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_ceil_windows_over_the_padded_edge(rng, count_include_pad):
    X = rng.standard_normal((2, 2, 6, 7))
    for kernel, stride, padding in [(3, 2, 1), (4, 3, 1), (2, 3, 1), (5, 2, 2)]:
        options = {"ceil_mode": True, "count_include_pad": count_include_pad}
        compare(
            AvgPool2d(kernel, stride, padding, **options),
            torch.nn.AvgPool2d(kernel, stride, padding, **options),
            X,
        )


def test_float32_close_to_pytorch(rng):
    X = rng.standard_normal((3, 4, 11, 11)).astype(np.float32)
    for ours, theirs in [
        (MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
        (AvgPool2d(3, 2, 1, True, False), torch.nn.AvgPool2d(3, 2, 1, True, False)),
    ]:
        A = ours.forward(X)
        assert A.dtype == np.float32
        np.testing.assert_allclose(A, theirs(torch.from_numpy(X)).numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (1, 4, 1, 1), (3, 6, 4), (128, 9, 30, 31)])
def test_global_avg_pool_matches_adaptive_avg_pool_then_flatten(rng, shape):
    X = rng.standard_normal(shape)
    layer = GlobalAvgPool2d()
    A = layer.forward(X)
    X_t = torch.tensor(X, requires_grad=True)
    pooled = torch.nn.functional.adaptive_avg_pool2d(X_t, 1)
    A_t = pooled.flatten(1) if len(shape) == 4 else pooled.flatten()
    assert_close(A, A_t)
    dA = rng.standard_normal(A.shape)
    A_t.backward(torch.tensor(dA))
    assert_close(layer.backward(dA), X_t.grad)
