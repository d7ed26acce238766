"""Image files as model inputs: reading, the training data's conventions, and digit framing.

``prepare_image(path, input_shape, ...)`` turns a picture into the (C, H, W) float32 array in
[0, 1] that a model trained on a dataset expects:

1. read: EXIF orientation applied; 16-bit (and 32-bit) grayscale scaled to [0, 1], not
   clipped at 255; transparency composited over a background that contrasts with the ink
   (so a black drawing on a transparent canvas stays a black drawing); pictures over
   Pillow's decompression-bomb limit refused;
2. grayscale (ITU-R 601 luma, as Pillow's ``convert("L")``) or RGB, as the model takes;
3. invert a dark-on-light picture (bright border) for a model trained on light-on-dark data;
4. frame it like the training data (``preprocess``):
   ``"resize"`` the whole picture to H x W (area averaging);
   ``"mnist"`` MNIST's recipe for a digit: crop to the ink, fit it into a 20 x 20 box keeping
   its aspect ratio, and place it in 28 x 28 with its centre of mass at the centre;
   ``"fit"`` crop to the ink and fit the longer side to the full H x W, centred (the
   Fashion-MNIST recipe; scikit-learn's 8x8 digits fill their box the same way).

Errors about one file are :class:`ImageError` (a ``ValueError``) naming the file.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scratchcnn.memory import check_allocation

# What a folder given to ``predict`` is searched for (case-insensitive, not recursive).
IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pnm"}
)
PREPROCESSING = ("resize", "mnist", "fit")

# MNIST: digits fit in a 20 x 20 box inside 28 x 28, centre of mass at pixel (14, 14)
MNIST_CANVAS = 28
MNIST_BOX = 20

# A pixel is ink when it is this bright, relative to the background (0) and the peak (1)
INK_THRESHOLD = 0.1
_LUMA = (0.299, 0.587, 0.114)


def _gray(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 1 or 3) -> (H, W): the channel itself, or ITU-R 601 luma of RGB."""
    if pixels.shape[2] == 1:
        return pixels[:, :, 0]
    red, green, blue = _LUMA  # sums of strided planes: far faster than a matmul on a view
    return red * pixels[:, :, 0] + green * pixels[:, :, 1] + blue * pixels[:, :, 2]


class ImageError(ValueError):
    """A picture that cannot be used; the message starts with the file name."""


def images_in_folder(folder: str | os.PathLike[str]) -> list[Path]:
    """The image files directly in ``folder`` (by suffix, see ``IMAGE_SUFFIXES``), sorted."""
    return sorted(
        p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


# -- reading ---------------------------------------------------------------------------------
def _integer_scale(mode: str, values: np.ndarray) -> float:
    """The full-scale value of a Pillow integer mode: 65535 for 16-bit, else the data's max."""
    if mode.startswith("I;16") or values.max(initial=0) <= 65535:
        return 65535.0
    return float(np.iinfo(np.int32).max)


def _pixels(image: Any) -> np.ndarray:
    """A Pillow image as (H, W, C) float64 in [0, 1]: C is 1 or 3, plus alpha (2 or 4)."""
    mode = image.mode
    if mode in ("1", "L", "RGB"):
        if "transparency" in image.info:  # a colour key: that value means transparent
            return _pixels(image.convert("LA" if mode != "RGB" else "RGBA"))
        data = np.asarray(image.convert("L" if mode == "1" else mode), dtype=np.float64) / 255
    elif mode in ("LA", "RGBA"):
        data = np.asarray(image, dtype=np.float64) / 255
    elif mode.startswith("I"):  # 16-bit PNG/TIFF grayscale, 32-bit integers
        values = np.asarray(image).astype(np.float64)
        data = np.clip(values / _integer_scale(mode, values), 0.0, 1.0)
    elif mode == "F":  # floating point TIFF: taken to be in [0, 1]
        data = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float64)), 0.0, 1.0)
    elif mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        return _pixels(image.convert("RGBA" if has_alpha else "RGB"))
    else:  # CMYK, YCbCr, LAB, HSV, La, RGBa, ...
        return _pixels(image.convert("RGBA" if "A" in mode or "a" in mode else "RGB"))
    return data[:, :, None] if data.ndim == 2 else data


def composite(pixels: np.ndarray) -> np.ndarray:
    """Flatten an alpha channel: (H, W, 2 or 4) -> (H, W, 1 or 3); others pass through.

    The background is white when the visible (opaque) ink is dark and black when it is
    light, so a drawing keeps its strokes whatever colour its transparent pixels hold.
    """
    if pixels.shape[2] not in (2, 4):
        return pixels
    color, alpha = pixels[:, :, :-1], pixels[:, :, -1:]
    brightness = _gray(color)
    weight = float(alpha.sum())
    ink = float((brightness * alpha[:, :, 0]).sum()) / weight if weight > 0 else 0.0
    background = 1.0 if ink < 0.5 else 0.0
    return color * alpha + background * (1.0 - alpha)


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """A picture as (H, W, C) float64 in [0, 1], C = 1 (gray) or 3 (colour).

    EXIF orientation is applied, transparency composited (see :func:`composite`), 16-bit
    grayscale scaled by 65535. A file that is missing, not an image, or over Pillow's
    ``Image.MAX_IMAGE_PIXELS`` raises :class:`ImageError`.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if not path.is_file():
        raise ImageError(f"{path}: not a file")
    limit = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow warns over the limit and refuses at twice the limit: refuse both
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image = ImageOps.exif_transpose(image)
                image.load()
                return composite(_pixels(image))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise ImageError(
            f"{path}: the picture is too large to read safely ({error}); Pillow's limit is "
            f"{limit:,} pixels (PIL.Image.MAX_IMAGE_PIXELS): make it smaller first"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file Pillow can read") from None
    except (OSError, ValueError, SyntaxError) as error:  # truncated or corrupt files
        raise ImageError(f"{path}: cannot read the picture: {error}") from None


# -- conventions of the training data ------------------------------------------------------
def to_channels(pixels: np.ndarray, channels: int) -> np.ndarray:
    """(H, W, 1 or 3) -> (channels, H, W): gray by ITU-R 601 luma, or gray repeated as RGB."""
    if channels == 1:
        return _gray(pixels)[None]
    rgb = np.repeat(pixels, 3, axis=2) if pixels.shape[2] == 1 else pixels
    return rgb.transpose(2, 0, 1)


def is_dark_on_light(pixels: np.ndarray) -> bool:
    """True when the border of a (C, H, W) picture is bright (ink darker than the paper)."""
    border = np.concatenate(
        [pixels[:, 0].ravel(), pixels[:, -1].ravel(), pixels[:, :, 0].ravel(),
         pixels[:, :, -1].ravel()]
    )
    return float(border.mean()) > 0.5


def resize(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """(C, h, w) -> (C, height, width): area averaging to shrink, bilinear to enlarge."""
    from PIL import Image

    _, h, w = pixels.shape
    if (h, w) == (height, width):
        return pixels.copy()
    shrink = height <= h and width <= w
    method = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
    planes = [
        np.asarray(
            Image.fromarray(plane.astype(np.float32)).resize((width, height), method)
        )
        for plane in pixels
    ]
    return np.clip(np.stack(planes).astype(np.float64), 0.0, 1.0)


# -- framing a drawn digit -------------------------------------------------------------------
def _ink(pixels: np.ndarray) -> np.ndarray:
    """Light-on-dark (C, H, W) pixels rescaled so the background is 0 and the peak is 1."""
    gray = pixels.mean(axis=0)
    background = float(np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])))
    peak = float(gray.max())
    if peak - background < 1e-3:
        raise ImageError("the picture is blank: no ink stands out from the background")
    return np.clip((pixels - background) / (peak - background), 0.0, 1.0)


def _crop_to_ink(ink: np.ndarray) -> np.ndarray:
    mask = ink.max(axis=0) > INK_THRESHOLD
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return ink[:, rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _fit_into(ink: np.ndarray, box_height: int, box_width: int) -> np.ndarray:
    """Resize so the crop just fits a box_height x box_width box, keeping its aspect ratio."""
    _, h, w = ink.shape
    scale = min(box_height / h, box_width / w)
    new_h = min(box_height, max(1, round(h * scale)))
    new_w = min(box_width, max(1, round(w * scale)))
    return resize(ink, new_h, new_w)


def _place(piece: np.ndarray, height: int, width: int, top: int, left: int) -> np.ndarray:
    """Paste ``piece`` into a black (C, height, width) canvas at (top, left); may clip it."""
    C, h, w = piece.shape
    canvas = np.zeros((C, height, width))
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, height), min(left + w, width)
    if y0 < y1 and x0 < x1:
        canvas[:, y0:y1, x0:x1] = piece[:, y0 - top : y1 - top, x0 - left : x1 - left]
    return canvas


def frame_mnist(
    pixels: np.ndarray, height: int = MNIST_CANVAS, width: int = MNIST_CANVAS
) -> np.ndarray:
    """MNIST's framing of a light-on-dark (C, h, w) digit -> (C, height, width).

    Crop to the ink, fit it into a box of 20/28 of the canvas keeping the aspect ratio, then
    shift it so its centre of mass lands on the canvas centre (pixel (14, 14) of 28 x 28, as
    in the MNIST files), rounded to whole pixels as MNIST did.
    """
    box_h = max(1, round(height * MNIST_BOX / MNIST_CANVAS))
    box_w = max(1, round(width * MNIST_BOX / MNIST_CANVAS))
    digit = _fit_into(_crop_to_ink(_ink(pixels)), box_h, box_w)
    mass = digit.sum(axis=0)
    total = mass.sum()
    cy = float(mass.sum(axis=1) @ np.arange(mass.shape[0])) / total
    cx = float(mass.sum(axis=0) @ np.arange(mass.shape[1])) / total
    top, left = round(height / 2 - cy), round(width / 2 - cx)
    return _place(digit, height, width, top, left)


def frame_fit(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Crop a light-on-dark (C, h, w) picture to its ink, fit the longer side, centre it."""
    piece = _fit_into(_crop_to_ink(_ink(pixels)), height, width)
    _, h, w = piece.shape
    return _place(piece, height, width, (height - h) // 2, (width - w) // 2)


def prepare_image(
    path: str | os.PathLike[str],
    input_shape: Sequence[int],
    invert: str = "auto",
    light_on_dark: bool = False,
    preprocess: str = "resize",
) -> np.ndarray:
    """A picture as a model's (C, H, W) float32 input in [0, 1] (see the module docstring).

    ``invert`` is ``"yes"``, ``"no"`` or ``"auto"``: auto inverts a dark-on-light picture
    when the model was trained on light-on-dark images (``light_on_dark``, e.g. MNIST).
    ``preprocess`` is ``"resize"``, ``"mnist"`` or ``"fit"``; the last two need light ink on
    a dark background after the inversion.
    """
    shape = tuple(int(n) for n in input_shape)
    if len(shape) != 3:
        raise ValueError(
            f"prepare_image: the model takes inputs of shape {shape}, not images (C, H, W)"
        )
    C, H, W = shape
    if C not in (1, 3):
        raise ValueError(
            f"prepare_image: the model takes {C}-channel inputs; images give 1 (gray) or 3 (RGB)"
        )
    if invert not in ("auto", "yes", "no"):
        raise ValueError(f"prepare_image: invert must be 'auto', 'yes' or 'no', got {invert!r}")
    if preprocess not in PREPROCESSING:
        raise ValueError(
            f"prepare_image: preprocess must be one of {', '.join(PREPROCESSING)}, got "
            f"{preprocess!r}"
        )
    check_allocation((C, H, W), np.float64, "the framed picture", "prepare_image", peak_factor=3)
    pixels = to_channels(read_image(path), C)
    if invert == "yes" or (invert == "auto" and light_on_dark and is_dark_on_light(pixels)):
        pixels = 1.0 - pixels
    try:
        if preprocess == "mnist":
            pixels = frame_mnist(pixels, H, W)
        elif preprocess == "fit":
            pixels = frame_fit(pixels, H, W)
        else:
            pixels = resize(pixels, H, W)
    except ImageError as error:
        raise ImageError(f"{Path(path)}: {error}") from None
    return np.ascontiguousarray(pixels, dtype=np.float32)
