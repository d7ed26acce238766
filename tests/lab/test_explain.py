"""explain: the notebooks' worked sizes and a hand-computed LeNet-5 ledger."""

from __future__ import annotations

import pytest

from scratchcnn import zoo
from scratchcnn.layers import (
    Conv1d,
    Conv2d,
    Dense,
    Flatten,
    GlobalAvgPool2d,
    MaxPool2d,
    ReLU,
)
from scratchcnn.model import Sequential


def _one(layer, shape):
    return Sequential([layer]).explain(shape, show=False).records[0]


# The course notebook's Problem 10 (its second parameter count, 31,152, is a slip: 3*3*24*48
# is 10,368, not 31,104).
@pytest.mark.parametrize(
    ("c_in", "size", "c_out", "stride", "out", "params", "size_text", "param_text"),
    [
        (3, 144, 6, 1, 142, 168, "(144 + 2*0 - 3) // 1 + 1 = 142", "3*3*3*6 + 6 = 168"),
        (24, 60, 48, 1, 58, 10_416, "(60 + 2*0 - 3) // 1 + 1 = 58", "3*3*24*48 + 48 = 10,416"),
        (10, 20, 20, 2, 9, 1_820, "(20 + 2*0 - 3) // 2 + 1 = 9", "3*3*10*20 + 20 = 1,820"),
    ],
)
def test_notebook_worked_sizes(c_in, size, c_out, stride, out, params, size_text, param_text):
    record = _one(Conv2d(c_in, c_out, 3, stride=stride), (c_in, size, size))
    assert record.output_shape == (c_out, out, out)
    assert record.params == params
    assert record.size_formulas == (f"H, W: {size_text}",)
    assert record.param_formula == param_text
    assert record.flops == 2 * c_out * out * out * 3 * 3 * c_in


def test_lenet5_ledger_by_hand():
    result = zoo.lenet5(seed=0).explain((1, 28, 28), show=False)
    ledger = [  # (output shape, params, forward FLOPs, receptive field, jump)
        ((6, 24, 24), 156, 2 * 6 * 24 * 24 * 25, (5, 5), (1, 1)),
        ((6, 24, 24), 0, 6 * 24 * 24, (5, 5), (1, 1)),
        ((6, 12, 12), 0, 6 * 12 * 12 * 3, (6, 6), (2, 2)),
        ((16, 8, 8), 2_416, 2 * 16 * 8 * 8 * 150, (14, 14), (2, 2)),
        ((16, 8, 8), 0, 16 * 8 * 8, (14, 14), (2, 2)),
        ((16, 4, 4), 0, 16 * 4 * 4 * 3, (16, 16), (4, 4)),
        ((256,), 0, 0, None, None),
        ((120,), 30_840, 2 * 256 * 120, None, None),
        ((120,), 0, 120, None, None),
        ((84,), 10_164, 2 * 120 * 84, None, None),
        ((84,), 0, 84, None, None),
        ((10,), 850, 2 * 84 * 10, None, None),
    ]
    assert len(result.records) == len(ledger)
    for record, (shape, params, flops, field, jump) in zip(result.records, ledger, strict=True):
        assert record.output_shape == shape
        assert record.params == params
        assert record.flops == flops
        assert record.receptive_field == field
        assert record.jump == jump
        assert record.whole_input == (field is None)
        assert record.activation_bytes == 4 * __import__("math").prod(shape)
    assert result.records[0].size_formulas == ("H, W: (28 + 2*0 - 5) // 1 + 1 = 24",)
    assert result.records[0].param_formula == "5*5*1*6 + 6 = 156"
    assert result.records[2].size_formulas == ("H, W: (24 + 2*0 - 2) // 2 + 1 = 12",)
    assert result.records[6].size_formulas == ("16*4*4 = 256",)
    assert result.records[7].param_formula == "256*120 + 120 = 30,840"
    assert result.total_params == 44_426
    assert result.input_shape == (1, 28, 28)
    # the first Dense holds 69% of the weights: the AlexNet/VGG lesson applies to LeNet too
    assert len(result.warnings) == 1
    assert "dense Dense(in_features=256, out_features=120) holds 30,840" in result.warnings[0]
    assert "(69%)" in result.warnings[0]
    assert result.records[7].warnings == (result.warnings[0],)


@pytest.mark.parametrize(("depth", "field"), [(1, 3), (2, 5), (3, 7)])
def test_stacked_3x3_receptive_field(depth, field):
    """The notebook: two 3x3 convolutions see 5x5, three see 7x7."""
    layers = [Conv2d(1, 1, 3, padding=1) for _ in range(depth)]
    record = Sequential(layers).explain((1, 16, 16), show=False).records[-1]
    assert record.receptive_field == (field, field)
    assert record.jump == (1, 1)


def test_receptive_field_with_strides_dilation_and_pools():
    # by hand: r = 1 + (3-1)*1 = 3, j = 2; pool 2: r = 3 + 1*2 = 5, j = 4;
    # dilated 3x3 (reach 5): r = 5 + 4*4 = 21, j = 4
    layers = [Conv2d(1, 2, 3, stride=2), MaxPool2d(2), Conv2d(2, 2, 3, dilation=2, padding=2)]
    records = Sequential(layers).explain((1, 33, 33), show=False).records
    assert [r.receptive_field for r in records] == [(3, 3), (5, 5), (21, 21)]
    assert [r.jump for r in records] == [(2, 2), (4, 4), (4, 4)]
    assert records[2].size_formulas == ("H, W: (8 + 2*2 - 2*(3-1) - 1) // 1 + 1 = 8",)


def test_conv1d_and_rectangular_kernels():
    record = _one(Conv1d(2, 4, 5, stride=2, padding=1), (2, 40))
    assert record.size_formulas == ("L: (40 + 2*1 - 5) // 2 + 1 = 19",)
    assert record.param_formula == "5*2*4 + 4 = 44"
    assert record.receptive_field == (5,)
    record = _one(Conv2d(1, 1, (3, 1), bias=False), (1, 9, 9))
    assert record.size_formulas == (
        "H: (9 + 2*0 - 3) // 1 + 1 = 7",
        "W: (9 + 2*0 - 1) // 1 + 1 = 9",
    )
    assert record.param_formula == "3*1*1*1 = 3"


def test_grouped_convolution_parameter_formula():
    record = _one(Conv2d(8, 4, 3, groups=2), (8, 5, 5))
    assert record.param_formula == "3*3*(8/2)*4 + 4 = 148"
    assert record.flops == 2 * 4 * 3 * 3 * 4 * 3 * 3


def test_warns_about_rows_a_strided_kernel_never_reads():
    record = _one(Conv2d(1, 1, 3, stride=2), (1, 8, 8))
    assert record.output_shape == (1, 3, 3)
    (text,) = record.warnings
    assert "reads 7 of the 8 input rows and columns" in text
    assert text.startswith("conv2d Conv2d(1, 1")
    # 9x9 fits exactly: nothing to say
    assert _one(Conv2d(1, 1, 3, stride=2), (1, 9, 9)).warnings == ()


def test_unread_rows_only_along_one_axis():
    (text,) = _one(Conv2d(1, 1, 3, stride=2), (1, 9, 8)).warnings
    assert "along W" in text and "7 of the 8 input columns" in text


def test_warns_when_pooling_drops_pixels():
    (text,) = _one(MaxPool2d(2), (3, 25, 25)).warnings
    assert "pooling drops the last 1 of 25 rows and columns" in text
    assert _one(MaxPool2d(2), (3, 24, 24)).warnings == ()
    assert _one(MaxPool2d(2, ceil_mode=True), (3, 25, 25)).warnings == ()


def test_warns_about_asymmetric_same_padding():
    (text,) = _one(Conv2d(1, 1, 4, padding="same"), (1, 10, 10)).warnings
    assert "asymmetric" in text and "1 before, 2 after" in text
    assert _one(Conv2d(1, 1, 3, padding="same"), (1, 10, 10)).warnings == ()


def test_no_dense_warning_when_convolutions_hold_the_weights():
    layers = [Conv2d(3, 64, 3), ReLU(), Conv2d(64, 64, 3), GlobalAvgPool2d(), Dense(64, 10)]
    result = Sequential(layers).explain((3, 16, 16), show=False)
    assert result.warnings == []
    assert result.records[3].whole_input


def test_prints_the_text(capsys):
    returned = zoo.lenet5(seed=0).explain((1, 28, 28))
    printed = capsys.readouterr().out
    assert printed.strip() == str(returned).strip()
    assert "(28 + 2*0 - 5) // 1 + 1 = 24" in printed
    assert "5*5*1*6 + 6 = 156" in printed
    assert "receptive field 16x16 input pixels, stride from the input 4x4" in printed
    assert "Total: 44,426 parameters" in printed


def test_input_that_does_not_fit_names_the_layer():
    model = Sequential([Conv2d(1, 1, 5), Flatten()])
    with pytest.raises(ValueError, match=r"Sequential.explain: samples of shape \(1, 3, 3\)"):
        model.explain((1, 3, 3), show=False)


def test_residual_blocks_list_their_layers_and_take_the_widest_path():
    from scratchcnn.layers import BatchNorm2d, Residual
    from scratchcnn.layers.residual import PadChannelsShortcut

    same = Residual([Conv2d(4, 4, 3, padding=1), ReLU(), Conv2d(4, 4, 3, padding=1)])
    down = Residual(
        [Conv2d(4, 8, 3, stride=2, padding=1, bias=False), BatchNorm2d(8)],
        [PadChannelsShortcut(4, 8, stride=2)],
    )
    result = Sequential([same, down]).explain((4, 8, 8), show=False)
    first, second = result.records
    assert first.layer == "Residual(body: 3 layers, shortcut: identity)"
    assert [c.name for c in first.children] == [
        "residual.body.conv2d",
        "residual.body.relu",
        "residual.body.conv2d_1",
    ]
    assert first.receptive_field == (5, 5) and first.jump == (1, 1)
    assert first.param_formula == "148 + 148 = 296"
    assert first.flops == 2 * (2 * 4 * 64 * 36) + 4 * 64 + 4 * 64  # convs, ReLU, the sum
    # body: 5 + 2*1 = 7 (stride 2); shortcut: 5 (stride 2, reach 1): the block sees 7x7
    assert second.receptive_field == (7, 7) and second.jump == (2, 2)
    assert second.children[-1].size_formulas == ("ceil(8 / 2) = 4",)
    assert second.output_shape == (8, 4, 4)
    assert result.total_params == same.num_params() + down.num_params()
    assert "residual.body.conv2d: Conv2d(4, 4" in str(result)
