"""``scratchcnn export RUN_DIR model.onnx``: the ONNX file gives the saved model's outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from scratchcnn import zoo  # noqa: E402
from scratchcnn.cli import main  # noqa: E402
from scratchcnn.model import Sequential, load  # noqa: E402


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A run folder as ``scratchcnn train`` leaves it: model.npz and config.json."""
    folder = tmp_path / "run"
    folder.mkdir()
    zoo.lenet5(input_shape=(1, 32, 32), seed=1).save(folder / "model.npz")
    (folder / "config.json").write_text(json.dumps({"input_shape": [1, 32, 32]}))
    return folder


def _outputs(path: Path, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": X})[0]


def _reference(model: Sequential, X: np.ndarray) -> np.ndarray:
    return model.eval().forward(X)


def test_export_a_run_folder(run_dir: Path, tmp_path: Path, capsys, rng) -> None:
    out = tmp_path / "lenet5.onnx"
    assert main(["export", str(run_dir), str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}: opset 17, input 'input' (batch, 1, 32, 32)" in printed
    assert "output 'output' (batch, 10)" in printed
    X = rng.standard_normal((4, 1, 32, 32)).astype(np.float32)
    model = load(run_dir / "model.npz")
    np.testing.assert_allclose(_outputs(out, X), _reference(model, X), rtol=1e-5, atol=1e-5)


def test_export_a_model_file_with_its_input_shape_and_opset(
    run_dir: Path, tmp_path: Path, capsys, rng
) -> None:
    lonely = tmp_path / "lonely.npz"
    lonely.write_bytes((run_dir / "model.npz").read_bytes())
    out = tmp_path / "m.onnx"
    argv = ["export", str(lonely), str(out), "--input-shape", "1", "32", "32", "--opset", "13"]
    assert main(argv) == 0
    assert "opset 13" in capsys.readouterr().out
    X = rng.standard_normal((2, 1, 32, 32)).astype(np.float32)
    np.testing.assert_allclose(_outputs(out, X), _reference(load(lonely), X), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--input-shape", "1", "8", "8"], "samples of shape (1, 8, 8) do not fit"),
        (["--opset", "5"], "opset must be between 13 and"),
    ],
)
def test_export_errors_exit_2_with_one_line(
    extra: list[str], message: str, run_dir: Path, tmp_path: Path, capsys
) -> None:
    assert main(["export", str(run_dir), str(tmp_path / "m.onnx"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scratchcnn export: error: ") and message in err
    assert err.count("\n") == 1


def test_export_without_config_needs_the_input_shape(run_dir: Path, tmp_path: Path, capsys) -> None:
    (run_dir / "config.json").unlink()
    assert main(["export", str(run_dir), str(tmp_path / "m.onnx")]) == 2
    assert "pass --input-shape C H W" in capsys.readouterr().err


def test_export_without_onnx_says_how_to_install_it(
    run_dir: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    assert main(["export", str(run_dir), str(tmp_path / "m.onnx")]) == 2
    assert "pip install onnx" in capsys.readouterr().err


def test_export_what_train_wrote(tmp_path: Path, capsys, rng) -> None:
    run = tmp_path / "digits"
    assert main(["train", "--epochs", "1", "--limit", "200", "--out", str(run)]) == 0
    out = tmp_path / "digits.onnx"
    assert main(["export", str(run), str(out)]) == 0
    assert "input 'input' (batch, 1, 8, 8)" in capsys.readouterr().out
    X = rng.random((5, 1, 8, 8)).astype(np.float32)
    model = load(run / "model.npz")
    np.testing.assert_allclose(_outputs(out, X), _reference(model, X), rtol=1e-5, atol=1e-5)
