"""Reading pictures for predict: bit depth, transparency, EXIF, size limit, digit framing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scratchcnn.images import (
    ImageError,
    frame_fit,
    frame_mnist,
    images_in_folder,
    prepare_image,
    read_image,
    resize,
)


def _mnist_test_images(shared) -> tuple[np.ndarray, np.ndarray]:
    """The official MNIST test split from ../shared (skips without it, fails under CI=true)."""
    from scratchcnn.datasets import load_idx_split

    folder = shared("data/mnist/t10k-images-idx3-ubyte.gz").parent
    return load_idx_split(folder, "test")


def _digit_drawing(digit: np.ndarray, size: int = 400, margin: int = 10) -> np.ndarray:
    """A 28x28 light-on-dark digit cropped to its ink and enlarged to fill a size x size canvas."""
    mask = digit > 0.1
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = (size - 2 * margin) / max(crop.shape)
    big = resize(crop[None], round(crop.shape[0] * scale), round(crop.shape[1] * scale))[0]
    canvas = np.zeros((size, size))
    top, left = (size - big.shape[0]) // 2, (size - big.shape[1]) // 2
    canvas[top : top + big.shape[0], left : left + big.shape[1]] = big
    return canvas


def _save_black_on_transparent(ink: np.ndarray, path: Path) -> Path:
    """Black strokes whose opacity is the ink, on fully transparent (0, 0, 0, 0) pixels."""
    rgba = np.zeros((*ink.shape, 4), dtype=np.uint8)
    rgba[..., 3] = np.rint(ink * 255).astype(np.uint8)
    Image.fromarray(rgba).save(path)
    return path


def _centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    total = image.sum()
    rows, cols = np.arange(image.shape[0]), np.arange(image.shape[1])
    return float(image.sum(axis=1) @ rows / total), float(image.sum(axis=0) @ cols / total)


# -- reading -------------------------------------------------------------------------------
def test_16_bit_grayscale_is_scaled_not_clipped(tmp_path: Path, rng: np.random.Generator) -> None:
    values = rng.integers(0, 65536, size=(6, 7)).astype(np.uint16)
    values[0, 0], values[0, 1] = 32768, 65535
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    with Image.open(path) as image:
        assert image.mode.startswith("I")  # Pillow reads it as 16 (or 32) bit integers
    pixels = read_image(path)
    assert pixels.shape == (6, 7, 1)
    np.testing.assert_allclose(pixels[:, :, 0], values / 65535, atol=1e-12)
    assert pixels[0, 0, 0] == pytest.approx(0.5, abs=1e-4)  # mid-gray, not clipped to white


def test_8_bit_and_rgb(tmp_path: Path, rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    np.testing.assert_allclose(read_image(tmp_path / "c.png"), rgb / 255, atol=1e-12)
    gray = prepare_image(tmp_path / "c.png", (1, 5, 4))
    with Image.open(tmp_path / "c.png") as image:
        pillow_gray = np.asarray(image.convert("L"), dtype=np.float64) / 255
    np.testing.assert_allclose(gray[0], pillow_gray, atol=1 / 255)  # Pillow's luma, unrounded


def test_black_drawing_on_transparent_canvas_reads_as_a_drawing(tmp_path: Path) -> None:
    ink = np.zeros((10, 10))
    ink[2:8, 4:6] = 1.0  # a "1"
    path = _save_black_on_transparent(ink, tmp_path / "drawing.png")
    pixels = read_image(path)[:, :, 0]
    np.testing.assert_allclose(pixels, 1.0 - ink)  # black strokes on white paper
    model_input = prepare_image(path, (1, 10, 10), light_on_dark=True)  # MNIST-style model
    np.testing.assert_allclose(model_input[0], ink, atol=1e-6)


def test_white_drawing_on_transparent_canvas(tmp_path: Path) -> None:
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[2:6, 3, :] = 255  # opaque white strokes; transparent pixels are (0, 0, 0, 0)
    Image.fromarray(rgba).save(tmp_path / "white.png")
    pixels = read_image(tmp_path / "white.png")
    assert pixels.shape == (8, 8, 3)
    np.testing.assert_allclose(pixels[..., 0], rgba[..., 3] / 255)  # composited over black


def test_gray_alpha_and_palette_transparency(tmp_path: Path) -> None:
    la = np.zeros((6, 6, 2), dtype=np.uint8)
    la[1:5, 2, 1] = 255  # black strokes (L = 0) with alpha
    Image.fromarray(la, mode="LA").save(tmp_path / "la.png")
    np.testing.assert_allclose(read_image(tmp_path / "la.png")[:, :, 0], 1 - la[..., 1] / 255)
    palette = Image.new("P", (6, 6), 0)
    palette.putpalette([0, 0, 0, 0, 0, 0])  # both entries black
    palette.putpixel((2, 2), 1)
    palette.save(tmp_path / "p.png", transparency=0)  # entry 0 is transparent
    pixels = read_image(tmp_path / "p.png")
    assert pixels[2, 2].max() == 0.0 and pixels[0, 0].min() == 1.0


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    pixels = np.zeros((4, 6), dtype=np.uint8)
    pixels[0, :3] = 255  # a mark in the top-left corner of the stored picture
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(pixels).save(tmp_path / "phone.png", exif=exif)
    shown = read_image(tmp_path / "phone.png")[:, :, 0]
    np.testing.assert_array_equal(shown, np.rot90(pixels, k=-1) / 255)
    assert shown.shape == (6, 4)


def test_picture_over_pillows_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    for side in (12, 30):  # over the limit (Pillow warns) and over twice it (Pillow refuses)
        path = tmp_path / f"big{side}.png"
        Image.new("L", (side, side)).save(path)
        with pytest.raises(ImageError, match=rf"big{side}.png: the picture is too large to read "
                           r"safely .*Pillow's limit is 100 pixels \(PIL.Image.MAX_IMAGE_PIXELS"):
            read_image(path)


def test_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(ImageError, match=r"text.png: not an image file Pillow can read"):
        read_image(tmp_path / "text.png")
    Image.new("L", (50, 50), 128).save(tmp_path / "full.png")
    (tmp_path / "cut.png").write_bytes((tmp_path / "full.png").read_bytes()[:60])
    with pytest.raises(ImageError, match=r"cut.png: cannot read the picture"):
        read_image(tmp_path / "cut.png")
    with pytest.raises(ImageError, match=r"missing.png: no such file"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ImageError, match=r": not a file"):
        read_image(tmp_path)


def test_images_in_folder(tmp_path: Path) -> None:
    for name in ("b.PNG", "a.jpg", "notes.txt", "c.tiff"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.png").mkdir()
    assert [p.name for p in images_in_folder(tmp_path)] == ["a.jpg", "b.PNG", "c.tiff"]


def test_prepare_image_argument_errors(tmp_path: Path) -> None:
    Image.new("L", (4, 4)).save(tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"prepare_image: the model takes inputs of shape "
                       r"\(1, 40\), not images"):
        prepare_image(tmp_path / "x.png", (1, 40))
    with pytest.raises(ValueError, match="takes 2-channel inputs"):
        prepare_image(tmp_path / "x.png", (2, 4, 4))
    with pytest.raises(ValueError, match="preprocess must be one of resize, mnist, fit"):
        prepare_image(tmp_path / "x.png", (1, 4, 4), preprocess="crop")
    with pytest.raises(ValueError, match="invert must be 'auto', 'yes' or 'no'"):
        prepare_image(tmp_path / "x.png", (1, 4, 4), invert="maybe")


def test_blank_picture_cannot_be_framed(tmp_path: Path) -> None:
    Image.new("L", (30, 30), 255).save(tmp_path / "blank.png")
    with pytest.raises(ImageError, match=r"blank.png: the picture is blank"):
        prepare_image(tmp_path / "blank.png", (1, 28, 28), light_on_dark=True,
                      preprocess="mnist")


# -- framing --------------------------------------------------------------------------------
def test_mnist_framing_of_a_synthetic_big_digit() -> None:
    canvas = np.zeros((1, 300, 500))
    canvas[0, 20:280, 300:340] = 1.0  # a tall bar off to the right: a "1" filling the height
    canvas[0, 20:60, 260:300] = 1.0  # its flag, to the left of the top
    framed = frame_mnist(canvas)[0]
    rows = np.flatnonzero(framed.max(axis=1) > 0.1)
    assert rows[-1] - rows[0] + 1 == 20  # the longer side fits the 20x20 box
    cy, cx = _centre_of_mass(framed)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_fit_framing_fills_the_canvas() -> None:
    canvas = np.zeros((1, 100, 100))
    canvas[0, 70:90, 10:50] = 1.0  # a wide block in the bottom-left corner
    framed = frame_fit(canvas, 8, 8)[0]
    cols = np.flatnonzero(framed.max(axis=0) > 0.1)
    rows = np.flatnonzero(framed.max(axis=1) > 0.1)
    assert (cols[0], cols[-1]) == (0, 7)  # the longer side spans the canvas
    assert len(rows) == 4 and rows[0] == 2  # 20:40 -> 4 rows, centred


def test_mnist_framing_reproduces_mnist_digits(tmp_path: Path, shared) -> None:
    # MNIST digits enlarged to fill a 400x400 canvas, drawn black on transparent, come back
    # as the original 28x28 digits; a plain resize does not
    X, _ = _mnist_test_images(shared)
    framed_match, resized_match, offsets = [], [], []
    for index in range(0, 2000, 40):  # 50 digits
        digit = X[index, 0].astype(np.float64)
        path = _save_black_on_transparent(_digit_drawing(digit), tmp_path / f"{index}.png")
        framed = prepare_image(path, (1, 28, 28), light_on_dark=True, preprocess="mnist")[0]
        resized = prepare_image(path, (1, 28, 28), light_on_dark=True, preprocess="resize")[0]
        framed_match.append(np.corrcoef(framed.ravel(), digit.ravel())[0, 1])
        resized_match.append(np.corrcoef(resized.ravel(), digit.ravel())[0, 1])
        offsets.append(np.subtract(_centre_of_mass(framed), (14, 14)))
    assert np.median(framed_match) > 0.97
    assert np.median(resized_match) < 0.6
    assert np.abs(offsets).max() <= 0.5  # centre of mass on pixel (14, 14), as in MNIST


@pytest.mark.slow
def test_lenet5_reads_canvas_filling_digits_with_mnist_framing(
    tmp_path: Path, capsys, shared
) -> None:
    # LeNet-5 trained on 8,000 MNIST test digits, asked through the CLI about 200 others drawn
    # black on a transparent 400x400 canvas that they fill
    import json

    from threadpoolctl import threadpool_limits

    from scratchcnn import zoo
    from scratchcnn.cli import main

    X, y = _mnist_test_images(shared)
    with threadpool_limits(1):
        model = zoo.get_model("lenet5", input_shape=(1, 28, 28), num_classes=10, seed=0)
        model.fit(X[:8000], y[:8000], epochs=2, batch_size=64, seed=0, verbose=0)
    _, held_out_accuracy = model.evaluate(X[9000:9200], y[9000:9200])
    run = tmp_path / "run"
    run.mkdir()
    model.save(run / "model.npz")
    config = {"dataset": "mnist", "input_shape": [1, 28, 28],
              "preprocessing": {"light_on_dark": True}}
    (run / "config.json").write_text(json.dumps(config))
    pictures = tmp_path / "drawn"
    pictures.mkdir()
    for i in range(9000, 9200):
        drawing = _digit_drawing(X[i, 0].astype(np.float64))
        _save_black_on_transparent(drawing, pictures / f"{i}.png")
    accuracy = {}
    for mode in ("auto", "resize"):
        assert main(["predict", str(run), str(pictures), "--preprocess", mode]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        predicted = {int(Path(line.split(": ")[0]).stem): int(line.split(": ")[1].split()[0])
                     for line in lines}
        accuracy[mode] = np.mean([predicted[i] == y[i] for i in range(9000, 9200)])
    assert accuracy["auto"] >= held_out_accuracy - 0.03  # as good as on MNIST's own images
    assert accuracy["auto"] >= accuracy["resize"] + 0.15
