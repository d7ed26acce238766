"""Where a model looks: saliency maps and class activation maps drawn over the input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scratchcnn.lab.attribution import (
    as_batch,
    class_activation_map,
    last_conv_block,
    place_on_input,
    saliency_map,
    unit_centres,
)
from scratchcnn.plots._figures import class_label, display_image, new_figure, save, show


def _probabilities(model: Any, X: np.ndarray) -> np.ndarray:
    return model.predict_proba(X.astype(model.dtype))


def _panels(
    model: Any,
    X: np.ndarray,
    heat: np.ndarray,
    classes: np.ndarray,
    path: str | Path,
    heading: str,
    heat_label: str,
    class_names: Any,
    overlay_cmap: str,
    explained_prediction: bool,
) -> Path:
    """One row per sample: the input, the heat map, the heat map over the input."""
    proba = _probabilities(model, X)
    n = X.shape[0]
    figure = new_figure(7.5, 2.3 * n + 0.6)
    for row in range(n):
        k = int(classes[row])
        word = "predicted" if explained_prediction else "class"
        label = f"{word} {class_label(class_names, k)} ({proba[row, k]:.2f})"
        show(figure.add_subplot(n, 3, 3 * row + 1), X[row], f"input: {label}")
        axes = figure.add_subplot(n, 3, 3 * row + 2)
        image = axes.imshow(heat[row], cmap=overlay_cmap, interpolation="nearest")
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title(heat_label, fontsize=9)
        figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
        axes = figure.add_subplot(n, 3, 3 * row + 3)
        base, cmap = display_image(X[row])
        axes.imshow(base, cmap=cmap, interpolation="nearest")
        scaled = heat[row] / heat[row].max() if heat[row].max() > 0 else heat[row]
        axes.imshow(scaled, cmap=overlay_cmap, alpha=0.5, interpolation="bilinear")
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title("over the input", fontsize=9)
    figure.suptitle(heading)
    figure.tight_layout()
    return save(figure, path)


def plot_saliency(
    model: Any,
    X: Any,
    path: str | Path,
    target: Any = None,
    class_names: Any = None,
    max_images: int = 6,
) -> Path:
    """Write saliency maps to a PNG: |d class score / d pixel|, largest over channels.

    ``X`` is one sample or a batch (the first ``max_images`` are drawn); the class is the
    predicted one unless ``target`` is given. Bright pixels are those whose change moves the
    class score most.
    """
    X = as_batch(model, X, "plot_saliency")[:max_images]
    if X.ndim != 4:
        raise ValueError(f"plot_saliency: expected images (N, C, H, W), but got {X.shape}")
    grad, classes = saliency_map(model, X, target)
    heat = np.abs(grad).max(axis=1)
    return _panels(
        model,
        X,
        heat,
        classes,
        path,
        "Saliency: how strongly each pixel moves the class score (its gradient)",
        "|gradient|",
        class_names,
        "hot",
        target is None,
    )


def plot_class_activation(
    model: Any,
    X: Any,
    path: str | Path,
    target: Any = None,
    class_names: Any = None,
    max_images: int = 6,
) -> Path:
    """Write Grad-CAM maps from the last convolution block to a PNG, placed on the input.

    Each unit's value is drawn at the centre of its receptive field (``unit_centres``) and
    interpolated between; red regions are where the last block's features raise the class
    score.
    """
    X = as_batch(model, X, "plot_class_activation")[:max_images]
    if X.ndim != 4:
        raise ValueError(f"plot_class_activation: expected images (N, C, H, W), but got {X.shape}")
    cam, classes = class_activation_map(model, X, target)
    start, jump = unit_centres(model.layers, X.shape[1:], last_conv_block(model))
    heat = place_on_input(cam, start, jump, X.shape[2:])
    return _panels(
        model,
        X,
        heat,
        classes,
        path,
        "Class activation (Grad-CAM, last convolution block): where the evidence is",
        f"Grad-CAM ({cam.shape[1]}x{cam.shape[2]} units)",
        class_names,
        "jet",
        target is None,
    )
