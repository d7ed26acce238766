"""Batch transforms against per-image loops and torch's padding; seeded; inputs never written."""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn.transforms import (
    Compose,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    crop_windows,
    deterministic_part,
)

torch = pytest.importorskip("torch")

_TORCH_MODES = {"constant": "constant", "edge": "replicate", "reflect": "reflect"}


def _torch_pad(image: np.ndarray, pads: tuple[int, int, int, int], mode: str, fill: float):
    """(C, H, W) padded by (left, top, right, bottom) with torch.nn.functional.pad."""
    left, top, right, bottom = pads
    t = torch.from_numpy(image.copy())[None]
    kwargs = {"value": fill} if mode == "constant" else {}
    out = torch.nn.functional.pad(t, (left, right, top, bottom), mode=_TORCH_MODES[mode], **kwargs)
    return out[0].numpy()


def test_crop_windows_equals_a_loop(rng: np.random.Generator) -> None:
    X = rng.standard_normal((6, 3, 9, 7))
    top, left = rng.integers(0, 4, 6), rng.integers(0, 3, 6)
    out = crop_windows(X, top, left, (6, 5))
    for i in range(6):
        np.testing.assert_array_equal(out[i], X[i, :, top[i] : top[i] + 6, left[i] : left[i] + 5])


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
@pytest.mark.parametrize(
    ("size", "padding"), [(8, 2), ((6, 8), (1, 2)), (7, (1, 0, 2, 3)), (8, None)]
)
def test_random_crop_equals_pad_then_crop_per_image(
    rng: np.random.Generator, mode: str, size, padding
) -> None:
    X = rng.standard_normal((16, 2, 10, 8))
    X.setflags(write=False)  # a read-only batch (a memory map) is fine
    crop = RandomCrop(size, padding=padding, padding_mode=mode, fill=0.5)
    out = crop(X, np.random.default_rng(7))
    h, w = crop.size
    pads = crop.padding or (0, 0, 0, 0)
    draws = np.random.default_rng(7)
    H, W = 10 + pads[1] + pads[3], 8 + pads[0] + pads[2]
    tops, lefts = draws.integers(0, H - h + 1, 16), draws.integers(0, W - w + 1, 16)
    assert out.shape == (16, 2, h, w)
    for i in range(16):
        padded = _torch_pad(X[i], pads, mode, 0.5)
        window = padded[:, tops[i] : tops[i] + h, lefts[i] : lefts[i] + w]
        np.testing.assert_array_equal(out[i], window)


def test_random_crop_symmetric_and_pad_if_needed(rng: np.random.Generator) -> None:
    X = rng.standard_normal((3, 1, 4, 4)).astype(np.float32)
    out = RandomCrop(6, pad_if_needed=True, padding_mode="symmetric")(X, rng)
    assert out.shape == (3, 1, 6, 6) and out.dtype == np.float32
    # padding 2 on each side and 6 of 8 rows kept: every output row is a row of the padded image
    padded = np.pad(X, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="symmetric")
    for i in range(3):
        windows = np.lib.stride_tricks.sliding_window_view(padded[i], (6, 6), axis=(1, 2))
        assert any(np.array_equal(out[i], windows[:, a, b]) for a in range(3) for b in range(3))


def test_random_crop_is_seeded_and_uses_every_offset() -> None:
    X = np.broadcast_to(np.arange(64.0).reshape(1, 1, 8, 8), (300, 1, 8, 8))
    crop = RandomCrop(5)
    a, b = crop(X, np.random.default_rng(3)), crop(X, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    corners = {int(v) for v in a[:, 0, 0, 0]}  # top * 8 + left
    assert corners == {top * 8 + left for top in range(4) for left in range(4)}


def test_random_horizontal_flip_equals_a_loop(rng: np.random.Generator) -> None:
    X = rng.standard_normal((50, 3, 4, 5)).astype(np.float32)
    before = X.copy()
    out = RandomHorizontalFlip(p=0.3)(X, np.random.default_rng(11))
    flips = np.random.default_rng(11).random(50) < 0.3
    assert 0 < flips.sum() < 50
    for i in range(50):
        np.testing.assert_array_equal(out[i], X[i, ..., ::-1] if flips[i] else X[i])
    np.testing.assert_array_equal(X, before)
    assert out.dtype == np.float32


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_flip_probability_bounds(rng: np.random.Generator, p: float) -> None:
    X = rng.standard_normal((4, 1, 3))
    out = RandomHorizontalFlip(p)(X, rng)
    np.testing.assert_array_equal(out, X[..., ::-1] if p else X)


def test_normalize_equals_torch_arithmetic(rng: np.random.Generator) -> None:
    X = rng.random((5, 3, 4, 4)).astype(np.float32)
    mean, std = [0.4914, 0.4822, 0.4465], [0.247, 0.243, 0.261]
    out = Normalize(mean, std)(X)
    t = torch.from_numpy(X)
    expected = (t - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-6)
    np.testing.assert_allclose(Normalize(0.5, 2.0)(np.ones((2, 1, 3))), np.full((2, 1, 3), 0.25))
    assert Normalize(0.0, 1.0)(np.ones((1, 2, 2), dtype=np.uint8)).dtype == np.float64


def test_compose_applies_in_order_and_deterministic_keeps_normalize(
    rng: np.random.Generator,
) -> None:
    X = rng.random((8, 1, 6, 6))
    norm = Normalize(0.5, 0.25)
    pipeline = Compose([RandomCrop(4, padding=0), RandomHorizontalFlip(), norm])
    out = pipeline(X, np.random.default_rng(5))
    draws = np.random.default_rng(5)
    step = RandomCrop(4)(X, draws)
    step = RandomHorizontalFlip()(step, draws)
    np.testing.assert_array_equal(out, norm(step))
    assert pipeline.random
    assert deterministic_part(pipeline).transforms == [norm]
    assert deterministic_part(RandomHorizontalFlip()) is None
    assert deterministic_part(norm) is norm
    assert "RandomCrop(size=(4, 4), padding=(0, 0, 0, 0))" in repr(pipeline)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: RandomCrop(0), ValueError, "RandomCrop: size must be positive"),
        (lambda: RandomCrop(2.5), TypeError, "RandomCrop: size must be an int or a pair of ints"),
        (lambda: RandomCrop(3, padding=-1), ValueError, "padding must be non-negative"),
        (lambda: RandomCrop(3, padding=(1, 2, 3)), TypeError, "sequence of 2 or 4 ints"),
        (lambda: RandomCrop(3, padding_mode="wrap"), ValueError, "padding_mode must be one of"),
        (lambda: RandomHorizontalFlip(1.5), ValueError, "p has to be between 0 and 1"),
        (lambda: Normalize([0.5], [0.0]), ValueError, "std evaluated to zero"),
        (lambda: Normalize([0.1, 0.2], [1, 2, 3]), ValueError, "same length, but got 2 and 3"),
        (lambda: Normalize("a", 1), TypeError, "mean must be a number or a list of numbers"),
        (lambda: Compose(RandomHorizontalFlip()), TypeError, "list of transforms"),
        (lambda: Compose([1]), TypeError, r"transforms\[0\] must be a transform"),
    ],
)
def test_bad_arguments(build, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        build()


@pytest.mark.parametrize(
    ("transform", "X", "error", "message"),
    [
        (RandomCrop(3), np.zeros((2, 4, 4)), ValueError, r"expected a batch of at least 4"),
        (RandomCrop(5), np.zeros((2, 1, 4, 4)), ValueError, r"crop size \(5, 5\) is larger"),
        (RandomHorizontalFlip(), np.zeros(3), ValueError, "at least 2 dimensions"),
        (Normalize([0, 0], [1, 1]), np.zeros((2, 3, 4)), ValueError, "expected 2 channels"),
        (Normalize(0, 1), np.array([["a"]]), TypeError, "expected an array of numbers"),
    ],
)
def test_bad_inputs(transform, X: np.ndarray, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        transform(X, np.random.default_rng(0))
