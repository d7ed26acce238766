"""Training: ``fit``, one step, and what keeps a run safe (Ctrl+C, NaN and infinity).

Each step runs forward, the loss, backward (every gradient first), then the optimizer's
updates, which a Ctrl+C cannot cut in half (``InterruptGuard``). A NaN or infinite output,
loss or gradient stops the step before any update (``NonFiniteError``). ``TrainingMixin``
holds the methods a container gets; it needs the container's ``layers``, ``loss``,
``optimizer``, ``forward``/``backward`` and input checks.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from scratchcnn.model.callbacks import History, ProgressHook, TqdmProgress
from scratchcnn.random import make_rng
from scratchcnn.validation import check_positive_int


class InterruptGuard:
    """Defers SIGINT while the optimizer updates run, so weights are never half-updated.

    Installed only from the main thread and only over Python's default handler; elsewhere a
    Ctrl+C behaves as usual (it can then land between two layers' updates).
    """

    def __init__(self) -> None:
        self.deferring = False
        self.pending = False
        self._previous: Any = None

    def __enter__(self) -> InterruptGuard:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.deferring:
            self.pending = True
            return
        raise KeyboardInterrupt

    def run(self, updates: Callable[[], None]) -> None:
        """Run ``updates`` with SIGINT deferred; a deferred Ctrl+C is raised after them."""
        self.deferring = True
        try:
            updates()
        finally:
            self.deferring = False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


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


class TrainingMixin:
    """``fit`` and ``train_step`` for a container of layers (see the module docstring)."""

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
        callbacks: Sequence[ProgressHook] = (),
        progress: ProgressHook | None = None,
        checkpoint_path: str | os.PathLike[str] | None = None,
        keep_best: bool = False,
    ) -> History:
        """Train for ``epochs`` over X (N, *sample_shape) and y (N,) labels or (N, K) rows.

        ``validation_split`` holds out the last fraction of the samples (before shuffling,
        as Keras does). ``progress`` (or each of ``callbacks``) is called with an event dict
        after every step and epoch (see ``TqdmProgress``); without one, verbose=1 shows a tqdm
        bar. A callback may set ``model.stop_training = True``. Ctrl+C returns the history so
        far with ``interrupted=True`` and the weights of the last completed step. A NaN or
        infinite loss or gradient stops training before that step's update is applied.
        ``checkpoint_path`` saves the model after every epoch; ``keep_best`` restores the
        weights of the epoch with the lowest validation loss at the end.
        """
        owner = "Sequential.fit"
        epochs = check_positive_int(epochs, "epochs", owner)
        batch_size = check_positive_int(batch_size, "batch_size", owner)
        X, y, X_val, y_val = self._fit_data(X, y, validation_data, validation_split, owner)
        if keep_best and X_val is None:
            raise ValueError(f"{owner}: keep_best=True needs validation_data or validation_split")
        hooks = list(callbacks) if progress is None else [progress, *callbacks]
        default_bar = TqdmProgress(verbose) if progress is None and verbose else None
        if default_bar is not None:
            hooks.insert(0, default_bar)
        for hook in hooks:
            if not callable(hook):
                raise TypeError(f"{owner}: progress and callbacks must be callables, got {hook!r}")
        if checkpoint_path is not None:
            self.get_config()  # a model that cannot be saved fails now, not after an epoch

        history = History(validation=X_val is not None)
        rng = make_rng(seed)
        best_loss = math.inf
        best_weights: list[dict[str, np.ndarray]] | None = None
        where = {"epoch": 0, "step": 0}  # for the message after a Ctrl+C
        was_training = self.training
        self.stop_training = False
        self.train()
        try:
            with InterruptGuard() as guard:
                for epoch in range(1, epochs + 1):
                    where["epoch"] = epoch
                    start = time.perf_counter()
                    order = rng.permutation(X.shape[0]) if shuffle else None
                    event = self._train_epoch(
                        X, y, order, batch_size, epoch, epochs, hooks, guard, where
                    )
                    if X_val is not None:
                        event["val_loss"], event["val_accuracy"] = self._evaluate_checked(
                            X_val, y_val, max(batch_size, 256)
                        )
                        self.train()
                    event["seconds"] = time.perf_counter() - start
                    for key, values in history.history.items():
                        values.append(event[key])
                    if X_val is not None and event["val_loss"] < best_loss:
                        best_loss = event["val_loss"]
                        history.best_epoch = epoch
                        if keep_best:
                            best_weights = self._snapshot()
                    if checkpoint_path is not None:
                        self.save(checkpoint_path)
                    for hook in hooks:
                        hook(event)
                    if self.stop_training:
                        if epoch < epochs:
                            history.stopped_reason = (
                                f"stop_training was set by a callback at epoch {epoch}, "
                                f"step {where['step']}"
                            )
                        break
        except KeyboardInterrupt:
            history.interrupted = True
            history.stopped_reason = (
                f"interrupted (KeyboardInterrupt) during epoch {where['epoch']}, step "
                f"{where['step']}; the weights are those of the last completed step"
            )
        except NonFiniteError as stop:
            history.stopped_reason = str(stop)
            warnings.warn(f"Sequential.fit stopped: {stop}", RuntimeWarning, stacklevel=2)
        finally:
            if default_bar is not None:
                default_bar.close()
            self._clear_caches()
            self.train(was_training)
        if keep_best and best_weights is not None:
            self._restore(best_weights)
        return history

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
        hooks: list[ProgressHook],
        guard: InterruptGuard,
        where: dict[str, int],
    ) -> dict[str, Any]:
        """One pass over X in ``order`` (None: as stored); returns the epoch's event dict."""
        start = time.perf_counter()
        snapshot = self._snapshot()  # restored if an update makes the weights non-finite
        n = X.shape[0]
        steps = math.ceil(n / batch_size)
        total_loss, correct, seen = 0.0, 0, 0
        has_accuracy = True
        for step in range(1, steps + 1):
            where["step"] = step
            lo, hi = (step - 1) * batch_size, min(step * batch_size, n)
            index = slice(lo, hi) if order is None else order[lo:hi]
            loss, batch_correct = self._train_step(self._batch(X, index), y[index], guard, snapshot)
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
            for hook in hooks:
                hook(event)
            if self.stop_training:
                break
        epoch_event = {key: value for key, value in event.items() if key != "batch_size"}
        epoch_event["event"] = "epoch"  # a new dict: hooks may have kept the batch event
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
        snapshot: list[dict[str, np.ndarray]] | None,
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
        snapshot: list[dict[str, np.ndarray]] | None,
    ) -> tuple[float, int | None]:
        logits = self.forward(Xb)
        if not all_finite(logits):
            raise NonFiniteError(
                "the model's outputs became NaN or infinite; this step's update was not applied "
                "(the weights are those of the last completed step). Try a smaller learning rate."
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
                self._restore(snapshot)
                raise NonFiniteError(
                    f"an update made the parameters of layer {i} {layer!r} NaN or infinite; the "
                    "weights of the start of this epoch were restored (the optimizer state was "
                    "not). Try a smaller learning rate."
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
                getattr(layer, name)[...] = value
