"""``SequentialLR``: schedules one after another (e.g. a linear warm-up, then cosine)."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

from scratchcnn.schedules.base import LRScheduler, check_int


class SequentialLR(LRScheduler):
    """Run ``schedulers[i]`` from ``milestones[i-1]`` to ``milestones[i]``, as torch does.

    All must wrap ``optimizer``. At a milestone the next schedule restarts from its step 0
    (its closed form at 0: the base rate for most). Example, 5 warm-up epochs then cosine::

        warmup = LinearLR(opt, start_factor=0.1, total_iters=5)
        cosine = CosineAnnealingLR(opt, T_max=epochs - 5)
        schedule = SequentialLR(opt, [warmup, cosine], milestones=[5])
    """

    def __init__(
        self,
        optimizer: Any,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        owner = "SequentialLR"
        if isinstance(schedulers, LRScheduler) or not isinstance(schedulers, Sequence):
            raise TypeError(f"{owner}: schedulers must be a list of schedules")
        if len(schedulers) < 1:
            raise ValueError(f"{owner}: expects at least one scheduler, but got none")
        for i, scheduler in enumerate(schedulers):
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(
                    f"{owner}: schedulers[{i}] must be a schedule, but got "
                    f"{type(scheduler).__name__}"
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"{owner}: expects all schedulers to wrap the same optimizer, but "
                    f"schedulers[{i}] ({type(scheduler).__name__}) wraps another one"
                )
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Sequence):
            raise TypeError(f"{owner}: milestones must be a list of ints, but got {milestones!r}")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"{owner}: expects one milestone fewer than schedulers, but got "
                f"{len(schedulers)} schedulers and {len(milestones)} milestones"
            )
        self._milestones = [check_int(m, "milestones", owner, 0) for m in milestones]
        if self._milestones != sorted(self._milestones):
            raise ValueError(f"{owner}: milestones must be increasing, but got {self._milestones}")
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self.last_epoch = check_int(last_epoch, "last_epoch", owner, -1) + 1
        self.base_lrs = [float(optimizer.initial_lr)]
        self._step_count = 0
        self._is_initial = False
        optimizer.lr = optimizer.initial_lr
        for scheduler in self._schedulers:  # undo the step each one took when it was built
            _undo_step(scheduler)
        first = self._schedulers[bisect.bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        """Advance one step in the schedule whose interval holds the new step."""
        self._step_count += 1
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def get_config(self) -> dict[str, Any]:
        return {
            "schedulers": [
                {"class": type(s).__name__, "config": s.get_config()} for s in self._schedulers
            ],
            "milestones": list(self._milestones),
        }

    def state_dict(self) -> dict[str, Any]:
        """Its own step and rate plus the ``state_dict`` of each schedule in ``schedulers``."""
        return {
            "class": "SequentialLR",
            "milestones": list(self._milestones),
            "last_epoch": self.last_epoch,
            "step_count": self._step_count,
            "base_lrs": list(self.base_lrs),
            "last_lr": list(self._last_lr),
            "schedulers": [s.state_dict() for s in self._schedulers],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        owner = "SequentialLR.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{owner}: state must be a dict, but got {type(state).__name__}")
        if state.get("class") != "SequentialLR":
            raise ValueError(
                f"{owner}: the state was saved by {state.get('class')!r}, not by SequentialLR"
            )
        if len(state.get("schedulers", ())) != len(self._schedulers):
            raise ValueError(
                f"{owner}: the state holds {len(state.get('schedulers', ()))} schedules, but "
                f"this SequentialLR has {len(self._schedulers)}"
            )
        for scheduler, sub_state in zip(self._schedulers, state["schedulers"], strict=True):
            scheduler.load_state_dict(sub_state)
        self._milestones = [int(m) for m in state["milestones"]]
        self.last_epoch = int(state["last_epoch"])
        self._step_count = int(state["step_count"])
        self.base_lrs = [float(v) for v in state["base_lrs"]]
        self._last_lr = [float(v) for v in state["last_lr"]]
        self.optimizer.lr = self._last_lr[0]
        self.optimizer.initial_lr = self.base_lrs[0]


def _undo_step(scheduler: LRScheduler) -> None:
    if isinstance(scheduler, SequentialLR):
        for inner in scheduler._schedulers:
            _undo_step(inner)
    else:
        scheduler.last_epoch -= 1
