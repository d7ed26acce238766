"""Training plots as PNG files: learning curves and a confusion matrix.

Matplotlib runs on the Agg backend through its object API (no pyplot), so nothing opens a
window, nothing touches global figure state, and the functions work on a headless machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from scratchcnn.atomic import atomic_write


def _save(figure: Figure, path: str | Path) -> Path:
    """Write the figure atomically, in the format its suffix names (PNG without one)."""
    path = Path(path)
    image_format = path.suffix.lstrip(".").lower() or "png"
    return atomic_write(path, lambda f: figure.savefig(f, format=image_format))


def _series(history: Any) -> dict[str, list[float]]:
    """Per-epoch lists by name from a History object or a plain mapping."""
    if isinstance(history, Mapping):
        data = history
    elif isinstance(getattr(history, "history", None), Mapping):
        data = history.history
    else:
        data = history.to_dict()
    out = {}
    for name, values in data.items():
        if isinstance(values, Sequence | np.ndarray) and not isinstance(values, str):
            numbers = [float(v) for v in values if v is not None]
            if numbers:
                out[str(name)] = numbers
    return out


def plot_learning_curves(history: Any, path: str | Path, title: str = "") -> Path:
    """Write loss and accuracy per epoch (train and, when present, validation) to a PNG.

    ``history`` is a ``History`` or a mapping with per-epoch lists under ``loss``,
    ``accuracy`` and optionally ``val_loss`` / ``val_accuracy``. Returns the path written.
    """
    series = _series(history)
    figure = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(figure)
    for index, metric in enumerate(("loss", "accuracy")):
        axes = figure.add_subplot(1, 2, index + 1)
        for prefix, label in (("", "train"), ("val_", "validation")):
            values = series.get(prefix + metric)
            if values:
                epochs = np.arange(1, len(values) + 1)
                axes.plot(epochs, values, marker="o", markersize=3, label=label)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.grid(alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            axes.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return _save(figure, path)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``M[i, j]`` of samples of true class ``i`` predicted as class ``j``."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


def plot_confusion_matrix(
    matrix: np.ndarray,
    path: str | Path,
    class_names: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """Write a confusion matrix (rows: true class, columns: predicted) to a PNG.

    Cells show counts; the colour is the row-normalized rate, so rare classes stay visible.
    Returns the path written.
    """
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(n)]
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.5 * n + 2.0)
    figure = Figure(figsize=(size + 1.0, size), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    image = axes.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="rate per true class")
    if max(map(len, names)) > 2:
        axes.set_xticks(range(n), names, rotation=45, ha="right")
    else:
        axes.set_xticks(range(n), names)
    axes.set_yticks(range(n), names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    if n <= 30:
        for i in range(n):
            for j in range(n):
                colour = "white" if rates[i, j] > 0.5 else "black"
                axes.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                          color=colour)
    if title:
        axes.set_title(title)
    figure.tight_layout()
    return _save(figure, path)
