"""Optimizers against torch.optim in float64, shared state, state_dict round trips and errors."""

from __future__ import annotations

import gc
import json
from typing import Any

import numpy as np
import pytest
import torch

from scratchcnn.layers.base import Layer
from scratchcnn.optimizers import (
    SGD,
    AdaGrad,
    Adam,
    AdamW,
    Optimizer,
    RMSprop,
    make_optimizer,
)


class FakeLayer(Layer):
    """A layer with parameters and nothing else: tests set dW and db by hand."""

    param_names = ("W", "b")

    def __init__(self, W: np.ndarray, b: np.ndarray, optimizer: Any = None) -> None:
        super().__init__(optimizer)
        self.W = W
        self.b = b


def _two_layers(rng: np.random.Generator, dtype: type = np.float64) -> list[FakeLayer]:
    return [
        FakeLayer(rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(4).astype(dtype)),
        FakeLayer(rng.standard_normal((2, 5)).astype(dtype), rng.standard_normal(5).astype(dtype)),
    ]


TORCH = {SGD: torch.optim.SGD, AdaGrad: torch.optim.Adagrad, RMSprop: torch.optim.RMSprop,
         Adam: torch.optim.Adam, AdamW: torch.optim.AdamW}

CASES = [
    (SGD, {"lr": 0.1}),
    (SGD, {"lr": 0.1, "momentum": 0.9}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (SGD, {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05}),
    (SGD, {"lr": 0.1, "weight_decay": 0.1}),
    (AdaGrad, {"lr": 0.1}),
    (AdaGrad, {"lr": 0.1, "eps": 1e-3, "weight_decay": 0.1}),
    (RMSprop, {"lr": 0.01}),
    (RMSprop, {"lr": 0.01, "momentum": 0.9}),
    (RMSprop, {"lr": 0.01, "alpha": 0.9, "eps": 1e-4, "weight_decay": 0.1, "momentum": 0.5}),
    (Adam, {"lr": 0.01}),
    (Adam, {"lr": 0.01, "weight_decay": 0.1}),
    (Adam, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    (AdamW, {"lr": 0.01}),
    (AdamW, {"lr": 0.01, "weight_decay": 0.1, "betas": (0.5, 0.9)}),
    # the options of issue 9, alone and together
    (SGD, {"lr": 0.1, "momentum": 0.9, "maximize": True}),
    (SGD, {"lr": 0.1, "weight_decay": 0.1, "maximize": True}),
    (AdaGrad, {"lr": 0.1, "lr_decay": 0.3}),
    (AdaGrad, {"lr": 0.1, "initial_accumulator_value": 0.5}),
    (AdaGrad, {"lr": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.2,
               "weight_decay": 0.1, "maximize": True}),
    (RMSprop, {"lr": 0.01, "centered": True}),
    (RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.9}),
    (RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1,
               "maximize": True}),
    (Adam, {"lr": 0.01, "amsgrad": True}),
    (Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    (Adam, {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    (Adam, {"lr": 0.01, "maximize": True}),
    (AdamW, {"lr": 0.01, "amsgrad": True}),
    (AdamW, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
]


def _case_id(case: tuple[type, dict]) -> str:
    cls, kwargs = case
    return cls.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_torch_optim(
    rng: np.random.Generator, case: tuple[type, dict], kernel_path: str
) -> None:
    cls, kwargs = case
    layers = _two_layers(rng)
    ours = cls(**kwargs)
    torch_params = [torch.tensor(layer.params()[n]) for layer in layers for n in ("W", "b")]
    for p in torch_params:
        p.requires_grad_(True)
    theirs = TORCH[cls](torch_params, **kwargs)
    for step in range(8):
        if step == 5:  # a schedule changes lr between steps
            ours.lr = kwargs["lr"] / 2
            theirs.param_groups[0]["lr"] = kwargs["lr"] / 2
        grads = [rng.standard_normal(p.shape) for p in torch_params]
        skip_b2 = step in (2, 3)  # the second layer's bias gets no gradient on two steps
        layers[0].dW, layers[0].db = grads[0].copy(), grads[1].copy()
        layers[1].dW, layers[1].db = grads[2].copy(), None if skip_b2 else grads[3].copy()
        for p, g in zip(torch_params, grads, strict=True):
            p.grad = torch.tensor(g)
        if skip_b2:
            torch_params[3].grad = None
        for layer in layers:
            assert ours.update(layer) is layer
        theirs.step()
        ours_flat = [layer.params()[n] for layer in layers for n in ("W", "b")]
        for mine, ref in zip(ours_flat, torch_params, strict=True):
            np.testing.assert_allclose(mine, ref.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_updates_in_place_and_skips_missing_grads(rng: np.random.Generator) -> None:
    layer = _two_layers(rng)[0]
    W, b = layer.W, layer.b
    b_before = b.copy()
    layer.dW = rng.standard_normal(W.shape)
    SGD(lr=0.1).update(layer)  # db is None: b is left alone
    assert layer.W is W and layer.b is b
    np.testing.assert_array_equal(layer.b, b_before)


def test_layer_applies_its_optimizer(rng: np.random.Generator) -> None:
    layer = FakeLayer(np.ones((2, 2)), np.zeros(2), optimizer=SGD(lr=0.5))
    layer.dW, layer.db = np.ones((2, 2)), np.ones(2)
    layer._apply_optimizer()
    np.testing.assert_array_equal(layer.W, np.full((2, 2), 0.5))
    np.testing.assert_array_equal(layer.b, np.full(2, -0.5))


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_float32_stays_float32(rng: np.random.Generator, case: tuple[type, dict]) -> None:
    cls, kwargs = case
    layers = _two_layers(rng, np.float32)
    opt = cls(**kwargs)
    for _ in range(3):
        for layer in layers:
            layer.dW = rng.standard_normal(layer.W.shape).astype(np.float32)
            layer.db = rng.standard_normal(layer.b.shape)  # float64 grads are cast, not spread
            opt.update(layer)
    for layer in layers:
        assert layer.W.dtype == np.float32 and layer.b.dtype == np.float32
    for value in opt.state_dict(layers).values():
        assert not isinstance(value, np.ndarray) or value.dtype == np.float32


def test_state_follows_a_parameter_that_changes_dtype(rng: np.random.Generator) -> None:
    layer = _two_layers(rng, np.float32)[0]
    opt = Adam()
    layer.dW, layer.db = np.ones_like(layer.W), np.ones_like(layer.b)
    opt.update(layer)
    layer._adopt_dtype(np.dtype(np.float64))  # what a layer does on float64 input
    layer.dW, layer.db = np.ones_like(layer.W), np.ones_like(layer.b)
    opt.update(layer)
    assert opt.state_dict([layer])["0.W.m"].dtype == np.float64


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_state_dict_round_trip_resumes_identically(
    rng: np.random.Generator, case: tuple[type, dict]
) -> None:
    cls, kwargs = case
    layers = _two_layers(rng)
    opt = cls(**kwargs)
    grads = [[rng.standard_normal(p.shape) for layer in layers for p in layer.params().values()]
             for _ in range(6)]

    def run(optimizer: Optimizer, model: list[FakeLayer], steps: list) -> None:
        for g in steps:
            model[0].dW, model[0].db, model[1].dW, model[1].db = (x.copy() for x in g)
            for layer in model:
                optimizer.update(layer)

    run(opt, layers, grads[:3])
    saved = opt.state_dict(layers)
    resumed_layers = [FakeLayer(layer.W.copy(), layer.b.copy()) for layer in layers]
    resumed = cls(**opt.get_config())
    resumed.load_state_dict(resumed_layers, saved)
    run(opt, layers, grads[3:])
    run(resumed, resumed_layers, grads[3:])
    for a, b in zip(layers, resumed_layers, strict=True):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.b, b.b)


def test_state_dict_keys_and_copies(rng: np.random.Generator) -> None:
    layers = _two_layers(rng)
    opt = Adam()
    layers[1].dW, layers[1].db = np.ones_like(layers[1].W), np.ones_like(layers[1].b)
    opt.update(layers[1])
    state = opt.state_dict(layers)
    assert sorted(state) == ["1.W.m", "1.W.step", "1.W.v", "1.b.m", "1.b.step", "1.b.v"]
    assert state["1.W.step"] == 1 and isinstance(state["1.W.step"], int)
    state["1.W.m"][:] = 99  # a copy: the optimizer's state is untouched
    assert opt.state_dict(layers)["1.W.m"].max() < 99


def test_load_state_dict_accepts_saved_arrays(rng: np.random.Generator, tmp_path: Any) -> None:
    # np.savez turns step ints into 0-d arrays; loading takes them back
    layers = _two_layers(rng)
    opt = Adam()
    for layer in layers:
        layer.dW, layer.db = np.ones_like(layer.W), np.ones_like(layer.b)
        opt.update(layer)
    np.savez(tmp_path / "opt.npz", **opt.state_dict(layers))
    with np.load(tmp_path / "opt.npz") as data:
        restored = Adam()
        restored.load_state_dict(layers, dict(data))
    assert restored.state_dict(layers)["0.b.step"] == 1


def test_one_optimizer_many_layers_separate_state(rng: np.random.Generator) -> None:
    a, b = _two_layers(rng)
    opt = Adam(lr=0.1)
    for _ in range(3):
        a.dW, a.db = np.ones_like(a.W), np.ones_like(a.b)
        opt.update(a)
    b.dW, b.db = np.ones_like(b.W), np.ones_like(b.b)
    opt.update(b)
    state = opt.state_dict([a, b])
    assert state["0.W.step"] == 3 and state["1.W.step"] == 1


def test_state_is_dropped_with_the_layer(rng: np.random.Generator) -> None:
    opt = Adam()
    layer = _two_layers(rng)[0]
    layer.dW = np.ones_like(layer.W)
    opt.update(layer)
    assert len(opt._state) == 1
    del layer
    gc.collect()
    assert len(opt._state) == 0


def test_get_config_is_json_and_rebuilds() -> None:
    for opt in (SGD(momentum=0.9, nesterov=True), AdaGrad(), RMSprop(momentum=0.1), Adam(),
                AdamW(betas=[0.8, 0.9])):
        config = json.loads(json.dumps(opt.get_config()))
        assert type(opt)(**config).get_config() == opt.get_config()
    assert AdamW().weight_decay == 1e-2
    assert repr(SGD()) == "SGD(lr=0.001, momentum=0.0, dampening=0.0, weight_decay=0.0, " \
        "nesterov=False, maximize=False)"


def test_make_optimizer() -> None:
    assert isinstance(make_optimizer("ADAM", lr=0.1), Adam)
    assert make_optimizer("adam", lr=0.1).lr == 0.1
    assert type(make_optimizer("AdamW")) is AdamW
    assert isinstance(make_optimizer("adagrad"), AdaGrad)
    assert isinstance(make_optimizer("RMSprop"), RMSprop)
    momentum = make_optimizer("momentum", lr=0.05)
    assert type(momentum) is SGD and momentum.momentum == 0.9
    assert make_optimizer("momentum", momentum=0.5).momentum == 0.5
    assert make_optimizer("sgd").momentum == 0


# -- errors ------------------------------------------------------------------------------------
def test_make_optimizer_unknown_name() -> None:
    with pytest.raises(ValueError, match="make_optimizer: unknown optimizer 'lbfgs'; expected one "
                       "of 'sgd', 'momentum', 'adagrad', 'rmsprop', 'adam', 'adamw'"):
        make_optimizer("lbfgs")


def test_make_optimizer_unknown_argument() -> None:
    with pytest.raises(TypeError, match=r"make_optimizer: SGD got unexpected arguments "
                       r"\['betas'\]"):
        make_optimizer("sgd", betas=(0.9, 0.99))


def test_grad_shape_mismatch(rng: np.random.Generator) -> None:
    layer = _two_layers(rng)[0]
    layer.dW = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"SGD: gradient dW of FakeLayer\(\) has shape \(4, 3\), "
                       r"but parameter W has shape \(3, 4\)"):
        SGD().update(layer)


def test_param_must_be_an_array() -> None:
    layer = FakeLayer(None, np.zeros(2))
    layer.dW = np.ones(2)
    with pytest.raises(TypeError, match="Adam: parameter W of FakeLayer"):
        Adam().update(layer)


@pytest.mark.parametrize("cls", [SGD, AdaGrad, RMSprop, Adam, AdamW])
def test_negative_lr(cls: type) -> None:
    with pytest.raises(ValueError, match=f"{cls.__name__}: Invalid learning rate: -0.1"):
        cls(lr=-0.1)


def test_lr_setter_validates() -> None:
    opt = Adam()
    opt.lr = np.float64(0.5)  # stored as a Python float: no float64 spread into float32 math
    assert type(opt.lr) is float
    with pytest.raises(ValueError, match="Adam: Invalid learning rate: -1"):
        opt.lr = -1
    with pytest.raises(TypeError, match="Adam: lr must be a number"):
        opt.lr = "fast"


def test_sgd_hyperparameter_errors() -> None:
    with pytest.raises(ValueError, match=r"SGD: Invalid momentum value: -0\.5"):
        SGD(momentum=-0.5)
    with pytest.raises(ValueError, match="SGD: Invalid weight_decay value: -1"):
        SGD(weight_decay=-1)
    with pytest.raises(ValueError, match="SGD: Nesterov momentum requires a momentum and zero "
                       "dampening"):
        SGD(nesterov=True)
    with pytest.raises(ValueError, match="SGD: Nesterov momentum requires"):
        SGD(momentum=0.9, nesterov=True, dampening=0.1)
    with pytest.raises(TypeError, match="SGD: nesterov must be True or False"):
        SGD(momentum=0.9, nesterov="yes")


def test_adagrad_and_rmsprop_errors() -> None:
    with pytest.raises(ValueError, match="AdaGrad: Invalid epsilon value: -1e-10"):
        AdaGrad(eps=-1e-10)
    with pytest.raises(ValueError, match=r"RMSprop: Invalid alpha value: -0\.9"):
        RMSprop(alpha=-0.9)
    with pytest.raises(ValueError, match="RMSprop: Invalid momentum value: -1"):
        RMSprop(momentum=-1)


@pytest.mark.parametrize(
    ("betas", "index", "value"), [((1.0, 0.9), 0, 1.0), ((0.9, -0.1), 1, -0.1)]
)
def test_adam_betas(betas: tuple, index: int, value: float) -> None:
    with pytest.raises(ValueError, match=rf"Adam: Invalid beta parameter at index {index}: "
                       rf"{value}"):
        Adam(betas=betas)


def test_adam_betas_type_and_nan() -> None:
    with pytest.raises(TypeError, match="AdamW: betas must be a pair of numbers"):
        AdamW(betas=0.9)
    with pytest.raises(ValueError, match="Adam: Invalid eps value: nan"):
        Adam(eps=float("nan"))


def test_load_state_dict_bad_key(rng: np.random.Generator) -> None:
    layers = _two_layers(rng)
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: unexpected key '5.W.m'; expected "
                       r"'<layer index>.<param>.<slot>' with a layer index below 2"):
        Adam().load_state_dict(layers, {"5.W.m": np.zeros((3, 4))})
    with pytest.raises(ValueError, match=r"unexpected key '0.W.momentum_buffer': FakeLayer\(\) "
                       r"has parameters \['W', 'b'\] and Adam keeps \['m', 'v', 'step'\]"):
        Adam().load_state_dict(layers, {"0.W.momentum_buffer": np.zeros((3, 4))})


def test_load_state_dict_wrong_shape(rng: np.random.Generator) -> None:
    layers = _two_layers(rng)
    state = {"0.W.momentum_buffer": np.zeros((4, 3))}
    with pytest.raises(ValueError, match=r"0.W.momentum_buffer has shape \(4, 3\), but the "
                       r"parameter has shape \(3, 4\)"):
        SGD(momentum=0.9).load_state_dict(layers, state)


def test_load_state_dict_missing_and_bad_step(rng: np.random.Generator) -> None:
    layers = _two_layers(rng)
    with pytest.raises(ValueError, match=r"missing keys \['0.W.v', '0.W.step'\]"):
        Adam().load_state_dict(layers, {"0.W.m": np.zeros((3, 4))})
    state = {"0.b.m": np.zeros(4), "0.b.v": np.zeros(4), "0.b.step": -2}
    with pytest.raises(ValueError, match=r"0\.b\.step must be a non-negative integer"):
        Adam().load_state_dict(layers, state)


def test_load_state_dict_failure_leaves_state_alone(rng: np.random.Generator) -> None:
    layers = _two_layers(rng)
    opt = SGD(momentum=0.9)
    layers[0].dW, layers[0].db = np.ones_like(layers[0].W), np.ones_like(layers[0].b)
    opt.update(layers[0])
    before = opt.state_dict(layers)
    with pytest.raises(ValueError, match="unexpected key"):
        opt.load_state_dict(layers, {"0.W.momentum_buffer": np.zeros((3, 4)), "0.W.m": 1})
    assert sorted(opt.state_dict(layers)) == sorted(before)
