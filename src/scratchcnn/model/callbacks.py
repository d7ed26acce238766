"""What ``fit`` calls while it trains: callbacks, and the default progress bar.

A callback is a ``Callback`` (override the hooks you need) or any callable taking one event
dict, which gets the batch and epoch events. ``fit`` sets ``callback.model``, then calls
``on_train_begin(info)``, and per epoch ``on_epoch_begin(epoch)``, ``on_batch_end(event)``
after every step and ``on_epoch_end(event)`` once the epoch is recorded (in
``model.history``, and in the checkpoint file when there is one), and finally
``on_train_end(history)``, also after a Ctrl+C or a NaN. A callback may set
``model.stop_training = True``.

Events (dicts): ``event`` ("batch" or "epoch"), ``epoch`` (counted over the model's whole
training, so a resumed run goes on from where it stopped), ``epochs`` (the last epoch of this
``fit``), ``step``, ``steps``, ``samples``, ``total_samples``, ``loss``, ``accuracy``,
``seconds``, ``images_per_second``; ``batch_size`` for batches; ``val_loss`` and
``val_accuracy`` for epochs with validation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from scratchcnn.model.history import History

ProgressHook = Callable[[dict[str, Any]], Any]


class Callback:
    """Base class for ``fit``'s callbacks; every hook does nothing by default."""

    model: Any = None

    def on_train_begin(self, info: dict[str, Any]) -> None:
        """``info``: ``initial_epoch`` (epochs done before), ``epochs`` (the last epoch)."""

    def on_epoch_begin(self, epoch: int) -> None:
        pass

    def on_batch_end(self, event: dict[str, Any]) -> None:
        pass

    def on_epoch_end(self, event: dict[str, Any]) -> None:
        pass

    def on_train_end(self, history: History) -> None:
        pass


class EventCallback(Callback):
    """A plain callable as a callback: it gets every batch and epoch event."""

    def __init__(self, function: ProgressHook) -> None:
        self.function = function

    def on_batch_end(self, event: dict[str, Any]) -> None:
        self.function(event)

    def on_epoch_end(self, event: dict[str, Any]) -> None:
        self.function(event)

    def __repr__(self) -> str:
        return f"EventCallback({self.function!r})"


class CallbackList:
    """Callbacks called in order; built from ``Callback`` objects and plain callables."""

    def __init__(self, callbacks: Iterable[Any], owner: str) -> None:
        self.callbacks: list[Callback] = []
        for callback in callbacks:
            if isinstance(callback, Callback):
                self.callbacks.append(callback)
            elif callable(callback):
                self.callbacks.append(EventCallback(callback))
            else:
                raise TypeError(
                    f"{owner}: progress and callbacks must be Callback objects or callables, "
                    f"got {callback!r}"
                )

    def set_model(self, model: Any) -> None:
        for callback in self.callbacks:
            callback.model = model

    def on_train_begin(self, info: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback.on_train_begin(info)

    def on_epoch_begin(self, epoch: int) -> None:
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch)

    def on_batch_end(self, event: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback.on_batch_end(event)

    def on_epoch_end(self, event: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(event)

    def on_train_end(self, history: History) -> None:
        for callback in self.callbacks:
            callback.on_train_end(history)


class TqdmProgress(Callback):
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

    def on_batch_end(self, event: dict[str, Any]) -> None:
        self(event)

    def on_epoch_end(self, event: dict[str, Any]) -> None:
        self(event)

    def on_train_end(self, history: History) -> None:
        self.close()

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
