"""fit, predict and evaluate on memory maps (never copied whole) and iterables of batches;
augmentation in fit (seeded, off at evaluation)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from scratchcnn.initializers import DefaultInitializer
from scratchcnn.layers import Dense, Flatten, ReLU
from scratchcnn.model import Sequential
from scratchcnn.optimizers import Adam
from scratchcnn.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip


def mlp(features: int = 12, seed: int = 0) -> Sequential:
    init = DefaultInitializer(seed=seed)
    layers = [Flatten(), Dense(features, 8, initializer=init), ReLU()]
    layers.append(Dense(8, 3, initializer=init))
    return Sequential(layers, optimizer=Adam(lr=0.01))


def same_weights(a: Sequential, b: Sequential) -> None:
    for la, lb in zip(a.layers, b.layers, strict=True):
        for name, value in la.params().items():
            np.testing.assert_array_equal(value, lb.params()[name], err_msg=name)


def test_memmap_runs_equal_in_memory_runs_and_peak_memory_stays_small(
    rng: np.random.Generator, tmp_path: Path
) -> None:
    n, shape = 20_000, (1, 16, 16)
    X = rng.standard_normal((n, *shape)).astype(np.float32)  # 20 MB
    y = rng.integers(0, 3, n)
    np.save(tmp_path / "X.npy", X)
    X_map = np.load(tmp_path / "X.npy", mmap_mode="r")
    in_memory, mapped = mlp(256), mlp(256)
    kwargs = dict(epochs=1, batch_size=500, seed=3, verbose=0, validation_split=0.1)
    in_memory.fit(X, y, **kwargs)
    del X
    tracemalloc.start()
    try:
        history = mapped.fit(X_map, y, **kwargs)
        predicted = mapped.predict(X_map, batch_size=1000)
        loss, accuracy = mapped.evaluate(X_map, y, batch_size=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X_map.nbytes / 8, f"peak {peak / 1e6:.1f} MB for {X_map.nbytes / 1e6:.0f} MB"
    same_weights(in_memory, mapped)
    assert history["val_loss"] == in_memory.history["val_loss"]
    np.testing.assert_array_equal(predicted, in_memory.predict(np.asarray(X_map)))
    assert (loss, accuracy) == in_memory.evaluate(np.asarray(X_map), y, batch_size=1000)


def test_memmap_with_nan_is_found_per_batch(rng: np.random.Generator, tmp_path: Path) -> None:
    X = rng.standard_normal((30, 1, 3, 4)).astype(np.float32)
    X[17, 0, 1, 1] = np.nan
    np.save(tmp_path / "X.npy", X)
    X_map = np.load(tmp_path / "X.npy", mmap_mode="r")
    message = r"memory-mapped X contains NaN \(in the batch of rows 10\.\.19\)"
    with pytest.raises(ValueError, match=message):
        mlp().predict(X_map, batch_size=10)


def test_iterable_of_batches_equals_arrays(rng: np.random.Generator) -> None:
    X, y = rng.standard_normal((40, 1, 3, 4)), rng.integers(0, 3, 40)
    X_val, y_val = rng.standard_normal((10, 1, 3, 4)), rng.integers(0, 3, 10)
    batches = [(X[i : i + 8], y[i : i + 8]) for i in range(0, 40, 8)]
    val_batches = [(X_val[:6], y_val[:6]), (X_val[6:], y_val[6:])]
    arrays, listed, factory = mlp(), mlp(), mlp()
    arrays.fit(X, y, epochs=2, batch_size=8, shuffle=False, validation_data=(X_val, y_val),
               verbose=0)  # fmt: skip
    listed.fit(batches, None, epochs=2, validation_data=val_batches, verbose=0)
    factory.fit(lambda: iter(batches), None, epochs=2, verbose=0)
    same_weights(arrays, listed)
    same_weights(arrays, factory)
    assert listed.history["val_loss"] == pytest.approx(arrays.history["val_loss"], rel=1e-6)
    assert listed.evaluate(val_batches, None) == pytest.approx(arrays.evaluate(X_val, y_val))
    generator = (x for x, _ in val_batches)
    np.testing.assert_array_equal(listed.predict(generator), arrays.predict(X_val))
    proba = listed.predict_proba(lambda: iter(val_batches))
    np.testing.assert_allclose(proba, arrays.predict_proba(X_val), rtol=1e-6)


def test_one_shot_generator_for_two_epochs(rng: np.random.Generator) -> None:
    X, y = rng.standard_normal((16, 1, 3, 4)), rng.integers(0, 3, 16)
    batches = ((X[i : i + 8], y[i : i + 8]) for i in range(0, 16, 8))
    with pytest.raises(ValueError, match=r"one-shot iterator .* used up by the previous pass"):
        mlp().fit(batches, None, epochs=2, verbose=0)


@pytest.mark.parametrize(
    ("batches", "error", "message"),
    [
        ([np.zeros((2, 1, 3, 4))], TypeError, r"batch 0 must be a pair \(X, y\)"),
        ([], ValueError, "yielded no batch"),
        ([(np.zeros((2, 1, 3, 4)), np.array([0, 5]))], ValueError, r"\(batch 0\): class labels"),
        ([(np.zeros((2, 1, 3, 5)), np.array([0, 1]))], ValueError, r"\(batch 0\): samples of"),
    ],
)
def test_bad_batches(batches, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        mlp().fit(batches, None, verbose=0)


def test_batches_with_validation_split() -> None:
    with pytest.raises(ValueError, match="validation_split needs arrays"):
        mlp().fit([(np.zeros((2, 1, 3, 4)), np.zeros(2))], None, validation_split=0.2, verbose=0)


def test_augmentation_is_seeded_and_off_at_evaluation(rng: np.random.Generator) -> None:
    X, y = rng.random((32, 1, 3, 4)).astype(np.float32), rng.integers(0, 3, 32)
    norm = Normalize(0.5, 0.25)
    augment = Compose([RandomCrop((3, 4), padding=1), RandomHorizontalFlip(), norm])
    seen: list[np.ndarray] = []

    def recording(batch: np.ndarray, batch_rng: np.random.Generator | None) -> np.ndarray:
        out = augment(batch, batch_rng)
        seen.append(out)
        return out

    a, b, plain = mlp(), mlp(), mlp()
    a.fit(X, y, epochs=2, batch_size=8, seed=4, transform=augment, verbose=0)
    b.fit(X, y, epochs=2, batch_size=8, seed=4, transform=augment, verbose=0)
    plain.fit(X, y, epochs=2, batch_size=8, seed=4, transform=norm, verbose=0)
    same_weights(a, b)  # the same seed, the same crops and flips
    assert not np.array_equal(a.layers[1].W, plain.layers[1].W)
    recorder = mlp()
    recorder.fit(X, y, epochs=1, batch_size=8, seed=4, transform=recording,
                 validation_data=(X, y), verbose=0)  # fmt: skip
    assert len(seen) == 4  # training batches only: validation gets no random crops or flips
    # evaluation and prediction apply only Normalize
    assert a.evaluate(X, y, transform=augment) == a.evaluate(norm(X), y)
    np.testing.assert_array_equal(a.predict(X, transform=augment), a.predict(norm(X)))
