"""``load_image_folder``: a folder of class subfolders of images, as torchvision's ImageFolder.

``root/cat/001.png, root/dog/xyz.jpg, ...``: classes are the subfolder names, sorted; each
class's images are found recursively, in sorted order; the label is the class's index. Image
headers are read first, so a size mismatch is reported (naming the file) before any decoding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from scratchcnn.validation import to_int_tuple

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
_COLOR_MODES = ("auto", "grayscale", "rgb")


def find_classes(root: Path) -> list[str]:
    """The sorted names of the subfolders of ``root``.

    Unlike torchvision, hidden folders (``.ipynb_checkpoints``) are not classes.
    """
    with os.scandir(root) as entries:
        names = [e.name for e in entries if e.is_dir() and not e.name.startswith(".")]
    return sorted(names)


def image_files(folder: Path, extensions: tuple[str, ...]) -> list[Path]:
    """Image files under ``folder`` (recursively, following links), sorted as torchvision does."""
    found = []
    for dirpath, _, filenames in sorted(os.walk(folder, followlinks=True)):
        for name in sorted(filenames):
            if name.lower().endswith(extensions) and not name.startswith("."):
                found.append(Path(dirpath) / name)
    return found


def load_image_folder(
    root: str | os.PathLike[str],
    size: int | Sequence[int] | None = None,
    color_mode: str = "auto",
    normalize: bool = True,
    dtype: DTypeLike = np.float32,
    extensions: Sequence[str] = IMG_EXTENSIONS,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read ``root/<class>/<image>`` files into ``(X, y, class_names)``.

    X is (N, C, H, W) in ``dtype``, scaled to [0, 1] with ``normalize`` (else 0..255);
    y is int64 class indices into ``class_names`` (the sorted subfolder names). Without
    ``size`` all images must share one size; ``size`` (an int or (H, W)) resizes each image
    (bilinear, as torchvision's Resize). ``color_mode``: 'grayscale' (C=1), 'rgb' (C=3; alpha
    dropped) or 'auto' (C=1 when every image is grayscale, else 3).
    """
    from PIL import Image, UnidentifiedImageError

    owner = "load_image_folder"
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{owner}: {root} is not a folder")
    if color_mode not in _COLOR_MODES:
        raise ValueError(
            f"{owner}: color_mode must be one of {', '.join(map(repr, _COLOR_MODES))}, but got "
            f"{color_mode!r}"
        )
    target = None if size is None else to_int_tuple(size, 2, "size", owner)
    dtype = np.dtype(dtype)
    if normalize and dtype.kind != "f":
        raise TypeError(f"{owner}: normalize=True needs a floating dtype, but got {dtype}")
    exts = tuple(e.lower() for e in extensions)
    class_names = find_classes(root)
    if not class_names:
        raise FileNotFoundError(f"{owner}: found no class subfolders in {root}")
    files: list[tuple[Path, int]] = []
    for label, name in enumerate(class_names):
        found = image_files(root / name, exts)
        if not found:
            raise FileNotFoundError(
                f"{owner}: found no image in class folder {root / name}; supported extensions "
                f"are {', '.join(exts)}"
            )
        files.extend((path, label) for path in found)

    # headers first: sizes and modes, without decoding pixels
    first_size, first_path, all_gray = None, None, True
    for path, _ in files:
        try:
            with Image.open(path) as image:
                image_size, mode = image.size, image.mode  # size is (width, height)
        except (UnidentifiedImageError, OSError) as error:
            raise ValueError(f"{owner}: cannot read {path} as an image: {error}") from error
        all_gray = all_gray and mode in _GRAY_MODES
        if target is None:
            if first_size is None:
                first_size, first_path = image_size, path
            elif image_size != first_size:
                raise ValueError(
                    f"{owner}: images differ in size: {path} is {image_size[1]}x{image_size[0]} "
                    f"but {first_path} is {first_size[1]}x{first_size[0]} (height x width); pass "
                    "size=(H, W) to resize them"
                )
    gray = color_mode == "grayscale" or (color_mode == "auto" and all_gray)
    H, W = target if target is not None else (first_size[1], first_size[0])  # type: ignore[index]
    channels = 1 if gray else 3
    X = np.empty((len(files), channels, H, W), dtype=dtype)
    for i, (path, _) in enumerate(files):
        X[i] = _decode(path, gray, target, Image)
    if normalize:
        X /= dtype.type(255)
    y = np.array([label for _, label in files], dtype=np.int64)
    return X, y, class_names


def _decode(path: Path, gray: bool, target: tuple[int, int] | None, Image: Any) -> np.ndarray:
    """One image as (C, H, W) 0..255 values (8 bits per channel, as PIL's L and RGB modes)."""
    with Image.open(path) as image:
        image = image.convert("L" if gray else "RGB")
        if target is not None and image.size != (target[1], target[0]):
            image = image.resize((target[1], target[0]), Image.BILINEAR)
        pixels = np.asarray(image)
    return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
