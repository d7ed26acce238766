"""``Sequential``: a list of layers with a loss and an optimizer; fit, predict, evaluate, save.

Training is mini-batch gradient descent: each step runs forward, the loss, backward (every
gradient first), then the optimizer's updates, which a Ctrl+C cannot cut in half. Inference
runs batch by batch in eval mode, so only one batch of activations is alive at a time.
``save`` writes one ``.npz`` (weights, buffers, optimizer state, architecture as JSON);
``load`` rebuilds the model from ``LAYER_REGISTRY`` names only and never unpickles.
"""

from __future__ import annotations

import json
import math
import os
import signal
import tempfile
import threading
import time
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scratchcnn import losses as _losses
from scratchcnn import optimizers as _optimizers
from scratchcnn.grad_mode import no_grad
from scratchcnn.layers.base import LAYER_REGISTRY, Layer
from scratchcnn.random import make_rng
from scratchcnn.summary import format_shape, format_summary, layer_names
from scratchcnn.validation import check_positive_int

FORMAT_NAME = "scratchcnn.Sequential"
FORMAT_VERSION = 1
_ARCHITECTURE_KEY = "__architecture__"

ProgressHook = Callable[[dict[str, Any]], Any]


# -- history ---------------------------------------------------------------------------------
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


# -- progress --------------------------------------------------------------------------------
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


# -- Ctrl+C during the updates ---------------------------------------------------------------
class _InterruptGuard:
    """Defers SIGINT while the optimizer updates run, so weights are never half-updated.

    Installed only from the main thread and only over Python's default handler; elsewhere a
    Ctrl+C behaves as usual (it can then land between two layers' updates).
    """

    def __init__(self) -> None:
        self.deferring = False
        self.pending = False
        self._previous: Any = None

    def __enter__(self) -> _InterruptGuard:
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


class _NonFiniteError(Exception):
    """Raised inside ``fit`` when a step meets NaN or infinity (the reason is the message)."""


def _all_finite(a: np.ndarray) -> bool:
    """True when every element is finite; a sum first, the exact check only on suspicion."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(a.sum()):
            return True
    return bool(np.isfinite(a).all())


def _softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    E /= E.sum(axis=1, keepdims=True)
    return E


def _n_correct(outputs: np.ndarray, labels: np.ndarray) -> int | None:
    """Correct argmax predictions in a batch, or None when accuracy is undefined."""
    if outputs.ndim != 2 or outputs.shape[1] < 2:
        return None
    predicted = outputs.argmax(axis=1)
    if labels.ndim == 1 and labels.dtype.kind in "iu":
        return int(np.count_nonzero(predicted == labels))
    if labels.shape == outputs.shape:
        return int(np.count_nonzero(predicted == labels.argmax(axis=1)))
    return None


# -- the model -------------------------------------------------------------------------------
class Sequential:
    """Layers applied in order, trained with ``loss`` and ``optimizer``.

    ``loss`` is a name for ``losses.make_loss`` (``"cross_entropy"``, ``"mse"``) or a loss
    object; ``optimizer`` a name for ``optimizers.make_optimizer`` or an optimizer object,
    which updates every layer (layers must not carry optimizers of their own). ``dtype``
    (float32 or float64) is the dtype of the parameters and of each batch: inputs of shape
    (N, *sample_shape) in any numeric dtype are cast one batch at a time.
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        loss: str | Any = "cross_entropy",
        optimizer: str | Any = "adam",
        dtype: Any = np.float32,
    ) -> None:
        if isinstance(layers, Layer) or not isinstance(layers, Iterable):
            raise TypeError(
                f"Sequential: layers must be a list of layers, but got {type(layers).__name__}"
            )
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential: expected at least one layer, but got an empty list")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential: layer {i} must be a scratchcnn Layer, but got "
                    f"{type(layer).__name__}"
                )
            if layer.optimizer is not None:
                raise ValueError(
                    f"Sequential: layer {i} {layer!r} carries its own optimizer; build layers "
                    "without one and pass the optimizer to Sequential(optimizer=...)"
                )
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError(
                "Sequential: the same layer object appears twice; its parameters would be "
                "updated twice per step (build a new layer instead)"
            )
        try:
            self.dtype = np.dtype(dtype)
        except TypeError as error:
            raise TypeError(
                f"Sequential: dtype must be float32 or float64, got {dtype!r}"
            ) from error
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"Sequential: dtype must be float32 or float64, but got {self.dtype}")

        self.layers: list[Layer] = layers
        self.loss = _losses.make_loss(loss) if isinstance(loss, str) else loss
        self.optimizer = (
            _optimizers.make_optimizer(optimizer) if isinstance(optimizer, str) else optimizer
        )
        for name, obj, needed in (
            ("loss", self.loss, ("forward", "backward")),
            ("optimizer", self.optimizer, ("update",)),
        ):
            if not all(callable(getattr(obj, attr, None)) for attr in needed):
                raise TypeError(
                    f"Sequential: {name} must be a name or an object with "
                    f"{' and '.join(needed)}(), but got {obj!r}"
                )
        if type(layers[-1]).__name__ == "Softmax" and isinstance(
            self.loss, _losses.SoftmaxCrossEntropy
        ):
            warnings.warn(
                "Sequential: the last layer is Softmax, but SoftmaxCrossEntropy applies softmax "
                "itself; remove the Softmax layer (predict_proba returns probabilities)",
                UserWarning,
                stacklevel=2,
            )
        for layer in layers:
            layer._adopt_dtype(self.dtype)
        # Backward stops at the first layer with parameters: nothing before it needs a gradient,
        # and that layer may skip its own input gradient (a col2im for a convolution).
        self._first_trainable = next(
            (i for i, layer in enumerate(layers) if layer.param_names), len(layers)
        )
        if self._first_trainable < len(layers):
            layers[self._first_trainable].compute_input_grad = False
        # Every output but the last is consumed by the next layer before the next forward,
        # so those layers may reuse their output buffers (the model's output stays fresh).
        # Likewise every gradient a layer receives comes from the next layer's backward and
        # is read by nobody else, so it may be overwritten.
        for layer in layers[:-1]:
            layer.reuse_output = True
            layer.overwrite_dA = True
        self.stop_training = False
        self.training = True  # like a fresh torch.nn.Module; fit and predict set their own modes

    # -- plumbing ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        lines = [f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def train(self, mode: bool = True) -> Sequential:
        """Training mode for every layer (Dropout drops, BatchNorm uses batch statistics)."""
        self.training = bool(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def eval(self) -> Sequential:
        return self.train(False)

    def params(self) -> dict[str, np.ndarray]:
        """All parameters keyed ``"<layer index>.<name>"``, e.g. ``"0.W"``."""
        return {
            f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params().items()
        }

    def grads(self) -> dict[str, np.ndarray | None]:
        """Gradients with the keys of ``params()``."""
        return {
            f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads().items()
        }

    def buffers(self) -> dict[str, np.ndarray]:
        return {
            f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.buffers().items()
        }

    def num_params(self) -> int:
        return sum(layer.num_params() for layer in self.layers)

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Run every layer in its current mode: (N, *sample_shape) -> (N, *output_shape)."""
        A = np.asarray(X).astype(self.dtype, copy=False)
        for layer in self.layers:
            A = layer.forward(A)
        return self._detached(A)

    def _detached(self, A: np.ndarray) -> np.ndarray:
        """A itself, or a copy when it may be (a view of) a layer's reused buffer.

        Layers reuse output buffers inside a model (``reuse_output``); the model's own output
        must survive the next forward. It normally comes fresh from the last layer; one that
        passes its input through (Flatten, in-place ReLU, Dropout in eval mode) gets copied.
        """
        buffers = [b for layer in self.layers for b in getattr(layer, "_workspace", {}).values()]
        if A.base is not None or any(np.may_share_memory(A, b) for b in buffers):
            return A.copy()
        return A

    __call__ = forward

    def backward(self, dA: np.ndarray) -> np.ndarray | None:
        """Backpropagate the loss gradient, storing every parameter gradient.

        Stops at the first layer with parameters, which skips its input gradient, so the
        return value is None for a model with parameters (nothing needs dX to train).
        """
        for layer in reversed(self.layers[self._first_trainable :]):
            dA = layer.backward(dA)
        return dA if self._first_trainable == 0 else None

    def _clear_caches(self) -> None:
        for layer in self.layers:
            layer._cache = None

    def output_shape(
        self, input_shape: Sequence[int], owner: str = "Sequential"
    ) -> tuple[int, ...]:
        """The per-sample output shape for a per-sample input shape (no batch axis)."""
        return self._trace_shapes(input_shape, owner)[-1]

    def _trace_shapes(self, input_shape: Sequence[int], owner: str) -> list[tuple[int, ...]]:
        shape = tuple(int(n) for n in input_shape)
        shapes = []
        for i, layer in enumerate(self.layers):
            try:
                shape = tuple(layer.output_shape(shape))
            except (ValueError, TypeError) as error:
                raise type(error)(
                    f"{owner}: samples of shape {tuple(input_shape)} do not fit layer {i}: {error}"
                ) from error
            shapes.append(shape)
        return shapes

    # -- input checks ------------------------------------------------------------------------
    def _check_X(self, X: Any, owner: str) -> tuple[np.ndarray, tuple[int, ...]]:
        """``X`` as an array (not cast: that happens per batch) and the model's output shape."""
        if not isinstance(X, np.ndarray):
            X = np.asarray(X)
        if X.dtype.kind not in "fiub":
            raise TypeError(f"{owner}: X must be an array of numbers, but got dtype {X.dtype}")
        if X.ndim < 2:
            raise ValueError(
                f"{owner}: X must be a batch of shape (N, *sample_shape), but got shape {X.shape}"
            )
        if X.shape[0] == 0:
            raise ValueError(f"{owner}: X is empty (shape {X.shape})")
        out_shape = self.output_shape(X.shape[1:], owner)
        if X.dtype.kind == "f" and not _all_finite(X):
            bad = "NaN" if np.isnan(X).any() else "infinity"
            raise ValueError(f"{owner}: X contains {bad}; expected finite values")
        return X, out_shape

    def _check_y(self, y: Any, n: int, out_shape: tuple[int, ...], owner: str) -> np.ndarray:
        y = y if isinstance(y, np.ndarray) else np.asarray(y)
        if y.dtype.kind not in "fiub":
            raise TypeError(f"{owner}: y must be an array of numbers, but got dtype {y.dtype}")
        if y.ndim == 0 or y.shape[0] != n:
            raise ValueError(
                f"{owner}: X and y must have the same length, but got {n} samples and y of "
                f"shape {y.shape}"
            )
        if y.dtype.kind == "f" and not _all_finite(y):
            raise ValueError(f"{owner}: y contains NaN or infinity; expected finite values")
        if y.ndim == 1 and (
            y.dtype.kind == "b" or (y.dtype.kind == "f" and np.array_equal(y, np.round(y)))
        ):
            y = y.astype(np.int64)  # class labels read as floats (e.g. from a CSV) or bools
        if y.ndim == 1 and y.dtype.kind in "iub" and len(out_shape) == 1 and out_shape[0] > 1:
            K = out_shape[0]
            if y.min() < 0 or y.max() >= K:
                bad = y[(y < 0) | (y >= K)][0]
                raise ValueError(
                    f"{owner}: class labels must be in [0, {K}) for a model with {K} outputs, "
                    f"but got {bad}"
                )
        elif y.shape[1:] != out_shape:
            raise ValueError(
                f"{owner}: y must be class labels of shape (N,) or targets of shape "
                f"(N, {', '.join(map(str, out_shape))}) to match the model's output, but got "
                f"shape {y.shape}"
            )
        return y

    def _batch(self, X: np.ndarray, index: slice | np.ndarray) -> np.ndarray:
        return X[index].astype(self.dtype, copy=False)

    # -- training ----------------------------------------------------------------------------
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
            with _InterruptGuard() as guard:
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
        except _NonFiniteError as stop:
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
        guard: _InterruptGuard,
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
        with _InterruptGuard() as guard:
            try:
                loss, _ = self._train_step(X.astype(self.dtype, copy=False), y, guard, None)
            except _NonFiniteError as error:
                raise FloatingPointError(f"{owner}: {error}") from None
        return loss

    def _train_step(
        self,
        Xb: np.ndarray,
        yb: np.ndarray,
        guard: _InterruptGuard,
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
        guard: _InterruptGuard,
        snapshot: list[dict[str, np.ndarray]] | None,
    ) -> tuple[float, int | None]:
        logits = self.forward(Xb)
        if not _all_finite(logits):
            raise _NonFiniteError(
                "the model's outputs became NaN or infinite; this step's update was not applied "
                "(the weights are those of the last completed step). Try a smaller learning rate."
            )
        loss = self.loss.forward(logits, yb)
        if not math.isfinite(loss):
            raise _NonFiniteError(
                f"the loss became {loss}; this step's update was not applied (the weights are "
                "those of the last completed step). Try a smaller learning rate."
            )
        batch_correct = _n_correct(logits, yb)
        self.backward(self.loss.backward())
        trainable = self.layers[self._first_trainable :]
        for i, layer in enumerate(trainable, start=self._first_trainable):
            for name, grad in layer.grads().items():
                if grad is not None and not _all_finite(grad):
                    raise _NonFiniteError(
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
            if not all(_all_finite(p) for p in layer.params().values()):
                if snapshot is None:
                    raise _NonFiniteError(
                        f"an update made the parameters of layer {i} {layer!r} NaN or infinite. "
                        "Try a smaller learning rate."
                    )
                self._restore(snapshot)
                raise _NonFiniteError(
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

    # -- inference ---------------------------------------------------------------------------
    def _outputs_to_proba(self, outputs: np.ndarray) -> np.ndarray:
        if isinstance(self.loss, _losses.SoftmaxCrossEntropy) and outputs.ndim == 2:
            return _softmax(outputs)
        return outputs

    def _inference(
        self, X: np.ndarray, batch_size: int, each: Callable[[slice, np.ndarray], None]
    ) -> None:
        """Run eval-mode forward passes under ``no_grad`` batch by batch, giving each output to
        ``each``."""
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                for lo in range(0, X.shape[0], batch_size):
                    index = slice(lo, min(lo + batch_size, X.shape[0]))
                    each(index, self.forward(self._batch(X, index)))
        finally:
            self._clear_caches()
            self.train(was_training)

    def predict_proba(self, X: Any, batch_size: int = 256) -> np.ndarray:
        """Class probabilities (N, K): the softmax of the outputs for cross-entropy models.

        For other losses the raw outputs. Runs in eval mode, ``batch_size`` samples at a time.
        """
        owner = "Sequential.predict_proba"
        batch_size = check_positive_int(batch_size, "batch_size", owner)
        X, out_shape = self._check_X(X, owner)
        result = np.empty((X.shape[0], *out_shape), dtype=self.dtype)

        def store(index: slice, outputs: np.ndarray) -> None:
            result[index] = self._outputs_to_proba(outputs)

        self._inference(X, batch_size, store)
        return result

    def predict(self, X: Any, batch_size: int = 256) -> np.ndarray:
        """Predicted class labels (N,): the argmax of the outputs."""
        owner = "Sequential.predict"
        batch_size = check_positive_int(batch_size, "batch_size", owner)
        X, out_shape = self._check_X(X, owner)
        if len(out_shape) != 1 or out_shape[0] < 2:
            raise ValueError(
                f"{owner}: class labels need outputs of shape (N, K) with K >= 2, but this "
                f"model's outputs have shape (N, {', '.join(map(str, out_shape))}); use "
                "predict_proba for the raw outputs"
            )
        labels = np.empty(X.shape[0], dtype=np.int64)

        def store(index: slice, outputs: np.ndarray) -> None:
            labels[index] = outputs.argmax(axis=1)

        self._inference(X, batch_size, store)
        return labels

    def evaluate(self, X: Any, y: Any, batch_size: int = 256) -> tuple[float, float | None]:
        """``(mean loss, accuracy)`` over X and y in eval mode (accuracy None if undefined)."""
        owner = "Sequential.evaluate"
        batch_size = check_positive_int(batch_size, "batch_size", owner)
        X, out_shape = self._check_X(X, owner)
        y = self._check_y(y, X.shape[0], out_shape, owner)
        return self._evaluate_checked(X, y, batch_size)

    def _evaluate_checked(
        self, X: np.ndarray, y: np.ndarray, batch_size: int
    ) -> tuple[float, float | None]:
        totals = {"loss": 0.0, "correct": 0}

        def accumulate(index: slice, outputs: np.ndarray) -> None:
            yb = y[index]
            n = outputs.shape[0]
            totals["loss"] += self.loss.forward(outputs, yb) * n
            c = _n_correct(outputs, yb)
            totals["correct"] = (
                None if c is None or totals["correct"] is None else (totals["correct"] + c)
            )

        self._inference(X, batch_size, accumulate)
        n = X.shape[0]
        correct = totals["correct"]
        return totals["loss"] / n, None if correct is None else correct / n

    # -- summary -----------------------------------------------------------------------------
    def summary(self, input_shape: Sequence[int]) -> str:
        """The Keras-style table for samples of ``input_shape`` (no batch axis), as text.

        Output shapes come from each layer's ``output_shape``; no data runs.
        """
        shapes = self._trace_shapes(input_shape, "Sequential.summary")
        names = layer_names([type(layer).__name__ for layer in self.layers])
        rows = [
            (f"{name} ({type(layer).__name__})", format_shape(shape), layer.num_params())
            for name, layer, shape in zip(names, self.layers, shapes, strict=True)
        ]
        trainable = self.num_params()
        non_trainable = sum(int(b.size) for b in self.buffers().values())
        return format_summary(rows, trainable, non_trainable)

    def print_summary(self, input_shape: Sequence[int]) -> None:
        """Print ``summary(input_shape)``."""
        print(self.summary(input_shape))

    # -- the learner's lab (scratchcnn/lab) --------------------------------------------------
    def explain(self, input_shape: Sequence[int], show: bool = True) -> Any:
        """Per-layer size formulas, parameter formulas, FLOPs, memory and receptive fields.

        Prints the worked arithmetic (unless ``show=False``) and returns an ``Explanation``
        whose ``records`` list one ``LayerRecord`` per layer; see ``scratchcnn.lab.explain``.
        """
        from scratchcnn.lab.explain import explain

        self._trace_shapes(input_shape, "Sequential.explain")
        result = explain(self.layers, input_shape, self.dtype)
        if show:
            print(result)
        return result

    # -- saving ------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The architecture as JSON-able data: layers, loss, optimizer, dtype, format version."""
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "layers": [
                {"class": type(layer).__name__, "config": layer.get_config()}
                for layer in self.layers
            ],
            "loss": _loss_name(self.loss),
            "optimizer": {
                "name": _optimizer_name(self.optimizer),
                "config": self.optimizer.get_config(),
            },
            "dtype": self.dtype.name,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write weights, buffers, optimizer state and architecture to one ``.npz`` at ``path``.

        The path is used as given. The file is written to a temporary file in the same folder,
        synced and renamed over ``path``, so a crash never leaves a half-written model there.
        """
        path = Path(path)
        arrays: dict[str, np.ndarray] = {_ARCHITECTURE_KEY: np.array(json.dumps(self.get_config()))}
        for i, layer in enumerate(self.layers):
            for name, value in layer.params().items():
                arrays[f"param/{i}/{name}"] = np.asarray(value)
            for name, value in layer.buffers().items():
                arrays[f"buffer/{i}/{name}"] = np.asarray(value)
        if hasattr(self.optimizer, "state_dict"):
            for key, value in self.optimizer.state_dict(self.layers).items():
                arrays[f"optimizer/{key}"] = np.asarray(value)
        _atomic_savez(path, arrays)


def _loss_name(loss: Any) -> str:
    for name, cls in _losses.LOSSES.items():
        if type(loss) is cls:
            return name
    raise ValueError(
        f"Sequential.save: cannot save a model with the custom loss {loss!r}; a saved model "
        f"names its loss, one of {', '.join(repr(k) for k in _losses.LOSSES)}"
    )


def _optimizer_name(optimizer: Any) -> str:
    registry = getattr(_optimizers, "OPTIMIZERS", {})
    for name, cls in registry.items():
        if type(optimizer) is cls:
            return name
    raise ValueError(
        f"Sequential.save: cannot save a model with the custom optimizer {optimizer!r}; a saved "
        f"model names its optimizer, one of {', '.join(repr(k) for k in registry)}"
    )


def _atomic_savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` to a temporary file beside ``path``, fsync, then ``os.replace``."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"Sequential.save: the folder {str(folder)!r} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    try:  # make the rename itself durable (POSIX); not possible everywhere
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def load(path: str | os.PathLike[str]) -> Sequential:
    """Rebuild a model written by ``Sequential.save``: same predictions, resumable training.

    Only classes in ``LAYER_REGISTRY`` are built and nothing is unpickled, so loading never
    runs code from the file. A missing file raises FileNotFoundError; a file that is not a
    scratchcnn model, or whose weights do not fit its architecture, raises ValueError.
    """
    path = Path(path)
    where = f"load({str(path)!r})"
    if not path.exists():
        raise FileNotFoundError(f"{where}: no such file")
    if path.is_dir():
        raise ValueError(f"{where}: is a folder, not a model file")
    # We open the file ourselves: np.load leaks its handle when the zip directory is broken.
    with open(path, "rb") as f:
        magic = f.read(6)
        f.seek(0)
        if magic == b"\x93NUMPY":
            raise ValueError(
                f"{where}: not a scratchcnn model file (a single .npy array, not an .npz)"
            )
        if not magic.startswith(b"PK"):  # not a zip archive; np.load would suggest unpickling
            raise ValueError(
                f"{where}: not a scratchcnn model file (expected a .npz archive written by "
                "Sequential.save)"
            )
        try:
            archive = np.load(f, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(
                f"{where}: not a scratchcnn model file (not a readable .npz): {error}"
            ) from error
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(
                f"{where}: not a scratchcnn model file (a single .npy array, not an .npz)"
            )
        with archive:
            try:
                arrays = {key: archive[key] for key in archive.files}
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
                raise ValueError(f"{where}: the file is corrupt: {error}") from error
    return _model_from_arrays(arrays, where)


def _model_from_arrays(arrays: dict[str, np.ndarray], where: str) -> Sequential:
    if _ARCHITECTURE_KEY not in arrays:
        raise ValueError(f"{where}: not a scratchcnn model file (no architecture entry)")
    try:
        spec = json.loads(str(arrays.pop(_ARCHITECTURE_KEY)))
    except (json.JSONDecodeError, TypeError) as error:
        raise ValueError(f"{where}: the architecture entry is not valid JSON: {error}") from error
    if not isinstance(spec, dict) or spec.get("format") != FORMAT_NAME:
        raise ValueError(f"{where}: not a scratchcnn model file (unknown format)")
    version = spec.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{where}: file format version {version!r} is not supported (this scratchcnn "
            f"reads version {FORMAT_VERSION})"
        )
    try:
        layer_specs = list(spec["layers"])
        loss_name = spec["loss"]
        opt_name, opt_config = spec["optimizer"]["name"], dict(spec["optimizer"]["config"])
        dtype = spec["dtype"]
    except (KeyError, TypeError) as error:
        raise ValueError(f"{where}: the architecture entry is incomplete: {error!r}") from error

    layers: list[Layer] = []
    for i, layer_spec in enumerate(layer_specs):
        cls_name = layer_spec.get("class") if isinstance(layer_spec, dict) else None
        cls = LAYER_REGISTRY.get(cls_name) if isinstance(cls_name, str) else None
        if cls is None:
            known = ", ".join(sorted(LAYER_REGISTRY))
            raise ValueError(f"{where}: layer {i} has unknown class {cls_name!r}; known: {known}")
        config = layer_spec.get("config", {})
        if not isinstance(config, dict):
            raise ValueError(f"{where}: layer {i} ({cls_name}) has a config that is not a dict")
        try:
            layers.append(cls(**config))
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{where}: cannot build layer {i} {cls_name}({config}): {error}"
            ) from error

    for i, layer in enumerate(layers):
        for kind, names in (("param", layer.param_names), ("buffer", layer.buffer_names)):
            for name in names:
                key = f"{kind}/{i}/{name}"
                current = getattr(layer, name)
                if key not in arrays:
                    raise ValueError(f"{where}: {kind} {name} of layer {i} {layer!r} is missing")
                stored = arrays.pop(key)
                expected = np.shape(current)
                if stored.shape != expected:
                    raise ValueError(
                        f"{where}: {kind} {name} of layer {i} {layer!r} has shape "
                        f"{stored.shape} in the file, but the layer needs {expected}"
                    )
                if (
                    stored.dtype.kind != "f"
                    and isinstance(current, np.ndarray)
                    and current.dtype.kind == "f"
                ):
                    raise ValueError(
                        f"{where}: {kind} {name} of layer {i} {layer!r} has dtype "
                        f"{stored.dtype} in the file; expected a floating-point array"
                    )
                setattr(layer, name, stored)  # np.load gives a fresh, writable array
    optimizer_state = {
        key[len("optimizer/") :]: (value.item() if value.ndim == 0 else value)
        for key, value in arrays.items()
        if key.startswith("optimizer/")
    }
    leftover = [key for key in arrays if not key.startswith("optimizer/")]
    if leftover:
        raise ValueError(
            f"{where}: unexpected entries that fit no layer: {', '.join(leftover[:5])}"
        )

    try:
        loss = _losses.make_loss(loss_name)
        optimizer = _optimizers.make_optimizer(opt_name, **opt_config)
        model = Sequential(layers, loss=loss, optimizer=optimizer, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: cannot rebuild the model: {error}") from error
    if optimizer_state:
        try:
            optimizer.load_state_dict(model.layers, optimizer_state)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{where}: the optimizer state does not fit: {error}") from error
    return model
