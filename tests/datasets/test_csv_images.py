"""CSV images in Kaggle's MNIST format: a header, a label column, then the pixels."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from scratchcnn.datasets import load_csv_images

HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))


def _write(path: Path, rows: list[str], header: str | None = HEADER) -> Path:
    lines = ([header] if header is not None else []) + rows
    path.write_text("\n".join(lines) + "\n")
    return path


def _row(label: int | None, pixels: np.ndarray) -> str:
    values = ([] if label is None else [str(label)]) + [str(int(p)) for p in pixels]
    return ",".join(values)


def test_kaggle_train_format(tmp_path: Path, rng: np.random.Generator) -> None:
    pixels = rng.integers(0, 256, size=(6, 784))
    labels = rng.integers(0, 10, size=6)
    path = _write(tmp_path / "train.csv", [_row(c, p) for c, p in zip(labels, pixels, strict=True)])
    X, y = load_csv_images(path)
    assert X.shape == (6, 1, 28, 28)
    assert X.dtype == np.float32
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_allclose(X.reshape(6, -1), pixels / 255, rtol=1e-6)


def test_kaggle_test_format_without_labels(tmp_path: Path, rng: np.random.Generator) -> None:
    pixels = rng.integers(0, 256, size=(3, 784))
    header = ",".join(f"pixel{i}" for i in range(784))
    path = _write(tmp_path / "test.csv", [_row(None, p) for p in pixels], header=header)
    X, y = load_csv_images(path, label_column=None)
    assert y is None
    np.testing.assert_array_equal(X.reshape(3, -1) * 255, pixels.astype(np.float32))


def test_label_last_no_header_custom_shape(tmp_path: Path) -> None:
    path = _write(tmp_path / "small.csv", ["1,2,3,4,7", "5,6,7,8,1", ""], header=None)
    X, y = load_csv_images(
        path, image_shape=(1, 2, 2), label_column=-1, has_header=False, normalize=False
    )
    np.testing.assert_array_equal(X, [[[[1, 2], [3, 4]]], [[[5, 6], [7, 8]]]])
    np.testing.assert_array_equal(y, [7, 1])


def test_ragged_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.csv", ["1,1,2,3,4", "2,1,2,3", "3,1,2,3,4"], header="l,a,b,c,d")
    with pytest.raises(ValueError, match=re.escape("r.csv: line 3 has 4 columns; expected 5")):
        load_csv_images(path, image_shape=(1, 2, 2))


def test_wrong_pixel_count(tmp_path: Path) -> None:
    path = _write(tmp_path / "w.csv", ["1,1,2,3", "2,1,2,3"], header="l,a,b,c")
    message = "w.csv: line 2 has 4 columns; expected 785 columns (a label and 784 pixels)"
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_images(path)


def test_non_numeric_value(tmp_path: Path) -> None:
    path = _write(tmp_path / "n.csv", ["1,1,2,3,4", "2,1,x,3,4"], header="l,a,b,c,d")
    with pytest.raises(ValueError, match=re.escape("line 3, column 3: 'x' is not a number")):
        load_csv_images(path, image_shape=(1, 2, 2))


def test_header_mistaken_for_data(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.csv", ["1,1,2,3,4"], header="l,a,b,c,d")
    with pytest.raises(ValueError, match=r"line 1, column 1: 'l' is not a number \(is it a header"):
        load_csv_images(path, image_shape=(1, 2, 2), has_header=False)


def test_fractional_label(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.csv", ["1,1,2,3,4", "2.5,1,2,3,4"], header="l,a,b,c,d")
    with pytest.raises(ValueError, match=r"labels must be integers, but data row 2 has label 2\.5"):
        load_csv_images(path, image_shape=(1, 2, 2))


def test_pixels_out_of_range_for_normalize(tmp_path: Path) -> None:
    path = _write(tmp_path / "o.csv", ["1,1,2,3,300"], header="l,a,b,c,d")
    with pytest.raises(ValueError, match=r"normalize=True expects pixels in 0\.\.255"):
        load_csv_images(path, image_shape=(1, 2, 2))


def test_no_rows(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.csv", [])
    with pytest.raises(ValueError, match=r"e\.csv holds no data rows"):
        load_csv_images(path)


def test_label_column_out_of_range(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="label_column=5 is out of range for rows of 5 columns"):
        load_csv_images(tmp_path / "x.csv", image_shape=(1, 2, 2), label_column=5)


def test_bad_image_shape(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="image_shape must be a tuple of ints, but got 784"):
        load_csv_images(tmp_path / "x.csv", image_shape=784)
    with pytest.raises(ValueError, match=r"image_shape must hold positive sizes.*\(1, 0, 28\)"):
        load_csv_images(tmp_path / "x.csv", image_shape=(1, 0, 28))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="load_csv_images: no such file"):
        load_csv_images(tmp_path / "absent.csv")
