"""``History``: the per-epoch record of a model's training, over every ``fit`` it went through."""

from __future__ import annotations

import copy
import math
from typing import Any


class History:
    """Per-epoch metrics in ``history`` (a dict of lists, like Keras), one entry per epoch.

    Keys: ``loss``, ``accuracy``, ``seconds`` and, with validation data, ``val_loss`` and
    ``val_accuracy`` (accuracy is None when undefined, e.g. for regression targets). A model
    keeps one (``model.history``) over all its ``fit`` calls and saves it; ``fit`` returns a
    copy. The flags describe the last ``fit``: ``interrupted`` (Ctrl+C or SIGTERM, then
    ``signal`` is its number), ``diverged`` (stopped on NaN or infinity), ``stopped_reason``
    (why it ended early, None when every epoch ran); ``best_epoch`` is the epoch with the
    lowest validation loss.
    """

    def __init__(self, validation: bool = False) -> None:
        keys = ["loss", "accuracy"] + (["val_loss", "val_accuracy"] if validation else [])
        self.history: dict[str, list[float | None]] = {key: [] for key in [*keys, "seconds"]}
        self.interrupted = False
        self.signal: int | None = None
        self.diverged = False
        self.stopped_reason: str | None = None
        self.best_epoch: int | None = None

    @property
    def epochs(self) -> int:
        """The number of completed epochs."""
        return len(self.history["loss"])

    def __getitem__(self, key: str) -> list[float | None]:
        return self.history[key]

    def __len__(self) -> int:
        return self.epochs

    def append(self, metrics: dict[str, float | None]) -> None:
        """Record one epoch; a metric seen for the first time gets None for earlier epochs."""
        n = self.epochs
        for key in metrics:
            if key not in self.history:
                self.history[key] = [None] * n
        for key, values in self.history.items():
            value = metrics.get(key)
            values.append(None if value is None else float(value))

    def start_run(self) -> None:
        """Clear the flags of the previous ``fit`` (the per-epoch record stays)."""
        self.interrupted = False
        self.signal = None
        self.diverged = False
        self.stopped_reason = None

    def copy(self) -> History:
        return copy.deepcopy(self)

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-able dict: the per-epoch lists of ``history``, then the flags.

        ``{"loss": [...], "accuracy": [...], ..., "epochs": 3, "interrupted": False,
        "stopped_reason": None, "best_epoch": 2, "diverged": False}``; NaN and infinity
        become None.
        """

        def clean(value: float | None) -> float | None:
            return None if value is None or not math.isfinite(value) else float(value)

        return {
            **{key: [clean(v) for v in values] for key, values in self.history.items()},
            "epochs": self.epochs,
            "interrupted": self.interrupted,
            "stopped_reason": self.stopped_reason,
            "best_epoch": self.best_epoch,
            "diverged": self.diverged,
        }

    def state(self) -> dict[str, Any]:
        """Everything, exactly (NaN and infinity kept), for a checkpoint; see ``from_state``."""
        return {
            "history": {key: list(values) for key, values in self.history.items()},
            "interrupted": self.interrupted,
            "signal": self.signal,
            "diverged": self.diverged,
            "stopped_reason": self.stopped_reason,
            "best_epoch": self.best_epoch,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> History:
        """The History that ``state()`` described; ValueError when the lists do not agree."""
        history = cls()
        columns = state["history"]
        if not isinstance(columns, dict) or "loss" not in columns:
            raise ValueError("the history has no per-epoch loss")
        lengths = {len(values) for values in columns.values()}
        if len(lengths) != 1:
            raise ValueError(f"the history's lists have different lengths {sorted(lengths)}")
        history.history = {
            str(key): [None if v is None else float(v) for v in values]
            for key, values in columns.items()
        }
        history.interrupted = bool(state.get("interrupted", False))
        history.signal = state.get("signal")
        history.diverged = bool(state.get("diverged", False))
        history.stopped_reason = state.get("stopped_reason")
        best = state.get("best_epoch")
        history.best_epoch = None if best is None else int(best)
        return history

    def __repr__(self) -> str:
        return (
            f"History(epochs={self.epochs}, interrupted={self.interrupted}, "
            f"stopped_reason={self.stopped_reason!r})"
        )
