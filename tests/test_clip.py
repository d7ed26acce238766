"""clip_grad_norm equals torch.nn.utils.clip_grad_norm_: the total norm and the clipped grads."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scratchcnn.clip import clip_grad_norm
from scratchcnn.layers import Conv2d, Dense, Flatten, ReLU
from scratchcnn.model import Sequential

torch = pytest.importorskip("torch")


def _model_with_grads(rng: np.random.Generator, scale: float) -> Sequential:
    model = Sequential(
        [Conv2d(2, 3, 3), ReLU(), Flatten(), Dense(3 * 4 * 4, 5)], dtype=np.float64
    )
    for layer in model.layers:
        for name, param in layer.params().items():
            setattr(layer, "d" + name, rng.standard_normal(param.shape) * scale)
    return model


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, math.inf, "inf"])
@pytest.mark.parametrize(("scale", "max_norm"), [(1.0, 1.0), (0.01, 5.0), (3.0, 0.25)])
def test_equals_torch(
    rng: np.random.Generator, norm_type: float | str, scale: float, max_norm: float
) -> None:
    model = _model_with_grads(rng, scale)
    grads = [g for layer in model.layers for g in layer.grads().values()]
    tensors = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for tensor, grad in zip(tensors, grads, strict=True):
        tensor.grad = torch.from_numpy(grad.copy())
    p = math.inf if norm_type == "inf" else norm_type
    expected = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type=p)

    total = clip_grad_norm(model, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    assert total == pytest.approx(float(expected), rel=1e-12)
    for tensor, grad in zip(tensors, grads, strict=True):
        np.testing.assert_allclose(grad, tensor.grad.numpy(), rtol=1e-12, atol=0)


def test_accepts_a_layer_or_a_list_and_keeps_float32(rng: np.random.Generator) -> None:
    dense = Dense(4, 3)
    dense.dW = rng.standard_normal((4, 3)).astype(np.float32) * 10
    dense.db = rng.standard_normal(3).astype(np.float32)
    before = math.sqrt(float((dense.dW.astype(np.float64) ** 2).sum() + (dense.db**2).sum()))
    assert clip_grad_norm([dense], 1.0) == pytest.approx(before, rel=1e-6)
    assert dense.dW.dtype == np.float32
    after = math.sqrt(float((dense.dW.astype(np.float64) ** 2).sum() + (dense.db**2).sum()))
    assert after == pytest.approx(1.0, rel=1e-5)
    assert clip_grad_norm(dense, 10.0) == pytest.approx(after, rel=1e-6)  # no change below


def test_no_gradients_yet_is_zero() -> None:
    assert clip_grad_norm(Dense(3, 2), 1.0) == 0.0


def test_nonfinite_norm_error() -> None:
    dense = Dense(2, 2)
    dense.dW = np.array([[np.inf, 0.0], [0.0, 1.0]])
    dense.db = np.zeros(2)
    with pytest.raises(ValueError, match=r"clip_grad_norm: the total norm of order 2\.0 .* is inf"):
        clip_grad_norm(dense, 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("model", 1.0), TypeError, "clip_grad_norm: expected a model, a layer or a list"),
        (([Dense(2, 2), 3], 1.0), TypeError, "but item 1 is int"),
        (([], "1"), TypeError, "max_norm must be a number, but got '1'"),
        (([], -1.0), ValueError, "max_norm must be non-negative, but got -1.0"),
        (([], 1.0, 0), ValueError, "norm_type must be positive or inf, but got 0"),
        (([], 1.0, "fro"), TypeError, "norm_type must be a positive number or 'inf'"),
    ],
)
def test_bad_arguments(args: tuple, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        clip_grad_norm(*args)


def test_nested_layers_of_a_resnet_are_clipped(rng: np.random.Generator) -> None:
    from scratchcnn.zoo import resnet20

    model = resnet20(input_shape=(1, 8, 8), num_classes=3)
    model.train()
    out = model.forward(rng.standard_normal((2, 1, 8, 8)).astype(np.float32))
    model.backward(rng.standard_normal(out.shape).astype(np.float32))
    grads = [g for g in model.grads().values() if g is not None]
    expected = math.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads))
    assert clip_grad_norm(model, 0.5) == pytest.approx(expected, rel=1e-6)
    after = math.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads))
    assert after == pytest.approx(0.5, rel=1e-5)
