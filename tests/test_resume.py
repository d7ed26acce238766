"""Resuming training: a run stopped and continued equals the run never stopped, bit for bit."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from scratchcnn.initializers import DefaultInitializer
from scratchcnn.layers import BatchNorm2d, Conv2d, Dense, Dropout, Flatten, MaxPool2d, ReLU
from scratchcnn.model import History, Sequential, load
from scratchcnn.model import archive as archive_module


def net(seed: int = 0) -> Sequential:
    """Conv -> BatchNorm -> ReLU -> pool -> Dropout (default stream) -> Dense -> Dropout(seeded)
    -> Dense: every kind of state a resume must carry (Adam moments, running statistics,
    two kinds of random streams)."""
    init = DefaultInitializer(seed=seed)
    return Sequential(
        [
            Conv2d(1, 4, 3, initializer=init),
            BatchNorm2d(4),
            ReLU(),
            MaxPool2d(2),
            Flatten(),
            Dropout(0.3),
            Dense(36, 8, initializer=init),
            ReLU(),
            Dropout(0.2, seed=5),
            Dense(8, 3, initializer=init),
        ],
        optimizer="adam",
    )


def data(rng: np.random.Generator, n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((n, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, n)


FIT = {"batch_size": 7, "validation_split": 0.2, "verbose": 0}


def assert_same_training(a: Sequential, b: Sequential) -> None:
    """Same weights, buffers, optimizer state and history (except the timings)."""
    for name, values in (("params", a.params()), ("buffers", a.buffers())):
        other = getattr(b, name)()
        assert values.keys() == other.keys()
        for key in values:
            np.testing.assert_array_equal(values[key], other[key], err_msg=f"{name} {key}")
    state_a, state_b = a.optimizer.state_dict(a.layers), b.optimizer.state_dict(b.layers)
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        np.testing.assert_array_equal(state_a[key], state_b[key], err_msg=key)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert a.history[key] == b.history[key], key
    assert a.epochs_trained == b.epochs_trained
    assert a.history.best_epoch == b.history.best_epoch


@pytest.fixture
def straight(rng: np.random.Generator) -> tuple[Sequential, np.ndarray, np.ndarray]:
    """A 4-epoch run never stopped, and its data."""
    X, y = data(rng)
    model = net()
    model.fit(X, y, epochs=4, seed=0, **FIT)
    return model, X, y


def test_two_fits_of_two_epochs_are_one_of_four(straight) -> None:  # type: ignore[no-untyped-def]
    reference, X, y = straight
    model = net()
    model.fit(X, y, epochs=2, seed=0, **FIT)
    history = model.fit(X, y, epochs=2, **FIT)  # no seed: the model's stream goes on
    assert history.epochs == 4 and history["loss"] == reference.history["loss"]
    assert_same_training(model, reference)


def test_resume_from_a_saved_model(straight, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reference, X, y = straight
    model = net()
    model.fit(X, y, epochs=2, seed=0, **FIT)
    model.save(tmp_path / "two.npz")
    resumed = load(tmp_path / "two.npz")
    assert resumed.epochs_trained == 2 and resumed.shuffle_seed == 0
    events = []
    resumed.fit(X, y, epochs=2, callbacks=[events.append], **FIT)
    epochs = [(e["epoch"], e["epochs"]) for e in events if e["event"] == "epoch"]
    assert epochs == [(3, 4), (4, 4)]
    assert_same_training(resumed, reference)


def test_resume_after_an_interrupt_mid_epoch(straight, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reference, X, y = straight
    checkpoint = tmp_path / "checkpoint.npz"

    def interrupt(event: dict) -> None:
        if event["epoch"] == 3 and event["step"] == 2:
            raise KeyboardInterrupt

    model = net()
    history = model.fit(
        X, y, epochs=4, seed=0, checkpoint_path=checkpoint, callbacks=[interrupt], **FIT
    )
    assert history.interrupted and history.epochs == 2
    assert "epoch 3, step 2" in history.stopped_reason
    resumed = load(checkpoint)  # the end of epoch 2, not the weights of the interrupted step
    assert resumed.epochs_trained == 2
    resumed.fit(X, y, epochs=4 - resumed.epochs_trained, **FIT)
    assert_same_training(resumed, reference)


def test_the_same_seed_again_also_continues(straight) -> None:  # type: ignore[no-untyped-def]
    reference, X, y = straight
    model = net()
    for _ in range(4):
        model.fit(X, y, epochs=1, seed=0, **FIT)
    assert_same_training(model, reference)


def test_another_seed_gives_another_run(straight) -> None:  # type: ignore[no-untyped-def]
    reference, X, y = straight
    model = net()
    model.fit(X, y, epochs=4, seed=1, **FIT)
    assert model.history["loss"] != reference.history["loss"]


def test_a_generator_seed_is_drawn_once_per_fit(rng: np.random.Generator) -> None:
    X, y = data(rng)
    a, b = net(), net()
    a.fit(X, y, epochs=2, seed=np.random.default_rng(7), **FIT)
    b.fit(X, y, epochs=2, seed=np.random.default_rng(7), **FIT)
    assert_same_training(a, b)


@pytest.mark.parametrize(
    ("seed", "error", "message"),
    [
        (-5, ValueError, r"Sequential.fit: seed must be a non-negative int, but got -5"),
        ("0", TypeError, r"Sequential.fit: seed must be an int, a Generator or None, but got '0'"),
        (True, TypeError, r"seed must be an int, a Generator or None, but got True"),
    ],
)
def test_bad_seeds(rng: np.random.Generator, seed: object, error: type, message: str) -> None:
    X, y = data(rng)
    with pytest.raises(error, match=message):
        net().fit(X, y, seed=seed, verbose=0)


def test_a_new_model_has_no_training() -> None:
    model = net()
    assert model.epochs_trained == 0 and model.shuffle_seed is None
    assert isinstance(model.history, History) and model.history.epochs == 0


def test_fit_returns_a_copy_of_the_model_history(rng: np.random.Generator) -> None:
    X, y = data(rng)
    model = net()
    first = model.fit(X, y, epochs=1, **FIT)
    second = model.fit(X, y, epochs=1, **FIT)
    assert (first.epochs, second.epochs, model.history.epochs) == (1, 2, 2)


def test_history_state_round_trip_keeps_nan_and_infinity() -> None:
    history = History(validation=True)
    history.append({"loss": 1.5, "accuracy": None, "val_loss": math.inf, "val_accuracy": 0.5})
    history.append({"loss": math.nan, "accuracy": 0.25, "seconds": 0.1})
    history.best_epoch, history.diverged = 1, True
    restored = History.from_state(json.loads(json.dumps(history.state())))
    assert restored.history.keys() == history.history.keys()
    assert restored["val_loss"][0] == math.inf and math.isnan(restored["loss"][1])
    assert restored["val_accuracy"] == [0.5, None] and restored["seconds"] == [None, 0.1]
    assert (restored.best_epoch, restored.diverged) == (1, True)


def test_history_grows_a_column_first_seen_later() -> None:
    history = History()
    history.append({"loss": 1.0, "accuracy": 0.5, "seconds": 1.0})
    history.append({"loss": 0.5, "accuracy": 0.6, "val_loss": 0.7, "seconds": 1.0})
    assert history["val_loss"] == [None, 0.7] and history.epochs == 2


def test_version_1_files_still_load(rng: np.random.Generator, tmp_path: Path) -> None:
    model = net()
    X, y = data(rng)
    model.fit(X, y, epochs=1, **FIT)
    arrays = archive_module.model_arrays(model)
    del arrays[archive_module.TRAINING_KEY]
    spec = json.loads(str(arrays[archive_module.ARCHITECTURE_KEY]))
    spec["format_version"] = 1
    arrays[archive_module.ARCHITECTURE_KEY] = np.array(json.dumps(spec))
    np.savez(tmp_path / "v1.npz", **arrays)
    loaded = load(tmp_path / "v1.npz")
    assert loaded.epochs_trained == 0
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda s: "{not json", r"the training state is not valid JSON"),
        (lambda s: json.dumps({**s, "history": {}}), r"damaged: missing entry 'history'"),
        (
            lambda s: json.dumps({**s, "history": {"history": {"loss": [1.0], "seconds": []}}}),
            r"the training history is damaged: the history's lists have different lengths",
        ),
        (lambda s: json.dumps({**s, "shuffle_seed": -1}), r"the shuffle seed -1 is not"),
        (
            lambda s: json.dumps({**s, "layer_rngs": {"0": {"bit_generator": "PCG64"}}}),
            r"a generator state for layer '0', which draws none",
        ),
        (
            lambda s: json.dumps({**s, "layer_rngs": {"8": {"bit_generator": "os.system"}}}),
            r"layer 8's generator 'os.system' is not supported",
        ),
    ],
)
def test_damaged_training_state(tmp_path: Path, damage, message: str) -> None:  # type: ignore[no-untyped-def]
    arrays = archive_module.model_arrays(net())
    state = json.loads(str(arrays[archive_module.TRAINING_KEY]))
    arrays[archive_module.TRAINING_KEY] = np.array(damage(state))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        load(tmp_path / "bad.npz")
