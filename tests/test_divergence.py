"""A diverging model: evaluate copes with NaN and infinite outputs, fit says what happened."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scratchcnn.initializers import DefaultInitializer
from scratchcnn.layers import Dense, Flatten, ReLU
from scratchcnn.model import Sequential
from scratchcnn.optimizers import SGD


def mlp() -> Sequential:
    init = DefaultInitializer(seed=0)
    return Sequential(
        [Flatten(), Dense(16, 8, initializer=init), ReLU(), Dense(8, 3, initializer=init)]
    )


def data(rng: np.random.Generator, n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((n, 1, 4, 4)).astype(np.float32), np.arange(n) % 3


def test_evaluate_with_nan_weights_gives_nan_and_counts_every_sample_wrong(
    rng: np.random.Generator,
) -> None:
    model = mlp()
    model.layers[1].W[0, 0] = np.nan
    loss, accuracy = model.evaluate(*data(rng))
    assert math.isnan(loss) and accuracy == 0.0


def test_evaluate_with_some_infinite_outputs(rng: np.random.Generator) -> None:
    model = mlp()
    X, y = data(rng)
    model.layers[1].W[0, :] = 1e30
    X[:, 0, 0, 0] = 0.0
    finite_loss, _ = model.evaluate(X[:6], y[:6])
    X[6:, 0, 0, 0] = 1e10  # float32 overflow in the first Dense for these samples
    loss, accuracy = model.evaluate(X, y)
    outputs = model.predict_proba(X[:6])
    expected_correct = int(np.count_nonzero(outputs.argmax(axis=1) == y[:6]))
    assert not math.isfinite(loss) and math.isfinite(finite_loss)
    assert accuracy == pytest.approx(expected_correct / 12)


def test_fit_marks_a_diverged_run_and_says_where(rng: np.random.Generator) -> None:
    X, y = data(rng)
    X *= 1e4
    model = mlp()
    model.optimizer = SGD(lr=1e30)
    with pytest.warns(
        RuntimeWarning, match=r"Sequential.fit stopped: .*Try a smaller learning rate"
    ):
        history = model.fit(X, y, epochs=3, batch_size=4, verbose=0)
    assert history.diverged and not history.interrupted
    assert "Stopped at epoch 1, step" in history.stopped_reason
    assert all(np.isfinite(p).all() for p in model.params().values())
    assert model.history.diverged and model.history.to_dict()["diverged"] is True
