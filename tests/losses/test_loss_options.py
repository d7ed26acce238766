"""Reductions, label smoothing, class weights, ignore_index and (N, K, d1, ...) logits,
in every combination, against torch.nn.CrossEntropyLoss / MSELoss in float64 (loss and gradient).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from scratchcnn.gradcheck import numerical_gradient
from scratchcnn.losses import MSE, SoftmaxCrossEntropy, make_loss

SHAPES = [(6, 4), (5,), (3, 4, 5), (2, 3, 4, 2), (2, 3, 3, 2, 2, 2)]  # torch's module inputs


def assert_close(ours, theirs):
    theirs = np.asarray(theirs)
    ours = np.asarray(ours)
    assert ours.shape == theirs.shape
    if np.isnan(theirs).any():
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        return
    scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
    assert float(np.max(np.abs(ours - theirs), initial=0.0)) <= 1e-10 * scale


def class_targets(rng, shape, ignore_index):
    K = shape[0] if len(shape) == 1 else shape[1]
    index_shape = shape[1:] if len(shape) == 1 else (shape[0], *shape[2:])
    y = rng.integers(0, K, size=index_shape)
    if ignore_index == 1:  # a real class, ignored
        y.reshape(-1)[:2] = 1
    elif ignore_index == -7:  # a marker outside the classes
        y.reshape(-1)[1:3] = -7
    return y


def probability_targets(rng, shape):
    axis = 0 if len(shape) == 1 else 1
    t = rng.random(shape)
    return t / t.sum(axis=axis, keepdims=True)


def compare(loss, module, logits, target, rng):
    value = loss.forward(logits, target)
    x = torch.tensor(logits, requires_grad=True)
    expected = module(x, torch.tensor(target))
    assert_close(value, expected.detach().numpy())
    if loss.reduction == "none":
        dloss = rng.standard_normal(expected.shape)
        expected.backward(torch.tensor(dloss))
        grad = loss.backward(dloss)
    else:
        assert isinstance(value, float)
        expected.backward()
        grad = loss.backward()
    assert_close(grad, x.grad.numpy())


@pytest.mark.parametrize("ignore_index", [-100, 1, -7])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_class_indices_match_torch(rng, shape, reduction, label_smoothing, weighted,
                                   ignore_index):
    K = shape[0] if len(shape) == 1 else shape[1]
    weight = rng.uniform(0.2, 3.0, K) if weighted else None
    loss = SoftmaxCrossEntropy(reduction, label_smoothing, weight, ignore_index)
    module = torch.nn.CrossEntropyLoss(
        weight=None if weight is None else torch.tensor(weight), ignore_index=ignore_index,
        reduction=reduction, label_smoothing=label_smoothing,
    )
    logits = 2 * rng.standard_normal(shape)
    compare(loss, module, logits, class_targets(rng, shape, ignore_index), rng)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_probability_targets_match_torch(rng, shape, reduction, label_smoothing, weighted):
    K = shape[0] if len(shape) == 1 else shape[1]
    weight = rng.uniform(0.2, 3.0, K) if weighted else None
    loss = SoftmaxCrossEntropy(reduction, label_smoothing, weight)
    module = torch.nn.CrossEntropyLoss(
        weight=None if weight is None else torch.tensor(weight),
        reduction=reduction, label_smoothing=label_smoothing,
    )
    logits = 2 * rng.standard_normal(shape)
    compare(loss, module, logits, probability_targets(rng, shape), rng)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_every_target_ignored_is_torchs_nan_with_zero_gradient(rng, reduction, label_smoothing):
    logits = rng.standard_normal((3, 4))
    target = np.full(3, -100)
    loss = SoftmaxCrossEntropy(reduction, label_smoothing)
    module = torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing)
    compare(loss, module, logits, target, rng)


@pytest.mark.parametrize("kind", ["indices", "probabilities"])
def test_gradient_by_finite_differences(rng, kind):
    shape = (3, 4, 2)
    logits = rng.standard_normal(shape)
    target = (class_targets(rng, shape, -7) if kind == "indices"
              else probability_targets(rng, shape))
    ignore_index = -7 if kind == "indices" else -100
    loss = SoftmaxCrossEntropy("sum", 0.2, rng.uniform(0.5, 2.0, 4), ignore_index=ignore_index)
    loss.forward(logits, target)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: loss.forward(logits, target), logits)
    np.testing.assert_allclose(analytic, numeric, atol=1e-8)


def test_dloss_scales_a_scalar_loss(rng):
    logits = rng.standard_normal((4, 3))
    loss = SoftmaxCrossEntropy()
    loss.forward(logits, np.array([0, 1, 2, 0]))
    np.testing.assert_allclose(loss.backward(2.0), 2 * loss.backward(), rtol=1e-15)


def test_float32_stays_float32_with_every_option(rng):
    logits = rng.standard_normal((4, 3, 2)).astype(np.float32)
    loss = SoftmaxCrossEntropy("none", 0.1, [1.0, 2.0, 0.5], ignore_index=1)
    out = loss.forward(logits, rng.integers(0, 3, (4, 2)))
    assert out.dtype == np.float32
    assert loss.backward(np.ones((4, 2), dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(), (5,), (4, 3), (2, 3, 4, 5)], ids=str)
def test_mse_reductions_match_torch(rng, shape, reduction):
    compare(MSE(reduction), torch.nn.MSELoss(reduction=reduction), rng.standard_normal(shape),
            rng.standard_normal(shape), rng)


def test_config_rebuilds_and_repr():
    loss = SoftmaxCrossEntropy("sum", 0.1, [1.0, 2.0], ignore_index=3)
    config = json.loads(json.dumps(loss.get_config()))
    rebuilt = SoftmaxCrossEntropy(**config)
    assert rebuilt.get_config() == loss.get_config()
    assert repr(loss) == ("SoftmaxCrossEntropy(reduction='sum', label_smoothing=0.1, "
                          "weight=[1, 2], ignore_index=3)")
    assert repr(SoftmaxCrossEntropy()) == "SoftmaxCrossEntropy()"
    assert repr(MSE("none")) == "MSE(reduction='none')" and MSE(**MSE("sum").get_config())
    assert make_loss("cross_entropy", label_smoothing=0.2).label_smoothing == 0.2


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [SoftmaxCrossEntropy, MSE])
def test_bad_reduction(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: 'avg' is not a valid value for "
                       r"reduction; expected one of 'mean', 'sum', 'none'"):
        cls(reduction="avg")


@pytest.mark.parametrize("cls", [SoftmaxCrossEntropy, MSE])
def test_unexpected_argument_names_the_loss(cls):
    with pytest.raises(TypeError, match=rf"^{cls.__name__}\.__init__\(\) got an unexpected "
                       "keyword argument 'size_average'"):
        cls(size_average=True)


def test_none_reduction_backward_needs_dloss(rng):
    loss = SoftmaxCrossEntropy("none")
    loss.forward(rng.standard_normal((3, 2)), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"SoftmaxCrossEntropy\(reduction='none'\): the loss is "
                       r"not a scalar \(one value per element, shape \(3,\)\); backward needs its "
                       r"gradient: backward\(dloss\) with dloss of that shape"):
        loss.backward()
    with pytest.raises(ValueError, match=r"expected dloss of the loss's shape \(3,\), but got "
                       r"dloss of shape \(2,\)"):
        loss.backward(np.ones(2))


def test_scalar_loss_dloss_shape(rng):
    loss = MSE()
    loss.forward(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"MSE\(\): the loss is a scalar, so dloss must be one "
                       r"number, but got dloss of shape \(3,\)"):
        loss.backward(np.ones(3))


def test_label_smoothing_range_and_type():
    with pytest.raises(ValueError, match=r"SoftmaxCrossEntropy: label_smoothing must be between "
                       r"0.0 and 1.0. Got: 1.5"):
        SoftmaxCrossEntropy(label_smoothing=1.5)
    with pytest.raises(TypeError, match="SoftmaxCrossEntropy: label_smoothing must be a number"):
        SoftmaxCrossEntropy(label_smoothing="0.1")


def test_weight_errors():
    with pytest.raises(ValueError, match=r"SoftmaxCrossEntropy: weight must be a 1-D array with "
                       r"one entry per class, but got weight of shape \(2, 2\)"):
        SoftmaxCrossEntropy(weight=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"SoftmaxCrossEntropy: weight contains NaN"):
        SoftmaxCrossEntropy(weight=[1.0, np.nan])
    loss = SoftmaxCrossEntropy(weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"SoftmaxCrossEntropy\(weight=\[1, 2\]\): weight should "
                       r"be defined either for all 3 classes or no classes, but got weight of "
                       r"shape \(2,\)"):
        loss.forward(np.zeros((2, 3)), np.array([0, 1]))


def test_ignore_index_type():
    with pytest.raises(TypeError, match=r"SoftmaxCrossEntropy: ignore_index must be an int, but "
                       r"got 1\.5"):
        SoftmaxCrossEntropy(ignore_index=1.5)


def test_out_of_range_label_mentions_ignore_index():
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 3\) for 3 classes, but "
                       r"got -1 \(labels equal to ignore_index=-100 are ignored\)"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([0, -1]))


def test_ignore_index_with_probability_targets():
    with pytest.raises(ValueError, match=r"SoftmaxCrossEntropy\(ignore_index=0\): ignore_index is "
                       r"not supported for one-hot or probability targets \(as in torch\)"):
        SoftmaxCrossEntropy(ignore_index=0).forward(np.zeros((2, 3)), np.eye(3)[[0, 1]])


def test_spatial_index_labels_must_be_integers():
    with pytest.raises(TypeError, match=r"class labels of shape \(N, d1, ...\) must be integers, "
                       r"but got dtype float64"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3, 4)), np.zeros((2, 4)))
