"""Activation layers: PyTorch equivalence, finite differences, stability, layout, errors."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

from scratchcnn.gradcheck import layer_gradient_errors
from scratchcnn.kernels.activations import sigmoid, softmax
from scratchcnn.kernels.layout import from_batch_last
from scratchcnn.layers import LAYER_REGISTRY, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh

# every test runs on the compiled Numba loops and on the NumPy fallback
pytestmark = pytest.mark.usefixtures("kernel_path")

PAIRS = [
    (ReLU(), torch.nn.ReLU()),
    (LeakyReLU(), torch.nn.LeakyReLU()),
    (LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (LeakyReLU(-1.5), torch.nn.LeakyReLU(-1.5)),
    (Tanh(), torch.nn.Tanh()),
    (Sigmoid(), torch.nn.Sigmoid()),
    (Softmax(), torch.nn.Softmax(dim=-1)),
    (Softmax(dim=1), torch.nn.Softmax(dim=1)),
    (Softmax(dim=0), torch.nn.Softmax(dim=0)),
]


def assert_close(ours, theirs):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.max(np.abs(theirs))))
    assert float(np.max(np.abs(ours - theirs))) <= 1e-10 * scale


SHAPES = [(5, 7), (2, 3, 4, 5), (6,)]
CASES = [
    (layer, torch_layer, shape)
    for layer, torch_layer in PAIRS
    for shape in SHAPES
    if not (isinstance(layer, Softmax) and layer.dim >= len(shape))
]


@pytest.mark.parametrize(
    ("layer", "torch_layer", "shape"), CASES, ids=[f"{c[0]!r}-{c[2]}" for c in CASES]
)
def test_matches_pytorch(rng, layer, torch_layer, shape):
    X = 4 * rng.standard_normal(shape)
    A = layer.forward(X)
    X_t = torch.tensor(X, requires_grad=True)
    A_t = torch_layer(X_t)
    assert_close(A, A_t)
    dA = rng.standard_normal(shape)
    A_t.backward(torch.tensor(dA))
    assert_close(layer.backward(dA), X_t.grad)


@pytest.mark.parametrize(
    "layer", [ReLU(), LeakyReLU(0.1), Tanh(), Sigmoid(), Softmax(), Softmax(dim=0)], ids=repr
)
def test_gradients_match_finite_differences(rng, layer):
    X = rng.standard_normal((4, 5))
    X[np.abs(X) < 1e-3] = 0.5  # keep clear of ReLU's kink
    assert layer_gradient_errors(layer, X)["X"] < 1e-7


@pytest.mark.parametrize(("layer", "torch_layer"), PAIRS[:7], ids=[repr(p[0]) for p in PAIRS[:7]])
def test_extreme_inputs_are_stable_and_match_pytorch(layer, torch_layer):
    X = np.array([[-1e4, -800.0, -50.0, -1.0, 0.0, 1.0, 50.0, 800.0, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A = layer.forward(X)
        dX = layer.backward(np.ones_like(X))
    assert np.isfinite(A).all() and np.isfinite(dX).all()
    X_t = torch.tensor(X, requires_grad=True)
    A_t = torch_layer(X_t)
    A_t.backward(torch.ones_like(A_t))
    assert_close(A, A_t)
    assert_close(dX, X_t.grad)


def test_sigmoid_keeps_tiny_values_accurate():
    np.testing.assert_allclose(sigmoid(np.array([-50.0])), [1.9287498479639178e-22], rtol=1e-14)
    assert sigmoid(np.array([-1000.0], dtype=np.float32))[0] == 0.0


def test_softmax_rows_sum_to_one_for_huge_logits():
    A = softmax(np.array([[1e308, 0.0, -1e308], [3.0, 3.0, 3.0]]), axis=1)
    np.testing.assert_allclose(A, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)


def test_relu_gradient_at_zero_is_zero_like_pytorch():
    layer = ReLU()
    layer.forward(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(layer.backward(np.ones(3)), [0.0, 0.0, 1.0])


@pytest.mark.parametrize(
    "layer", [ReLU(), LeakyReLU(0.3), Tanh(), Sigmoid(), Softmax(dim=1)], ids=repr
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_batch_last_layout_are_kept(rng, layer, dtype):
    X = from_batch_last(rng.standard_normal((3, 4, 5, 2)).astype(dtype))  # (N, C, H, W) view
    A = layer.forward(X)
    dX = layer.backward(from_batch_last(np.ones((3, 4, 5, 2), dtype=dtype)))
    for array in (A, dX):
        assert array.dtype == dtype
        assert array.transpose(1, 2, 3, 0).flags.c_contiguous  # still batch-last in memory


@pytest.mark.parametrize(
    ("layer", "text"),
    [
        (ReLU(), "ReLU()"),
        (LeakyReLU(0.2), "LeakyReLU(negative_slope=0.2)"),
        (Softmax(dim=1), "Softmax(dim=1)"),
    ],
)
def test_repr_and_config(layer, text):
    assert repr(layer) == text
    config = json.loads(json.dumps(layer.get_config()))
    assert repr(LAYER_REGISTRY[type(layer).__name__](**config)) == text


def test_output_shape_is_the_input_shape():
    assert Tanh().output_shape((3, 8, 8)) == (3, 8, 8)
    assert Softmax(dim=1).output_shape((10,)) == (10,)


def test_softmax_dim_out_of_range():
    with pytest.raises(
        ValueError,
        match=r"Softmax\(dim=2\): dimension out of range \(expected "
        r"to be in range of \[-2, 1\] for 2D input, but got 2\)",
    ):
        Softmax(dim=2).forward(np.ones((3, 4)))


def test_softmax_output_shape_checks_dim():
    with pytest.raises(ValueError, match=r"Softmax\(dim=3\): dimension out of range"):
        Softmax(dim=3).output_shape((10,))


def test_softmax_dim_type():
    with pytest.raises(TypeError, match=r"Softmax: dim must be an int, but got None"):
        Softmax(dim=None)


def test_leaky_relu_slope_type():
    with pytest.raises(
        TypeError,
        match=r"LeakyReLU: negative_slope must be a number, but got "
        r"'0.1'",
    ):
        LeakyReLU("0.1")


@pytest.mark.parametrize("layer", [ReLU(), Sigmoid(), Softmax()], ids=repr)
def test_backward_with_wrong_gradient_shape(layer):
    layer.forward(np.ones((2, 3)))
    with pytest.raises(
        ValueError,
        match=r"\): backward expected a gradient dA of shape \(2, 3\) "
        r"\(the shape of the forward output\), but got \(3, 2\)",
    ):
        layer.backward(np.ones((3, 2)))


@pytest.mark.parametrize("layer", [ReLU(), LeakyReLU(), Tanh(), Sigmoid(), Softmax()], ids=repr)
def test_backward_before_forward(layer):
    with pytest.raises(ValueError, match=r"\): backward\(\) called before forward\(\)"):
        layer.backward(np.ones(3))


def test_non_numeric_input():
    with pytest.raises(
        TypeError,
        match=r"ReLU\(\): expected input to be an array of numbers, "
        r"but got an array of dtype <U1",
    ):
        ReLU().forward(np.array(["a"]))


def test_relu_backward_may_overwrite_dA_when_a_model_allows(
    rng: np.random.Generator, kernel_path: str
) -> None:
    X = rng.standard_normal((3, 4, 5, 6))
    dA = rng.standard_normal(X.shape)
    reference = ReLU()
    reference.forward(X)
    expected = reference.backward(dA.copy())
    layer = ReLU()
    layer.overwrite_dA = True
    layer.forward(X)
    scratch = dA.copy()
    dX = layer.backward(scratch)
    np.testing.assert_array_equal(dX, expected)
    assert np.shares_memory(dX, scratch)
    untouched = dA.copy()
    ReLU().forward(X)
    reference.backward(untouched)  # without the flag dA is left alone
    np.testing.assert_array_equal(untouched, dA)
