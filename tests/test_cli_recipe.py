"""scratchcnn train's recipe flags: schedules, warm-up, early stopping, augmentation, label
smoothing, weight decay, clipping, folder:PATH datasets and zoo models by name."""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scratchcnn import cli_training
from scratchcnn.cli import build_parser, main
from scratchcnn.losses import SoftmaxCrossEntropy
from scratchcnn.optimizers import SGD
from scratchcnn.schedules import CosineAnnealingLR, LinearLR, SequentialLR

HAS_LABEL_SMOOTHING = "label_smoothing" in inspect.signature(SoftmaxCrossEntropy).parameters


def _train(tmp_path: Path, *flags: str) -> tuple[int, Path]:
    out = tmp_path / "run"
    code = main(["train", "--limit", "240", "--epochs", "3", "--out", str(out), *flags])
    return code, out


def test_full_recipe_on_digits(tmp_path: Path) -> None:
    code, out = _train(
        tmp_path, "--lr-schedule", "cosine", "--warmup", "0.5", "--augment", "crop,flip",
        "--weight-decay", "1e-4", "--clip-grad-norm", "5", "--early-stopping", "5",
    )  # fmt: skip
    assert code == 0
    config = json.loads((out / "config.json").read_text())
    assert config["lr_schedule"] == "cosine" and config["augment"] == ["crop", "flip"]
    assert config["weight_decay"] == 1e-4 and config["early_stopping_patience"] == 5
    assert config["lr_schedule_detail"].startswith("SequentialLR(")
    with open(out / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    lrs = [float(r["lr"]) for r in rows]
    assert lrs[0] > lrs[1] > lrs[2] > 0  # cosine, after the warm-up of half an epoch
    assert float(rows[2]["loss"]) < float(rows[0]["loss"])  # it learns


def test_schedule_names_build_the_expected_schedules() -> None:
    opt = SGD(lr=0.1)
    schedule = cli_training.build_schedule("cosine", opt, epochs=4, steps_per_epoch=10,
                                           warmup_epochs=1)  # fmt: skip
    twin_opt = SGD(lr=0.1)
    twin = SequentialLR(
        twin_opt,
        [LinearLR(twin_opt, start_factor=0.01, total_iters=10), CosineAnnealingLR(twin_opt, 30)],
        [10],
    )
    for _ in range(40):
        schedule.step()
        twin.step()
        assert opt.lr == twin_opt.lr
    rates = []
    step_opt = SGD(lr=1.0)
    step = cli_training.build_schedule("step", step_opt, 3, 10, 0.0)
    for _ in range(30):
        rates.append(step_opt.lr)
        step.step()
    assert rates[9] == 1.0 and rates[10] == pytest.approx(0.1) and rates[20] == pytest.approx(0.01)
    assert cli_training.build_schedule("none", SGD(), 3, 10, 0.0) is None
    assert isinstance(cli_training.build_schedule("none", SGD(), 3, 10, 1.0), LinearLR)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--warmup", "3"], "covers the whole run of 3 epochs"),
        (["--lr-schedule", "onecycle", "--warmup", "1"], "does not combine with"),
        (["--early-stopping", "2", "--val-split", "0"], "use --val-split > 0"),
        (["--label-smoothing", "1.5"], r"label-smoothing must be in \[0, 1\]"),
    ],
)
def test_recipe_errors(tmp_path: Path, capsys, flags: list[str], message: str) -> None:
    code, _ = _train(tmp_path, *flags)
    err = capsys.readouterr().err
    assert code == 2
    assert re.search(message, err), err


def test_bad_augment_name_is_a_usage_error(tmp_path: Path, capsys) -> None:
    code, _ = _train(tmp_path, "--augment", "crop,rotate")
    assert code == 2
    assert "expected a comma-separated list of crop, flip" in capsys.readouterr().err


@pytest.mark.skipif(not HAS_LABEL_SMOOTHING, reason="SoftmaxCrossEntropy has no label_smoothing")
def test_label_smoothing_reaches_the_loss(tmp_path: Path) -> None:
    args = argparse.Namespace(label_smoothing=0.1)
    model = argparse.Namespace(loss=None)
    cli_training.apply_loss(model, args)
    assert model.loss.label_smoothing == 0.1


@pytest.mark.skipif(HAS_LABEL_SMOOTHING, reason="SoftmaxCrossEntropy has label_smoothing")
def test_label_smoothing_without_support_is_a_clear_error(tmp_path: Path, capsys) -> None:
    code, _ = _train(tmp_path, "--label-smoothing", "0.1")
    assert code == 2 and "needs SoftmaxCrossEntropy(label_smoothing" in capsys.readouterr().err


def test_folder_dataset(tmp_path: Path, rng: np.random.Generator) -> None:
    root = tmp_path / "pictures"
    for k, name in enumerate(["circle", "square", "stripe"]):
        for i in range(6):
            pixels = rng.integers(0, 60, (10, 12), dtype=np.uint8) + np.uint8(60 * k)
            (root / name).mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    out = tmp_path / "run"
    code = main(["train", "--dataset", f"folder:{root}", "--epochs", "2", "--out", str(out),
                 "--image-size", "8", "8", "--augment", "flip", "--val-split", "0"])  # fmt: skip
    assert code == 0
    config = json.loads((out / "config.json").read_text())
    assert config["class_names"] == ["circle", "square", "stripe"]
    assert config["input_shape"] == [1, 8, 8]
    assert config["train_samples"] == 15 and config["test_samples"] == 3  # 1 of 6 per class


def test_folder_dataset_errors(tmp_path: Path, capsys) -> None:
    code = main(["train", "--dataset", f"folder:{tmp_path / 'nowhere'}", "--out", str(tmp_path)])
    assert code == 2 and "is not a folder" in capsys.readouterr().err


def test_zoo_models_are_listed_and_resnet20_trains(tmp_path: Path) -> None:
    from scratchcnn import zoo

    help_text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for name in zoo.MODELS:
        assert name in help_text.replace("\n", " ").replace("  ", " ") or name in help_text
    if "resnet20" not in zoo.MODELS:
        pytest.skip("the zoo has no resnet20 yet")
    code, out = _train(tmp_path, "--model", "resnet20", "--limit", "64", "--epochs", "1",
                       "--lr-schedule", "onecycle")  # fmt: skip
    assert code == 0
    assert json.loads((out / "config.json").read_text())["model"] == "resnet20"


# -- a run with a recipe, stopped by SIGTERM and resumed, is the run never stopped -------------
DRIVER = """
import os, signal, sys
from scratchcnn.cli import main
from scratchcnn.model import Sequential

at = int(sys.argv[1])
calls = {"step": 0}
original_step = Sequential._checked_step
def step(self, *args):
    calls["step"] += 1
    if calls["step"] == at:
        os.kill(os.getpid(), signal.SIGTERM)
    return original_step(self, *args)
Sequential._checked_step = step
sys.exit(main(sys.argv[2:]))
"""
RECIPE = [
    "--limit", "200", "--threads", "1", "--lr-schedule", "cosine", "--warmup", "1",
    "--augment", "crop,flip", "--clip-grad-norm", "5", "--early-stopping", "10",
    "--weight-decay", "1e-4",
]  # fmt: skip


def _run(args: list[str], stop_at_step: int = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "SCRATCHCNN_NO_NUMBA": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", DRIVER, str(stop_at_step), *args],
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip


def _log_rows(run: Path) -> list[dict[str, str]]:
    with open(run / "log.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


@pytest.mark.slow  # three CLI processes, about a minute on a busy 2-core machine
def test_recipe_run_stopped_and_resumed_is_the_straight_run(tmp_path: Path) -> None:
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    assert _run(["train", "--epochs", "4", "--out", str(straight), *RECIPE]).returncode == 0
    done = _run(["train", "--epochs", "4", "--out", str(stopped), *RECIPE], stop_at_step=15)
    assert done.returncode == 143, done.stderr  # epoch 3, step 3
    resumed = _run(["train", "--resume", str(stopped), "--threads", "1"])
    assert resumed.returncode == 0, resumed.stderr
    with np.load(straight / "model.npz") as a, np.load(stopped / "model.npz") as b:
        for key in a.files:
            if key != "__training__":
                np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert _log_rows(stopped) == _log_rows(straight)
    assert len(_log_rows(straight)) == 4


def test_resume_cannot_stretch_a_schedule(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["train", "--epochs", "2", "--out", str(out), *RECIPE]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--epochs", "3"]) == 2
    assert "was planned for 2 epochs" in capsys.readouterr().err
    assert main(["train", "--resume", str(out), "--lr-schedule", "step"]) == 2
    assert "--lr-schedule cannot be given with it" in capsys.readouterr().err
