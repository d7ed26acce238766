"""Shared figure plumbing: an Agg figure, image display of (C, H, W) samples, saving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(width: float, height: float, dpi: int = 100) -> Figure:
    """A figure on the Agg canvas (no pyplot, no window)."""
    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def save(figure: Figure, path: Any) -> Path:
    """Write the figure as PNG to ``path`` atomically (temporary file, sync, rename)."""
    from scratchcnn.atomic import atomic_write

    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder {str(path.parent)!r} does not exist")
    return atomic_write(path, lambda f: figure.savefig(f, format="png"))


def display_image(sample: np.ndarray) -> tuple[np.ndarray, str | None]:
    """A sample as something ``imshow`` draws: (H, W) with a gray colormap or (H, W, 3).

    Values are scaled to [0, 1] by the sample's own range. 1-D samples (C, L) become a
    (C, L) strip.
    """
    sample = np.asarray(sample, dtype=np.float64)
    low, high = float(sample.min()), float(sample.max())
    scaled = (sample - low) / (high - low) if high > low else np.zeros_like(sample)
    if scaled.ndim == 3 and scaled.shape[0] == 3:
        return scaled.transpose(1, 2, 0), None
    if scaled.ndim == 3:
        return scaled.mean(axis=0), "gray"
    return scaled, "gray"


def show(axes: Any, sample: np.ndarray, title: str = "") -> None:
    """Draw one sample without ticks."""
    image, cmap = display_image(sample)
    axes.imshow(
        image,
        cmap=cmap,
        interpolation="nearest",
        aspect="auto" if image.ndim == 2 and image.shape[0] < 4 else "equal",
    )
    axes.set_xticks([])
    axes.set_yticks([])
    if title:
        axes.set_title(title, fontsize=9)


def grid_shape(n: int, max_columns: int = 8) -> tuple[int, int]:
    """(rows, columns) of a near-square grid of ``n`` panels, at most ``max_columns`` wide."""
    columns = min(max_columns, max(1, int(np.ceil(np.sqrt(n)))))
    return int(np.ceil(n / columns)), columns


def class_label(names: Any, k: int) -> str:
    return str(names[k]) if names is not None and k < len(names) else str(k)
