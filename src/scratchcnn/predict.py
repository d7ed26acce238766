"""Classifying picture files with a trained model: what ``scratchcnn predict`` does.

``classify_pictures(model, arguments, input_shape, ...)`` expands folders into the images in
them, prepares each picture as the training data were (``scratchcnn.images``), classifies
them a batch at a time and yields one :class:`Prediction` per file, in order: its top labels
and probabilities, or the reason it could not be read. One bad file never stops the others.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scratchcnn.images import IMAGE_SUFFIXES, ImageError, images_in_folder, prepare_image
from scratchcnn.memory import ArrayTooLargeError

# How a picture is framed to look like each dataset's images (see scratchcnn.images).
FRAMING = {"mnist": "mnist", "fashion-mnist": "fit", "digits": "fit"}

# Pictures are read and classified this many at a time, so a large folder needs little memory.
BATCH = 64


@dataclass
class Prediction:
    """One file's result: ``top`` holds (label, probability) pairs, best first, or ``error``."""

    path: str
    top: list[tuple[str, float]] = field(default_factory=list)
    error: str | None = None


def framing_for(dataset: str | None) -> str:
    """The ``preprocess`` mode that frames pictures like ``dataset``'s images."""
    return FRAMING.get(str(dataset), "resize")


def expand_arguments(arguments: Sequence[str | os.PathLike[str]]) -> list[Prediction]:
    """Files as given and folders as the images in them, sorted; an empty folder is an error."""
    items: list[Prediction] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found = images_in_folder(path)
            if not found:
                kinds = ", ".join(sorted(IMAGE_SUFFIXES))
                items.append(Prediction(str(argument), error=f"no image files ({kinds}) in it"))
            items += [Prediction(str(p)) for p in found]
        else:
            items.append(Prediction(str(argument)))
    return items


def _top(proba: np.ndarray, names: Sequence[str], k: int) -> list[tuple[str, float]]:
    best = np.argsort(-proba, kind="stable")[: min(k, proba.shape[0])]
    return [(names[i] if i < len(names) else str(i), float(proba[i])) for i in best]


def classify_pictures(
    model: Any,
    arguments: Sequence[str | os.PathLike[str]],
    input_shape: Sequence[int],
    class_names: Sequence[str] = (),
    top_k: int = 1,
    invert: str = "auto",
    light_on_dark: bool = False,
    preprocess: str = "resize",
) -> Iterator[Prediction]:
    """Yield a :class:`Prediction` for every picture in ``arguments`` (files or folders).

    ``invert``, ``light_on_dark`` and ``preprocess`` are :func:`scratchcnn.images.
    prepare_image`'s. A model that does not take ``input_shape`` raises ValueError; an
    ``input_shape`` too large for memory raises ``ArrayTooLargeError``.
    """
    pending: list[tuple[Prediction, np.ndarray]] = []

    def flush() -> Iterator[Prediction]:
        try:
            proba = model.predict_proba(np.stack([pixels for _, pixels in pending]))
        except ArrayTooLargeError:
            raise
        except ValueError as error:
            raise ValueError(
                f"images of shape {tuple(input_shape)} do not fit the model: {error}"
            ) from error
        for (item, _), row in zip(pending, proba, strict=True):
            item.top = _top(row, class_names, top_k)
            yield item
        pending.clear()

    for item in expand_arguments(arguments):
        if item.error is None:
            try:
                pixels = prepare_image(item.path, input_shape, invert, light_on_dark, preprocess)
            except ImageError as error:
                item.error = str(error).removeprefix(f"{Path(item.path)}: ")
        if item.error is not None:
            if pending:  # keep the order of the arguments
                yield from flush()
            yield item
            continue
        pending.append((item, pixels))
        if len(pending) == BATCH:
            yield from flush()
    if pending:
        yield from flush()
