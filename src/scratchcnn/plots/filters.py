"""What the convolutions learned: the first layer's filters and every block's feature maps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scratchcnn.lab.attribution import as_batch, feature_maps
from scratchcnn.layers.conv import _ConvNd
from scratchcnn.plots._figures import new_figure, save, show
from scratchcnn.summary import layer_names


def _conv_layer(model: Any, layer: int | None, owner: str) -> tuple[int, Any]:
    convs = [i for i, current in enumerate(model.layers) if isinstance(current, _ConvNd)]
    if not convs:
        raise ValueError(f"{owner}: the model has no convolution layer")
    if layer is None:
        return convs[0], model.layers[convs[0]]
    if layer not in convs:
        raise ValueError(
            f"{owner}: layer {layer} is not a convolution; convolutions are at {convs}"
        )
    return layer, model.layers[layer]


def plot_filters(
    model: Any, path: str | Path, layer: int | None = None, max_filters: int = 64, title: str = ""
) -> Path:
    """Write the filters of the first convolution (or of ``layer``) to a PNG.

    Each filter is one panel on a blue-white-red scale centred on 0 (red: the filter
    responds to bright pixels there, blue: to dark ones); a 3-channel filter is one RGB
    panel; 1-D filters are drawn as curves. Filters of a later layer show their first input
    channel only.
    """
    index, conv = _conv_layer(model, layer, "plot_filters")
    W = np.asarray(conv.W, dtype=np.float64)[:max_filters]
    name = layer_names([type(current).__name__ for current in model.layers])[index]
    n = W.shape[0]
    columns = min(8, n)
    rows = int(np.ceil(n / columns))
    figure = new_figure(1.3 * columns + 1.2, 1.3 * rows + 0.8)
    bound = float(np.abs(W).max()) or 1.0
    image = None
    for k in range(n):
        axes = figure.add_subplot(rows, columns, k + 1)
        if W.ndim == 3:  # Conv1d (C_out, C_in, K)
            for channel in W[k]:
                axes.plot(channel, marker="o", markersize=2)
            axes.axhline(0, color="gray", linewidth=0.5)
            axes.set_ylim(-bound, bound)
            axes.set_xticks([])
            axes.set_yticks([])
        elif W.shape[1] == 3:
            rgb = (W[k].transpose(1, 2, 0) / bound + 1) / 2
            axes.imshow(rgb, interpolation="nearest")
            axes.set_xticks([])
            axes.set_yticks([])
        else:
            image = axes.imshow(
                W[k, 0], cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="nearest"
            )
            axes.set_xticks([])
            axes.set_yticks([])
        axes.set_title(str(k), fontsize=8)
    if image is not None:
        figure.colorbar(image, ax=figure.axes, fraction=0.03, pad=0.02, label="weight")
    kernel = "x".join(map(str, conv.kernel_size))
    heading = title or f"{name}: {conv.out_channels} filters of {kernel}"
    if W.ndim == 4 and W.shape[1] not in (1, 3):
        heading += " (input channel 0)"
    figure.suptitle(heading)
    return save(figure, path)


def _count(total: int, shown: int) -> str:
    return str(total) if total <= shown else f"first {shown} of {total}"


def plot_feature_maps(
    model: Any, X: Any, path: str | Path, max_maps: int = 16, title: str = ""
) -> Path:
    """Write the input and every convolution block's feature maps for one sample to a PNG.

    ``X`` is one sample (C, H, W) or a batch (its first sample is used). Each block (the
    convolution after its activation) shows its first ``max_maps`` channels, eight to a
    row, each scaled to its own range (bright: strong response).
    """
    sample = as_batch(model, X, "plot_feature_maps")[0]
    blocks = feature_maps(model, sample)
    if not blocks:
        raise ValueError("plot_feature_maps: the model has no convolution layer")
    columns = min(8, max(min(max_maps, maps.shape[0]) for _, _, maps in blocks))
    lines = [int(np.ceil(min(max_maps, maps.shape[0]) / columns)) for _, _, maps in blocks]
    rows = 1 + sum(lines)
    figure = new_figure(1.25 * columns + 1.6, 1.3 * rows + 0.7)
    grid = figure.add_gridspec(rows, columns + 1, width_ratios=[1.4] + [1] * columns)
    show(figure.add_subplot(grid[0, 1]), sample, "input")
    row = 1
    for (_, label, maps), count in zip(blocks, lines, strict=True):
        size = "x".join(map(str, maps.shape[1:]))
        text = figure.add_subplot(grid[row : row + count, 0])
        text.axis("off")
        text.text(
            1.0,
            0.5,
            f"{label}\n{_count(maps.shape[0], max_maps)} maps\nof {size}",
            ha="right",
            va="center",
            fontsize=9,
        )
        for k in range(min(max_maps, maps.shape[0])):
            axes = figure.add_subplot(grid[row + k // columns, 1 + k % columns])
            channel = maps[k] if maps.ndim == 3 else maps[k][None]
            axes.imshow(
                channel,
                cmap="viridis",
                interpolation="nearest",
                aspect="equal" if maps.ndim == 3 else "auto",
            )
            axes.set_xticks([])
            axes.set_yticks([])
            axes.set_title(str(k), fontsize=7, pad=2)
        row += count
    figure.suptitle(title or "Feature maps: each row one convolution block, bright = active")
    return save(figure, path)
