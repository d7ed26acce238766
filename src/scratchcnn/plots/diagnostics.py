"""The health of each layer while training, as recorded by ``callbacks.Diagnostics``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps

from scratchcnn.plots._figures import new_figure, save

_PANELS = (
    ("activation_std", "output std", "Activations: spread of each layer's output", False),
    ("inactive", "fraction", "Dead ReLU units, saturated tanh/sigmoid outputs", False),
    ("grad_norm", "gradient norm", "Gradient norm (should not shrink or grow with depth)", True),
    (
        "update_ratio",
        "|update| / |weights|",
        "Update/weight ratio per step (~1e-3 is healthy)",
        True,
    ),
)


def _value(record: Any, key: str) -> float | None:
    if key == "inactive":
        value = record.dead_fraction
        return value if value is not None else record.saturated_fraction
    return getattr(record, key)


def plot_diagnostics(diagnostics: Any, path: str | Path, title: str = "") -> Path:
    """Write four panels, layers along x and one line per epoch, to a PNG.

    ``diagnostics`` is a ``Diagnostics`` callback after ``fit`` (or anything with its
    ``records``). Gradient norms and update ratios use a log scale.
    """
    records = list(diagnostics.records)
    if not records:
        raise ValueError("plot_diagnostics: no records; pass the callback to fit() first")
    epochs = sorted({r.epoch for r in records})
    names = {r.index: r.name for r in records}
    colours = colormaps["plasma"](np.linspace(0.0, 0.7, len(epochs)))
    shown = set(epochs) if len(epochs) <= 6 else {epochs[0], epochs[len(epochs) // 2], epochs[-1]}
    figure = new_figure(13, 8.5)
    for panel, (key, ylabel, heading, log) in enumerate(_PANELS, start=1):
        axes = figure.add_subplot(2, 2, panel)
        layers = sorted({r.index for r in records if _value(r, key) is not None})
        for colour, epoch in zip(colours, epochs, strict=True):
            by_layer = {r.index: r for r in records if r.epoch == epoch}
            xs = [i for i in layers if i in by_layer]
            ys = [_value(by_layer[i], key) for i in xs]
            if log:
                ys = [y if y is not None and y > 0 and np.isfinite(y) else np.nan for y in ys]
            last = epoch == epochs[-1]
            axes.plot(
                [layers.index(i) for i in xs],
                ys,
                marker="o",
                markersize=4 if last else 2.5,
                linewidth=2 if last else 1,
                color=colour,
                label=f"epoch {epoch}" if epoch in shown else None,
            )
        labels = [names[i] for i in layers]
        if key == "inactive":
            kinds = {
                r.index: "dead" if r.dead_fraction is not None else "saturated" for r in records
            }
            labels = [f"{names[i]} ({kinds[i]})" for i in layers]
            axes.set_ylim(-0.02, 1.02)
            axes.axhline(
                0.5, color="firebrick", linestyle="--", linewidth=0.8, label="warning above"
            )
        if key == "update_ratio":
            axes.axhline(1e-3, color="gray", linestyle="--", linewidth=0.8, label="healthy")
        if log:
            axes.set_yscale("log")
        axes.set_xticks(range(len(layers)), labels, rotation=45, ha="right", fontsize=8)
        axes.set_ylabel(ylabel)
        axes.set_title(heading, fontsize=10)
        axes.grid(alpha=0.3)
        if not layers:
            axes.text(
                0.5,
                0.5,
                "no such layers",
                ha="center",
                va="center",
                transform=axes.transAxes,
                color="gray",
            )
        elif axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=8)
    messages = list(getattr(diagnostics, "messages", []))
    heading = title or "Diagnostics: each layer's health, per epoch"
    if messages:
        heading += f" ({len(messages)} warning{'s' if len(messages) != 1 else ''}: see the log)"
    figure.suptitle(heading)
    figure.tight_layout()
    return save(figure, path)
