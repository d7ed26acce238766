"""Dense: PyTorch's Linear (weight = W.T), finite differences, init, dtypes, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import scratchcnn.random
from scratchcnn.gradcheck import layer_gradient_errors
from scratchcnn.initializers import HeInitializer
from scratchcnn.layers import LAYER_REGISTRY, Dense, Flatten


def assert_close(ours, theirs):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.max(np.abs(theirs))))
    assert float(np.max(np.abs(ours - theirs))) <= 1e-10 * scale


def torch_linear(layer):
    linear = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(layer.W.T))
        linear.bias.copy_(torch.tensor(layer.b))
    return linear


@pytest.mark.parametrize(
    ("batch", "in_features", "out_features"), [(5, 7, 3), (1, 4, 9), (None, 6, 2)]
)
def test_matches_pytorch_linear(rng, batch, in_features, out_features):
    layer = Dense(in_features, out_features)
    X = rng.standard_normal((in_features,) if batch is None else (batch, in_features))
    A = layer.forward(X)
    linear = torch_linear(layer)
    X_t = torch.tensor(X, requires_grad=True)
    A_t = linear(X_t)
    assert_close(A, A_t)
    dA = rng.standard_normal(A.shape)
    A_t.backward(torch.tensor(dA))
    assert_close(layer.backward(dA), X_t.grad)
    assert_close(layer.dW, linear.weight.grad.T)
    assert_close(layer.db, linear.bias.grad)


def test_gradients_match_finite_differences(rng):
    errors = layer_gradient_errors(Dense(5, 3), rng.standard_normal((4, 5)))
    assert max(errors.values()) < 1e-8


def test_default_init_is_pytorch_uniform_from_the_default_generator(monkeypatch):
    # what scratchcnn.manual_seed(3) does, undone after the test
    monkeypatch.setattr(scratchcnn.random, "_generator", np.random.default_rng(3))
    first = Dense(16, 300)
    monkeypatch.setattr(scratchcnn.random, "_generator", np.random.default_rng(3))
    second = Dense(16, 300)
    np.testing.assert_array_equal(first.W, second.W)
    assert first.W.dtype == first.b.dtype == np.float32
    assert first.W.shape == (16, 300) and first.b.shape == (300,)
    assert np.abs(first.W).max() <= 0.25 and np.abs(first.b).max() <= 0.25
    assert np.abs(first.W).max() > 0.24  # spread over the whole range ±1/sqrt(16)


def test_custom_initializer_is_used():
    class Constant:
        def W(self, *shape):
            return np.full(shape, 0.5, dtype=np.float32)

        def B(self, n):
            return np.full(n, -1.0, dtype=np.float32)

    layer = Dense(2, 3, initializer=Constant())
    np.testing.assert_array_equal(layer.forward(np.ones((1, 2))), [[0.0, 0.0, 0.0]])


def test_optimizer_is_applied_at_the_end_of_backward(rng):
    class HalfStep:
        def update(self, layer):
            for name, param in layer.params().items():
                param -= 0.5 * layer.grads()[name]
            return layer

    layer = Dense(3, 2, optimizer=HalfStep())
    X = rng.standard_normal((4, 3))
    W_before = layer.W.copy()
    layer.forward(X)
    dA = rng.standard_normal((4, 2))
    dX = layer.backward(dA)
    np.testing.assert_allclose(dX, dA @ W_before.T.astype(np.float64), rtol=1e-12)
    np.testing.assert_allclose(layer.W, W_before - 0.5 * X.T @ dA, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_and_parameters_follow_it(rng, dtype):
    layer = Dense(4, 3)
    A = layer.forward(rng.standard_normal((2, 4)).astype(dtype))
    dX = layer.backward(np.ones_like(A))
    assert A.dtype == dX.dtype == layer.W.dtype == layer.dW.dtype == layer.db.dtype == dtype


def test_batch_last_flatten_output_needs_no_copy(rng):
    memory = rng.standard_normal((3, 2, 2, 5))  # (C, H, W, N), as a convolution leaves it
    X = memory.transpose(3, 0, 1, 2)
    flat = Flatten().forward(X)
    assert np.shares_memory(flat, memory)
    layer = Dense(12, 4)
    np.testing.assert_allclose(layer.forward(flat), X.reshape(5, 12) @ layer.W + layer.b)


def test_compute_input_grad_false_skips_dX(rng):
    layer = Dense(3, 2)
    layer.compute_input_grad = False
    layer.forward(rng.standard_normal((4, 3)))
    assert layer.backward(np.ones((4, 2))) is None
    assert layer.dW is not None


def test_repr_config_and_output_shape():
    layer = Dense(784, 10)
    assert repr(layer) == "Dense(in_features=784, out_features=10)"
    config = json.loads(json.dumps(layer.get_config()))
    assert repr(LAYER_REGISTRY["Dense"](**config)) == repr(layer)
    assert layer.output_shape((784,)) == (10,)
    assert layer.num_params() == 7850


def test_wrong_rank():
    with pytest.raises(
        ValueError,
        match=r"Dense\(in_features=4, out_features=2\): expected 1D "
        r"\(unbatched\) or 2D \(batched\) input, but got input of shape \(2, 2, 4\)",
    ):
        Dense(4, 2).forward(np.ones((2, 2, 4)))


def test_wrong_in_features():
    with pytest.raises(
        ValueError,
        match=r"Dense\(in_features=4, out_features=2\): expected input "
        r"with 4 features in its last axis, but got per-sample input shape \(5,\)",
    ):
        Dense(4, 2).forward(np.ones((3, 5)))


def test_output_shape_wrong_in_features():
    with pytest.raises(
        ValueError,
        match=r"Dense\(in_features=4, out_features=2\): expected input "
        r"with 4 features",
    ):
        Dense(4, 2).output_shape((3, 4))


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((0, 3), ValueError, r"Dense: in_features must be positive, but got in_features=0"),
        ((3, -1), ValueError, r"Dense: out_features must be positive, but got out_features=-1"),
        ((2.0, 3), TypeError, r"Dense: in_features must be a positive int, but got 2.0"),
    ],
)
def test_bad_sizes(args, error, message):
    with pytest.raises(error, match=message):
        Dense(*args)


def test_initializer_with_wrong_shapes():
    class Wrong:
        def W(self, *shape):
            return np.zeros(shape[::-1], dtype=np.float32)

        def B(self, n):
            return np.zeros(n, dtype=np.float32)

    with pytest.raises(
        ValueError,
        match=r"Dense\(in_features=2, out_features=3\): the "
        r"initializer must give W of shape \(2, 3\) and b of shape \(3,\), but "
        r"gave \(3, 2\) and \(3,\)",
    ):
        Dense(2, 3, initializer=Wrong())


def test_backward_with_wrong_gradient_shape():
    layer = Dense(4, 2)
    layer.forward(np.ones((3, 4)))
    with pytest.raises(
        ValueError,
        match=r"Dense\(in_features=4, out_features=2\): backward "
        r"expected a gradient dA of shape \(3, 2\)",
    ):
        layer.backward(np.ones((3, 4)))


def test_backward_before_forward():
    with pytest.raises(
        ValueError,
        match=r"Dense\(in_features=4, out_features=2\): backward\(\) "
        r"called before forward\(\)",
    ):
        Dense(4, 2).backward(np.ones((3, 2)))


# -- bias=False, torch's third positional argument (issue 8) ------------------------------------
@pytest.mark.parametrize("batched", [True, False])
def test_positional_bias_false_matches_torch_linear(rng, batched):
    layer = Dense(10, 8, False)
    assert layer.b is None and layer.params().keys() == {"W"} and layer.num_params() == 80
    module = torch.nn.Linear(10, 8, False, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(torch.tensor(layer.W.T.astype(np.float64)))
    X = rng.standard_normal((5, 10) if batched else (10,))
    A = layer.forward(X)
    X_t = torch.tensor(X, requires_grad=True)
    A_t = module(X_t)
    np.testing.assert_allclose(A, A_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    dA = rng.standard_normal(A.shape)
    A_t.backward(torch.tensor(dA))
    np.testing.assert_allclose(layer.backward(dA), X_t.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.dW, module.weight.grad.numpy().T, rtol=1e-12, atol=1e-12)
    assert layer.grads() == {"W": layer.dW}


def test_bias_false_repr_config_and_gradcheck(rng):
    layer = Dense(4, 3, bias=False)
    assert repr(layer) == "Dense(in_features=4, out_features=3, bias=False)"
    assert Dense(**layer.get_config()).params().keys() == {"W"}
    assert max(layer_gradient_errors(layer, rng.standard_normal((2, 4))).values()) < 1e-8


def test_bias_must_be_a_bool():
    with pytest.raises(TypeError, match=r"^Dense: bias must be True or False, but got 'no'$"):
        Dense(4, 3, "no")


def test_initializer_passed_in_bias_position_gets_a_hint():
    with pytest.raises(TypeError, match=r"Dense: bias must be True or False, but got "
                       r"HeInitializer\(\); pass an initializer by keyword \(initializer=...\)"):
        Dense(4, 3, HeInitializer())


def test_initializer_class_instead_of_instance():
    with pytest.raises(TypeError, match=r"Dense: initializer must be an initializer object, but "
                       r"got the class HeInitializer; pass an instance such as HeInitializer\(\)"):
        Dense(4, 3, initializer=HeInitializer)


@pytest.mark.parametrize("bad", ["he", 0.01, object()])
def test_wrong_typed_initializer_names_the_argument(bad):
    with pytest.raises(TypeError, match=r"Dense: initializer must be None or an object with W\(\) "
                       r"and B\(\) methods \(such as scratchcnn.initializers.HeInitializer\(\)\), "
                       r"but got"):
        Dense(4, 3, initializer=bad)


@pytest.mark.parametrize("batch_last", [False, True])
def test_input_gradient_comes_back_in_the_inputs_memory_order(rng, batch_last):
    """A batch-last input (a Flatten after a convolution) gets a batch-last dX: the layer
    before takes it without a transposing copy. Values match PyTorch either way."""
    layer = Dense(12, 5)
    X = rng.standard_normal((12, 7)).T if batch_last else rng.standard_normal((7, 12))
    assert X.T.flags.c_contiguous == batch_last
    linear = torch_linear(layer)
    X_t = torch.tensor(np.ascontiguousarray(X), requires_grad=True)
    dA = rng.standard_normal((7, 5))
    layer.forward(X)
    linear(X_t).backward(torch.tensor(dA))
    dX = layer.backward(dA)
    assert dX.shape == (7, 12) and dX.T.flags.c_contiguous == batch_last
    assert_close(dX, X_t.grad)
    assert_close(layer.dW, linear.weight.grad.T)
