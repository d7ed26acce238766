"""Training: ``fit``, one step, and what keeps a run safe (Ctrl+C, NaN and infinity).

Each step runs forward, the loss, backward (every gradient first), then the optimizer's
updates, which a Ctrl+C or SIGTERM cannot cut in half (``InterruptGuard``). A NaN or
infinite output, loss or gradient stops the step before any update (``NonFiniteError``).
``TrainingMixin`` holds the methods a container gets; it needs the container's ``layers``,
``loss``, ``optimizer``, ``forward``/``backward``, ``save`` and input checks. A model's
training goes on over several ``fit`` calls and across save/load: ``history``, the epoch
count and the random streams continue (resume.py).
"""

from __future__ import annotations

import math
import os
import signal
import time
import warnings
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from scratchcnn.model.callbacks import CallbackList, ProgressHook, TqdmProgress
from scratchcnn.model.history import History
from scratchcnn.model.interrupts import InterruptGuard, signal_of
from scratchcnn.model.resume import EpochStreams, check_seed, resolve_seed
from scratchcnn.validation import check_positive_int


class NonFiniteError(Exception):
    """Raised inside ``fit`` when a step meets NaN or infinity (the reason is the message)."""


def all_finite(a: np.ndarray) -> bool:
    """True when every element is finite; a sum first, the exact check only on suspicion."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(a.sum()):
            return True
    return bool(np.isfinite(a).all())


def n_correct(outputs: np.ndarray, labels: np.ndarray) -> int | None:
    """Correct argmax predictions in a batch, or None when accuracy is undefined."""
    if outputs.ndim != 2 or outputs.shape[1] < 2:
        return None
    predicted = outputs.argmax(axis=1)
    if labels.ndim == 1 and labels.dtype.kind in "iu":
        return int(np.count_nonzero(predicted == labels))
    if labels.shape == outputs.shape:
        return int(np.count_nonzero(predicted == labels.argmax(axis=1)))
    return None


class EpochStart:
    """The weights, buffers and optimizer state of a model at the start of an epoch."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.weights = model._snapshot()
        optimizer = model.optimizer
        self.optimizer_state = (
            optimizer.state_dict(model.layers) if hasattr(optimizer, "state_dict") else None
        )

    def restore(self) -> None:
        self.model._restore(self.weights)
        if self.optimizer_state is not None:
            self.model.optimizer.load_state_dict(self.model.layers, self.optimizer_state)


class TrainingMixin:
    """``fit`` and ``train_step`` for a container of layers (see the module docstring)."""

    layers: list[Any]
    history: History
    shuffle_seed: int | None
    stop_training: bool

    def _init_training(self) -> None:
        """The state of a model that has not trained yet; containers call it in __init__."""
        self.history = History()
        self.shuffle_seed = None
        self._lent_rngs: frozenset[int] = frozenset()
        self.stop_training = False

    @property
    def epochs_trained(self) -> int:
        """Epochs completed over all ``fit`` calls (a loaded model's included)."""
        return self.history.epochs

    def fit(
        self,
        X: Any,
        y: Any,
        epochs: int = 1,
        batch_size: int = 32,
        validation_data: tuple[Any, Any] | None = None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        seed: int | np.random.Generator | None = None,
        verbose: int = 1,
        callbacks: Sequence[Any] = (),
        progress: ProgressHook | None = None,
        checkpoint_path: str | os.PathLike[str] | None = None,
        keep_best: bool = False,
    ) -> History:
        """Train ``epochs`` more epochs over X (N, *sample_shape) and y (N,) labels or (N, K).

        Training continues where the model stands: epoch numbers, ``model.history`` and the
        shuffle stream go on, so ``fit(epochs=2)`` twice (or on a model loaded from a
        checkpoint in between) trains exactly as ``fit(epochs=4)``. ``seed`` (an int or a
        Generator) fixes the shuffle and Dropout streams; None keeps the model's. Returns a
        copy of ``model.history`` (every epoch so far).

        ``validation_split`` holds out the last fraction of the samples (before shuffling,
        as Keras does). ``callbacks`` are ``Callback`` objects or callables taking event
        dicts (see callbacks.py); ``progress`` replaces the default tqdm bar (verbose=1; 2 is
        one line per epoch). Ctrl+C (or SIGTERM inside ``sigterm_as_interrupt``) returns the
        history so far with ``interrupted=True`` and the weights of the last completed step.
        A NaN or infinite loss or gradient stops training before that step's update.
        ``checkpoint_path`` saves the model, its optimizer and training state after every
        epoch (atomically, never cut by a Ctrl+C); ``keep_best`` restores the weights of this
        call's epoch with the lowest validation loss at the end.
        """
        owner = "Sequential.fit"
        epochs = check_positive_int(epochs, "epochs", owner)
        batch_size = check_positive_int(batch_size, "batch_size", owner)
        seed = check_seed(seed, owner)
        X, y, X_val, y_val = self._fit_data(X, y, validation_data, validation_split, owner)
        if keep_best and X_val is None:
            raise ValueError(f"{owner}: keep_best=True needs validation_data or validation_split")
        hooks = list(callbacks) if progress is None else [progress, *callbacks]
        if progress is None and verbose:
            hooks.insert(0, TqdmProgress(verbose))
        callback_list = CallbackList(hooks, owner)
        if checkpoint_path is not None:
            checkpoint_path = Path(checkpoint_path)
            self.get_config()  # type: ignore[attr-defined]  # an unsavable model fails now
            folder = checkpoint_path.parent if str(checkpoint_path.parent) else Path(".")
            if not folder.is_dir():
                raise FileNotFoundError(
                    f"{owner}: the folder of checkpoint_path {str(folder)!r} does not exist"
                )

        history = self.history
        history.start_run()
        streams = EpochStreams(self, resolve_seed(self, seed))
        first, last = history.epochs + 1, history.epochs + epochs
        finite_val = [v for v in history.history.get("val_loss", []) if v is not None]
        best_loss = min(finite_val, default=math.inf)
        best_weights: list[dict[str, np.ndarray]] | None = None
        where = {"epoch": first, "step": 0}  # for the message after a Ctrl+C
        was_training = self.training  # type: ignore[attr-defined]
        self.stop_training = False
        self.train()  # type: ignore[attr-defined]
        callback_list.set_model(self)
        try:
            callback_list.on_train_begin({"initial_epoch": first - 1, "epochs": last})
            with InterruptGuard() as guard, streams:
                for epoch in range(first, last + 1):
                    where["epoch"], where["step"] = epoch, 0
                    order_rng = streams.shuffle(epoch)
                    order = order_rng.permutation(X.shape[0]) if shuffle else None
                    callback_list.on_epoch_begin(epoch)
                    start = time.perf_counter()
                    event = self._train_epoch(
                        X, y, order, batch_size, epoch, last, callback_list, guard, where
                    )
                    if X_val is not None:
                        event["val_loss"], event["val_accuracy"] = self._evaluate_checked(  # type: ignore[attr-defined]
                            X_val, y_val, max(batch_size, 256)
                        )
                        self.train()  # type: ignore[attr-defined]
                    event["seconds"] = time.perf_counter() - start
                    improved = X_val is not None and event["val_loss"] < best_loss
                    if improved:
                        best_loss = event["val_loss"]
                    # the record and its checkpoint change together, or not at all
                    guard.run(partial(self._record_epoch, event, improved, checkpoint_path))
                    if improved and keep_best:
                        best_weights = self._snapshot()
                    callback_list.on_epoch_end(event)
                    if self.stop_training:
                        if epoch < last:
                            history.stopped_reason = (
                                f"stop_training was set by a callback at epoch {epoch}, "
                                f"step {where['step']}"
                            )
                        break
        except KeyboardInterrupt as stop:
            history.interrupted = True
            history.signal = signal_of(stop)
            name = "KeyboardInterrupt" if history.signal == signal.SIGINT else "SIGTERM"
            history.stopped_reason = (
                f"interrupted ({name}) during epoch {where['epoch']}, step {where['step']}; "
                "the weights are those of the last completed step"
            )
        except NonFiniteError as stop:
            history.diverged = True
            history.stopped_reason = (
                f"{stop} Stopped at epoch {where['epoch']}, step {where['step']}."
            )
            warnings.warn(f"Sequential.fit stopped: {stop}", RuntimeWarning, stacklevel=2)
        finally:
            try:
                callback_list.on_train_end(history)
            finally:
                self._clear_caches()  # type: ignore[attr-defined]
                self.train(was_training)  # type: ignore[attr-defined]
        if keep_best and best_weights is not None:
            self._restore(best_weights)
        return history.copy()

    def _record_epoch(
        self, event: dict[str, Any], improved: bool, checkpoint_path: Path | None
    ) -> None:
        metrics = {
            key: event[key]
            for key in ("loss", "accuracy", "val_loss", "val_accuracy")
            if key in event
        }
        metrics["seconds"] = event["seconds"]
        self.history.append(metrics)
        if improved:
            self.history.best_epoch = event["epoch"]
        if checkpoint_path is not None:
            self.save(checkpoint_path)  # type: ignore[attr-defined]

    def _fit_data(
        self,
        X: Any,
        y: Any,
        validation_data: tuple[Any, Any] | None,
        validation_split: float,
        owner: str,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Checked ``(X, y, X_val, y_val)``; the validation pair is None without validation."""
        if isinstance(validation_split, bool) or not isinstance(
            validation_split, (int, float, np.floating)
        ):
            raise TypeError(
                f"{owner}: validation_split must be a number in [0, 1), got {validation_split!r}"
            )
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(
                f"{owner}: validation_split must be in [0, 1), but got {validation_split}"
            )
        X, out_shape = self._check_X(X, owner)
        y = self._check_y(y, X.shape[0], out_shape, owner)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError(f"{owner}: validation_data must be a tuple (X_val, y_val)")
            X_val, val_shape = self._check_X(validation_data[0], owner + " (validation_data)")
            y_val = self._check_y(validation_data[1], X_val.shape[0], val_shape, owner)
            return X, y, X_val, y_val
        if validation_split > 0:
            n_train = int(X.shape[0] * (1.0 - validation_split))
            if n_train < 1 or n_train == X.shape[0]:
                raise ValueError(
                    f"{owner}: validation_split={validation_split} of {X.shape[0]} samples leaves "
                    "an empty training or validation set"
                )
            return X[:n_train], y[:n_train], X[n_train:], y[n_train:]
        return X, y, None, None

    def _train_epoch(
        self,
        X: np.ndarray,
        y: np.ndarray,
        order: np.ndarray | None,
        batch_size: int,
        epoch: int,
        epochs: int,
        callback_list: CallbackList,
        guard: InterruptGuard,
        where: dict[str, int],
    ) -> dict[str, Any]:
        """One pass over X in ``order`` (None: as stored); returns the epoch's event dict."""
        start = time.perf_counter()
        snapshot = EpochStart(self)  # restored if the weights go bad (NaN, infinity)
        n = X.shape[0]
        steps = math.ceil(n / batch_size)
        total_loss, correct, seen = 0.0, 0, 0
        has_accuracy = True
        for step in range(1, steps + 1):
            where["step"] = step
            lo, hi = (step - 1) * batch_size, min(step * batch_size, n)
            index = slice(lo, hi) if order is None else order[lo:hi]
            loss, batch_correct = self._train_step(
                self._batch(X, index),
                y[index],
                guard,
                snapshot,  # type: ignore[attr-defined]
            )
            seen += hi - lo
            total_loss += loss * (hi - lo)
            has_accuracy = has_accuracy and batch_correct is not None
            correct += batch_correct or 0
            elapsed = time.perf_counter() - start
            event = {
                "event": "batch",
                "epoch": epoch,
                "epochs": epochs,
                "step": step,
                "steps": steps,
                "batch_size": hi - lo,
                "samples": seen,
                "total_samples": n,
                "loss": total_loss / seen,
                "accuracy": correct / seen if has_accuracy else None,
                "seconds": elapsed,
                "images_per_second": seen / elapsed if elapsed > 0 else 0.0,
            }
            callback_list.on_batch_end(event)
            if self.stop_training:
                break
        epoch_event = {key: value for key, value in event.items() if key != "batch_size"}
        epoch_event["event"] = "epoch"  # a new dict: callbacks may have kept the batch event
        return epoch_event

    def train_step(self, X: Any, y: Any) -> float:
        """One optimizer step on one batch: forward, loss, backward, update; returns the loss.

        The step ``fit`` takes, without its epochs and hooks. A NaN or infinite output, loss
        or gradient raises ``FloatingPointError`` before any update is applied.
        """
        owner = "Sequential.train_step"
        X, out_shape = self._check_X(X, owner)
        y = self._check_y(y, X.shape[0], out_shape, owner)
        self.train()
        with InterruptGuard() as guard:
            try:
                loss, _ = self._train_step(X.astype(self.dtype, copy=False), y, guard, None)
            except NonFiniteError as error:
                raise FloatingPointError(f"{owner}: {error}") from None
        return loss

    def _train_step(
        self,
        Xb: np.ndarray,
        yb: np.ndarray,
        guard: InterruptGuard,
        snapshot: EpochStart | None,
    ) -> tuple[float, int | None]:
        """One step: forward, loss, backward, then all updates (or none, on NaN/infinity).

        NumPy's overflow warnings are silenced here: a non-finite result is caught below and
        reported once, with what happened to the weights.
        """
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._checked_step(Xb, yb, guard, snapshot)

    def _checked_step(
        self,
        Xb: np.ndarray,
        yb: np.ndarray,
        guard: InterruptGuard,
        snapshot: EpochStart | None,
    ) -> tuple[float, int | None]:
        logits = self.forward(Xb)
        if not all_finite(logits):
            if snapshot is None:
                raise NonFiniteError(
                    "the model's outputs became NaN or infinite; this step's update was not "
                    "applied (the weights are those of the last completed step). Try a smaller "
                    "learning rate."
                )
            # weights that give NaN or infinity on real data are not worth keeping
            snapshot.restore()
            raise NonFiniteError(
                "the model's outputs became NaN or infinite; the weights and optimizer state "
                "of the start of this epoch were restored. Try a smaller learning rate."
            )
        loss = self.loss.forward(logits, yb)
        if not math.isfinite(loss):
            raise NonFiniteError(
                f"the loss became {loss}; this step's update was not applied (the weights are "
                "those of the last completed step). Try a smaller learning rate."
            )
        batch_correct = n_correct(logits, yb)
        self.backward(self.loss.backward())
        trainable = self.layers[self._first_trainable :]
        for i, layer in enumerate(trainable, start=self._first_trainable):
            for name, grad in layer.grads().items():
                if grad is not None and not all_finite(grad):
                    raise NonFiniteError(
                        f"the gradient of layer {i} {layer!r} ({name}) became NaN or infinite; "
                        "this step's update was not applied (the weights are those of the last "
                        "completed step)."
                    )

        def updates() -> None:
            for layer in trainable:
                if layer.param_names:
                    self.optimizer.update(layer)

        guard.run(updates)
        for i, layer in enumerate(trainable, start=self._first_trainable):
            if not all(all_finite(p) for p in layer.params().values()):
                if snapshot is None:
                    raise NonFiniteError(
                        f"an update made the parameters of layer {i} {layer!r} NaN or infinite. "
                        "Try a smaller learning rate."
                    )
                snapshot.restore()
                raise NonFiniteError(
                    f"an update made the parameters of layer {i} {layer!r} NaN or infinite; the "
                    "weights and optimizer state of the start of this epoch were restored. Try "
                    "a smaller learning rate."
                )
        return loss, batch_correct

    def _snapshot(self) -> list[dict[str, np.ndarray]]:
        return [
            {k: v.copy() for k, v in (*layer.params().items(), *layer.buffers().items())}
            for layer in self.layers
        ]

    def _restore(self, snapshot: list[dict[str, np.ndarray]]) -> None:
        # in place, so optimizers (which hold state per parameter) see the same arrays
        for layer, saved in zip(self.layers, snapshot, strict=True):
            for name, value in saved.items():
                layer._get_array(name)[...] = value
