"""Sequential: input checks, modes, inference, history, Ctrl+C, NaN recovery, checkpoints."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest

from scratchcnn.initializers import DefaultInitializer
from scratchcnn.layers import Conv2d, Dense, Dropout, Flatten, MaxPool2d, ReLU, Softmax
from scratchcnn.losses import SoftmaxCrossEntropy
from scratchcnn.model import History, Sequential, load
from scratchcnn.optimizers import SGD, Adam


def small_cnn(
    seed: int = 0, optimizer: object = "adam", dropout: float = 0.0, **kw: object
) -> Sequential:
    """Conv 4@3x3 -> ReLU -> pool 2 -> Flatten -> Dense(36, 3), for (1, 8, 8) samples."""
    init = DefaultInitializer(seed=seed)
    layers = [Conv2d(1, 4, 3, initializer=init), ReLU(), MaxPool2d(2), Flatten()]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(36, 3, initializer=init))
    return Sequential(layers, optimizer=optimizer, **kw)


def toy_data(rng: np.random.Generator, n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    X = rng.standard_normal((n, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, n)
    return X, y


def weights(model: Sequential) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in model.params().items()}


def assert_same_weights(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def weights_after_steps(
    steps: int, X: np.ndarray, y: np.ndarray, batch_size: int = 4, optimizer: object = "adam"
) -> dict[str, np.ndarray]:
    """Weights of a fresh small_cnn after ``steps`` steps over X in order (no shuffling)."""
    model = small_cnn(optimizer=optimizer)
    n = steps * batch_size
    if n:
        model.fit(X[:n], y[:n], epochs=1, batch_size=batch_size, shuffle=False, verbose=0)
    return weights(model)


# -- construction -----------------------------------------------------------------------------
def test_repr_lists_layers() -> None:
    text = repr(small_cnn())
    assert text.startswith("Sequential(\n  (0): Conv2d(1, 4")
    assert "(4): Dense" in text


def test_first_trainable_layer_skips_its_input_gradient() -> None:
    model = Sequential([Flatten(), Dense(64, 3), ReLU(), Dense(3, 2)])
    assert model.layer_flags[1]["compute_input_grad"] is False
    assert model.layer_flags[3]["compute_input_grad"] is True
    seen = []
    original = model.layers[1].backward
    model.layers[1].backward = lambda dA: seen.append(model.layers[1].compute_input_grad) or (
        original(dA)
    )
    model.train_step(np.ones((2, 1, 8, 8), dtype=np.float32), np.array([0, 1]))
    assert seen == [False]
    assert model.layers[1].compute_input_grad is True  # the flag is the model's, not the layer's


def test_names_resolve_to_loss_and_optimizer() -> None:
    model = small_cnn(optimizer="sgd")
    assert isinstance(model.loss, SoftmaxCrossEntropy)
    assert isinstance(model.optimizer, SGD)


def test_rejects_non_layers() -> None:
    with pytest.raises(TypeError, match=r"Sequential: layer 1 must be a scratchcnn Layer"):
        Sequential([Flatten(), "dense"])


def test_rejects_empty_model() -> None:
    with pytest.raises(ValueError, match=r"Sequential: expected at least one layer"):
        Sequential([])


def test_rejects_layer_with_its_own_optimizer() -> None:
    with pytest.raises(ValueError, match=r"layer 1 Dense.* carries its own optimizer"):
        Sequential([Flatten(), Dense(4, 2, optimizer=SGD())])


def test_rejects_repeated_layer() -> None:
    relu = ReLU()
    with pytest.raises(ValueError, match=r"the same layer object appears twice"):
        Sequential([Flatten(), relu, Dense(4, 4), relu])


def test_rejects_bad_dtype() -> None:
    with pytest.raises(ValueError, match=r"dtype must be float32 or float64, but got float16"):
        small_cnn(dtype=np.float16)


def test_warns_about_softmax_before_cross_entropy() -> None:
    with pytest.warns(UserWarning, match=r"the last layer is Softmax, but SoftmaxCrossEntropy"):
        Sequential([Flatten(), Dense(4, 3), Softmax()])


def test_rejects_bad_loss_object() -> None:
    with pytest.raises(TypeError, match=r"loss must be a name or an object with forward"):
        Sequential([Flatten()], loss=object())


# -- input checks -----------------------------------------------------------------------------
def test_fit_rejects_wrong_rank(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    with pytest.raises(
        ValueError,
        match=r"Sequential.fit: samples of shape \(8, 8\) do not fit "
        r"layer 0: Conv2d",
    ):
        small_cnn().fit(X[:, 0], y, verbose=0)


def test_fit_rejects_wrong_size_for_dense(rng: np.random.Generator) -> None:
    X = rng.standard_normal((4, 1, 10, 10))
    with pytest.raises(ValueError, match=r"samples of shape \(1, 10, 10\) do not fit layer 4"):
        small_cnn().fit(X, np.zeros(4, dtype=int), verbose=0)


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
@pytest.mark.parametrize("as_batches", [False, True])
def test_inference_names_the_layer_samples_do_not_fit(
    rng: np.random.Generator, method: str, as_batches: bool
) -> None:
    """Inference traces the shapes only when a forward pass fails; the message is the same."""
    model = small_cnn()
    X = rng.standard_normal((4, 1, 10, 10))
    source = iter([X[:2], X[2:]]) if as_batches else X
    owner = f"Sequential.{method}"
    with pytest.raises(
        ValueError, match=rf"{owner}: samples of shape \(1, 10, 10\) do not fit layer 4: Dense"
    ) as caught:
        getattr(model, method)(source)
    assert "Dense" in str(caught.value.__cause__)  # the layer's own message stays attached
    with pytest.raises(ValueError, match=r"do not fit layer 0: Conv2d"):
        getattr(model, method)(X[:, 0])
    assert model.training  # the mode is restored after the failure


def test_inference_keeps_errors_that_are_not_about_shapes(rng: np.random.Generator) -> None:
    class Refuses(Flatten):
        def forward(self, X):
            raise ValueError("Refuses: no")

    model = Sequential([Refuses()])
    with pytest.raises(ValueError, match=r"^Refuses: no$"):
        model.predict_proba(rng.standard_normal((3, 4)))


def test_fit_rejects_length_mismatch(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    with pytest.raises(
        ValueError,
        match=r"X and y must have the same length, but got 24 "
        r"samples and y of shape \(23,\)",
    ):
        small_cnn().fit(X, y[:-1], verbose=0)


def test_fit_rejects_nan_input(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    X[3, 0, 2, 2] = np.nan
    with pytest.raises(ValueError, match=r"Sequential.fit: X contains NaN"):
        small_cnn().fit(X, y, verbose=0)


def test_fit_rejects_nan_labels(rng: np.random.Generator) -> None:
    X, _ = toy_data(rng)
    y = np.zeros((24, 3))
    y[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"y contains NaN or infinity"):
        small_cnn().fit(X, y, verbose=0)


def test_fit_rejects_labels_out_of_range(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    y[5] = 3
    with pytest.raises(
        ValueError,
        match=r"class labels must be in \[0, 3\) for a model with 3 "
        r"outputs, but got 3",
    ):
        small_cnn().fit(X, y, verbose=0)


def test_fit_rejects_wrong_target_width(rng: np.random.Generator) -> None:
    X, _ = toy_data(rng)
    with pytest.raises(ValueError, match=r"targets of shape \(N, 3\) .* but got shape \(24, 4\)"):
        small_cnn().fit(X, np.zeros((24, 4)), verbose=0)


def test_fit_rejects_non_numeric_input() -> None:
    with pytest.raises(TypeError, match=r"Sequential.fit: X must be an array of numbers"):
        small_cnn().fit(np.array([["a"]]), [0], verbose=0)


def test_fit_rejects_bad_validation_split(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    with pytest.raises(ValueError, match=r"validation_split must be in \[0, 1\), but got 1.5"):
        small_cnn().fit(X, y, validation_split=1.5, verbose=0)


def test_fit_rejects_keep_best_without_validation(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    with pytest.raises(ValueError, match=r"keep_best=True needs validation_data"):
        small_cnn().fit(X, y, keep_best=True, verbose=0)


def test_fit_rejects_bad_epochs(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    with pytest.raises(ValueError, match=r"Sequential.fit: epochs must be positive"):
        small_cnn().fit(X, y, epochs=0, verbose=0)


def test_fit_rejects_bad_validation_data(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    with pytest.raises(TypeError, match=r"validation_data must be a tuple \(X_val, y_val\)"):
        small_cnn().fit(X, y, validation_data=X, verbose=0)


def test_fit_rejects_non_callable_progress(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    message = r"progress and callbacks must be Callback objects or callables, got .tqdm."
    with pytest.raises(TypeError, match=message):
        small_cnn().fit(X, y, progress="tqdm", verbose=0)


def test_fit_rejects_empty_split(rng: np.random.Generator) -> None:
    X, y = toy_data(rng, n=1)
    with pytest.raises(ValueError, match=r"validation_split=0.5 of 1 samples leaves an empty"):
        small_cnn().fit(X, y, validation_split=0.5, verbose=0)


def test_float_labels_that_are_integers_are_accepted(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    history = small_cnn().fit(X, y.astype(np.float64), verbose=0)
    assert history.epochs == 1


def test_one_hot_labels_train_like_class_indices(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    a, b = small_cnn(), small_cnn()
    a.fit(X, y, batch_size=8, shuffle=False, verbose=0)
    b.fit(X, np.eye(3)[y], batch_size=8, shuffle=False, verbose=0)
    for key, value in a.params().items():
        np.testing.assert_allclose(value, b.params()[key], rtol=1e-5, atol=1e-7)


# -- dtype ------------------------------------------------------------------------------------
def test_float32_model_stays_float32_for_any_input(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    model = small_cnn()
    model.fit(X.astype(np.float64), y, verbose=0)
    model.fit((X > 0).astype(np.uint8), y, verbose=0)
    assert all(p.dtype == np.float32 for p in model.params().values())
    assert model.predict_proba(X.astype(np.float64)).dtype == np.float32


def test_float64_model_has_float64_parameters() -> None:
    model = small_cnn(dtype=np.float64)
    assert all(p.dtype == np.float64 for p in model.params().values())


# -- modes and inference ----------------------------------------------------------------------
def test_fit_trains_in_training_mode_and_restores_mode(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    model = small_cnn(dropout=0.5)
    model.eval()
    modes = []
    model.fit(
        X, y, batch_size=8, verbose=0, progress=lambda e: modes.append(model.layers[4].training)
    )
    assert modes and all(modes)
    assert model.layers[4].training is False and model.training is False


def test_predict_uses_eval_mode(rng: np.random.Generator) -> None:
    X, _ = toy_data(rng)
    model = small_cnn(dropout=0.9)
    first = model.predict_proba(X)
    np.testing.assert_array_equal(first, model.predict_proba(X))
    assert model.training is True  # restored after inference


def test_predict_proba_rows_sum_to_one_and_batches_agree(rng: np.random.Generator) -> None:
    X, _ = toy_data(rng)
    model = small_cnn()
    P = model.predict_proba(X, batch_size=5)
    assert P.shape == (24, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(P, model.predict_proba(X, batch_size=100), rtol=1e-6)
    np.testing.assert_array_equal(model.predict(X, batch_size=7), P.argmax(axis=1))


def test_inference_keeps_no_activations(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    model = small_cnn()
    model.predict(X)
    model.evaluate(X, y)
    assert all(layer._cache is None for layer in model.layers)


def test_evaluate_matches_whole_batch_loss(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    model = small_cnn(dtype=np.float64)
    loss, accuracy = model.evaluate(X, y, batch_size=5)
    logits = model.forward(X)
    assert loss == pytest.approx(SoftmaxCrossEntropy().forward(logits, y), rel=1e-12)
    assert accuracy == pytest.approx(np.mean(logits.argmax(axis=1) == y))


def test_predict_needs_class_outputs(rng: np.random.Generator) -> None:
    model = Sequential([Flatten(), Dense(4, 1)], loss="mse")
    with pytest.raises(ValueError, match=r"Sequential.predict: class labels need outputs"):
        model.predict(rng.standard_normal((3, 4)))


def test_mse_model_has_no_accuracy(rng: np.random.Generator) -> None:
    model = Sequential([Flatten(), Dense(4, 1)], loss="mse", optimizer="sgd")
    X = rng.standard_normal((16, 4))
    history = model.fit(X, X[:, :1], epochs=2, batch_size=4, verbose=0)
    assert history["accuracy"] == [None, None]
    assert model.evaluate(X, X[:, :1])[1] is None
    assert model.predict_proba(X).shape == (16, 1)


# -- history and progress ---------------------------------------------------------------------
def test_history_records_every_epoch(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    history = small_cnn().fit(
        X, y, epochs=3, batch_size=8, validation_split=0.25, seed=0, verbose=0
    )
    assert isinstance(history, History)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"}
    assert all(len(v) == 3 for v in history.history.values())
    assert all(s > 0 for s in history["seconds"])
    assert history.interrupted is False and history.stopped_reason is None
    data = json.loads(json.dumps(history.to_dict()))
    assert data["epochs"] == 3 and data["best_epoch"] in (1, 2, 3)
    assert data["loss"] == history["loss"] and data["interrupted"] is False


def test_validation_split_holds_out_the_last_samples(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    model = small_cnn()
    steps = []
    history = model.fit(
        X,
        y,
        batch_size=6,
        validation_split=0.25,
        verbose=0,
        progress=lambda e: steps.append(e["samples"]),
    )
    assert steps[-1] == 18  # the epoch event after the batches
    val_loss, val_acc = model.evaluate(X[18:], y[18:])
    assert history["val_loss"][0] == pytest.approx(val_loss, rel=1e-6)
    assert history["val_accuracy"][0] == pytest.approx(val_acc)


def test_progress_events(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    events: list[dict] = []
    small_cnn().fit(
        X,
        y,
        epochs=2,
        batch_size=10,
        validation_data=(X[:6], y[:6]),
        verbose=0,
        progress=events.append,
    )
    kinds = [(e["event"], e["epoch"], e["step"]) for e in events]
    assert kinds == [
        ("batch", 1, 1),
        ("batch", 1, 2),
        ("batch", 1, 3),
        ("epoch", 1, 3),
        ("batch", 2, 1),
        ("batch", 2, 2),
        ("batch", 2, 3),
        ("epoch", 2, 3),
    ]
    assert events[2]["samples"] == 24 and events[2]["batch_size"] == 4
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "images_per_second"} <= set(events[3])


def test_callbacks_can_stop_training(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    model = small_cnn()

    def stop(event: dict) -> None:
        if event["event"] == "epoch" and event["epoch"] == 2:
            model.stop_training = True

    history = model.fit(X, y, epochs=5, verbose=0, callbacks=[stop])
    assert history.epochs == 2
    assert "stop_training" in history.stopped_reason


def test_default_progress_bar_runs(rng: np.random.Generator, capsys: pytest.CaptureFixture) -> None:
    X, y = toy_data(rng)
    small_cnn().fit(X, y, epochs=1, batch_size=8, validation_split=0.25, verbose=1)
    assert "Epoch 1/1" in capsys.readouterr().err
    small_cnn().fit(X, y, epochs=1, batch_size=8, verbose=2)
    assert "Epoch 1/1: loss=" in capsys.readouterr().out


def test_shuffle_seed_is_reproducible(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    a, b = small_cnn(), small_cnn()
    a.fit(X, y, epochs=2, batch_size=5, seed=3, verbose=0)
    b.fit(X, y, epochs=2, batch_size=5, seed=3, verbose=0)
    assert_same_weights(weights(a), weights(b))


# -- Ctrl+C -----------------------------------------------------------------------------------
def test_interrupt_from_progress_keeps_the_completed_step(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    model = small_cnn()

    def interrupt(event: dict) -> None:
        if event["step"] == 3:
            raise KeyboardInterrupt

    history = model.fit(X, y, epochs=2, batch_size=4, shuffle=False, verbose=0, progress=interrupt)
    assert history.interrupted is True and history.epochs == 0
    assert "step 3" in history.stopped_reason
    assert_same_weights(weights(model), weights_after_steps(3, X, y))


def test_interrupt_during_forward_leaves_weights_untouched(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = toy_data(rng)
    model = small_cnn()
    dense = model.layers[-1]
    calls = {"n": 0}
    original = dense.forward

    def forward(A: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(A)

    monkeypatch.setattr(dense, "forward", forward)
    history = model.fit(X, y, batch_size=4, shuffle=False, verbose=0)
    assert history.interrupted is True
    assert_same_weights(weights(model), weights_after_steps(2, X, y))


class _SigintDuringUpdate(Adam):
    """Adam that sends itself SIGINT while updating the first layer of step ``at``."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at, self.calls = at, 0

    def update(self, layer):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == 2 * self.at - 1:  # two trainable layers per step
            os.kill(os.getpid(), signal.SIGINT)
        return super().update(layer)


@pytest.mark.skipif(
    not hasattr(os, "kill") or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="needs os.kill and Python's own SIGINT handler",
)
def test_ctrl_c_during_updates_finishes_the_step(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    model = small_cnn(optimizer=_SigintDuringUpdate(at=2))
    history = model.fit(X, y, batch_size=4, shuffle=False, verbose=0)
    assert history.interrupted is True
    assert_same_weights(weights(model), weights_after_steps(2, X, y))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# -- NaN and infinity -------------------------------------------------------------------------
class _NanLossAt(SoftmaxCrossEntropy):
    """Cross-entropy whose ``at``-th forward returns NaN."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at, self.calls = at, 0

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        self.calls += 1
        loss = super().forward(logits, labels)
        return float("nan") if self.calls == self.at else loss


def test_nan_loss_stops_before_that_update(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    model = small_cnn(loss=_NanLossAt(3))
    with pytest.warns(RuntimeWarning, match=r"Sequential.fit stopped: the loss became nan"):
        history = model.fit(X, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    assert history.stopped_reason.startswith("the loss became nan")
    assert history.interrupted is False and history.epochs == 0
    assert_same_weights(weights(model), weights_after_steps(2, X, y))


def test_huge_learning_rate_stops_with_finite_weights(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    X *= 1e4
    model = small_cnn(optimizer=SGD(lr=1e34))
    with pytest.warns(RuntimeWarning, match=r"Sequential.fit stopped"):
        history = model.fit(X, y, epochs=5, batch_size=4, verbose=0)
    assert history.stopped_reason is not None
    assert all(np.isfinite(p).all() for p in model.params().values())


class _InfAfterSteps(SGD):
    """SGD that writes infinity into the Dense weights on update number ``at``."""

    def __init__(self, at: int) -> None:
        super().__init__(lr=0.1)
        self.at, self.calls = at, 0

    def update(self, layer):  # type: ignore[no-untyped-def]
        super().update(layer)
        self.calls += 1
        if self.calls == self.at:
            layer.W[0, 0] = np.inf
        return layer


def test_non_finite_weights_restore_the_epoch_start(rng: np.random.Generator) -> None:
    X, y = toy_data(rng)
    model = small_cnn(optimizer=_InfAfterSteps(at=2 * 6 + 4))  # epoch 2, step 2, Dense
    starts = []
    model.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    starts.append(weights(model))
    with pytest.warns(RuntimeWarning, match=r"made the parameters of layer 4 Dense"):
        history = model.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    assert "start of this epoch were restored" in history.stopped_reason
    assert_same_weights(weights(model), starts[0])


# -- checkpoints and keep_best ----------------------------------------------------------------
def test_checkpoint_is_written_every_epoch(rng: np.random.Generator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, y = toy_data(rng)
    path = tmp_path / "ckpt.npz"
    model = small_cnn()
    seen = []
    model.fit(
        X,
        y,
        epochs=2,
        batch_size=8,
        checkpoint_path=path,
        verbose=0,
        progress=lambda e: e["event"] == "epoch" and seen.append(path.stat().st_mtime_ns),
    )
    assert len(seen) == 2
    restored = load(path)
    assert_same_weights(weights(restored), weights(model))
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


def test_keep_best_restores_the_best_validation_epoch(rng: np.random.Generator) -> None:
    X, y = toy_data(rng, n=40)
    model = small_cnn(optimizer=SGD(lr=2.0))  # large steps: validation loss wanders
    per_epoch = []
    history = model.fit(
        X,
        y,
        epochs=6,
        batch_size=8,
        validation_split=0.5,
        keep_best=True,
        seed=1,
        verbose=0,
        progress=lambda e: e["event"] == "epoch" and per_epoch.append(weights(model)),
    )
    best = int(np.argmin(history["val_loss"]))
    assert history.best_epoch == best + 1
    assert_same_weights(weights(model), per_epoch[best])
