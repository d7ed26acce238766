"""load_image_folder on a small folder of PNG/JPEG files written here (ImageFolder layout)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scratchcnn.datasets import load_image_folder


def _write(path: Path, pixels: np.ndarray, **kwargs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, **kwargs)


@pytest.fixture
def folder(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, dict[str, np.ndarray]]:
    """Three classes of 6x5 RGB PNGs (one in a nested folder), plus files to ignore."""
    images = {}
    for name in ["dog/b.png", "dog/a.png", "cat/x.png", "cat/sub/y.png", "emu/1.png"]:
        pixels = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
        _write(tmp_path / name, pixels)
        images[name] = pixels
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / "README.md").write_text("top-level files are not classes")
    return tmp_path, images


def test_classes_sorted_files_sorted_pixels_exact(folder) -> None:
    root, images = folder
    X, y, classes = load_image_folder(root)
    assert classes == ["cat", "dog", "emu"]
    order = ["cat/x.png", "cat/sub/y.png", "dog/a.png", "dog/b.png", "emu/1.png"]
    np.testing.assert_array_equal(y, [0, 0, 1, 1, 2])
    assert X.shape == (5, 3, 6, 5) and X.dtype == np.float32 and y.dtype == np.int64
    for i, name in enumerate(order):
        expected = images[name].transpose(2, 0, 1).astype(np.float32) / np.float32(255)
        np.testing.assert_array_equal(X[i], expected)
    raw, _, _ = load_image_folder(root, normalize=False, dtype=np.uint8)
    np.testing.assert_array_equal(raw[1], images["cat/sub/y.png"].transpose(2, 0, 1))


def test_grayscale_auto_and_forced(tmp_path: Path, rng: np.random.Generator) -> None:
    gray = rng.integers(0, 256, (4, 4), dtype=np.uint8)
    _write(tmp_path / "a" / "g.png", gray)
    _write(tmp_path / "b" / "g.png", gray)
    X, _, _ = load_image_folder(tmp_path)
    assert X.shape == (2, 1, 4, 4)
    np.testing.assert_array_equal(X[0, 0] * 255, gray.astype(np.float32))
    X3, _, _ = load_image_folder(tmp_path, color_mode="rgb")
    assert X3.shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(X3[:, 0], X3[:, 2])
    color = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    _write(tmp_path / "b" / "c.png", color)
    assert load_image_folder(tmp_path)[0].shape == (3, 3, 4, 4)  # one colour image: RGB
    forced = load_image_folder(tmp_path, color_mode="grayscale")[0]
    assert forced.shape == (3, 1, 4, 4)
    expected = np.asarray(Image.fromarray(color).convert("L"), dtype=np.float32) / 255
    np.testing.assert_allclose(forced[1, 0], expected)  # b/c.png sorts before b/g.png


def test_jpeg_and_rgba(tmp_path: Path, rng: np.random.Generator) -> None:
    ramp = np.linspace(0, 255, 8)
    pixels = np.stack(np.broadcast_arrays(ramp[:, None], ramp[None, :], 128.0), 2).astype(np.uint8)
    _write(tmp_path / "j" / "photo.JPEG", pixels, quality=95)
    rgba = np.concatenate([pixels, np.full((8, 8, 1), 7, np.uint8)], axis=2)
    _write(tmp_path / "k" / "alpha.png", rgba)
    X, _, classes = load_image_folder(tmp_path)
    assert classes == ["j", "k"] and X.shape == (2, 3, 8, 8)
    decoded = np.asarray(Image.open(tmp_path / "j" / "photo.JPEG").convert("RGB"))
    np.testing.assert_array_equal(X[0] * 255, decoded.transpose(2, 0, 1).astype(np.float32))
    assert np.abs(X[0] * 255 - pixels.transpose(2, 0, 1)).mean() < 8  # JPEG is lossy
    np.testing.assert_allclose(X[1] * 255, pixels.transpose(2, 0, 1), atol=1e-4)  # alpha dropped


def test_sizes_that_differ_name_the_file_and_size_resizes(tmp_path: Path) -> None:
    _write(tmp_path / "a" / "big.png", np.full((10, 12), 200, np.uint8))
    _write(tmp_path / "a" / "small.png", np.full((6, 4), 50, np.uint8))
    with pytest.raises(ValueError, match=r"small\.png is 6x4 but .*big\.png is 10x12 .* pass size"):
        load_image_folder(tmp_path)
    X, _, _ = load_image_folder(tmp_path, size=(5, 7))
    assert X.shape == (2, 1, 5, 7)
    np.testing.assert_allclose(X[0] * 255, 200, atol=1e-4)  # a flat image stays flat
    np.testing.assert_allclose(X[1] * 255, 50, atol=1e-4)
    assert load_image_folder(tmp_path, size=3)[0].shape == (2, 1, 3, 3)


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"load_image_folder: .* is not a folder"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="found no class subfolders"):
        load_image_folder(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"found no image in class folder .*empty"):
        load_image_folder(tmp_path)
    (tmp_path / "empty" / "fake.png").write_text("not a png")
    with pytest.raises(ValueError, match=r"cannot read .*fake\.png as an image"):
        load_image_folder(tmp_path)
    with pytest.raises(ValueError, match="color_mode must be one of 'auto', 'grayscale', 'rgb'"):
        load_image_folder(tmp_path, color_mode="cmyk")
    with pytest.raises(ValueError, match="size must be positive"):
        load_image_folder(tmp_path, size=0)
    with pytest.raises(TypeError, match="normalize=True needs a floating dtype"):
        load_image_folder(tmp_path, dtype=np.uint8)
