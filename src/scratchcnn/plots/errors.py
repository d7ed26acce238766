"""The images a model gets wrong, with their true and predicted labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scratchcnn.plots._figures import class_label, grid_shape, new_figure, save, show


def plot_misclassified(
    model: Any,
    X: Any,
    y: Any,
    path: str | Path,
    class_names: Any = None,
    max_images: int = 25,
    title: str = "",
) -> Path:
    """Write a grid of misclassified samples of (X, y) to a PNG: true and predicted labels.

    The most confident mistakes come first. When there is none, the picture says so.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"plot_misclassified: y must hold one class label per sample of X ({X.shape[0]}), "
            f"but got shape {y.shape}"
        )
    proba = model.predict_proba(X)
    predicted = proba.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y)
    wrong = wrong[np.argsort(-proba[wrong, predicted[wrong]], kind="stable")][:max_images]
    total = int(np.count_nonzero(predicted != y))
    heading = title or (
        f"Misclassified: {total} of {len(y)} ({total / len(y):.1%}), most confident first"
    )
    if wrong.size == 0:
        figure = new_figure(5, 2)
        figure.text(
            0.5,
            0.5,
            f"No misclassified images among {len(y)}",
            ha="center",
            va="center",
            fontsize=12,
        )
        return save(figure, path)
    rows, columns = grid_shape(wrong.size, max_columns=5 if wrong.size <= 10 else 8)
    figure = new_figure(1.7 * columns, 1.95 * rows + 0.6)
    for panel, index in enumerate(wrong):
        axes = figure.add_subplot(rows, columns, panel + 1)
        true_name = class_label(class_names, int(y[index]))
        guess = class_label(class_names, int(predicted[index]))
        show(axes, X[index])
        axes.set_title(
            f"true {true_name}\npredicted {guess} ({proba[index, predicted[index]]:.2f})",
            fontsize=8,
            color="firebrick",
        )
    figure.suptitle(heading)
    figure.tight_layout()
    return save(figure, path)
