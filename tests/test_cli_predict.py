"""scratchcnn predict: folders, bad files among good ones, --top-k, --input-shape, framing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from scratchcnn.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short default training run (digits, small_cnn)."""
    out = tmp_path_factory.mktemp("predict") / "digits-run"
    assert main(["train", "--epochs", "6", "--out", str(out)]) == 0
    return out


def _digit(index: int) -> tuple[np.ndarray, int]:
    bunch = load_digits()
    return np.rint(bunch.images[index] * (255 / 16)).astype(np.uint8), int(bunch.target[index])


def _write_digits(folder: Path, indices: range) -> list[tuple[Path, int]]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index in indices:
        pixels, label = _digit(index)
        path = folder / f"digit{index:04d}.png"
        Image.fromarray(pixels).save(path)
        written.append((path, label))
    return written


def _parse(line: str) -> tuple[str, list[tuple[str, float]]]:
    path, rest = line.rsplit(": ", 1) if line.count(": ") == 1 else line.split(": ", 1)
    pairs = []
    for item in rest.split(", "):
        label, probability = item.rsplit(" (", 1)
        pairs.append((label, float(probability.rstrip(")"))))
    return path, pairs


def test_a_folder_means_every_image_in_it(run_dir: Path, tmp_path: Path, capsys) -> None:
    written = _write_digits(tmp_path / "pictures", range(1600, 1612))
    (tmp_path / "pictures" / "README.txt").write_text("not a picture")
    assert main(["predict", str(run_dir), str(tmp_path / "pictures")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [_parse(line)[0] for line in lines] == [str(p) for p, _ in written]  # sorted
    predicted = [int(_parse(line)[1][0][0]) for line in lines]
    assert np.mean(np.array(predicted) == [label for _, label in written]) >= 0.75


def test_one_bad_file_does_not_stop_the_others(run_dir: Path, tmp_path: Path, capsys) -> None:
    (good_a, _), (good_b, _) = _write_digits(tmp_path, range(1700, 1702))
    bad = tmp_path / "broken.png"
    bad.write_text("not a picture")
    missing = tmp_path / "missing.png"
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = ["predict", str(run_dir), str(good_a), str(bad), str(missing), str(empty), str(good_b)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert [_parse(line)[0] for line in captured.out.strip().splitlines()] == [
        str(good_a), str(good_b)
    ]
    errors = captured.err.strip().splitlines()
    assert errors[0] == f"scratchcnn predict: error: {bad}: not an image file Pillow can read"
    assert errors[1] == f"scratchcnn predict: error: {missing}: no such file"
    assert errors[2].startswith(f"scratchcnn predict: error: {empty}: no image files (")
    assert errors[3] == "scratchcnn predict: 3 of 5 files could not be classified"
    assert "Traceback" not in captured.err


def test_top_k(run_dir: Path, tmp_path: Path, capsys) -> None:
    [(path, _)] = _write_digits(tmp_path, range(1750, 1751))
    assert main(["predict", str(run_dir), str(path), "--top-k", "3"]) == 0
    _, pairs = _parse(capsys.readouterr().out.strip())
    assert len(pairs) == 3 and len({label for label, _ in pairs}) == 3
    probabilities = [p for _, p in pairs]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0001
    assert main(["predict", str(run_dir), str(path), "--top-k", "50"]) == 0  # capped at 10
    _, pairs = _parse(capsys.readouterr().out.strip())
    assert sorted(label for label, _ in pairs) == [str(k) for k in range(10)]
    assert sum(p for _, p in pairs) == pytest.approx(1.0, abs=1e-3)


def test_input_shape_before_the_images_leaves_them_alone(
    run_dir: Path, tmp_path: Path, capsys
) -> None:
    lonely = tmp_path / "lonely.npz"  # no config.json: the shape must be given
    shutil.copy(run_dir / "model.npz", lonely)
    (a, _), (b, _) = _write_digits(tmp_path, range(1760, 1762))
    assert main(["predict", str(lonely), "--input-shape", "1", "8", "8", str(a), str(b)]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2


def test_digit_drawn_small_in_a_big_canvas(run_dir: Path, tmp_path: Path, capsys) -> None:
    # a digits picture drawn black on a big white page, off-centre: framed like the digits
    labels, paths = [], []
    for index in range(1770, 1790):
        pixels, label = _digit(index)
        page = np.full((120, 160), 255, dtype=np.uint8)
        page[10:42, 100:132] = 255 - np.kron(pixels, np.ones((4, 4), dtype=np.uint8))
        paths.append(tmp_path / f"page{index}.png")
        Image.fromarray(page).save(paths[-1])
        labels.append(label)
    argv = ["predict", str(run_dir), *map(str, paths)]
    predicted = {}
    for mode in ("auto", "resize"):
        assert main([*argv, "--preprocess", mode]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        predicted[mode] = np.array([int(_parse(line)[1][0][0]) for line in lines])
    assert np.mean(predicted["auto"] == labels) >= 0.75
    assert np.mean(predicted["resize"] == labels) < 0.5


def test_mnist_runs_use_the_mnist_framing(run_dir: Path, tmp_path: Path, monkeypatch) -> None:
    seen = []

    def record(path, input_shape, invert, light_on_dark, preprocess):
        seen.append(preprocess)
        return np.zeros((1, 8, 8), dtype=np.float32)

    monkeypatch.setattr("scratchcnn.predict.prepare_image", record)
    run = tmp_path / "mnist-run"
    run.mkdir()
    shutil.copy(run_dir / "model.npz", run)
    config = json.loads((run_dir / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "dataset": "mnist"}))
    [(path, _)] = _write_digits(tmp_path, range(1, 2))
    for run_folder in (run, run_dir):
        assert main(["predict", str(run_folder), str(path)]) == 0
    assert main(["predict", str(run), str(path), "--preprocess", "resize"]) == 0
    assert seen == ["mnist", "fit", "resize"]


def test_classify_pictures_keeps_the_order_across_batches(
    run_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    from scratchcnn import predict
    from scratchcnn.model import load

    monkeypatch.setattr(predict, "BATCH", 2)
    written = _write_digits(tmp_path / "in", range(1780, 1785))
    broken = tmp_path / "in" / "digit1782b.png"  # sorts between the third and fourth
    broken.write_text("no")
    results = list(predict.classify_pictures(
        load(run_dir / "model.npz"), [tmp_path / "in"], (1, 8, 8), top_k=2, preprocess="fit",
        light_on_dark=True,
    ))
    names = sorted(p.name for p in (tmp_path / "in").iterdir())
    assert [Path(r.path).name for r in results] == names
    assert [r.error is None for r in results] == [True, True, True, False, True, True]
    assert all(len(r.top) == 2 for r in results if r.error is None)
    assert len(written) == 5


def test_pictures_that_do_not_fit_the_model(run_dir: Path, tmp_path: Path, capsys) -> None:
    lonely = tmp_path / "lonely.npz"
    shutil.copy(run_dir / "model.npz", lonely)
    [(path, _)] = _write_digits(tmp_path, range(3, 4))
    assert main(["predict", str(lonely), str(path), "--input-shape", "3", "8", "8"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("scratchcnn predict: error: images of shape (3, 8, 8) do not fit the "
                          "model: ")
