"""Two MPI ranks train to the same weights as one process (float64, 1e-12); faults end the job.

Each test here starts ``mpirun -n 2 --oversubscribe`` on ``mpi_worker.py``. Without
BatchNorm the reference is plain ``fit`` in this process. With BatchNorm (per-rank batch
statistics, like PyTorch's DDP) it is ``ghost_batch_reference``: one process that normalizes
each rank's block of every global batch on its own, exactly as defined there.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from mpi_launch import run_worker
from mpi_worker import BATCH_SIZE, EPOCHS, SEED, build_model, digits

from scratchcnn.model import Sequential, load

TOL = 1e-12


@pytest.fixture(scope="module")
def exact_run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("mpi_exact")
    result = run_worker("exact", out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def ghost_batch_reference(
    model: Sequential, X: np.ndarray, y: np.ndarray, ranks: int
) -> Sequential:
    """One process doing what ``ranks`` ranks do with per-rank BatchNorm statistics.

    Same shuffle as ``fit`` (epoch k: ``default_rng([SEED, k, 0]).permutation``). Each global batch
    is cut into ``ranks`` contiguous blocks with ``np.array_split`` (first blocks one larger).
    Every block starts from the step's buffers, runs forward/backward alone (its own batch
    statistics), and gives gradients g_r of its mean loss and updated buffers b_r; the step
    then uses sum(n_r g_r) / N and sets the buffers to sum(n_r b_r) / N.
    """
    model.train()
    grads_of = [(layer, name) for layer in model.layers for name in layer.param_names]
    buffers_of = [(layer, name) for layer in model.layers for name in layer.buffer_names]
    for epoch in range(1, EPOCHS + 1):
        order = np.random.default_rng([SEED, epoch, 0]).permutation(len(X))  # fit's shuffle
        for lo in range(0, len(X), BATCH_SIZE):
            index = order[lo : lo + BATCH_SIZE]
            start = [getattr(layer, name).copy() for layer, name in buffers_of]
            grad_sum = [0.0] * len(grads_of)
            buffer_sum = [0.0] * len(buffers_of)
            for block in np.array_split(index, ranks):
                for (layer, name), value in zip(buffers_of, start, strict=True):
                    getattr(layer, name)[...] = value
                model.loss.forward(model.forward(X[block]), y[block])
                model.backward(model.loss.backward())
                for i, (layer, name) in enumerate(grads_of):
                    grad_sum[i] = grad_sum[i] + len(block) * getattr(layer, "d" + name)
                for i, (layer, name) in enumerate(buffers_of):
                    buffer_sum[i] = buffer_sum[i] + len(block) * getattr(layer, name)
            for (layer, name), total in zip(grads_of, grad_sum, strict=True):
                setattr(layer, "d" + name, total / len(index))
            for (layer, name), total in zip(buffers_of, buffer_sum, strict=True):
                getattr(layer, name)[...] = total / len(index)
            for layer in model.layers:
                if layer.param_names:
                    model.optimizer.update(layer)
    return model


def assert_state_close(model: Sequential, saved: np.lib.npyio.NpzFile) -> None:
    for key, value in model.params().items():
        np.testing.assert_allclose(saved[f"param/{key}"], value, rtol=0, atol=TOL, err_msg=key)
    for key, value in model.buffers().items():
        np.testing.assert_allclose(saved[f"buffer/{key}"], value, rtol=0, atol=TOL, err_msg=key)


@pytest.mark.parametrize("name", ["plain", "bn"])
def test_both_ranks_end_with_the_same_weights(exact_run, name):
    rank0 = np.load(exact_run / f"{name}_rank0.npz")
    rank1 = np.load(exact_run / f"{name}_rank1.npz")
    for key in rank0.files:
        np.testing.assert_array_equal(rank0[key], rank1[key], err_msg=key)


def test_two_ranks_match_one_process_without_batchnorm(exact_run):
    X, y, X_val, y_val = digits()
    model = build_model(batch_norm=False)
    history = model.fit(
        X,
        y,
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        seed=SEED,
        verbose=0,
        validation_data=(X_val, y_val),
    )
    saved = np.load(exact_run / "plain_rank0.npz")
    assert_state_close(model, saved)
    for key in ("loss", "val_loss", "accuracy"):
        np.testing.assert_allclose(saved[key], history[key], rtol=0, atol=TOL, err_msg=key)
    loss, accuracy = model.evaluate(X_val, y_val)  # the sharded, reduced evaluation
    np.testing.assert_allclose(saved["eval_loss"], loss, rtol=0, atol=TOL)
    assert saved["eval_accuracy"] == accuracy


def test_one_allreduce_per_step(exact_run):
    saved = np.load(exact_run / "plain_rank0.npz")
    assert int(saved["steps"]) == EPOCHS * -(-300 // BATCH_SIZE)  # 300 samples, 9 steps
    assert int(saved["allreduces"]) == int(saved["steps"])


def test_two_ranks_match_the_ghost_batch_reference_with_batchnorm(exact_run):
    X, y, _, _ = digits()
    model = ghost_batch_reference(build_model(batch_norm=True), X, y, ranks=2)
    assert_state_close(model, np.load(exact_run / "bn_rank0.npz"))


def test_ghost_batch_reference_with_one_rank_is_plain_fit():
    """The reference itself: with one block per batch it is ordinary training."""
    X, y, _, _ = digits()
    reference = ghost_batch_reference(build_model(batch_norm=True), X, y, ranks=1)
    model = build_model(batch_norm=True)
    model.fit(X, y, epochs=EPOCHS, batch_size=BATCH_SIZE, seed=SEED, verbose=0)
    for key, value in model.params().items():
        np.testing.assert_allclose(reference.params()[key], value, rtol=0, atol=TOL)
    for key, value in model.buffers().items():
        np.testing.assert_allclose(reference.buffers()[key], value, rtol=0, atol=TOL)


@pytest.mark.parametrize("kind", ["raise", "kill"])
def test_a_failing_rank_ends_the_job_and_keeps_the_checkpoint(tmp_path, kind):
    result = run_worker(kind, tmp_path, timeout=60)
    ended = time.time()
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    fault_at = float(re.search(r"FAULT_AT=([0-9.]+)", result.stdout).group(1))
    assert ended - fault_at < 10, f"the job took {ended - fault_at:.1f}s to end after the fault"
    if kind == "raise":
        assert "rank 1 of 2 failed (RuntimeError: injected failure)" in output
    else:
        assert "rank 1" in output and "signal 9" in output, output
    # the checkpoint of epoch 1 is whole and is what one process has after one epoch
    X, y, _, _ = digits()
    reference = build_model(batch_norm=False)
    reference.fit(X, y, epochs=1, batch_size=BATCH_SIZE, seed=SEED, verbose=0)
    saved = load(tmp_path / "checkpoint.npz")
    assert saved.epochs_trained == 1
    for key, value in reference.params().items():
        np.testing.assert_allclose(saved.params()[key], value, rtol=0, atol=TOL, err_msg=key)
    if kind == "kill":  # and the job resumed from it ends as one process trained 3 epochs
        result = run_worker("resume", tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        reference.fit(X, y, epochs=2, batch_size=BATCH_SIZE, verbose=0)
        resumed = np.load(tmp_path / "resumed_rank1.npz")
        assert int(resumed["epochs"]) == 3
        assert_state_close(reference, resumed)
        assert load(tmp_path / "checkpoint.npz").epochs_trained == 3


def test_a_ctrl_c_on_one_rank_stops_every_rank_after_the_same_step(tmp_path):
    result = run_worker("interrupt", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rank0 = np.load(tmp_path / "interrupted_rank0.npz")
    rank1 = np.load(tmp_path / "interrupted_rank1.npz")
    assert bool(rank0["interrupted"]) and bool(rank1["interrupted"])
    assert "during epoch 2, step 4" in str(rank0["reason"])  # the step after the signal
    for key in rank0.files:
        np.testing.assert_array_equal(rank0[key], rank1[key], err_msg=key)
