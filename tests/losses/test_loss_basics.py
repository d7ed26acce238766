"""Losses against torch.nn.functional in float64, finite differences, stability and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional

from scratchcnn.gradcheck import numerical_gradient
from scratchcnn.losses import MSE, SoftmaxCrossEntropy, make_loss


def _torch_value_and_grad(fn, logits: np.ndarray, target: torch.Tensor) -> tuple[float, np.ndarray]:
    x = torch.tensor(logits, requires_grad=True)
    loss = fn(x, target)
    loss.backward()
    return loss.item(), x.grad.numpy()


# -- SoftmaxCrossEntropy vs torch ------------------------------------------------------------
@pytest.mark.parametrize(("N", "K"), [(1, 2), (8, 10), (33, 3)])
def test_cross_entropy_integer_labels_match_torch(rng: np.random.Generator, N: int, K: int) -> None:
    logits = rng.standard_normal((N, K)) * 3
    labels = rng.integers(0, K, size=N)
    expected, expected_grad = _torch_value_and_grad(
        functional.cross_entropy, logits, torch.tensor(labels)
    )
    loss = SoftmaxCrossEntropy()
    np.testing.assert_allclose(loss.forward(logits, labels), expected, rtol=1e-12)
    np.testing.assert_allclose(loss.backward(), expected_grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(loss.probs, torch.softmax(torch.tensor(logits), 1).numpy())


def test_cross_entropy_probability_rows_match_torch(rng: np.random.Generator) -> None:
    logits = rng.standard_normal((6, 4))
    rows = rng.random((6, 4))
    rows /= rows.sum(axis=1, keepdims=True)
    expected, expected_grad = _torch_value_and_grad(
        functional.cross_entropy, logits, torch.tensor(rows)
    )
    loss = SoftmaxCrossEntropy()
    np.testing.assert_allclose(loss.forward(logits, rows), expected, rtol=1e-12)
    np.testing.assert_allclose(loss.backward(), expected_grad, rtol=1e-12, atol=1e-15)


def test_cross_entropy_unnormalized_rows_match_torch(rng: np.random.Generator) -> None:
    # torch computes -sum(t * log_softmax) for any rows; its gradient is softmax*sum(t) - t
    logits = rng.standard_normal((5, 3))
    rows = rng.random((5, 3)) * 2
    expected, expected_grad = _torch_value_and_grad(
        functional.cross_entropy, logits, torch.tensor(rows)
    )
    loss = SoftmaxCrossEntropy()
    np.testing.assert_allclose(loss.forward(logits, rows), expected, rtol=1e-12)
    np.testing.assert_allclose(loss.backward(), expected_grad, rtol=1e-12, atol=1e-15)


def test_one_hot_and_integer_labels_agree(rng: np.random.Generator) -> None:
    logits = rng.standard_normal((7, 5))
    labels = rng.integers(0, 5, size=7)
    one_hot = np.eye(5)[labels]
    a, b = SoftmaxCrossEntropy(), SoftmaxCrossEntropy()
    np.testing.assert_allclose(a.forward(logits, labels), b.forward(logits, one_hot), rtol=1e-14)
    np.testing.assert_allclose(a.backward(), b.backward(), atol=1e-16)


def test_cross_entropy_gradient_by_finite_differences(rng: np.random.Generator) -> None:
    logits = rng.standard_normal((4, 6))
    labels = rng.integers(0, 6, size=4)
    loss = SoftmaxCrossEntropy()
    loss.forward(logits, labels)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: SoftmaxCrossEntropy().forward(logits, labels), logits)
    np.testing.assert_allclose(analytic, numeric, atol=1e-9)


def test_cross_entropy_huge_logits_do_not_overflow() -> None:
    # warnings are errors in this project: an overflow in exp would fail the test
    logits = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 1e4]])
    labels = np.array([0, 2])
    loss = SoftmaxCrossEntropy()
    value = loss.forward(logits, labels)
    expected = functional.cross_entropy(torch.tensor(logits), torch.tensor(labels)).item()
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    np.testing.assert_allclose(value, np.log(2) / 2, rtol=1e-12)
    grad = loss.backward()
    assert np.all(np.isfinite(grad))
    # confidently wrong predictions cost 2e4 and 2e4 + log 2, not inf
    wrong = SoftmaxCrossEntropy().forward(logits, np.array([2, 0]))
    np.testing.assert_allclose(wrong, 2e4 + np.log(2) / 2, rtol=1e-12)


def test_cross_entropy_float32_stays_float32(rng: np.random.Generator) -> None:
    logits = (rng.standard_normal((5, 3)) * 1e4).astype(np.float32)
    loss = SoftmaxCrossEntropy()
    assert isinstance(loss.forward(logits, np.array([0, 1, 2, 0, 1])), float)
    assert loss.backward().dtype == np.float32
    assert loss.probs.dtype == np.float32
    loss.forward(logits, np.eye(3)[[0, 1, 2, 0, 1]])  # float64 one-hot rows with float32 logits
    assert loss.backward().dtype == np.float32


def test_cross_entropy_accepts_lists_and_callable(rng: np.random.Generator) -> None:
    logits = rng.standard_normal((2, 3))
    assert SoftmaxCrossEntropy()(logits.tolist(), [0, 2]) == pytest.approx(
        SoftmaxCrossEntropy().forward(logits, np.array([0, 2]))
    )


# -- MSE vs torch ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(10,), (8, 3), (2, 3, 4)])
def test_mse_matches_torch(rng: np.random.Generator, shape: tuple[int, ...]) -> None:
    pred = rng.standard_normal(shape)
    target = rng.standard_normal(shape)
    expected, expected_grad = _torch_value_and_grad(
        functional.mse_loss, pred, torch.tensor(target)
    )
    loss = MSE()
    np.testing.assert_allclose(loss.forward(pred, target), expected, rtol=1e-12)
    np.testing.assert_allclose(loss.backward(), expected_grad, rtol=1e-12)


def test_mse_integer_labels_are_one_hot(rng: np.random.Generator) -> None:
    pred = rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, size=6)
    a, b = MSE(), MSE()
    np.testing.assert_allclose(a.forward(pred, labels), b.forward(pred, np.eye(4)[labels]))
    np.testing.assert_allclose(a.backward(), b.backward())


def test_mse_gradient_by_finite_differences(rng: np.random.Generator) -> None:
    pred = rng.standard_normal((3, 4))
    target = rng.standard_normal((3, 4))
    loss = MSE()
    loss.forward(pred, target)
    numeric = numerical_gradient(lambda: MSE().forward(pred, target), pred)
    np.testing.assert_allclose(loss.backward(), numeric, atol=1e-9)


def test_mse_float32_stays_float32(rng: np.random.Generator) -> None:
    pred = rng.standard_normal((4, 2)).astype(np.float32)
    loss = MSE()
    loss.forward(pred, np.ones((4, 2)))
    assert loss.backward().dtype == np.float32


# -- factory -----------------------------------------------------------------------------------
def test_make_loss() -> None:
    assert isinstance(make_loss("cross_entropy"), SoftmaxCrossEntropy)
    assert isinstance(make_loss("Softmax_Cross_Entropy"), SoftmaxCrossEntropy)
    assert isinstance(make_loss("MSE"), MSE)


def test_make_loss_unknown_name() -> None:
    with pytest.raises(ValueError, match="make_loss: unknown loss 'hinge'; expected one of "
                       "'cross_entropy', 'softmax_cross_entropy', 'mse'"):
        make_loss("hinge")


def test_make_loss_name_type() -> None:
    with pytest.raises(TypeError, match="make_loss: name must be a str"):
        make_loss(None)


# -- errors ------------------------------------------------------------------------------------
def test_backward_before_forward() -> None:
    with pytest.raises(ValueError, match=r"SoftmaxCrossEntropy\(\): backward\(\) called before"):
        SoftmaxCrossEntropy().backward()
    with pytest.raises(ValueError, match=r"MSE\(\): backward\(\) called before forward\(\)"):
        MSE().backward()


def test_logits_rank() -> None:
    with pytest.raises(ValueError, match=r"SoftmaxCrossEntropy\(\): expected logits of shape "
                       r"\(K,\), \(N, K\) or \(N, K, d1, ...\), but got logits of shape \(\)"):
        SoftmaxCrossEntropy().forward(np.zeros(()), np.zeros((), dtype=int))


def test_empty_batch() -> None:
    with pytest.raises(ValueError, match="expected a non-empty batch"):
        SoftmaxCrossEntropy().forward(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_labels_rank() -> None:
    with pytest.raises(ValueError, match=r"expected labels of shape \(2,\) \(class indices\) or "
                       r"\(2, 3\) \(one-hot or probabilities\) for logits of shape \(2, 3\), but "
                       r"got labels of shape \(2, 3, 1\)"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.zeros((2, 3, 1)))


def test_label_count_mismatch() -> None:
    with pytest.raises(ValueError, match=r"SoftmaxCrossEntropy\(\): expected labels of shape "
                       r"\(2,\) \(class indices\) or \(2, 3\) \(one-hot or probabilities\) for "
                       r"logits of shape \(2, 3\), but got labels of shape \(3,\)"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([0, 1, 2]))


@pytest.mark.parametrize("bad", [3, -1])
def test_label_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError, match=rf"class labels must be in \[0, 3\) for 3 classes, but "
                       rf"got {bad}"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([0, bad]))


def test_float_class_labels() -> None:
    with pytest.raises(TypeError, match=r"class labels of shape \(N,\) must be integers, but got "
                       r"dtype float64"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([0.0, 1.0]))


def test_one_hot_shape_mismatch() -> None:
    with pytest.raises(ValueError, match=r"one-hot or probability labels must have the logits' "
                       r"shape \(2, 3\), but got labels of shape \(2, 4\)"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.zeros((2, 4)))


@pytest.mark.parametrize(("value", "word"), [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_logits(value: float, word: str) -> None:
    logits = np.zeros((2, 3))
    logits[1, 2] = value
    with pytest.raises(ValueError, match=rf"SoftmaxCrossEntropy\(\): logits contains {word}"):
        SoftmaxCrossEntropy().forward(logits, np.array([0, 1]))


def test_non_finite_label_rows() -> None:
    rows = np.eye(3)[[0, 1]]
    rows[0, 1] = np.nan
    with pytest.raises(ValueError, match=r"SoftmaxCrossEntropy\(\): labels contains NaN"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), rows)


def test_non_numeric_labels() -> None:
    with pytest.raises(TypeError, match=r"SoftmaxCrossEntropy\(\): expected labels to be an "
                       r"array of numbers"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([["a", "b", "c"]] * 2))


def test_mse_shape_mismatch() -> None:
    with pytest.raises(ValueError, match=r"MSE\(\): expected targets of the predictions' shape "
                       r"\(4, 1\), but got targets of shape \(4,\)"):
        MSE().forward(np.zeros((4, 1)), np.zeros(4))


def test_mse_nan() -> None:
    with pytest.raises(ValueError, match=r"MSE\(\): targets contains NaN"):
        MSE().forward(np.zeros(3), np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match=r"MSE\(\): predictions contains infinity"):
        MSE().forward(np.array([0.0, np.inf]), np.zeros(2))


def test_mse_empty_prediction() -> None:
    with pytest.raises(ValueError, match=r"MSE\(\): expected non-empty predictions, but got "
                       r"predictions of shape \(0, 3\)"):
        MSE().forward(np.zeros((0, 3)), np.zeros((0, 3)))


def test_mse_label_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"MSE\(\): class labels must be in \[0, 3\)"):
        MSE().forward(np.zeros((2, 3)), np.array([0, 5]))
