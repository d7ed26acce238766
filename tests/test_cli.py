"""The command line, run in-process through ``main(argv)``, plus the installed script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from scratchcnn.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One short default training run (digits, small_cnn) shared by the tests below."""
    out = tmp_path_factory.mktemp("cli") / "digits-run"
    assert main(["train", "--epochs", "4", "--out", str(out)]) == 0
    return out


def _write_digit_png(path: Path, index: int, scale: int = 1, invert: bool = False) -> int:
    """Write digits image ``index`` as an 8-bit PNG (white on black); return its label."""
    bunch = load_digits()
    pixels = np.rint(bunch.images[index] * (255 / 16)).astype(np.uint8)
    pixels = np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))
    Image.fromarray(255 - pixels if invert else pixels).save(path)
    return int(bunch.target[index])


# -- train -----------------------------------------------------------------------------------
def test_default_train_writes_every_artifact(run_dir: Path, capsys) -> None:
    for name in ("model.npz", "config.json", "history.json", "curves.png", "confusion.png"):
        assert (run_dir / name).is_file(), name
    for name in ("curves.png", "confusion.png"):
        with Image.open(run_dir / name) as image:
            assert image.format == "PNG" and image.width > 100
    with Image.open(run_dir / "curves.png") as image:
        rgb = np.asarray(image.convert("RGB")).astype(int)
    # matplotlib's first line colour (#1f77b4): the training curves were drawn
    line = (abs(rgb[..., 0] - 0x1F) < 40) & (abs(rgb[..., 2] - 0xB4) < 40) & (rgb[..., 1] < 160)
    assert line.sum() > 200


def test_default_train_records_the_config(run_dir: Path) -> None:
    config = json.loads((run_dir / "config.json").read_text())
    assert config["command"] == ["scratchcnn", "train", "--epochs", "4", "--out", str(run_dir)]
    assert config["dataset"] == "digits" and config["model"] == "small_cnn"
    assert (config["epochs"], config["batch_size"], config["lr"]) == (4, 32, 3e-3)
    assert config["input_shape"] == [1, 8, 8] and config["num_classes"] == 10
    assert config["preprocessing"]["light_on_dark"] is True
    assert config["test_accuracy"] > 0.85  # 4 of the default 15 epochs


def test_default_train_history(run_dir: Path) -> None:
    history = json.loads((run_dir / "history.json").read_text())
    assert history["epochs"] == 4
    assert len(history["loss"]) == len(history["accuracy"]) == len(history["seconds"]) == 4
    assert history["loss"][-1] < history["loss"][0]
    assert history["test_accuracy"] > 0.85


def test_train_prints_the_test_accuracy(tmp_path: Path, capsys) -> None:
    out = tmp_path / "quick"
    argv = ["train", "--epochs", "1", "--limit", "200", "--val-split", "0.2", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Test loss" in printed and "test accuracy" in printed
    config = json.loads((out / "config.json").read_text())
    assert config["train_samples"] == 200 and config["test_samples"] == 200
    assert len(json.loads((out / "history.json").read_text())["val_loss"]) == 1


def test_train_a_zoo_model_on_sequences(tmp_path: Path) -> None:
    out = tmp_path / "seq"
    argv = ["train", "--dataset", "mnist1d", "--epochs", "1", "--limit", "300", "--out", str(out)]
    assert main(argv) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "mnist1d_cnn" and config["input_shape"] == [1, 40]


# -- evaluate / predict ----------------------------------------------------------------------
def test_evaluate_prints_loss_accuracy_and_per_class(run_dir: Path, capsys) -> None:
    assert main(["evaluate", str(run_dir)]) == 0
    printed = capsys.readouterr().out
    accuracy = float(printed.split("accuracy", 1)[1].split()[0])
    assert accuracy == pytest.approx(  # printed with 4 decimals
        json.loads((run_dir / "config.json").read_text())["test_accuracy"], abs=5e-5
    )
    assert "loss" in printed and "per-class accuracy" in printed
    assert printed.count("samples)") == 10


def test_predict_digit_pngs(run_dir: Path, tmp_path: Path, capsys) -> None:
    paths, labels = [], []
    for index in range(1500, 1510):  # mostly test images; a 4-epoch model gets most right
        path = tmp_path / f"digit{index}.png"
        labels.append(_write_digit_png(path, index))
        paths.append(str(path))
    assert main(["predict", str(run_dir / "model.npz"), *paths]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 10
    predicted = [int(line.split(": ")[1].split()[0]) for line in lines]
    probabilities = [float(line.rsplit("(", 1)[1].rstrip(")")) for line in lines]
    assert np.mean(np.array(predicted) == np.array(labels)) >= 0.7
    assert all(0.0 < p <= 1.0 for p in probabilities)


def test_predict_resizes_and_inverts_dark_on_light_pictures(
    run_dir: Path, tmp_path: Path, capsys
) -> None:
    small, big = tmp_path / "small.png", tmp_path / "big_inverted.png"
    _write_digit_png(small, 0)
    _write_digit_png(big, 0, scale=4, invert=True)  # 32x32, black digit on white
    assert main(["predict", str(run_dir), str(small), str(big)]) == 0
    first, second = capsys.readouterr().out.strip().splitlines()
    assert first.split(": ")[1].split()[0] == second.split(": ")[1].split()[0]


# -- summary ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "total"),
    [
        (["--model", "vgg16", "--input-shape", "3", "224", "224"], "138,357,544"),
        (["--model", "lenet5"], "44,426"),
        (["--model", "lenet5", "--input-shape", "1", "28", "28", "--num-classes", "10"], "44,426"),
    ],
)
def test_summary_totals(argv: list[str], total: str, capsys) -> None:
    assert main(["summary", *argv]) == 0
    assert f"Total params: {total}" in capsys.readouterr().out


def test_summary_of_a_saved_run(run_dir: Path, capsys) -> None:
    assert main(["summary", "--model", str(run_dir)]) == 0
    assert "Total params: 6,090" in capsys.readouterr().out


# -- errors: exit status 2 and one line on stderr ------------------------------------------
@pytest.fixture
def bad_image(tmp_path: Path) -> Path:
    path = tmp_path / "not_an_image.png"
    path.write_text("hello")
    return path


ERROR_CASES = {
    "unknown-model": (["train", "--model", "resnet"], "unknown model 'resnet'; valid names: "
                      "small_cnn, lenet5"),
    "unknown-dataset": (["train", "--dataset", "cifar"], "unknown dataset 'cifar'; valid names: "
                        "digits, fashion-mnist, mnist, mnist1d"),
    "unknown-optimizer": (["train", "--optimizer", "nadam"], "unknown optimizer 'nadam'"),
    "model-too-big-for-input": (["train", "--model", "lenet5"], "too small for this architecture"),
    "summary-unknown-model": (["summary", "--model", "resnet"], "unknown model 'resnet'"),
    "summary-input-too-small": (["summary", "--model", "vgg16", "--input-shape", "3", "8", "8"],
                                "too small for this architecture"),
    "missing-model": (["evaluate", "{tmp}/nothing/model.npz"], "model file not found"),
    "missing-run-folder": (["predict", "{tmp}", "x.png"], "model file not found"),
    "missing-image": (["predict", "{run}", "{tmp}/missing.png"], "missing.png: no such file"),
    "not-an-image": (["predict", "{run}", "{bad}"], "not an image file Pillow can read"),
    "dataset-shape-mismatch": (["evaluate", "{run}", "--dataset", "mnist1d"],
                               "takes inputs of shape (1, 8, 8), but mnist1d has samples of "
                               "shape (1, 40)"),
    "no-config-for-predict": (["predict", "{lonely}", "{bad}"], "pass --input-shape C H W"),
    "image-channels": (["predict", "{lonely}", "{bad}", "--input-shape", "2", "8", "8"],
                       "2-channel inputs"),
    "image-for-sequence-model": (["predict", "{sequence}", "{bad}"], "not images"),
    "data-root-missing": (["evaluate", "{run}", "--dataset", "mnist", "--data-root",
                           "{tmp}/nowhere"], "--data-root '{tmp}/nowhere' does not exist"),
    "data-root-is-a-file": (["evaluate", "{run}", "--dataset", "mnist", "--data-root", "{bad}"],
                            "is not a folder"),
    "data-root-for-digits": (["evaluate", "{run}", "--data-root", "{tmp}"],
                             "--data-root is for fashion-mnist and mnist; digits needs no files"),
    "val-split": (["train", "--val-split", "1.5"], "--val-split must be in [0, 1)"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_user_errors_exit_2_with_one_line(
    case: str, run_dir: Path, tmp_path: Path, bad_image: Path, capsys
) -> None:
    lonely = tmp_path / "lonely.npz"  # a model file without its config.json
    shutil.copy(run_dir / "model.npz", lonely)
    sequence = tmp_path / "sequence"  # a run whose config says it takes (1, 40) sequences
    sequence.mkdir()
    shutil.copy(run_dir / "model.npz", sequence)
    (sequence / "config.json").write_text(json.dumps({"input_shape": [1, 40]}))
    argv, message = ERROR_CASES[case]
    names = {"tmp": tmp_path, "run": run_dir, "bad": bad_image, "lonely": lonely,
             "sequence": sequence}
    argv = [a.format(**names) for a in argv]
    message = message.format(**names)
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"scratchcnn {argv[0]}: error: ")
    assert message in lines[0]
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    "argv", [["train", "--epochs", "0"], ["train", "--lr", "abc"], ["fly"], []]
)
def test_usage_errors_exit_2(argv: list[str], capsys) -> None:
    assert main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err


# -- the installed entry points --------------------------------------------------------------
def test_console_script_help() -> None:
    script = shutil.which("scratchcnn") or str(Path(sys.executable).with_name("scratchcnn"))
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for command in ("train", "evaluate", "predict", "summary"):
        assert command in result.stdout


def test_python_dash_m_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scratchcnn", "train", "--help"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "--epochs" in result.stdout and "--limit" in result.stdout
