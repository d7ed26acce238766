"""The lab's command-line parts: explain, gradcheck, visualize, train --dry-run / pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from scratchcnn.cli import main
from scratchcnn.layers import Dense


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lab") / "run"
    assert main(["train", "--epochs", "2", "--out", str(out)]) == 0
    return out


def _digit_png(path: Path, index: int = 3) -> Path:
    pixels = np.rint(load_digits().images[index] * (255 / 16)).astype(np.uint8)
    Image.fromarray(np.kron(pixels, np.ones((4, 4), dtype=np.uint8))).save(path)
    return path


def test_explain_a_zoo_model(capsys):
    assert main(["explain", "--model", "lenet5"]) == 0
    out = capsys.readouterr().out
    assert "H, W: (28 + 2*0 - 5) // 1 + 1 = 24" in out
    assert "5*5*1*6 + 6 = 156" in out
    assert "Total: 44,426 parameters" in out


def test_explain_with_another_input_shape_warns(capsys):
    assert main(["explain", "--model", "lenet5", "--input-shape", "1", "29", "29"]) == 0
    out = capsys.readouterr().out
    assert "pooling drops the last 1 of 25 rows and columns" in out


def test_explain_a_run_folder(run_dir, capsys):
    assert main(["explain", "--model", str(run_dir)]) == 0
    assert "Input (1, 8, 8) per sample" in capsys.readouterr().out


def test_gradcheck_passes(capsys):
    assert main(["gradcheck", "--model", "lenet5", "--entries", "4"]) == 0
    assert "PASSED" in capsys.readouterr().out


def test_gradcheck_fails_with_status_1_naming_the_layer(monkeypatch, capsys):
    original = Dense.backward

    def wrong(self, dA):
        dX = original(self, dA)
        if self.out_features == 84:
            self.db = self.db + 0.01
        return dX

    monkeypatch.setattr(Dense, "backward", wrong)
    assert main(["gradcheck", "--model", "lenet5", "--entries", "4"]) == 1
    out = capsys.readouterr().out
    assert "FAILED: worst is layer 9 dense_1 Dense(in_features=120, out_features=84)" in out
    assert "parameter b" in out


def test_unknown_model_is_a_user_error(capsys):
    assert main(["gradcheck", "--model", "nope"]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err


def test_train_dry_run_writes_nothing(tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["train", "--dry-run", "--out", str(out), "--epochs", "3"]) == 0
    text = capsys.readouterr().out
    assert "Pre-flight estimate: 1,293 samples of shape (1, 8, 8), batch 32, 3 epoch(s)" in text
    assert "time per epoch" in text and "Dry run: nothing was trained" in text
    assert not out.exists()


def test_train_writes_filters_and_misclassified(run_dir):
    for name in ("filters.png", "misclassified.png"):
        with Image.open(run_dir / name) as image:
            assert image.format == "PNG" and image.width > 300


def test_visualize_writes_the_pictures(run_dir, tmp_path, capsys):
    image = _digit_png(tmp_path / "three.png")
    out = tmp_path / "pictures"
    argv = ["visualize", str(run_dir), str(image), "--out", str(out), "--misclassified"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "three.png: predicted" in text
    for name in ("filters", "feature_maps", "saliency", "class_activation", "misclassified"):
        with Image.open(out / f"{name}.png") as picture:
            assert picture.format == "PNG" and picture.width > 300, name


def test_visualize_bad_target(run_dir, tmp_path, capsys):
    image = _digit_png(tmp_path / "three.png")
    assert main(["visualize", str(run_dir), str(image), "--target", "12"]) == 2
    assert "--target must be a class in [0, 10), got 12" in capsys.readouterr().err


def test_train_diagnose_writes_the_diagnostics(tmp_path):
    import json

    out = tmp_path / "diag"
    assert main(["train", "--epochs", "2", "--diagnose", "--out", str(out)]) == 0
    with Image.open(out / "diagnostics.png") as picture:
        assert picture.format == "PNG" and picture.width > 800
    data = json.loads((out / "diagnostics.json").read_text())
    assert {r["epoch"] for r in data["records"]} == {1, 2}
    assert data["records"][0]["name"] == "conv2d"
