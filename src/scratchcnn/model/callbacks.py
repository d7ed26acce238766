"""What ``fit`` reports: the ``History`` it returns and the progress hooks it calls.

A hook is any callable taking one event dict (``{"event": "batch" | "epoch", ...}``);
``TqdmProgress`` is the default one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

ProgressHook = Callable[[dict[str, Any]], Any]


class History:
    """What ``fit`` returns: per-epoch metrics in ``history`` (a dict of lists, like Keras).

    Keys: ``loss``, ``accuracy``, ``seconds`` and, with validation data, ``val_loss`` and
    ``val_accuracy``; one entry per completed epoch (accuracy is None when undefined, e.g. for
    regression targets). ``interrupted`` is True after a Ctrl+C; ``stopped_reason`` says why
    training ended early (None when all epochs ran); ``best_epoch`` is set by ``keep_best``.
    """

    def __init__(self, validation: bool = False) -> None:
        keys = ["loss", "accuracy"] + (["val_loss", "val_accuracy"] if validation else [])
        self.history: dict[str, list[float | None]] = {key: [] for key in [*keys, "seconds"]}
        self.interrupted = False
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

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-able dict: the per-epoch lists of ``history``, then the flags.

        ``{"loss": [...], "accuracy": [...], ..., "epochs": 3, "interrupted": False,
        "stopped_reason": None, "best_epoch": 2}``; NaN and infinity become None.
        """

        def clean(value: float | None) -> float | None:
            return None if value is None or not math.isfinite(value) else float(value)

        return {
            **{key: [clean(v) for v in values] for key, values in self.history.items()},
            "epochs": self.epochs,
            "interrupted": self.interrupted,
            "stopped_reason": self.stopped_reason,
            "best_epoch": self.best_epoch,
        }

    def __repr__(self) -> str:
        return (
            f"History(epochs={self.epochs}, interrupted={self.interrupted}, "
            f"stopped_reason={self.stopped_reason!r})"
        )


class TqdmProgress:
    """The default progress hook: a tqdm bar per epoch (verbose=1) or one line (verbose=2).

    A hook is any callable taking one event dict; ``fit`` sends ``{"event": "batch", ...}``
    after each completed step and ``{"event": "epoch", ...}`` after each epoch, with the keys
    epoch, epochs, step, steps, samples, loss, accuracy, seconds, images_per_second (and
    val_loss, val_accuracy for epochs with validation).
    """

    def __init__(self, verbose: int = 1) -> None:
        self.verbose = verbose
        self._bar: Any = None

    def __call__(self, event: dict[str, Any]) -> None:
        if event["event"] == "batch" and self.verbose == 1:
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(
                    total=event["total_samples"],
                    desc=f"Epoch {event['epoch']}/{event['epochs']}",
                    unit="img",
                    leave=True,
                    dynamic_ncols=True,
                )
            self._bar.set_postfix_str(_metrics_text(event), refresh=False)
            self._bar.update(event["batch_size"])
        elif event["event"] == "epoch":
            if self._bar is not None:  # tqdm shows the rate itself
                self._bar.set_postfix_str(_metrics_text(event) + f", {event['seconds']:.1f}s")
                self._bar.close()
                self._bar = None
            elif self.verbose:
                text = _metrics_text(event, with_rate=True) + f", {event['seconds']:.1f}s"
                print(f"Epoch {event['epoch']}/{event['epochs']}: {text}", flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _metrics_text(event: dict[str, Any], with_rate: bool = False) -> str:
    parts = [f"loss={event['loss']:.4f}"]
    if event.get("accuracy") is not None:
        parts.append(f"acc={event['accuracy']:.4f}")
    if event.get("val_loss") is not None:
        parts.append(f"val_loss={event['val_loss']:.4f}")
    if event.get("val_accuracy") is not None:
        parts.append(f"val_acc={event['val_accuracy']:.4f}")
    if with_rate:
        parts.append(f"{event['images_per_second']:.0f} img/s")
    return ", ".join(parts)
