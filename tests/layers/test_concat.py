"""Concat against torch.cat over twins of its branches (torch_twins.py), in float64.

Each twin is written with ``torch.nn`` modules and our (randomized) weights copied in; outputs,
input gradients, every parameter gradient and BatchNorm's running statistics must agree to
1e-10, alone and inside a Sequential (whose reuse/overwrite flags the blocks pass on).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_twins import (
    assert_close,
    assert_same_step,
    model_and_twin,
    our_grads,
    torch_grads,
    twin,
)

from scratchcnn.gradcheck import layer_gradient_errors
from scratchcnn.layers import (
    BatchNorm2d,
    Concat,
    Conv2d,
    Dense,
    GlobalAvgPool2d,
    MaxPool2d,
    ReLU,
)


# -- Concat ------------------------------------------------------------------------------------
def inception_like() -> Concat:
    return Concat([
        [Conv2d(3, 2, 1)],
        [Conv2d(3, 2, 1), BatchNorm2d(2), ReLU(inplace=True), Conv2d(2, 4, 3, padding=1)],
        [],
        [MaxPool2d(3, stride=1, padding=1), Conv2d(3, 1, 1), ReLU()],
    ])  # fmt: skip


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_concat_matches_torch_cat(rng, training):
    layer = inception_like()
    module = twin(layer, rng)
    layer.train(training)
    module.train(training)
    X = rng.standard_normal((3, 3, 6, 6))
    assert layer.output_shape((3, 6, 6)) == (10, 6, 6)
    assert_same_step(layer, module, X, rng.standard_normal((3, 10, 6, 6)))


def test_concat_inside_a_sequential_and_other_dims(rng):
    model, module = model_and_twin(rng, [inception_like(), ReLU(), GlobalAvgPool2d(), Dense(10, 3)])
    X = rng.standard_normal((2, 3, 5, 5))
    logits, logits_t = model.forward(X), module(torch.tensor(X))
    assert_close(logits, logits_t)
    dA = rng.standard_normal(logits.shape)
    model.backward(dA)
    logits_t.backward(torch.tensor(dA))
    for g, g_t in zip(our_grads(model).values(), torch_grads(module), strict=True):
        assert_close(g, g_t)
    along_width = Concat([[Conv2d(3, 3, 1)], []], dim=-1)
    assert along_width.output_shape((3, 4, 5)) == (3, 4, 10)
    assert_same_step(along_width, twin(along_width), X, rng.standard_normal((2, 3, 5, 10)))


def test_concat_gradients_match_finite_differences(rng):
    errors = layer_gradient_errors(inception_like().eval(), rng.standard_normal((2, 3, 4, 4)))
    assert max(errors.values()) < 1e-7, errors


def test_concat_errors():
    layer = Concat([[Conv2d(3, 2, 1)], [Conv2d(3, 2, 3)]])
    with pytest.raises(
        ValueError,
        match=r"Sizes of branches must match except in dimension 1: "
        r"branch 0 gives \(2, 5, 5\) but branch 1 gives \(2, 3, 3\)",
    ):
        layer.output_shape((3, 5, 5))
    with pytest.raises(ValueError, match=r"branch 0 gives \(2, 2, 5, 5\) but branch 1 gives"):
        layer.forward(np.zeros((2, 3, 5, 5)))
    with pytest.raises(
        ValueError,
        match=r"dimension out of range \(expected to be in range of "
        r"\[-3, 3\] without the batch axis 0, but got 4\)",
    ):
        Concat([[ReLU()]], dim=4).output_shape((3, 5, 5))
    with pytest.raises(ValueError, match=r"Concat\(.*\): expected batched input \(N, \*S\)"):
        Concat([[ReLU()]]).forward(np.zeros(3))
