"""``scratchcnn train``: a run is never lost (signals, divergence, folders) and resumes exactly.

Runs that compare weights bit for bit all run in subprocesses with the same settings (the
NumPy kernels, one thread), so that they take exactly the same arithmetic path.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratchcnn.cli import main
from scratchcnn.model import load
from scratchcnn.runs import claim_run_folder, new_run_folder

QUICK = ["--limit", "200", "--threads", "1"]  # 180 training samples: 6 steps of 32 per epoch

# Runs the command line, sending itself a signal at a chosen moment:
#   step N    before the N-th training step (counted over all epochs)
#   evaluate  when the test evaluation starts
#   save      while model.npz is being written (right after a first signal during training)
DRIVER = """
import os, signal, sys
from scratchcnn.cli import main
from scratchcnn.model import Sequential

signum = getattr(signal, sys.argv[1])
moment = sys.argv[2]
argv = sys.argv[3:]
calls = {"step": 0}

if moment.startswith("step") or moment == "save":
    at = int(moment.split()[1]) if moment != "save" else 9
    original_step = Sequential._checked_step
    def step(self, *args):
        calls["step"] += 1
        if calls["step"] == at:
            os.kill(os.getpid(), signum)
        return original_step(self, *args)
    Sequential._checked_step = step
if moment == "save":
    original_save = Sequential.save
    def save(self, path):
        if str(path).endswith("model.npz"):
            os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl+C, during the final save
        return original_save(self, path)
    Sequential.save = save
if moment == "evaluate":
    original_evaluate = Sequential.evaluate
    def evaluate(self, *args, **kwargs):
        os.kill(os.getpid(), signum)
        return original_evaluate(self, *args, **kwargs)
    Sequential.evaluate = evaluate
sys.exit(main(argv))
"""


def run_cli(
    args: list[str], signal_name: str = "SIGINT", moment: str = "never"
) -> subprocess.CompletedProcess:
    env = {**os.environ, "SCRATCHCNN_NO_NUMBA": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", DRIVER, signal_name, moment, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as archive:
        return {key: archive[key] for key in archive.files if key != "__training__"}


def assert_same_run(a: Path, b: Path) -> None:
    """The same final weights, optimizer state and per-epoch history."""
    left, right = arrays(a / "model.npz"), arrays(b / "model.npz")
    assert left.keys() == right.keys()
    for key in left:
        np.testing.assert_array_equal(left[key], right[key], err_msg=key)
    ha, hb = (json.loads((run / "history.json").read_text()) for run in (a, b))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert ha[key] == hb[key], key
    assert ha["epochs"] == hb["epochs"] == 4
    assert ha["test_accuracy"] == hb["test_accuracy"]


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-epoch run that was never stopped."""
    out = tmp_path_factory.mktemp("straight") / "run"
    done = run_cli(["train", "--epochs", "4", "--out", str(out), *QUICK])
    assert done.returncode == 0, done.stderr
    return out


# -- resume ----------------------------------------------------------------------------------
def test_stopped_at_2_and_resumed_to_4_is_the_4_epoch_run(straight: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run_cli(["train", "--epochs", "2", "--out", str(out), *QUICK]).returncode == 0
    done = run_cli(["train", "--resume", str(out), "--epochs", "4", "--threads", "1"])
    assert done.returncode == 0, done.stderr
    assert "Resuming" in done.stdout and "at epoch 2 of 4" in done.stdout
    assert_same_run(out, straight)
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "finished" and config["epochs"] == 4
    assert config["resumed"][0]["from_epoch"] == 2


@pytest.mark.parametrize(
    ("signal_name", "status"),
    [("SIGTERM", 143), pytest.param("SIGINT", 130, marks=pytest.mark.slow)],  # SIGINT: below
)
def test_a_signal_mid_epoch_keeps_the_run_and_resume_finishes_it(
    straight: Path, tmp_path: Path, signal_name: str, status: int
) -> None:
    out = tmp_path / "run"
    # step 9 = epoch 2, step 3
    done = run_cli(["train", "--epochs", "4", "--out", str(out), *QUICK], signal_name, "step 9")
    assert done.returncode == status, done.stderr
    assert "during epoch 2, step 3" in done.stderr and "--resume" in done.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == ("terminated" if status == 143 else "interrupted")
    assert load(out / "checkpoint.npz").epochs_trained == 1
    assert load(out / "model.npz").epochs_trained == 1  # the weights of the last step, kept
    assert json.loads((out / "history.json").read_text())["epochs"] == 1
    resumed = run_cli(["train", "--resume", str(out), "--threads", "1"])
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(out, straight)


def test_a_second_ctrl_c_during_the_final_save_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = run_cli(["train", "--epochs", "4", "--out", str(out), *QUICK], "SIGINT", "save")
    assert done.returncode == 130, done.stderr
    model = load(out / "model.npz")  # complete: the save finished before the interrupt
    assert model.epochs_trained == 1
    assert json.loads((out / "config.json").read_text())["status"] == "interrupted"


def test_ctrl_c_during_the_test_evaluation_keeps_the_trained_model(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = run_cli(["train", "--epochs", "2", "--out", str(out), *QUICK], "SIGINT", "evaluate")
    assert done.returncode == 130, done.stderr
    assert "the trained model is saved" in done.stderr
    assert load(out / "model.npz").epochs_trained == 2
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "trained, test evaluation interrupted"


def test_sigterm_during_the_test_evaluation_exits_143(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = run_cli(["train", "--epochs", "1", "--out", str(out), *QUICK], "SIGTERM", "evaluate")
    assert done.returncode == 143, done.stderr
    assert (out / "model.npz").is_file()


def test_resume_refuses_settings_of_its_own(straight: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["train", "--resume", str(straight), "--lr", "0.1"]) == 2
    assert "--resume continues the run with its own settings (config.json); --lr cannot be" in (
        capsys.readouterr().err
    )
    assert main(["train", "--resume", str(straight), "--epochs", "2"]) == 2
    assert "has trained 4 epochs already, more than --epochs 2" in capsys.readouterr().err


def test_resume_needs_a_checkpoint(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["train", "--resume", str(tmp_path / "none")]) == 2
    assert "--resume" in capsys.readouterr().err
    (tmp_path / "config.json").write_text(json.dumps({"dataset": "digits", "epochs": 2}))
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "no checkpoint.npz there" in capsys.readouterr().err


def test_resume_of_a_finished_run_to_its_own_epochs_only_evaluates(
    straight: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in straight.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    done = run_cli(["train", "--resume", str(copy), "--threads", "1"])
    assert done.returncode == 0, done.stderr
    assert_same_run(copy, straight)


# -- divergence ------------------------------------------------------------------------------
def test_divergence_keeps_the_last_good_weights_and_says_what_to_try(
    tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    argv = ["train", "--optimizer", "sgd", "--lr", "1e30", "--epochs", "2", "--out", str(out)]
    assert main([*argv, *QUICK]) == 1
    err = capsys.readouterr().err
    assert "Training diverged: the model's outputs became NaN or infinite" in err
    assert "The last good weights, those it started with, are saved in" in err
    assert "Try a lower learning rate: this run used --lr 1e+30" in err
    model = load(out / "model.npz")
    assert all(np.isfinite(p).all() for p in model.params().values())
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "diverged" and np.isfinite(config["test_loss"])
    assert json.loads((out / "history.json").read_text())["diverged"] is True
    assert main(["evaluate", str(out)]) == 0  # the saved model is usable


def test_training_at_chance_level_is_pointed_out(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    assert main(["train", "--lr", "1000", "--epochs", "1", "--out", str(out), *QUICK]) == 0
    err = capsys.readouterr().err
    assert "warning: the test accuracy" in err and "is at chance level" in err
    assert "this run used --lr 1000" in err


# -- run folders -----------------------------------------------------------------------------
def test_an_existing_out_folder_is_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.npz").write_bytes(b"precious")
    assert main(["train", "--epochs", "1", "--out", str(out), *QUICK]) == 2
    err = capsys.readouterr()
    assert "already exists and is not empty; pass --overwrite" in err.err
    assert "Training" not in err.out  # refused before any data or training
    assert (out / "model.npz").read_bytes() == b"precious"


def test_overwrite_replaces_the_earlier_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.npz").write_bytes(b"old run")
    (out / "notes.txt").write_text("mine")
    assert main(["train", "--epochs", "1", "--out", str(out), "--overwrite", *QUICK]) == 0
    assert load(out / "checkpoint.npz").epochs_trained == 1
    assert (out / "notes.txt").read_text() == "mine"


def test_an_empty_existing_out_folder_is_used(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    assert claim_run_folder(out) == out


def test_an_unwritable_out_is_an_error_before_training(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "file").write_text("")
    assert main(["train", "--epochs", "1", "--out", str(tmp_path / "file" / "run"), *QUICK]) == 2
    captured = capsys.readouterr()
    assert "scratchcnn train: error:" in captured.err and "Training" not in captured.out
    assert main(["train", "--out", str(tmp_path / "file"), *QUICK]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_default_run_names_are_unique_within_a_second(tmp_path: Path) -> None:
    folders = [
        new_run_folder(tmp_path / "runs", "digits-small_cnn-20261201-100000") for _ in range(3)
    ]
    assert [f.name for f in folders] == [
        "digits-small_cnn-20261201-100000",
        "digits-small_cnn-20261201-100000-2",
        "digits-small_cnn-20261201-100000-3",
    ]
    assert all(f.is_dir() for f in folders)


def test_the_default_run_folder_is_new(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("scratchcnn.runs.time.strftime", lambda fmt: "20261201-100000")
    for _ in range(2):
        assert main(["train", "--epochs", "1", *QUICK]) == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "digits-small_cnn-20261201-100000",
        "digits-small_cnn-20261201-100000-2",
    ]


def test_every_run_file_is_written_atomically(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(out), *QUICK]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "checkpoint.npz",
            "config.json",
            "confusion.png",
            "curves.png",
            "history.json",
            "model.npz",
        ]
    )  # no temporary file left behind
    assert json.loads((out / "config.json").read_text())["status"] == "finished"


# -- evaluate ----------------------------------------------------------------------------------
def test_evaluate_calls_a_model_with_nan_weights_broken(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(out), *QUICK]) == 0
    model = load(out / "model.npz")
    model.layers[0].W[0, 0, 0, 0] = np.nan
    model.save(out / "model.npz")
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 1
    err = capsys.readouterr().err
    assert "the model in" in err and "is broken: parameter W of layer 0 Conv2d" in err
    assert "contains NaN" in err


def test_evaluate_calls_a_model_with_infinite_outputs_broken(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(out), *QUICK]) == 0
    model = load(out / "model.npz")
    model.layers[0].W[...] = 3e38  # finite, but every output overflows
    model.save(out / "model.npz")
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 1
    assert "its outputs are NaN or infinite" in capsys.readouterr().err


def test_exit_statuses_are_documented() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for status in ("130", "143"):
        assert f"`{status}`" in readme
    assert signal.SIGTERM == 15  # 143 = 128 + SIGTERM
