"""The Keras-style summary table: Layer (type) / Output Shape / Param #, then the totals.

Pure formatting: ``format_summary`` takes rows of strings and numbers and returns the text;
``Sequential.summary`` computes those rows from ``output_shape`` without running any data.
"""

from __future__ import annotations

from collections.abc import Sequence


def layer_names(class_names: Sequence[str]) -> list[str]:
    """Keras-style names: ``conv2d``, ``relu``, ``conv2d_1``, ... numbered per class, in order."""
    counts: dict[str, int] = {}
    names = []
    for class_name in class_names:
        base = class_name.lower()
        k = counts.get(base, 0)
        counts[base] = k + 1
        names.append(base if k == 0 else f"{base}_{k}")
    return names


def format_shape(shape: Sequence[int]) -> str:
    """A per-sample shape with Keras' ``None`` batch axis: ``(None, 6, 24, 24)``."""
    return "(" + ", ".join(["None", *(str(int(n)) for n in shape)]) + ")"


def format_summary(
    rows: Sequence[tuple[str, str, int]],
    trainable: int,
    non_trainable: int,
    title: str = "Sequential",
) -> str:
    """The table as text, one row per ``(layer (type), output shape, param count)``.

    Total params = trainable + non-trainable (buffers such as BatchNorm's running statistics,
    as Keras counts them); PyTorch's ``sum(p.numel() for p in model.parameters())`` is the
    Trainable line. Counts use thousands separators, e.g. ``44,426``.
    """
    header = ("Layer (type)", "Output Shape", "Param #")
    cells = [(name, shape, f"{count:,}") for name, shape, count in rows]
    widths = [max(len(header[i]), *(len(row[i]) for row in cells)) for i in range(3)]
    widths = [w + 4 for w in widths[:2]] + [max(widths[2], 10)]
    line_width = sum(widths)

    def line(values: Sequence[str]) -> str:
        return (
            values[0].ljust(widths[0]) + values[1].ljust(widths[1]) + values[2].rjust(widths[2])
        ).rstrip()

    out = [f'Model: "{title}"', "_" * line_width, line(header), "=" * line_width]
    out += [line(row) for row in cells]
    out.append("=" * line_width)
    total = trainable + non_trainable
    out += [
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {non_trainable:,}",
        "_" * line_width,
    ]
    return "\n".join(out)
