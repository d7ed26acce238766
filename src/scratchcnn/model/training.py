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
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from scratchcnn import losses as _losses
from scratchcnn.kernels.finite import all_finite
from scratchcnn.model.callbacks import CallbackList, ProgressHook, TqdmProgress
from scratchcnn.model.data import BatchSource, is_batch_source
from scratchcnn.model.fit_options import FitOptions
from scratchcnn.model.history import History
from scratchcnn.model.interrupts import InterruptGuard, signal_of
from scratchcnn.model.resume import EpochStreams, check_seed, resolve_seed
from scratchcnn.validation import check_positive_int


class NonFiniteError(Exception):
    """Raised inside ``fit`` when a step meets NaN or infinity (the reason is the message)."""


class NonFiniteOutputsError(NonFiniteError):
    """The model's outputs on a training batch were NaN or infinite (no update applied)."""


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


def _data_parallel(distributed: Any) -> Any:
    """None for one process (mpi4py is not imported), else a ``distributed.DataParallel``."""
    if distributed is None or distributed is False:
        return None
    from scratchcnn.distributed import as_data_parallel

    return as_data_parallel(distributed)


class EpochStart:
    """The weights, buffers and optimizer state of a model at the start of an epoch."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.weights = model._snapshot()
        optimizer = model.optimizer
        self.optimizer_state = (
            optimizer.state_dict(model.layers) if hasattr(optimizer, "state_dict") else None
        )
        # the learning rate (and a per-step schedule, which moves during the epoch) too
        options = getattr(model, "_fit_options", None)
        self.schedule = None if options is None else options.schedule
        self.schedule_state = None if self.schedule is None else self.schedule.state_dict()
        self.lr = float(optimizer.lr) if hasattr(optimizer, "lr") else None

    def restore(self) -> None:
        self.model._restore(self.weights)
        if self.optimizer_state is not None:
            self.model.optimizer.load_state_dict(self.model.layers, self.optimizer_state)
        if self.schedule is not None:
            self.schedule.load_state_dict(self.schedule_state)  # sets optimizer.lr as well
            self.model._lr_schedule_state = self.schedule_state
        elif self.lr is not None:
            self.model.optimizer.lr = self.lr


class TrainingMixin:
    """``fit`` and ``train_step`` for a container of layers (see the module docstring)."""

    # set by fit(distributed=...) for the length of the run (scratchcnn.distributed)
    _data_parallel: Any = None

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
        self._lr_schedule_state: dict[str, Any] | None = None  # saved in checkpoints
        self._fit_options: FitOptions | None = None  # set while fit runs

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
        lr_schedule: Any = None,
        lr_schedule_interval: str = "epoch",
        clip_grad_norm: float | None = None,
        transform: Any = None,
        distributed: Any = None,
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

        X may be memory-mapped (``np.load(path, mmap_mode="r")``): it is read one batch at a
        time. With ``y=None``, X is an iterable of ``(X, y)`` batches (or a function returning
        one), used as it comes each epoch (no shuffling, no validation_split).
        ``lr_schedule`` (from ``scratchcnn.schedules``, built on ``model.optimizer``) steps
        after every epoch or, with ``lr_schedule_interval="step"``, after every step; its state
        is saved in checkpoints and a resumed fit continues it. ``clip_grad_norm`` clips the
        gradients' global 2-norm before each update. ``transform`` (``scratchcnn.transforms``)
        augments each training batch with the epoch's own random stream; its non-random part
        (``Normalize``) also runs on validation batches.

        ``distributed=True`` (under ``mpirun``) trains data-parallel over every MPI process,
        each rank on its block of every batch (see ``scratchcnn.distributed``). Only rank 0
        shows the bar and writes the checkpoint; callbacks run on every rank and see the
        same, global metrics.
        """
        owner = "Sequential.fit"
        dp = _data_parallel(distributed)
        if dp is not None and not dp.is_root:
            verbose = 0
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
        options = FitOptions(
            self, lr_schedule, lr_schedule_interval, clip_grad_norm, transform, owner
        )
        if checkpoint_path is not None:
            checkpoint_path = Path(checkpoint_path)
            self.get_config()  # type: ignore[attr-defined]  # an unsavable model fails now
            folder = checkpoint_path.parent if str(checkpoint_path.parent) else Path(".")
            if not folder.is_dir():
                raise FileNotFoundError(
                    f"{owner}: the folder of checkpoint_path {str(folder)!r} does not exist"
                )
            if dp is not None and not dp.is_root:
                checkpoint_path = None  # rank 0 writes it
        if dp is not None:  # rank 0's weights, optimizer and training state everywhere
            if isinstance(X, BatchSource) or transform is not None:
                raise ValueError(
                    f"{owner}: distributed=True needs arrays (not an iterable of batches) and "
                    "no transform yet; got " + ("a transform" if transform is not None else
                                                "an iterable of batches")
                )
            dp.check_batches(batch_size, X.shape[0], owner)
            dp.broadcast_model(self)

        history = self.history
        history.start_run()
        streams = EpochStreams(self, resolve_seed(self, seed))
        options.begin()
        if dp is not None:  # the same shuffle on every rank; each rank its own Dropout masks
            streams.seed = self.shuffle_seed = dp.broadcast_object(self.shuffle_seed)
            streams.rank = dp.rank
        self._data_parallel = dp
        first, last = history.epochs + 1, history.epochs + epochs
        finite_val = [v for v in history.history.get("val_loss", []) if v is not None]
        best_loss = min(finite_val, default=math.inf)
        best_weights: list[dict[str, np.ndarray]] | None = None
        where = {"epoch": first, "step": 0}  # for the message after a Ctrl+C
        was_training = self.training  # type: ignore[attr-defined]
        self.stop_training = False
        self.train()  # type: ignore[attr-defined]
        callback_list.set_model(self)
        self._fit_options = options
        try:
            callback_list.on_train_begin({"initial_epoch": first - 1, "epochs": last})
            guard_type = InterruptGuard if dp is None else dp.interrupt_guard
            with guard_type() as guard, streams:
                for epoch in range(first, last + 1):
                    where["epoch"], where["step"] = epoch, 0
                    order_rng = streams.shuffle(epoch)
                    shuffled = shuffle and not isinstance(X, BatchSource)
                    order = order_rng.permutation(X.shape[0]) if shuffled else None
                    options.start_epoch(streams.seed, epoch)
                    callback_list.on_epoch_begin(epoch)
                    start = time.perf_counter()
                    event = self._train_epoch(
                        X, y, order, batch_size, epoch, last, callback_list, guard, where, options
                    )
                    if X_val is not None:
                        event["val_loss"], event["val_accuracy"] = self._evaluate_any(
                            X_val, y_val, max(batch_size, 256), dp, options.eval_transform
                        )
                        self.train()  # type: ignore[attr-defined]
                    event["seconds"] = time.perf_counter() - start
                    improved = X_val is not None and event["val_loss"] < best_loss
                    if improved:
                        best_loss = event["val_loss"]
                    event["lr"] = options.epoch_lr()  # the rate of the epoch's last step
                    # the record, the schedule's step and the checkpoint change together
                    guard.run(
                        partial(self._record_epoch, event, improved, checkpoint_path, options)
                    )
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
                self._fit_options = None
                self._clear_caches()  # type: ignore[attr-defined]
                self.train(was_training)  # type: ignore[attr-defined]
                self._data_parallel = None
        if keep_best and best_weights is not None:
            self._restore(best_weights)
        return history.copy()

    def _evaluate_any(
        self, X: np.ndarray, y: np.ndarray, batch_size: int, dp: Any, transform: Any = None
    ) -> tuple[float, float | None]:
        """The validation pass: this process alone, or sharded over the ranks and reduced."""
        if dp is None:
            return self._evaluate_checked(X, y, batch_size, transform)  # type: ignore[attr-defined]
        return dp.evaluate(self, X, y, batch_size)

    def _record_epoch(
        self,
        event: dict[str, Any],
        improved: bool,
        checkpoint_path: Path | None,
        options: FitOptions,
    ) -> None:
        metrics = {
            key: event[key]
            for key in ("loss", "accuracy", "val_loss", "val_accuracy")
            if key in event
        }
        if options.schedule is not None:
            metrics["lr"] = event["lr"]
        options.after_epoch()
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
    ) -> tuple[Any, Any, Any, Any]:
        """Checked ``(X, y, X_val, y_val)``; the validation pair is None without validation.

        Batches (``y=None``) become a ``BatchSource`` with y None; so do validation batches.
        """
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
        if is_batch_source(X, y):
            if validation_split > 0:
                raise ValueError(
                    f"{owner}: validation_split needs arrays; with an iterable of batches pass "
                    "validation_data"
                )
            X, y = BatchSource(X, owner), None
        else:
            X, out_shape = self._check_X(X, owner)
            y = self._check_y(y, X.shape[0], out_shape, owner)
        if validation_data is not None:
            pair = isinstance(validation_data, (tuple, list)) and len(validation_data) == 2
            if not pair or isinstance(validation_data[0], tuple):
                if is_batch_source(validation_data, None):
                    return X, y, BatchSource(validation_data, owner + " (validation_data)"), None
                raise TypeError(
                    f"{owner}: validation_data must be a tuple (X_val, y_val) or an iterable "
                    "of (X, y) batches"
                )
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
        options: FitOptions,
    ) -> dict[str, Any]:
        """One pass over X in ``order`` (None: as stored); returns the epoch's event dict."""
        start = time.perf_counter()
        snapshot = EpochStart(self)  # restored if the weights go bad (NaN, infinity)
        if isinstance(X, BatchSource):
            n, steps = None, X.steps
            batches = self._checked_batches(X)
        else:
            n = X.shape[0]
            steps = math.ceil(n / batch_size)
            batches = self._array_batches(X, y, order, batch_size)
        total_loss, correct, seen = 0.0, 0, 0
        has_accuracy = True
        for step, (Xb, yb) in enumerate(batches, start=1):
            where["step"] = step
            # the global batch's size: under MPI each rank holds only its block of it
            size = Xb.shape[0] if n is None else min(step * batch_size, n) - (step - 1) * batch_size
            loss, batch_correct = self._train_step(
                options.train_batch(Xb),
                yb,
                guard,
                snapshot,  # type: ignore[attr-defined]
            )
            seen += size
            total_loss += _losses.batch_total(self.loss, loss, size)
            has_accuracy = has_accuracy and batch_correct is not None
            correct += batch_correct or 0
            elapsed = time.perf_counter() - start
            event = {
                "event": "batch",
                "epoch": epoch,
                "epochs": epochs,
                "step": step,
                "steps": steps,
                "batch_size": size,
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
        if n is None:
            epoch_event["total_samples"] = seen
        return epoch_event

    def _array_batches(
        self, X: np.ndarray, y: np.ndarray, order: np.ndarray | None, batch_size: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = X.shape[0]
        for lo in range(0, n, batch_size):
            hi = min(lo + batch_size, n)
            index = slice(lo, hi) if order is None else order[lo:hi]
            if self._data_parallel is not None:
                index = self._data_parallel.shard(index)  # this rank's block of the batch
            yield self._batch(X, index), y[index]  # type: ignore[attr-defined]

    def _checked_batches(self, source: BatchSource) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The batches of ``source``, each checked as ``fit`` checks arrays and cast."""
        for i, (Xb, yb) in enumerate(source):
            where = f"{source.owner} (batch {i})"
            Xb, out_shape = self._check_X(Xb, where)  # type: ignore[attr-defined]
            yb = self._check_y(yb, Xb.shape[0], out_shape, where)  # type: ignore[attr-defined]
            yield Xb.astype(self.dtype, copy=False), yb  # type: ignore[attr-defined]

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
        try:
            if self._data_parallel is None:
                loss, batch_correct = self._local_gradients(Xb, yb)
            else:  # this rank's block, then one Allreduce: the global batch's mean gradients
                loss, batch_correct = self._data_parallel.step(self, Xb, yb, guard)
        except NonFiniteOutputsError:
            if snapshot is None:
                raise
            # weights that give NaN or infinity on real data are not worth keeping
            snapshot.restore()
            raise NonFiniteError(
                "the model's outputs became NaN or infinite; the weights and optimizer state "
                "of the start of this epoch were restored. Try a smaller learning rate."
            ) from None
        trainable = self.layers[self._first_trainable :]
        for i, layer in enumerate(trainable, start=self._first_trainable):
            for name, grad in layer.grads().items():
                if grad is not None and not all_finite(grad):
                    raise NonFiniteError(
                        f"the gradient of layer {i} {layer!r} ({name}) became NaN or infinite; "
                        "this step's update was not applied (the weights are those of the last "
                        "completed step)."
                    )

        options = getattr(self, "_fit_options", None)
        if options is not None:
            options.clip(trainable)

        def updates() -> None:
            for layer in trainable:
                if layer.param_names:
                    self.optimizer.update(layer)
            if options is not None:
                options.after_step()  # a per-step schedule moves with the updates

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

    def _local_gradients(self, Xb: np.ndarray, yb: np.ndarray) -> tuple[float, int | None]:
        """Forward, loss and backward on one batch: ``(loss, correct count or None)``."""
        logits = self.forward(Xb)
        if not all_finite(logits):
            raise NonFiniteOutputsError(
                "the model's outputs became NaN or infinite; this step's update was not "
                "applied (the weights are those of the last completed step). Try a smaller "
                "learning rate."
            )
        loss = self.loss.forward(logits, yb)
        if not math.isfinite(loss):
            raise NonFiniteError(
                f"the loss became {loss}; this step's update was not applied (the weights are "
                "those of the last completed step). Try a smaller learning rate."
            )
        batch_correct = n_correct(logits, yb)
        self.backward(self.loss.backward())
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
