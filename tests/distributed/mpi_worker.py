"""What each rank runs in the MPI tests: ``python mpi_worker.py MODE OUT_DIR``.

Models and data are built from fixed seeds, so the test process can build the same ones
(``build_model``, ``digits``) and train them in one process for comparison.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

from scratchcnn import distributed
from scratchcnn.datasets.digits import load_digits
from scratchcnn.layers import BatchNorm2d, Conv2d, Dense, Flatten, MaxPool2d, ReLU
from scratchcnn.model import Sequential
from scratchcnn.optimizers import Adam

EPOCHS, BATCH_SIZE, SEED = 2, 37, 3  # 37: global batches do not divide over 2 ranks


def digits(n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    (X, y), (X_test, y_test) = load_digits(dtype=np.float64)
    return X[:n], y[:n], X_test[:101], y_test[:101]


def build_model(batch_norm: bool, dtype=np.float64) -> Sequential:
    from scratchcnn.initializers import DefaultInitializer

    init = DefaultInitializer(seed=np.random.default_rng(11))
    # before BatchNorm a bias has a zero gradient (up to rounding, which Adam would amplify)
    layers = [Conv2d(1, 4, 3, bias=not batch_norm, initializer=init)]
    if batch_norm:
        layers.append(BatchNorm2d(4))
    layers += [ReLU(), MaxPool2d(2), Flatten(), Dense(36, 10, initializer=init)]
    return Sequential(layers, optimizer=Adam(lr=0.01), dtype=dtype)


def perturb_unless_root(model: Sequential) -> None:
    """Different starting weights on the other ranks: fit must broadcast rank 0's."""
    if distributed.rank() != 0:
        for p in model.params().values():
            p += 1.0


def save_state(model: Sequential, path: Path, **extra: object) -> None:
    arrays = {f"param/{k}": v for k, v in model.params().items()}
    arrays |= {f"buffer/{k}": v for k, v in model.buffers().items()}
    arrays |= {k: np.asarray(v) for k, v in extra.items()}
    np.savez(path, **arrays)


def train_and_save(out: Path, batch_norm: bool) -> None:
    X, y, X_val, y_val = digits()
    model = build_model(batch_norm)
    perturb_unless_root(model)
    comm = distributed.world()
    before = comm.calls["allreduce"]
    steps = []
    history = model.fit(
        X,
        y,
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        seed=SEED,
        verbose=0,
        validation_data=(X_val, y_val),
        distributed=True,
        callbacks=[lambda e: steps.append(1) if e["event"] == "batch" else None],
    )
    # per epoch: one Allreduce per step and one for the sharded validation
    allreduces = comm.calls["allreduce"] - before - 1 - EPOCHS  # minus broadcast_model's check
    loss, accuracy = model.evaluate(X_val, y_val, distributed=True)
    name = "bn" if batch_norm else "plain"
    save_state(
        model,
        out / f"{name}_rank{comm.rank}.npz",
        val_loss=history["val_loss"],
        loss=history["loss"],
        accuracy=history["accuracy"],
        steps=len(steps),
        allreduces=allreduces,
        eval_loss=loss,
        eval_accuracy=accuracy,
    )


def fault(out: Path, kind: str) -> None:
    X, y, _, _ = digits()
    model = build_model(False)
    checkpoint = out / "checkpoint.npz"

    def at_step(event: dict) -> None:
        if event["event"] == "batch" and event["epoch"] == 2 and event["step"] == 3:
            if distributed.rank() == 1:
                print(f"FAULT_AT={time.time()}", flush=True)
                if kind == "raise":
                    raise RuntimeError("injected failure")
                os.kill(os.getpid(), signal.SIGKILL)

    model.fit(
        X,
        y,
        epochs=3,
        batch_size=BATCH_SIZE,
        seed=SEED,
        verbose=0,
        distributed=True,
        callbacks=[at_step],
        checkpoint_path=checkpoint,
    )


def resume(out: Path) -> None:
    """Continue the checkpoint of a failed job to 3 epochs in all, data-parallel."""
    from scratchcnn.model import load

    X, y, _, _ = digits()
    model = load(out / "checkpoint.npz")
    model.fit(
        X,
        y,
        epochs=3 - model.epochs_trained,
        batch_size=BATCH_SIZE,
        verbose=0,
        distributed=True,
        checkpoint_path=out / "checkpoint.npz",
    )
    save_state(model, out / f"resumed_rank{distributed.rank()}.npz", epochs=model.epochs_trained)


def interrupt(out: Path) -> None:
    """Rank 1 alone gets a Ctrl+C in epoch 2; every rank must stop after the same step."""
    X, y, _, _ = digits()
    model = build_model(False)

    def at_step(event: dict) -> None:
        if event["event"] == "batch" and event["epoch"] == 2 and event["step"] == 3:
            if distributed.rank() == 1:
                os.kill(os.getpid(), signal.SIGINT)

    history = model.fit(
        X,
        y,
        epochs=3,
        batch_size=BATCH_SIZE,
        seed=SEED,
        verbose=0,
        distributed=True,
        callbacks=[at_step],
    )
    save_state(
        model,
        out / f"interrupted_rank{distributed.rank()}.npz",
        interrupted=history.interrupted,
        reason=history.stopped_reason,
    )


def main() -> None:
    mode, out = sys.argv[1], Path(sys.argv[2])
    if mode == "exact":
        train_and_save(out, batch_norm=False)
        train_and_save(out, batch_norm=True)
    elif mode in ("raise", "kill"):
        fault(out, mode)
    elif mode == "resume":
        resume(out)
    elif mode == "interrupt":
        interrupt(out)
    else:
        raise SystemExit(f"mpi_worker: unknown mode {mode!r}")


if __name__ == "__main__":
    main()
