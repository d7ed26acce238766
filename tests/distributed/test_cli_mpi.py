"""``mpirun -n 2 scratchcnn train``: the accuracy of one process, one speaker, --resume.

float32 training on the digits: two ranks do not give the bits of one process (the sums
are rounded differently) but must reach its accuracy; two identical MPI runs, one killed
and resumed, must end bit for bit alike.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mpi_launch import mpi_env, mpirun

from scratchcnn.model import load

DRIVER = str(Path(__file__).with_name("cli_driver.py"))
# 720 training digits (after the 10% validation hold-out): 23 steps of 32 per epoch
TRAIN = [
    "train",
    "--dataset",
    "digits",
    "--limit",
    "800",
    "--epochs",
    "3",
    "--lr",
    "0.01",
    "--seed",
    "1",
]


def _config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    cwd = tmp_path_factory.mktemp("cli_mpi")
    single = subprocess.run(
        [sys.executable, DRIVER, *TRAIN, "--out", "single"],
        cwd=cwd,
        env=mpi_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert single.returncode == 0, single.stdout + single.stderr
    two = mpirun([sys.executable, DRIVER, *TRAIN, "--out", "two"], cwd=cwd, timeout=300)
    assert two.returncode == 0, two.stdout + two.stderr
    return {"cwd": cwd, "single": single, "two": two}


def test_two_ranks_reach_the_accuracy_of_one_process(runs):
    single = _config(runs["cwd"] / "single")["test_accuracy"]
    two = _config(runs["cwd"] / "two")["test_accuracy"]
    assert single > 0.85 and two > 0.85
    assert abs(single - two) < 0.04  # 360 test digits: a few digits of noise


def test_only_rank_0_prints_and_writes(runs):
    out = runs["two"].stdout
    assert out.count("Training small_cnn") == 1 and out.count("Test loss") == 1
    assert sorted(p.name for p in runs["cwd"].iterdir()) == ["single", "two"]
    files = {p.name for p in (runs["cwd"] / "two").iterdir()}
    assert {"model.npz", "checkpoint.npz", "config.json", "history.json"} <= files
    assert _config(runs["cwd"] / "two")["epochs"] == 3


def test_a_killed_rank_ends_the_job_and_resume_ends_as_the_unbroken_run(runs):
    cwd = runs["cwd"]
    kill = {"KILL_RANK1_AT_STEP": "30"}  # in epoch 2
    broken = mpirun([sys.executable, DRIVER, *TRAIN, "--out", "broken"], cwd=cwd, env=kill)
    assert broken.returncode != 0
    assert "rank 1" in broken.stdout + broken.stderr
    assert load(cwd / "broken" / "checkpoint.npz").epochs_trained == 1
    resumed = mpirun([sys.executable, DRIVER, "train", "--resume", "broken"], cwd=cwd)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    got, want = load(cwd / "broken" / "model.npz"), load(cwd / "two" / "model.npz")
    assert got.epochs_trained == 3
    for key, value in want.params().items():
        np.testing.assert_array_equal(got.params()[key], value, err_msg=key)
    assert _config(cwd / "broken")["test_accuracy"] == _config(cwd / "two")["test_accuracy"]


def test_an_error_on_rank_0_alone_ends_the_job_at_once(tmp_path):
    """Only rank 0 claims the run folder: its refusal must not leave rank 1 waiting."""
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("keep me")
    result = mpirun([sys.executable, DRIVER, *TRAIN, "--out", str(taken)], timeout=120)
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert output.count("already exists and is not empty") == 1  # said once, by rank 0
    assert "scratchcnn: rank 0 of 2 exited with status 2; ending the job" in output
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"]
