"""Callbacks for ``fit``: ``EarlyStopping``, ``ModelCheckpoint`` and ``CSVLogger`` (Keras's),
and ``Diagnostics`` (per-layer training health, in ``lab/diagnostics.py``).

Each is a ``Callback`` (``scratchcnn.model.callbacks``): ``fit`` sets ``callback.model`` and
calls its hooks. They survive a resume without state of their own in the checkpoint: a
resumed ``fit`` (``info["initial_epoch"] > 0``) replays ``model.history`` to rebuild the best
value and the epochs waited, and ``CSVLogger`` rewrites its file from the rows it holds and
the history, so a run stopped and resumed logs and stops exactly as one that never stopped.
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from pathlib import Path
from typing import Any

from scratchcnn.atomic import atomic_write
from scratchcnn.lab.diagnostics import Diagnostics, LayerStats
from scratchcnn.model.callbacks import Callback

__all__ = [
    "CSVLogger",
    "Callback",
    "Diagnostics",
    "EarlyStopping",
    "LayerStats",
    "ModelCheckpoint",
]

_MODES = ("auto", "min", "max")


def _mode(mode: str, monitor: str, owner: str) -> str:
    """'min' or 'max'; 'auto' is 'max' for accuracies, 'min' for the rest (losses)."""
    if mode not in _MODES:
        raise ValueError(f"{owner}: mode must be one of 'auto', 'min', 'max', but got {mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


def _check_monitor(monitor: Any, owner: str) -> str:
    if not isinstance(monitor, str) or not monitor:
        raise TypeError(f"{owner}: monitor must be a metric name like 'val_loss', got {monitor!r}")
    return monitor


def _monitored(event: dict[str, Any], monitor: str, owner: str) -> float | None:
    """The monitored value of an epoch event; an error naming the metrics when it is absent."""
    if monitor not in event:
        known = [k for k in ("loss", "accuracy", "val_loss", "val_accuracy", "lr") if k in event]
        hint = " (pass validation_data or validation_split)" if monitor.startswith("val_") else ""
        raise ValueError(
            f"{owner}: monitor {monitor!r} is not a metric of this fit; it has "
            f"{', '.join(map(repr, known))}{hint}"
        )
    value = event[monitor]
    return None if value is None else float(value)


class _Tracker:
    """The best value of one metric so far and the epochs since it improved (by min_delta)."""

    def __init__(self, mode: str, min_delta: float) -> None:
        self.mode, self.min_delta = mode, min_delta
        self.reset()

    def reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.wait = 0

    def improves(self, value: float | None) -> bool:
        if value is None or math.isnan(value):
            return False
        if self.mode == "min":
            return value + self.min_delta < self.best
        return value - self.min_delta > self.best

    def update(self, value: float | None, epoch: int) -> bool:
        """Count one epoch; True (and a new best) when ``value`` improves on the best."""
        self.wait += 1
        if self.improves(value):
            self.best, self.best_epoch, self.wait = float(value), epoch, 0  # type: ignore[arg-type]
            return True
        return False

    def replay(self, values: list[float | None]) -> None:
        """Rebuild the state from the epochs of a run being resumed."""
        self.reset()
        for epoch, value in enumerate(values, start=1):
            self.update(value, epoch)


def _past_values(model: Any, monitor: str, initial_epoch: int) -> list[float | None]:
    history = getattr(model, "history", None)
    values = list(history.history.get(monitor, [])) if history is not None else []
    return values[:initial_epoch]


class EarlyStopping(Callback):
    """Stop ``fit`` when ``monitor`` has not improved for ``patience`` epochs.

    An improvement is a change of more than ``min_delta`` in the right direction (``mode``
    'min', 'max', or 'auto': max for accuracies). With ``restore_best_weights`` the model ends
    with the weights of its best epoch (kept in memory; a resumed run keeps those of the
    epochs it trained, and warns when the best epoch came before the resume).
    ``stopped_epoch`` is the epoch it stopped at (0 when it did not), ``best_epoch`` the best.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ) -> None:
        owner = "EarlyStopping"
        self.monitor = _check_monitor(monitor, owner)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"{owner}: patience must be a non-negative int, got {patience!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)):
            raise TypeError(f"{owner}: min_delta must be a number, but got {min_delta!r}")
        self.patience = patience
        self.min_delta = abs(float(min_delta))
        self.mode = _mode(mode, self.monitor, owner)
        self.restore_best_weights = bool(restore_best_weights)
        self._tracker = _Tracker(self.mode, self.min_delta)
        self.stopped_epoch = 0
        self._best_weights: Any = None

    @property
    def best(self) -> float:
        return self._tracker.best

    @property
    def best_epoch(self) -> int | None:
        return self._tracker.best_epoch

    @property
    def wait(self) -> int:
        return self._tracker.wait

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
            f"min_delta={self.min_delta}, mode={self.mode!r}, "
            f"restore_best_weights={self.restore_best_weights})"
        )

    def on_train_begin(self, info: dict[str, Any]) -> None:
        self._initial_epoch = int(info.get("initial_epoch", 0))
        self._tracker.replay(_past_values(self.model, self.monitor, self._initial_epoch))
        self.stopped_epoch = 0
        self._best_weights = None

    def on_epoch_end(self, event: dict[str, Any]) -> None:
        value = _monitored(event, self.monitor, "EarlyStopping")
        epoch = int(event["epoch"])
        if self._tracker.update(value, epoch):
            if self.restore_best_weights:
                self._best_weights = self.model._snapshot()
            return
        if self._tracker.wait >= self.patience:  # Keras's rule: patience 0 stops at once
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, history: Any) -> None:
        if not self.restore_best_weights or self._tracker.best_epoch is None:
            return
        if self._best_weights is not None:
            self.model._restore(self._best_weights)
            self._best_weights = None
        elif self._tracker.best_epoch <= self._initial_epoch:
            warnings.warn(
                f"EarlyStopping: the best epoch ({self._tracker.best_epoch}) came before this "
                "fit resumed, and its weights are not in the checkpoint; the model keeps the "
                "weights of its last epoch (ModelCheckpoint(save_best_only=True) keeps the best)",
                RuntimeWarning,
                stacklevel=2,
            )


class ModelCheckpoint(Callback):
    """Save the model after every epoch, or only when ``monitor`` improves (``save_best_only``).

    ``filepath`` may hold ``{epoch}`` and metric fields (``"ckpt-{epoch:03d}-{val_loss:.3f}.npz"``).
    Saving is ``model.save``: atomic (a temporary file, synced, renamed over the old one), so a
    crash never leaves half a file, and the file resumes training like fit's own checkpoint.
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        min_delta: float = 0.0,
    ) -> None:
        owner = "ModelCheckpoint"
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"{owner}: filepath must be a str or a path, but got {filepath!r}")
        self.filepath = os.fspath(filepath)
        folder = Path(self.filepath).parent
        if str(folder) and not folder.is_dir():
            raise FileNotFoundError(f"{owner}: the folder {str(folder)!r} does not exist")
        self.monitor = _check_monitor(monitor, owner)
        self.save_best_only = bool(save_best_only)
        self.mode = _mode(mode, self.monitor, owner)
        self._tracker = _Tracker(self.mode, abs(float(min_delta)))
        self.last_saved: str | None = None

    def __repr__(self) -> str:
        return (
            f"ModelCheckpoint({self.filepath!r}, monitor={self.monitor!r}, "
            f"save_best_only={self.save_best_only})"
        )

    @property
    def best(self) -> float:
        return self._tracker.best

    def on_train_begin(self, info: dict[str, Any]) -> None:
        initial = int(info.get("initial_epoch", 0))
        self._tracker.replay(_past_values(self.model, self.monitor, initial))

    def path_for(self, event: dict[str, Any]) -> str:
        """``filepath`` with the epoch's number and metrics filled in."""
        fields = {k: v for k, v in event.items() if isinstance(v, (int, float)) or v is None}
        try:
            return self.filepath.format(**fields)
        except (KeyError, ValueError, TypeError) as error:
            raise ValueError(
                f"ModelCheckpoint: cannot fill in {self.filepath!r} from the epoch's metrics "
                f"{sorted(fields)}: {error!r}"
            ) from error

    def on_epoch_end(self, event: dict[str, Any]) -> None:
        if self.save_best_only:
            value = _monitored(event, self.monitor, "ModelCheckpoint")
            if not self._tracker.update(value, int(event["epoch"])):
                return
        path = self.path_for(event)
        self.model.save(path)
        self.last_saved = path


_FIRST_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr")
_NOT_LOGGED = {
    "event", "epochs", "step", "steps", "samples", "total_samples", "batch_size",
    "images_per_second",
}  # fmt: skip


def _cell(value: Any) -> str:
    return "" if value is None else repr(float(value)) if isinstance(value, float) else str(value)


class CSVLogger(Callback):
    """One CSV row per epoch (epoch, loss, accuracy, val_loss, val_accuracy, lr, seconds, ...).

    Each row is flushed and synced when written. ``append=None`` (the default) starts a new
    file for a new training and continues the file when ``fit`` resumes; a resumed file keeps
    its rows up to the resumed epoch, and rows it lacks (an epoch checkpointed but killed
    before its row was written) are filled in from ``model.history``. ``append=True`` always
    keeps what is there, ``False`` always starts over.
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool | None = None
    ) -> None:
        owner = "CSVLogger"
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"{owner}: filename must be a str or a path, but got {filename!r}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"{owner}: separator must be one character, but got {separator!r}")
        self.filename = Path(filename)
        self.separator = separator
        self.append = append
        self._file: Any = None
        self._columns: list[str] | None = None
        self._pending: list[dict[str, str]] = []  # rows to rewrite before the next one

    def __repr__(self) -> str:
        return f"CSVLogger({str(self.filename)!r})"

    def on_train_begin(self, info: dict[str, Any]) -> None:
        initial = int(info.get("initial_epoch", 0))
        keep = self.append if self.append is not None else initial > 0
        self._columns, self._pending = None, []
        if keep:
            self._columns, rows = self._read()
            if self.append is None or initial > 0:
                rows = [r for r in rows if (r.get("epoch") or "").isdigit()]
                rows = [r for r in rows if int(r["epoch"]) <= initial]
                rows = self._fill_from_history(rows, initial)
            self._pending = rows
        self._needs_rewrite = True

    def _read(self) -> tuple[list[str] | None, list[dict[str, str]]]:
        if not self.filename.is_file():
            return None, []
        with open(self.filename, newline="") as f:
            reader = csv.DictReader(f, delimiter=self.separator)
            rows = list(reader)
            return (list(reader.fieldnames) if reader.fieldnames else None), rows

    def _fill_from_history(self, rows: list[dict[str, str]], initial: int) -> list[dict[str, str]]:
        history = getattr(self.model, "history", None)
        if history is None:
            return rows
        have = {int(r["epoch"]) for r in rows}
        by_epoch = {int(r["epoch"]): r for r in rows}
        for epoch in range(1, min(initial, history.epochs) + 1):
            if epoch not in have:
                row = {"epoch": str(epoch)}
                for key, values in history.history.items():
                    row[key] = _cell(values[epoch - 1])
                by_epoch[epoch] = row
        return [by_epoch[e] for e in sorted(by_epoch)]

    def _row(self, event: dict[str, Any]) -> dict[str, str]:
        return {
            key: _cell(value)
            for key, value in event.items()
            if key not in _NOT_LOGGED and (value is None or isinstance(value, (int, float)))
        }

    def on_epoch_end(self, event: dict[str, Any]) -> None:
        row = self._row(event)
        if self._needs_rewrite:
            seen = list(self._columns or [])
            for r in [*self._pending, row]:
                seen.extend(k for k in r if k not in seen)
            ordered = [c for c in _FIRST_COLUMNS if c in seen]
            self._columns = ordered + [c for c in seen if c not in ordered]
            rows = [*self._pending, row]
            self._pending = []
            text = io.StringIO()
            writer = csv.DictWriter(
                text, self._columns, delimiter=self.separator, lineterminator="\n", restval=""
            )
            writer.writeheader()
            writer.writerows(rows)
            atomic_write(self.filename, lambda f: f.write(text.getvalue().encode()))
            self._file = open(self.filename, "a", newline="")  # closed in on_train_end
            self._needs_rewrite = False
            return
        writer = csv.DictWriter(
            self._file, self._columns, delimiter=self.separator, lineterminator="\n",
            restval="", extrasaction="ignore",
        )  # fmt: skip
        writer.writerow(row)
        self._file.flush()
        os.fsync(self._file.fileno())

    def on_train_end(self, history: Any) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
