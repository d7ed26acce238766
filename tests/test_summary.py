"""The summary table: its exact layout, the totals, and that no data runs."""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn.layers import LAYER_REGISTRY, Conv2d, Dense, Flatten, MaxPool2d, ReLU
from scratchcnn.model import Sequential
from scratchcnn.summary import format_shape, format_summary, layer_names
from scratchcnn.zoo import lenet5


def test_format_summary_layout() -> None:
    text = format_summary(
        [("conv2d (Conv2d)", "(None, 6, 24, 24)", 156), ("dense (Dense)", "(None, 10)", 850)],
        trainable=1006,
        non_trainable=4,
    )
    assert text == "\n".join(
        [
            'Model: "Sequential"',
            "_" * 50,
            "Layer (type)       Output Shape            Param #",
            "=" * 50,
            "conv2d (Conv2d)    (None, 6, 24, 24)           156",
            "dense (Dense)      (None, 10)                  850",
            "=" * 50,
            "Total params: 1,010",
            "Trainable params: 1,006",
            "Non-trainable params: 4",
            "_" * 50,
        ]
    )


def test_layer_names_are_numbered_per_class() -> None:
    assert layer_names(["Conv2d", "ReLU", "Conv2d", "ReLU", "Dense"]) == [
        "conv2d",
        "relu",
        "conv2d_1",
        "relu_1",
        "dense",
    ]


def test_format_shape_has_a_batch_axis() -> None:
    assert format_shape((16, 4, 4)) == "(None, 16, 4, 4)"
    assert format_shape(()) == "(None)"


def test_lenet5_summary() -> None:
    text = lenet5().summary((1, 28, 28))
    lines = text.splitlines()
    assert lines[4].split() == ["conv2d", "(Conv2d)", "(None,", "6,", "24,", "24)", "156"]
    assert "maxpool2d_1 (MaxPool2d)" in text and "(None, 16, 4, 4)" in text
    assert next(line for line in lines if line.startswith("flatten")).split()[2:] == [
        "(None,",
        "256)",
        "0",
    ]
    assert "Total params: 44,426" in lines
    assert "Trainable params: 44,426" in lines
    assert "Non-trainable params: 0" in lines


def test_summary_runs_no_data(monkeypatch: pytest.MonkeyPatch) -> None:
    model = lenet5(input_shape=(1, 32, 32))
    for layer in model.layers:
        monkeypatch.setattr(layer, "forward", lambda X: pytest.fail("forward ran"))
    assert "Total params: 61,706" in model.summary((1, 32, 32))  # a wider first Dense


def test_print_summary(capsys: pytest.CaptureFixture) -> None:
    model = Sequential([Conv2d(1, 2, 3), ReLU(), MaxPool2d(2), Flatten(), Dense(8, 2)])
    model.print_summary((1, 6, 6))
    out = capsys.readouterr().out
    assert out.startswith('Model: "Sequential"') and "Total params: 38" in out


def test_summary_with_a_shape_that_does_not_fit() -> None:
    model = Sequential([Conv2d(1, 2, 3), Flatten(), Dense(8, 2)])
    with pytest.raises(
        ValueError,
        match=r"Sequential.summary: samples of shape \(1, 2, 2\) do "
        r"not fit layer 0",
    ):
        model.summary((1, 2, 2))


@pytest.mark.skipif("BatchNorm2d" not in LAYER_REGISTRY, reason="BatchNorm2d not written yet")
def test_buffers_count_as_non_trainable() -> None:
    bn = LAYER_REGISTRY["BatchNorm2d"](2)
    model = Sequential([Conv2d(1, 2, 3), bn, Flatten(), Dense(8, 2)])
    buffers = sum(np.size(b) for b in bn.buffers().values())
    text = model.summary((1, 4, 4))
    assert f"Non-trainable params: {buffers:,}" in text
    assert f"Trainable params: {20 + bn.num_params() + 18:,}" in text
