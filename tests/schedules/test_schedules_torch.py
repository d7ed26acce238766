"""Every schedule's rate after every step equals torch.optim.lr_scheduler's, same arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scratchcnn import optimizers, schedules

torch = pytest.importorskip("torch")

Build = Callable[[Any, Any], Any]  # (module with the classes, optimizer) -> schedule


def _torch_optimizer(kind: str, lr: float) -> Any:
    param = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    if kind == "adam":
        return torch.optim.Adam([param], lr=lr)
    return torch.optim.SGD([param], lr=lr, momentum=0.9)


def _ours_optimizer(kind: str, lr: float) -> optimizers.Optimizer:
    return optimizers.Adam(lr=lr) if kind == "adam" else optimizers.SGD(lr=lr, momentum=0.9)


def _momentum(opt: Any) -> float:
    if isinstance(opt, optimizers.Optimizer):
        return opt.betas[0] if hasattr(opt, "betas") else opt.momentum
    group = opt.param_groups[0]
    return group["betas"][0] if "betas" in group else group["momentum"]


def _trace(build: Build, steps: int, kind: str = "sgd", lr: float = 0.1) -> None:
    """Step ours and torch's side by side; rates (and momenta) must agree at every step."""
    ours_opt, theirs_opt = _ours_optimizer(kind, lr), _torch_optimizer(kind, lr)
    ours = build(schedules, ours_opt)
    theirs = build(torch.optim.lr_scheduler, theirs_opt)
    ours_lrs, theirs_lrs = [ours_opt.lr], [theirs_opt.param_groups[0]["lr"]]
    ours_m, theirs_m = [_momentum(ours_opt)], [_momentum(theirs_opt)]
    for _ in range(steps):
        theirs_opt.step()
        theirs.step()
        ours.step()
        ours_lrs.append(ours_opt.lr)
        theirs_lrs.append(theirs_opt.param_groups[0]["lr"])
        ours_m.append(_momentum(ours_opt))
        theirs_m.append(_momentum(theirs_opt))
        assert ours.get_last_lr() == [ours_opt.lr]
    assert ours_lrs == pytest.approx(theirs_lrs, rel=1e-14, abs=1e-300)
    assert ours_m == pytest.approx(theirs_m, rel=1e-14)


@pytest.mark.parametrize(("step_size", "gamma"), [(1, 0.5), (3, 0.1), (7, 0.9), (4, 1.5)])
def test_step_lr(step_size: int, gamma: float) -> None:
    _trace(lambda m, o: m.StepLR(o, step_size=step_size, gamma=gamma), 25)


@pytest.mark.parametrize(
    ("milestones", "gamma"), [([2, 5, 9], 0.1), ([0, 3], 0.5), ([4, 4, 10], 0.3), ([30], 0.2)]
)
def test_multi_step_lr(milestones: list[int], gamma: float) -> None:
    _trace(lambda m, o: m.MultiStepLR(o, milestones=milestones, gamma=gamma), 20)


@pytest.mark.parametrize("gamma", [0.5, 0.95, 0.999, 1.01])
def test_exponential_lr(gamma: float) -> None:
    _trace(lambda m, o: m.ExponentialLR(o, gamma=gamma), 40)


@pytest.mark.parametrize(("factor", "total_iters"), [(1 / 3, 5), (0.5, 1), (0.1, 12)])
def test_constant_lr(factor: float, total_iters: int) -> None:
    _trace(lambda m, o: m.ConstantLR(o, factor=factor, total_iters=total_iters), 20)


@pytest.mark.parametrize(
    ("start", "end", "total"),
    [(1 / 3, 1.0, 5), (0.01, 1.0, 10), (1.0, 0.1, 7), (0.5, 0.5, 3), (0.2, 0.9, 1), (0.3, 0.0, 7)],
)
def test_linear_lr(start: float, end: float, total: int) -> None:
    _trace(lambda m, o: m.LinearLR(o, start_factor=start, end_factor=end, total_iters=total), 15)


@pytest.mark.parametrize(
    ("T_max", "eta_min", "steps"), [(10, 0.0, 10), (10, 1e-4, 35), (1, 0.0, 6), (50, 0.01, 50)]
)
def test_cosine_annealing_lr(T_max: int, eta_min: float, steps: int) -> None:
    """Past T_max the rate rises again, as torch's does (steps > T_max covers it)."""
    _trace(lambda m, o: m.CosineAnnealingLR(o, T_max=T_max, eta_min=eta_min), steps)


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("anneal_strategy", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize(
    ("total_steps", "pct_start", "div_factor", "final_div_factor"),
    [(100, 0.3, 25.0, 1e4), (37, 0.25, 10.0, 100.0), (20, 0.45, 5.0, 1e3)],
)
def test_one_cycle_lr(
    kind: str,
    anneal_strategy: str,
    three_phase: bool,
    total_steps: int,
    pct_start: float,
    div_factor: float,
    final_div_factor: float,
) -> None:
    def build(m: Any, o: Any) -> Any:
        return m.OneCycleLR(
            o,
            max_lr=0.4,
            total_steps=total_steps,
            pct_start=pct_start,
            anneal_strategy=anneal_strategy,
            div_factor=div_factor,
            final_div_factor=final_div_factor,
            three_phase=three_phase,
            base_momentum=0.8,
            max_momentum=0.9,
        )

    _trace(build, total_steps - 1, kind=kind)


def test_one_cycle_lr_epochs_and_steps_per_epoch_without_momentum() -> None:
    _trace(
        lambda m, o: m.OneCycleLR(
            o, max_lr=0.01, epochs=3, steps_per_epoch=7, cycle_momentum=False
        ),
        20,
    )


@pytest.mark.parametrize("warmup", [1, 3, 5])
def test_linear_warmup_then_cosine(warmup: int) -> None:
    def build(m: Any, o: Any) -> Any:
        first = m.LinearLR(o, start_factor=0.1, total_iters=warmup)
        second = m.CosineAnnealingLR(o, T_max=20 - warmup, eta_min=1e-5)
        return m.SequentialLR(o, [first, second], milestones=[warmup])

    _trace(build, 25)


def test_sequential_three_parts() -> None:
    def build(m: Any, o: Any) -> Any:
        parts = [
            m.ConstantLR(o, factor=0.5, total_iters=2),
            m.ExponentialLR(o, gamma=0.8),
            m.StepLR(o, step_size=3, gamma=0.5),
        ]
        return m.SequentialLR(o, parts, milestones=[4, 9])

    _trace(build, 20)


def test_two_schedules_on_one_optimizer_share_initial_lr() -> None:
    """As in torch, a second schedule starts from the first one's initial_lr."""
    _trace(lambda m, o: (m.StepLR(o, 2), m.ExponentialLR(o, gamma=0.5))[1], 6)
