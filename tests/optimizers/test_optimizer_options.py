"""PyTorch 2.13's defaults and argument order, the Adagrad alias, the new options' state and errors.

The update rules of every option are checked against torch.optim in
``test_optimizer_rules.py`` (CASES); this file checks what surrounds them.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
import torch

from scratchcnn.layers.base import Layer
from scratchcnn.optimizers import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adagrad,
    Adam,
    AdamW,
    RMSprop,
    make_optimizer,
)

TORCH = {SGD: torch.optim.SGD, AdaGrad: torch.optim.Adagrad, RMSprop: torch.optim.RMSprop,
         Adam: torch.optim.Adam, AdamW: torch.optim.AdamW}
SKIPPED = {"params", "foreach", "capturable", "differentiable", "fused"}  # torch-only machinery


class OneParam(Layer):
    param_names = ("W",)

    def __init__(self, W: np.ndarray) -> None:
        super().__init__()
        self.W = W


def _torch_arguments(cls: type) -> list[inspect.Parameter]:
    parameters = inspect.signature(TORCH[cls].__init__).parameters.values()
    return [p for p in parameters if p.name != "self" and p.name not in SKIPPED]


@pytest.mark.parametrize("cls", list(TORCH), ids=lambda c: c.__name__)
def test_defaults_are_torch_2_13s(cls: type) -> None:
    ours = inspect.signature(cls).parameters
    for theirs in _torch_arguments(cls):
        assert theirs.name in ours, f"{cls.__name__} lacks torch's argument {theirs.name}"
        default = ours[theirs.name].default
        expected = theirs.default
        assert default == expected or tuple(default) == tuple(expected), theirs.name


@pytest.mark.parametrize("cls", list(TORCH), ids=lambda c: c.__name__)
def test_positional_order_and_keyword_only_follow_torch(cls: type) -> None:
    ours = [p for p in inspect.signature(cls).parameters.values()]
    positional = [p.name for p in ours if p.kind is p.POSITIONAL_OR_KEYWORD]
    # torch's RMSprop has maximize positional after capturable and foreach: ours is keyword-only
    theirs = [p.name for p in _torch_arguments(cls)
              if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "maximize"]
    assert positional == theirs
    assert inspect.signature(cls).parameters["maximize"].kind is inspect.Parameter.KEYWORD_ONLY


def test_default_values_in_use() -> None:
    assert SGD().lr == 1e-3
    assert Adam().lr == 1e-3 and Adam().betas == (0.9, 0.999) and Adam().eps == 1e-8
    assert AdamW().weight_decay == 0.01 and AdamW().decoupled_weight_decay
    rms = RMSprop()
    assert (rms.lr, rms.alpha, rms.eps, rms.momentum, rms.centered) == (0.01, 0.99, 1e-8, 0, False)
    ada = Adagrad()
    assert (ada.lr, ada.lr_decay, ada.initial_accumulator_value, ada.eps) == (0.01, 0, 0, 1e-10)


def test_torch_positional_call() -> None:
    # torch.optim.SGD(params, 0.1, 0.9, 0, 0, True): lr, momentum, dampening, weight_decay, nesterov
    sgd = SGD(0.1, 0.9, 0, 0, True)
    assert (sgd.lr, sgd.momentum, sgd.nesterov) == (0.1, 0.9, True)
    rms = RMSprop(0.01, 0.9, 1e-6, 0.1, 0.5, True)
    assert (rms.weight_decay, rms.momentum, rms.centered) == (0.1, 0.5, True)


def test_adagrad_alias_everywhere() -> None:
    assert Adagrad is AdaGrad
    assert type(make_optimizer("Adagrad")) is AdaGrad
    assert OPTIMIZERS["adagrad"] is Adagrad
    assert repr(Adagrad(lr=0.1)).startswith("AdaGrad(lr=0.1, lr_decay=0.0")


def test_amsgrad_state_round_trips(rng: np.random.Generator) -> None:
    layer = OneParam(rng.standard_normal((3, 2)))
    opt = Adam(lr=0.1, amsgrad=True)
    for _ in range(3):
        layer.dW = rng.standard_normal((3, 2))
        opt.update(layer)
    state = opt.state_dict([layer])
    assert sorted(state) == ["0.W.m", "0.W.step", "0.W.v", "0.W.v_max"]
    with pytest.raises(ValueError, match=r"missing keys \['0.W.v_max'\]"):
        Adam(amsgrad=True).load_state_dict([layer], {k: v for k, v in state.items()
                                                     if k != "0.W.v_max"})


def test_centered_rmsprop_state_keys(rng: np.random.Generator) -> None:
    layer = OneParam(rng.standard_normal(4))
    opt = RMSprop(centered=True, momentum=0.5)
    layer.dW = rng.standard_normal(4)
    opt.update(layer)
    assert sorted(opt.state_dict([layer])) == ["0.W.grad_avg", "0.W.momentum_buffer",
                                               "0.W.square_avg", "0.W.step"]


def test_adagrad_initial_accumulator_is_saved(rng: np.random.Generator) -> None:
    layer = OneParam(np.zeros(2))
    opt = Adagrad(initial_accumulator_value=0.25)
    layer.dW = np.array([0.0, 1.0])
    opt.update(layer)
    np.testing.assert_array_equal(opt.state_dict([layer])["0.W.sum"], [0.25, 1.25])


def test_maximize_climbs() -> None:
    layer = OneParam(np.zeros(1))
    layer.dW = np.ones(1)  # the gradient of f(W) = W
    SGD(lr=0.5, maximize=True).update(layer)
    np.testing.assert_array_equal(layer.W, [0.5])


def test_frozen_layer_is_not_updated(rng: np.random.Generator) -> None:
    layer = OneParam(rng.standard_normal(3))
    before = layer.W.copy()
    layer.trainable = False
    layer.dW = np.ones(3)
    opt = Adam(lr=0.1)
    opt.update(layer)
    np.testing.assert_array_equal(layer.W, before)
    assert opt.state_dict([layer]) == {}


@pytest.mark.parametrize("cls", list(TORCH), ids=lambda c: c.__name__)
def test_option_types(cls: type) -> None:
    with pytest.raises(TypeError, match=f"{cls.__name__}: maximize must be True or False, but "
                       "got 'yes'"):
        cls(maximize="yes")


def test_new_option_errors() -> None:
    with pytest.raises(TypeError, match="Adam: amsgrad must be True or False, but got 1"):
        Adam(amsgrad=1)
    with pytest.raises(TypeError, match="RMSprop: centered must be True or False"):
        RMSprop(centered=None)
    with pytest.raises(ValueError, match=r"AdaGrad: Invalid lr_decay value: -0\.1"):
        Adagrad(lr_decay=-0.1)
    with pytest.raises(ValueError, match="AdaGrad: Invalid initial_accumulator_value value: -1"):
        Adagrad(initial_accumulator_value=-1)


@pytest.mark.parametrize("cls", [SGD, AdaGrad, RMSprop, Adam, AdamW], ids=lambda c: c.__name__)
def test_unexpected_argument_names_the_class(cls: type) -> None:
    with pytest.raises(TypeError, match=rf"^{cls.__name__}\.__init__\(\) got an unexpected "
                       "keyword argument 'momentun'"):
        cls(momentun=0.9)


def test_make_optimizer_passes_new_options() -> None:
    opt: Any = make_optimizer("adam", amsgrad=True, maximize=True)
    assert opt.amsgrad and opt.maximize
