"""Schedules resume exactly from a JSON round trip of state_dict, and reject bad arguments."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from scratchcnn import optimizers
from scratchcnn.schedules import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    MultiStepLR,
    OneCycleLR,
    SequentialLR,
    StepLR,
)

BUILDERS: dict[str, Callable[[Any], Any]] = {
    "step": lambda o: StepLR(o, step_size=3, gamma=0.5),
    "multistep": lambda o: MultiStepLR(o, milestones=[2, 6], gamma=0.3),
    "constant": lambda o: ConstantLR(o, factor=0.25, total_iters=4),
    "linear": lambda o: LinearLR(o, start_factor=0.1, total_iters=6),
    "exponential": lambda o: ExponentialLR(o, gamma=0.9),
    "cosine": lambda o: CosineAnnealingLR(o, T_max=8, eta_min=1e-3),
    "onecycle": lambda o: OneCycleLR(o, max_lr=0.5, total_steps=15, three_phase=True),
    "warmup_cosine": lambda o: SequentialLR(
        o, [LinearLR(o, start_factor=0.2, total_iters=3), CosineAnnealingLR(o, T_max=10)], [3]
    ),
}


@pytest.mark.parametrize("name", list(BUILDERS))
@pytest.mark.parametrize("stop", [0, 2, 5])
def test_resume_from_state_dict_is_exact(name: str, stop: int) -> None:
    build = BUILDERS[name]
    straight_opt = optimizers.Adam(lr=0.1)
    straight = build(straight_opt)
    expected = []
    for _ in range(12):
        straight.step()
        expected.append((straight_opt.lr, straight_opt.betas))

    first_opt = optimizers.Adam(lr=0.1)
    first = build(first_opt)
    got = []
    for _ in range(stop):
        first.step()
        got.append((first_opt.lr, first_opt.betas))
    saved = json.loads(json.dumps(first.state_dict()))  # JSON-able, as a checkpoint holds it

    resumed_opt = optimizers.Adam(lr=0.1)  # the rate and beta1 come from the state
    resumed = build(resumed_opt)
    resumed.load_state_dict(saved)
    assert resumed_opt.lr == first_opt.lr
    for _ in range(12 - stop):
        resumed.step()
        got.append((resumed_opt.lr, resumed_opt.betas))
    assert got == expected


def test_state_dict_holds_the_hyperparameters_and_step() -> None:
    schedule = CosineAnnealingLR(optimizers.SGD(lr=0.2), T_max=5, eta_min=0.01)
    schedule.step()
    state = schedule.state_dict()
    assert state["class"] == "CosineAnnealingLR"
    assert state["config"] == {"T_max": 5, "eta_min": 0.01}
    assert state["last_epoch"] == 1
    assert state["base_lrs"] == [0.2]
    assert repr(schedule) == "CosineAnnealingLR(T_max=5, eta_min=0.01)"


def test_load_state_of_another_schedule_is_an_error() -> None:
    state = StepLR(optimizers.SGD(lr=0.1), step_size=2).state_dict()
    with pytest.raises(
        ValueError, match=r"CosineAnnealingLR.load_state_dict: the state was saved by 'StepLR'"
    ):
        CosineAnnealingLR(optimizers.SGD(lr=0.1), T_max=3).load_state_dict(state)


def test_load_state_with_missing_keys_is_an_error() -> None:
    state = StepLR(optimizers.SGD(lr=0.1), step_size=2).state_dict()
    del state["last_epoch"]
    with pytest.raises(
        ValueError, match=r"StepLR.load_state_dict: state keys differ: missing \['last_epoch'\]"
    ):
        StepLR(optimizers.SGD(lr=0.1), step_size=2).load_state_dict(state)


def test_load_state_not_a_dict() -> None:
    with pytest.raises(
        TypeError, match=r"StepLR\.load_state_dict: state must be a dict, but got list"
    ):
        StepLR(optimizers.SGD(lr=0.1), step_size=2).load_state_dict([])


def test_sequential_load_with_other_number_of_schedules() -> None:
    o = optimizers.SGD(lr=0.1)
    state = SequentialLR(o, [StepLR(o, 2), StepLR(o, 3)], [4]).state_dict()
    p = optimizers.SGD(lr=0.1)
    with pytest.raises(
        ValueError, match="the state holds 2 schedules, but this SequentialLR has 1"
    ):
        SequentialLR(p, [StepLR(p, 2)], []).load_state_dict(state)


def test_constructing_sets_the_rate_of_step_zero() -> None:
    o = optimizers.SGD(lr=0.1)
    LinearLR(o, start_factor=0.25, total_iters=4)
    assert o.lr == pytest.approx(0.025)
    assert o.initial_lr == 0.1
    p = optimizers.Adam(lr=123.0)
    OneCycleLR(p, max_lr=1.0, total_steps=10)
    assert p.lr == pytest.approx(1.0 / 25) and p.betas[0] == 0.95


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda o: StepLR(o, step_size=0), ValueError, "StepLR: step_size must be positive"),
        (lambda o: StepLR(o, step_size=2.5), TypeError, "StepLR: step_size must be a positive int"),
        (lambda o: StepLR(o, 2, gamma="x"), TypeError, "StepLR: gamma must be a number"),
        (lambda o: ExponentialLR(o, gamma=float("nan")), ValueError, "gamma must be finite"),
        (lambda o: MultiStepLR(o, [5, 2]), ValueError, r"milestones must be increasing"),
        (lambda o: MultiStepLR(o, 5), TypeError, "milestones must be a list of ints"),
        (
            lambda o: ConstantLR(o, factor=2.0),
            ValueError,
            r"ConstantLR: factor must be in \[0, 1\]",
        ),
        (lambda o: LinearLR(o, start_factor=0.0), ValueError, r"start_factor must be in \(0, 1\]"),
        (lambda o: LinearLR(o, end_factor=1.5), ValueError, r"end_factor must be in \[0, 1\]"),
        (lambda o: CosineAnnealingLR(o, T_max=0), ValueError, "CosineAnnealingLR: T_max must be"),
        (lambda o: StepLR(o, 2, last_epoch=-2), ValueError, "last_epoch must be at least -1"),
        (lambda o: StepLR(o, 2, last_epoch=3), ValueError, "has no initial_lr"),
        (lambda o: OneCycleLR(o, 0.1), ValueError, "define either total_steps or"),
        (lambda o: OneCycleLR(o, 0.1, 10, pct_start=1.5), ValueError, r"pct_start must be in"),
        (
            lambda o: OneCycleLR(o, 0.1, 10, anneal_strategy="exp"),
            ValueError,
            "anneal_strategy must be one of 'cos' or 'linear', but got 'exp'",
        ),
        (
            lambda o: SequentialLR(o, [StepLR(o, 2)], [3]),
            ValueError,
            "expects one milestone fewer than schedulers, but got 1 schedulers and 1 milestones",
        ),
        (lambda o: SequentialLR(o, [], []), ValueError, "at least one scheduler"),
        (
            lambda o: SequentialLR(o, [StepLR(optimizers.SGD(), 2)], []),
            ValueError,
            r"schedulers\[0\] \(StepLR\) wraps another one",
        ),
        (lambda o: SequentialLR(o, ["a"], []), TypeError, r"schedulers\[0\] must be a schedule"),
    ],
)
def test_bad_arguments(build: Callable[[Any], Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        build(optimizers.SGD(lr=0.1))


def test_not_an_optimizer() -> None:
    with pytest.raises(TypeError, match=r"StepLR: expected an optimizer .* but got str"):
        StepLR("adam", step_size=2)


def test_one_cycle_needs_momentum_to_cycle_it() -> None:
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        OneCycleLR(optimizers.AdaGrad(), max_lr=0.1, total_steps=10)
    OneCycleLR(optimizers.AdaGrad(), max_lr=0.1, total_steps=10, cycle_momentum=False)


def test_one_cycle_past_total_steps() -> None:
    schedule = OneCycleLR(optimizers.SGD(momentum=0.9), max_lr=0.1, total_steps=3)
    for _ in range(2):
        schedule.step()
    schedule.step()  # step 3 of 3 is allowed, as in torch
    with pytest.raises(ValueError, match="OneCycleLR: tried to step 4 times, but total_steps is 3"):
        schedule.step()


def test_one_cycle_empty_phase() -> None:
    with pytest.raises(ValueError, match="phase 1 of the cycle has no steps"):
        OneCycleLR(optimizers.SGD(momentum=0.9), max_lr=0.1, total_steps=10, pct_start=0.1)
