"""fit with an lr schedule and gradient clipping equals a PyTorch loop; resumes exactly."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from scratchcnn.callbacks import CSVLogger, EarlyStopping, ModelCheckpoint
from scratchcnn.initializers import DefaultInitializer
from scratchcnn.layers import Dense, Flatten, ReLU
from scratchcnn.model import Sequential, load
from scratchcnn.optimizers import SGD, Adam
from scratchcnn.schedules import CosineAnnealingLR, LinearLR, OneCycleLR, SequentialLR, StepLR


def mlp(optimizer: object, dtype: type = np.float64, seed: int = 0) -> Sequential:
    init = DefaultInitializer(seed=seed)
    layers = [Flatten(), Dense(12, 8, initializer=init), ReLU(), Dense(8, 3, initializer=init)]
    return Sequential(layers, optimizer=optimizer, dtype=dtype)


def torch_twin(model: Sequential) -> nn.Sequential:
    d1, d2 = (layer for layer in model.layers if layer.param_names)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    with torch.no_grad():
        for linear, dense in ((net[1], d1), (net[3], d2)):
            linear.weight.copy_(torch.from_numpy(dense.W.T.copy()))
            linear.bias.copy_(torch.from_numpy(dense.b.copy()))
    return net


def data(rng: np.random.Generator, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((n, 1, 3, 4)), rng.integers(0, 3, n)


@pytest.mark.parametrize("interval", ["epoch", "step"])
@pytest.mark.parametrize("clip", [None, 0.3])
def test_fit_with_schedule_and_clipping_equals_a_torch_loop(
    rng: np.random.Generator, interval: str, clip: float | None
) -> None:
    X, y = data(rng)
    epochs, batch = 3, 8
    steps = epochs * X.shape[0] // batch
    model = mlp(SGD(lr=0.2, momentum=0.9))
    net = torch_twin(model)
    opt = torch.optim.SGD(net.parameters(), lr=0.2, momentum=0.9)
    t_max = epochs if interval == "epoch" else steps
    ours = CosineAnnealingLR(model.optimizer, T_max=t_max, eta_min=0.01)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t_max, eta_min=0.01)
    history = model.fit(
        X, y, epochs=epochs, batch_size=batch, shuffle=False, verbose=0,
        lr_schedule=ours, lr_schedule_interval=interval, clip_grad_norm=clip,
    )  # fmt: skip
    lrs = []
    for _ in range(epochs):
        for lo in range(0, X.shape[0], batch):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(
                net(torch.from_numpy(X[lo : lo + batch])), torch.from_numpy(y[lo : lo + batch])
            )
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(net.parameters(), clip)
            used = opt.param_groups[0]["lr"]
            opt.step()
            if interval == "step":
                theirs.step()
        lrs.append(used)  # the rate of the epoch's last step
        if interval == "epoch":
            theirs.step()
    d1, d2 = (layer for layer in model.layers if layer.param_names)
    np.testing.assert_allclose(d1.W, net[1].weight.detach().numpy().T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(d2.b, net[3].bias.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert history["lr"] == pytest.approx(lrs, rel=1e-14)
    assert model.optimizer.lr == pytest.approx(opt.param_groups[0]["lr"], rel=1e-14)


def _warmup_cosine(opt: object) -> SequentialLR:
    return SequentialLR(
        opt, [LinearLR(opt, start_factor=0.1, total_iters=2), CosineAnnealingLR(opt, T_max=4)], [2]
    )


@pytest.mark.parametrize(
    ("build", "interval"),
    [
        (lambda o: StepLR(o, step_size=2, gamma=0.5), "epoch"),
        (_warmup_cosine, "epoch"),
        (lambda o: OneCycleLR(o, max_lr=0.05, total_steps=30), "step"),
    ],
)
def test_resume_from_checkpoint_continues_the_schedule_exactly(
    rng: np.random.Generator, tmp_path: Path, build, interval: str
) -> None:
    X, y = data(rng)
    X_val, y_val = data(rng, 12)
    kwargs = dict(batch_size=8, validation_data=(X_val, y_val), seed=5, verbose=0)
    straight = mlp(Adam(lr=0.01))
    straight.fit(
        X, y, epochs=6, lr_schedule=build(straight.optimizer), lr_schedule_interval=interval,
        callbacks=[CSVLogger(tmp_path / "straight.csv")], **kwargs,
    )  # fmt: skip

    first = mlp(Adam(lr=0.01))
    path = tmp_path / "ckpt.npz"
    first.fit(
        X, y, epochs=2, lr_schedule=build(first.optimizer), lr_schedule_interval=interval,
        checkpoint_path=path, callbacks=[CSVLogger(tmp_path / "resumed.csv")], **kwargs,
    )  # fmt: skip
    resumed = load(path)
    resumed.fit(
        X, y, epochs=4, lr_schedule=build(resumed.optimizer), lr_schedule_interval=interval,
        checkpoint_path=path, callbacks=[CSVLogger(tmp_path / "resumed.csv")], **kwargs,
    )  # fmt: skip
    for a, b in zip(straight.layers, resumed.layers, strict=True):
        for name, value in a.params().items():
            np.testing.assert_array_equal(value, b.params()[name])
    assert resumed.history["lr"] == straight.history["lr"]

    def rows(name: str) -> list[dict[str, str]]:
        with open(tmp_path / name, newline="") as f:
            return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(f)]

    assert rows("resumed.csv") == rows("straight.csv")
    assert [r["epoch"] for r in rows("resumed.csv")] == ["1", "2", "3", "4", "5", "6"]


def test_early_stopping_and_best_checkpoint_in_fit(rng: np.random.Generator, tmp_path) -> None:
    X, y = data(rng, 48)
    X_val, y_val = rng.standard_normal((16, 1, 3, 4)), rng.integers(0, 3, 16)  # noise: overfits
    model = mlp(Adam(lr=0.05))
    best_path = tmp_path / "best.npz"
    stop = EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(
        X, y, epochs=40, batch_size=8, validation_data=(X_val, y_val), seed=1, verbose=0,
        callbacks=[stop, ModelCheckpoint(best_path, save_best_only=True)],
    )  # fmt: skip
    assert 0 < stop.stopped_epoch < 40 and history.epochs == stop.stopped_epoch
    assert stop.stopped_epoch - stop.best_epoch == 2
    assert "stop_training was set by a callback" in history.stopped_reason
    val = history["val_loss"]
    assert stop.best_epoch == int(np.argmin(val)) + 1
    best = load(best_path)
    assert model.evaluate(X_val, y_val)[0] == pytest.approx(min(val), rel=1e-6)
    assert best.evaluate(X_val, y_val)[0] == pytest.approx(min(val), rel=1e-6)


def test_csv_logger_backfills_an_epoch_checkpointed_but_not_logged(
    rng: np.random.Generator, tmp_path: Path
) -> None:
    """Killed after epoch 2's checkpoint but before its CSV row: the resumed log is whole."""
    X, y = data(rng)
    log = tmp_path / "log.csv"
    model = mlp(Adam(lr=0.01))
    model.fit(X, y, epochs=2, checkpoint_path=tmp_path / "c.npz", callbacks=[CSVLogger(log)],
              seed=0, verbose=0)  # fmt: skip
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:-1]) + "\n")  # the row of epoch 2 never got written
    resumed = load(tmp_path / "c.npz")
    resumed.fit(X, y, epochs=1, callbacks=[CSVLogger(log)], seed=0, verbose=0)
    with open(log, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert float(rows[1]["loss"]) == pytest.approx(resumed.history["loss"][1], rel=1e-12)
    assert float(rows[2]["loss"]) == pytest.approx(resumed.history["loss"][2], rel=1e-12)
    fresh = mlp(Adam(lr=0.01))
    fresh.fit(X, y, epochs=1, callbacks=[CSVLogger(log)], verbose=0)  # a new run starts over
    assert len(log.read_text().splitlines()) == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"lr_schedule": "cosine"}, TypeError, "lr_schedule must be a schedule"),
        ({"lr_schedule_interval": "batch"}, ValueError, "must be 'epoch' or 'step'"),
        ({"clip_grad_norm": 0.0}, ValueError, "clip_grad_norm must be positive"),
        ({"clip_grad_norm": "1"}, TypeError, "clip_grad_norm must be a number"),
        ({"transform": 3}, TypeError, "transform must be a callable"),
    ],
)
def test_fit_option_errors(rng: np.random.Generator, kwargs, error: type, message: str) -> None:
    X, y = data(rng, 8)
    with pytest.raises(error, match=message):
        mlp(SGD()).fit(X, y, verbose=0, **kwargs)


def test_schedule_of_another_optimizer(rng: np.random.Generator) -> None:
    X, y = data(rng, 8)
    with pytest.raises(ValueError, match="lr_schedule wraps another optimizer than this model's"):
        mlp(SGD()).fit(X, y, verbose=0, lr_schedule=StepLR(SGD(), 2))


def test_saved_schedule_of_another_kind(rng: np.random.Generator, tmp_path: Path) -> None:
    X, y = data(rng, 8)
    model = mlp(SGD())
    schedule = StepLR(model.optimizer, 2)
    model.fit(X, y, verbose=0, lr_schedule=schedule, checkpoint_path=tmp_path / "c.npz")
    resumed = load(tmp_path / "c.npz")
    with pytest.raises(ValueError, match="saved learning-rate schedule does not fit"):
        resumed.fit(X, y, verbose=0, lr_schedule=CosineAnnealingLR(resumed.optimizer, 3))
