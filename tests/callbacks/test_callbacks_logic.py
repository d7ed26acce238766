"""EarlyStopping and ModelCheckpoint rules on given metric sequences (Keras's rules)."""

from __future__ import annotations

from typing import Any

import pytest

from scratchcnn.callbacks import CSVLogger, EarlyStopping, ModelCheckpoint
from scratchcnn.model import History


class FakeModel:
    """What the callbacks use of a model: stop_training, history, _snapshot/_restore, save."""

    def __init__(self) -> None:
        self.stop_training = False
        self.history = History(validation=True)
        self.weights = 0
        self.saved: list[str] = []

    def _snapshot(self) -> int:
        return self.weights

    def _restore(self, snapshot: int) -> None:
        self.weights = snapshot

    def save(self, path: str) -> None:
        self.saved.append(path)


def run(callback: Any, values: list[float | None], key: str = "val_loss") -> FakeModel:
    """Drive ``callback`` through epochs whose monitored value is ``values[i]``."""
    model = FakeModel()
    callback.model = model
    callback.on_train_begin({"initial_epoch": 0, "epochs": len(values)})
    for epoch, value in enumerate(values, start=1):
        model.weights = epoch  # the "weights" of epoch k are k
        callback.on_epoch_end({"event": "epoch", "epoch": epoch, "loss": 1.0, key: value})
        if model.stop_training:
            break
    callback.on_train_end(model.history)
    return model


@pytest.mark.parametrize(
    ("values", "patience", "min_delta", "stopped", "best"),
    [
        ([5, 4, 3, 2, 1], 0, 0.0, 0, 5),  # always improving: never stops
        ([5, 4, 4, 3], 0, 0.0, 3, 2),  # patience 0: the first epoch without improvement
        ([5, 4, 4.5, 4.2, 3, 3.1, 3.2], 2, 0.0, 4, 2),
        ([5, 4, 4.5, 4.2, 3, 3.1, 3.2], 3, 0.0, 0, 5),
        ([1.0, 0.95, 0.92, 0.85], 2, 0.1, 3, 1),  # improvements under min_delta do not count
        ([2.0, float("nan"), 1.5], 1, 0.0, 2, 1),  # NaN is no improvement
    ],
)
def test_early_stopping_rule(
    values: list[float], patience: int, min_delta: float, stopped: int, best: int
) -> None:
    callback = EarlyStopping(patience=patience, min_delta=min_delta, restore_best_weights=True)
    model = run(callback, values)
    assert callback.stopped_epoch == stopped
    assert callback.best_epoch == best
    assert model.stop_training == bool(stopped)
    assert model.weights == best  # restored at the end


def test_early_stopping_max_mode_for_accuracy() -> None:
    callback = EarlyStopping(monitor="val_accuracy", patience=1)
    assert callback.mode == "max"
    run(callback, [0.5, 0.6, 0.55, 0.58], key="val_accuracy")
    assert (callback.stopped_epoch, callback.best_epoch, callback.best) == (3, 2, 0.6)


def test_early_stopping_resume_replays_the_history() -> None:
    """Resumed after epoch 3 of [5, 4, 4.5, 4.2, ...], it stops where the straight run did."""
    straight = EarlyStopping(patience=2)
    run(straight, [5, 4, 4.5, 4.2, 4.1])
    resumed = EarlyStopping(patience=2)
    model = FakeModel()
    for value in [5, 4, 4.5]:
        model.history.append({"loss": 1.0, "val_loss": value})
    resumed.model = model
    resumed.on_train_begin({"initial_epoch": 3, "epochs": 5})
    assert (resumed.best, resumed.wait) == (4, 1)
    resumed.on_epoch_end({"event": "epoch", "epoch": 4, "loss": 1.0, "val_loss": 4.2})
    assert model.stop_training and resumed.stopped_epoch == straight.stopped_epoch == 4


def test_early_stopping_warns_when_best_weights_predate_the_resume() -> None:
    callback = EarlyStopping(patience=5, restore_best_weights=True)
    model = FakeModel()
    model.history.append({"loss": 1.0, "val_loss": 0.1})
    callback.model = model
    callback.on_train_begin({"initial_epoch": 1, "epochs": 2})
    callback.on_epoch_end({"event": "epoch", "epoch": 2, "loss": 1.0, "val_loss": 0.5})
    with pytest.warns(RuntimeWarning, match=r"the best epoch \(1\) came before this fit resumed"):
        callback.on_train_end(model.history)


def test_monitor_missing_names_the_metrics() -> None:
    callback = EarlyStopping()
    callback.model = FakeModel()
    callback.on_train_begin({"initial_epoch": 0, "epochs": 1})
    message = r"monitor 'val_loss' is not a metric of this fit; it has 'loss'.*validation_data"
    with pytest.raises(ValueError, match=message):
        callback.on_epoch_end({"event": "epoch", "epoch": 1, "loss": 1.0, "accuracy": 0.5})


def test_model_checkpoint_save_best_only_and_path_fields(tmp_path) -> None:
    callback = ModelCheckpoint(tmp_path / "m-{epoch:02d}-{val_loss:.1f}.npz", save_best_only=True)
    model = run(callback, [3.0, 2.0, 2.5, 1.0])
    names = [p.rsplit("/", 1)[1] for p in model.saved]
    assert names == ["m-01-3.0.npz", "m-02-2.0.npz", "m-04-1.0.npz"]
    every = ModelCheckpoint(tmp_path / "last.npz")
    assert len(run(every, [3.0, 2.0, 2.5]).saved) == 3


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda p: EarlyStopping(patience=-1), ValueError, "patience must be a non-negative int"),
        (lambda p: EarlyStopping(mode="up"), ValueError, "mode must be one of 'auto'"),
        (lambda p: EarlyStopping(monitor=3), TypeError, "monitor must be a metric name"),
        (lambda p: EarlyStopping(min_delta="x"), TypeError, "min_delta must be a number"),
        (lambda p: ModelCheckpoint(p / "no" / "m.npz"), FileNotFoundError, "does not exist"),
        (lambda p: ModelCheckpoint(3), TypeError, "filepath must be a str or a path"),
        (lambda p: CSVLogger(p / "log.csv", separator=";;"), ValueError, "one character"),
    ],
)
def test_bad_arguments(tmp_path, build, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        build(tmp_path)


def test_model_checkpoint_bad_field(tmp_path) -> None:
    callback = ModelCheckpoint(tmp_path / "m-{val_acc}.npz")
    with pytest.raises(ValueError, match=r"cannot fill in .*m-\{val_acc\}\.npz"):
        run(callback, [1.0])
