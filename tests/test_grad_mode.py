"""no_grad(): forward passes that keep nothing for backward, with unchanged results."""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn import is_grad_enabled, no_grad
from scratchcnn.layers import Conv1d, Conv2d
from scratchcnn.zoo import lenet5


def test_no_grad_is_nestable_and_restores() -> None:
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_restores_after_an_error() -> None:
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("boom")
    assert is_grad_enabled()


@pytest.mark.parametrize(
    "layer, shape",
    [
        (Conv2d(3, 5, 3, padding=1, padding_mode="reflect"), (4, 3, 9, 8)),
        (Conv2d(4, 4, (2, 3), stride=2, groups=2), (2, 4, 11, 7)),
        (Conv1d(2, 3, 5, dilation=2, padding="same"), (3, 2, 17)),
        (Conv2d(2, 3, 3), (2, 6, 6)),  # unbatched
    ],
)
def test_conv_forward_is_the_same_without_grad(layer, shape, rng: np.random.Generator) -> None:
    X = rng.standard_normal(shape)
    expected = np.array(layer.forward(X))
    with no_grad():
        got = layer.forward(X)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"Conv.*backward\(\) called before forward\(\).*no_grad"):
        layer.backward(np.ones_like(expected))


def test_predict_uses_no_grad_and_matches_forward(rng: np.random.Generator) -> None:
    model = lenet5(seed=0)
    X = rng.random((5, 1, 28, 28)).astype(np.float32)
    model.eval()
    logits = np.array(model.forward(X))
    proba = model.predict_proba(X, batch_size=2)
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    assert is_grad_enabled()


def test_model_outputs_are_never_reused_buffers(rng: np.random.Generator) -> None:
    model = lenet5(seed=0)
    assert all(flags["reuse_output"] for flags in model.layer_flags[:-1])
    assert not model.layer_flags[-1]["reuse_output"]
    X1, X2 = rng.random((2, 4, 1, 28, 28)).astype(np.float32)
    for grad in (True, False):
        if grad:
            first, second = model.forward(X1), model.forward(X2)
        else:
            with no_grad():
                first, second = model.forward(X1), model.forward(X2)
        kept = first.copy()
        model.forward(X2)
        np.testing.assert_array_equal(first, kept)
        assert not np.shares_memory(first, second)


def test_reused_conv_output_gives_the_same_values(rng: np.random.Generator) -> None:
    fresh, reusing = Conv2d(2, 3, 3, padding=1), Conv2d(2, 3, 3, padding=1)
    reusing.W[...], reusing.b[...] = fresh.W, fresh.b
    reusing.reuse_output = True
    for _ in range(2):
        X = rng.standard_normal((3, 2, 6, 6)).astype(np.float32)
        np.testing.assert_array_equal(reusing.forward(X), fresh.forward(X))
        with no_grad():
            np.testing.assert_array_equal(reusing.forward(X), fresh.forward(X))


def test_a_model_ending_in_a_pass_through_layer_returns_its_own_array(
    rng: np.random.Generator,
) -> None:
    import contextlib

    from scratchcnn.layers import Flatten, MaxPool2d, ReLU
    from scratchcnn.model import Sequential

    X1, X2 = rng.random((2, 3, 1, 6, 6)).astype(np.float32)
    pooled = [Conv2d(1, 2, 3), ReLU(inplace=True), MaxPool2d(2), Flatten()]
    convolved = [Conv2d(1, 2, 3), Conv2d(2, 2, 3), ReLU(inplace=True)]  # ends on a reused buffer
    for layers in (pooled, convolved):
        model = Sequential(layers, loss="mse")
        for context in (no_grad, contextlib.nullcontext):
            with context():
                first = model.forward(X1)
                kept = first.copy()
                model.forward(X2)
            np.testing.assert_array_equal(first, kept)
