"""Shape arithmetic: the notebooks' worked answers, tuples, dilation, and PyTorch's pooling rule."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch.nn import functional

from scratchcnn.shapes import (
    conv_output_size,
    conv_param_count,
    dense_param_count,
    pool_output_size,
)


# -- the notebooks' worked examples ----------------------------------------------------------
def test_notebook_layer1_144x144x3_with_six_3x3_filters() -> None:
    assert conv_output_size((144, 144), 3) == (142, 142)
    assert conv_param_count(3, 6, 3) == 168


def test_notebook_layer2_60x60x24_with_48_3x3_filters() -> None:
    assert conv_output_size((60, 60), 3) == (58, 58)
    # The notebook writes (3x3x24x48)+48 = 31,104+48 = 31,152, but 3*3*24*48 is 10,368:
    # its formula is right and its multiplication is wrong. torch agrees with 10,416 below.
    assert conv_param_count(24, 48, 3) == 3 * 3 * 24 * 48 + 48 == 10_416


def test_notebook_layer3_20x20x10_with_20_filters_stride_2() -> None:
    assert conv_output_size((20, 20), 3, stride=2) == (9, 9)
    assert conv_param_count(10, 20, 3) == 1_820


def test_notebook_1d_formula() -> None:
    # the 1-D notebook's calculate_output_size(10, 3, padding=0, stride=1)
    assert conv_output_size(10, 3) == 8


# -- against torch ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("in_channels", "out_channels", "kernel_size", "groups", "bias"),
    [(3, 6, 3, 1, True), (24, 48, 3, 1, True), (8, 12, (3, 5), 4, False), (4, 4, (3, 3), 4, True)],
)
def test_conv_param_count_matches_torch(
    in_channels: int, out_channels: int, kernel_size: int | tuple, groups: int, bias: bool
) -> None:
    conv = torch.nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, bias=bias)
    expected = sum(p.numel() for p in conv.parameters())
    assert conv_param_count(in_channels, out_channels, kernel_size, groups, bias) == expected


def test_conv_param_count_1d_and_3d_kernels() -> None:
    assert conv_param_count(2, 4, (5,)) == sum(
        p.numel() for p in torch.nn.Conv1d(2, 4, 5).parameters()
    )
    assert conv_param_count(2, 4, (3, 3, 3), bias=False) == 4 * 2 * 27


def test_dense_param_count_matches_torch() -> None:
    linear = torch.nn.Linear(784, 400)
    assert dense_param_count(784, 400) == sum(p.numel() for p in linear.parameters())
    assert dense_param_count(400, 10, bias=False) == 4000


@pytest.mark.parametrize(
    ("n_in", "kernel_size", "padding", "stride", "dilation"),
    [(28, 5, 0, 1, 1), (28, 5, 2, 1, 1), (32, 3, 1, 2, 1), (17, 3, 0, 3, 2), (9, 4, 3, 2, 3)],
)
def test_conv_output_size_matches_torch(
    n_in: int, kernel_size: int, padding: int, stride: int, dilation: int
) -> None:
    x = torch.zeros(1, 1, n_in)
    w = torch.zeros(1, 1, kernel_size)
    expected = functional.conv1d(x, w, padding=padding, stride=stride, dilation=dilation).shape[-1]
    assert conv_output_size(n_in, kernel_size, padding, stride, dilation) == expected


def test_conv_output_size_tuples_broadcast_ints() -> None:
    x = torch.zeros(1, 1, 20, 15)
    w = torch.zeros(1, 1, 3, 2)
    expected = functional.conv2d(x, w, padding=(1, 0), stride=(2, 1), dilation=(2, 3)).shape[-2:]
    result = conv_output_size((20, 15), (3, 2), padding=(1, 0), stride=(2, 1), dilation=(2, 3))
    assert result == tuple(expected)
    assert conv_output_size((20, 15), 3) == (18, 13)
    assert conv_output_size((7,), 3) == (5,)  # a tuple in gives a tuple out


def _torch_pool_size(n: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    x = torch.zeros(1, 1, n)
    return functional.max_pool1d(x, k, s, p, d, ceil_mode=ceil).shape[-1]


def test_pool_output_size_matches_torch_over_a_grid() -> None:
    checked = 0
    for n, k, s, p, d, ceil in itertools.product(
        range(1, 12), (1, 2, 3), (1, 2, 3), (0, 1), (1, 2), (False, True)
    ):
        if p > (d * (k - 1) + 1) // 2 or d * (k - 1) + 1 > n + 2 * p:
            continue
        try:
            expected = _torch_pool_size(n, k, s, p, d, ceil)
        except RuntimeError:
            with pytest.raises(ValueError, match="output size is too small"):
                pool_output_size(n, k, s, p, d, ceil)
            continue
        assert pool_output_size(n, k, s, p, d, ceil) == expected, (n, k, s, p, d, ceil)
        checked += 1
    assert checked > 300


def test_pool_ceil_mode_drops_a_window_starting_in_the_padding() -> None:
    # 5 + 2*1 padding, kernel 2, stride 2: ceil gives 4 windows, the last would start at
    # position 6 >= 5 + 1 (inside the right padding), so PyTorch keeps 3.
    assert pool_output_size(5, 2, 2, padding=1, ceil_mode=True) == _torch_pool_size(
        5, 2, 2, 1, 1, True
    ) == 3
    assert pool_output_size(5, 2, ceil_mode=True) == 3
    assert pool_output_size(5, 2) == 2


def test_pool_output_size_stride_defaults_to_kernel_and_tuples() -> None:
    assert pool_output_size(28, 2) == 14
    x = torch.zeros(1, 1, 7, 8)
    expected = functional.max_pool2d(x, (3, 2), (2, 2), (1, 0), ceil_mode=True).shape
    assert pool_output_size((7, 8), (3, 2), 2, (1, 0), ceil_mode=True) == tuple(expected[-2:])


# -- errors ------------------------------------------------------------------------------------
def test_conv_output_size_kernel_larger_than_input() -> None:
    with pytest.raises(ValueError, match=r"conv_output_size: kernel size can't be greater .* = 5, "
                       r"padded input size n_in\+2\*padding = 4"):
        conv_output_size(4, 5)


def test_conv_output_size_names_the_dimension_for_tuples() -> None:
    with pytest.raises(ValueError, match="in dimension 1"):
        conv_output_size((10, 4), (3, 3), dilation=2)


def test_conv_output_size_non_positive_values() -> None:
    with pytest.raises(ValueError, match="conv_output_size: n_in must be positive, but got n_in=0"):
        conv_output_size(0, 3)
    with pytest.raises(ValueError, match="conv_output_size: stride must be positive"):
        conv_output_size(10, 3, stride=0)
    with pytest.raises(ValueError, match="conv_output_size: padding must be at least 0"):
        conv_output_size(10, 3, padding=-1)
    with pytest.raises(ValueError, match="conv_output_size: dilation must be positive"):
        conv_output_size(10, 3, dilation=0)


def test_conv_output_size_types_and_lengths() -> None:
    with pytest.raises(TypeError, match="conv_output_size: kernel_size must be an int"):
        conv_output_size(10, 2.5)
    with pytest.raises(ValueError, match="tuple arguments must have the same length"):
        conv_output_size((10, 10), (3, 3, 3))
    with pytest.raises(ValueError, match="must not be empty"):
        conv_output_size((), 3)


def test_pool_output_size_padding_too_large() -> None:
    with pytest.raises(ValueError, match="pool_output_size: pad should be at most half of "
                       "effective kernel size, but got pad=2, kernel_size=3 and dilation=1"):
        pool_output_size(10, 3, padding=2)


def test_pool_output_size_too_small() -> None:
    with pytest.raises(ValueError, match="pool_output_size: output size is too small"):
        pool_output_size(3, 4)


def test_conv_param_count_groups_must_divide() -> None:
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        conv_param_count(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        conv_param_count(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="conv_param_count: in_channels must be positive"):
        conv_param_count(0, 6, 3)


def test_dense_param_count_errors() -> None:
    with pytest.raises(ValueError, match="dense_param_count: out_features must be positive"):
        dense_param_count(10, 0)
    with pytest.raises(TypeError, match="dense_param_count: in_features must be a positive int"):
        dense_param_count(10.0, 3)
