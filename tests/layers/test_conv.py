"""Convolution layers: the notebooks' examples, naive loops, finite differences, dtypes,
shapes, configs and every error message. PyTorch equivalence is in test_conv_torch.py."""

from __future__ import annotations

import contextlib
import itertools
import json

import numpy as np
import pytest
import torch

from scratchcnn import manual_seed
from scratchcnn.gradcheck import layer_gradient_errors
from scratchcnn.layers import LAYER_REGISTRY, Conv1d, Conv2d, SimpleConv1d

MODES = ("zeros", "reflect", "replicate", "circular")


# -- the notebooks' worked examples ----------------------------------------------------------
def test_simple_conv1d_notebook_example() -> None:
    layer = SimpleConv1d(3)
    layer.W[:] = [3, 5, 7]
    layer.b[:] = [1]
    x = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(layer.forward(x), [35, 50])
    dx = layer.backward(np.array([10.0, 20.0]))
    np.testing.assert_array_equal(dx, [30, 110, 170, 140])
    np.testing.assert_array_equal(layer.dW, [50, 80, 110])
    np.testing.assert_array_equal(layer.db, [30])


def test_conv2d_notebook_example() -> None:
    layer = Conv2d(1, 2, 3)
    layer.W[...] = np.array(
        [[[[0, 0, 0], [0, 1, 0], [0, -1, 0]]], [[[0, 0, 0], [0, -1, 1], [0, 0, 0]]]]
    )
    layer.b[...] = 0
    x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    expected = np.array([[[[-4, -4], [-4, -4]], [[1, 1], [1, 1]]]])
    np.testing.assert_array_equal(layer.forward(x), expected)


# -- against a naive loop ------------------------------------------------------------------
def naive_conv2d(
    X: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    stride: tuple,
    padding: tuple,
    dilation: tuple,
    groups: int,
) -> np.ndarray:
    """Zero-padded cross-correlation, one output element at a time."""
    N, C_in, H, W_in = X.shape
    C_out, C_group, KH, KW = W.shape
    Xp = np.zeros((N, C_in, H + 2 * padding[0], W_in + 2 * padding[1]))
    Xp[:, :, padding[0] : padding[0] + H, padding[1] : padding[1] + W_in] = X
    OH = (Xp.shape[2] - dilation[0] * (KH - 1) - 1) // stride[0] + 1
    OW = (Xp.shape[3] - dilation[1] * (KW - 1) - 1) // stride[1] + 1
    out = np.zeros((N, C_out, OH, OW))
    per_group = C_out // groups
    for n, o, i, j in itertools.product(range(N), range(C_out), range(OH), range(OW)):
        first = (o // per_group) * C_group
        total = b[o]
        for c, kh, kw in itertools.product(range(C_group), range(KH), range(KW)):
            total += (
                W[o, c, kh, kw]
                * Xp[
                    n, first + c, i * stride[0] + kh * dilation[0], j * stride[1] + kw * dilation[1]
                ]
            )
        out[n, o, i, j] = total
    return out


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation", "groups"),
    [(3, 1, 0, 1, 1), ((2, 3), (2, 1), (1, 2), (1, 2), 2), (1, 2, 1, 1, 4), (4, 3, 2, 2, 1)],
)
def test_conv2d_matches_naive_loop(
    kernel: object,
    stride: object,
    padding: object,
    dilation: object,
    groups: int,
    rng: np.random.Generator,
) -> None:
    layer = Conv2d(4, 4, kernel, stride=stride, padding=padding, dilation=dilation, groups=groups)
    X = rng.standard_normal((2, 4, 7, 8))

    def pair(v: object) -> tuple:
        return v if isinstance(v, tuple) else (v, v)

    expected = naive_conv2d(
        X,
        layer.W.astype(np.float64),
        layer.b.astype(np.float64),
        pair(stride),
        pair(padding),
        pair(dilation),
        groups,
    )
    np.testing.assert_allclose(layer.forward(X), expected, rtol=1e-12, atol=1e-12)


def test_conv1d_is_conv2d_with_height_one(rng: np.random.Generator) -> None:
    conv1 = Conv1d(3, 4, 3, stride=2, padding=1, dilation=2)
    conv2 = Conv2d(3, 4, (1, 3), stride=(1, 2), padding=(0, 1), dilation=(1, 2))
    conv2.W[...] = conv1.W[:, :, None, :]
    conv2.b[...] = conv1.b
    X = rng.standard_normal((2, 3, 11))
    np.testing.assert_allclose(conv1.forward(X), conv2.forward(X[:, :, None, :])[:, :, 0])


# -- finite differences --------------------------------------------------------------------
def test_simple_conv1d_gradients(rng: np.random.Generator) -> None:
    errors = layer_gradient_errors(SimpleConv1d(4), rng.standard_normal(9))
    assert max(errors.values()) < 1e-7, errors


CONV_CASES = [
    dict(kernel_size=3),
    dict(kernel_size=2, stride=2, padding=1),
    dict(kernel_size=3, dilation=2, padding="same"),
    dict(kernel_size=4, padding="same"),
    dict(kernel_size=3, groups=2, bias=False),
    dict(kernel_size=1, stride=1),
    *[dict(kernel_size=3, padding=2, stride=2, padding_mode=mode) for mode in MODES],
]


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv1d_gradients(case: dict, rng: np.random.Generator) -> None:
    layer = Conv1d(2, 4, **case)
    errors = layer_gradient_errors(layer, rng.standard_normal((2, 2, 7)))
    assert set(errors) == ({"X", "W", "b"} if case.get("bias", True) else {"X", "W"})
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize(
    "case",
    [
        *CONV_CASES,
        dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2),
        dict(kernel_size=3, groups=4, padding=1, padding_mode="reflect"),  # depthwise
        *[dict(kernel_size=(3, 2), padding=(2, 1), dilation=(1, 2), padding_mode=m) for m in MODES],
    ],
    ids=str,
)
def test_conv2d_gradients(case: dict, rng: np.random.Generator) -> None:
    layer = Conv2d(4, 4, **case)
    errors = layer_gradient_errors(layer, rng.standard_normal((2, 4, 5, 6)))
    assert max(errors.values()) < 1e-7, errors


def test_conv2d_gradients_unbatched(rng: np.random.Generator) -> None:
    errors = layer_gradient_errors(Conv2d(2, 3, 3, padding=1), rng.standard_normal((2, 4, 5)))
    assert max(errors.values()) < 1e-7, errors


# -- dtypes, batches and state -------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer_type", ["simple", "conv1d", "conv2d"])
def test_dtype_is_kept(dtype: type, layer_type: str, rng: np.random.Generator) -> None:
    layer, X = {
        "simple": (SimpleConv1d(3), rng.standard_normal(8)),
        "conv1d": (
            Conv1d(2, 3, 3, padding=1, padding_mode="reflect"),
            rng.standard_normal((2, 2, 8)),
        ),
        "conv2d": (Conv2d(2, 4, 3, groups=2), rng.standard_normal((2, 2, 6, 6))),
    }[layer_type]
    A = layer.forward(X.astype(dtype))
    dX = layer.backward(np.ones(A.shape, dtype=dtype))
    for array in (A, dX, layer.dW, layer.db, layer.W, layer.b):
        assert array.dtype == dtype


def test_parameters_start_as_float32_and_integer_input_becomes_float64() -> None:
    layer = Conv2d(1, 2, 2)
    assert layer.W.dtype == layer.b.dtype == np.float32
    A = layer.forward(np.arange(9).reshape(1, 1, 3, 3))
    assert A.dtype == layer.W.dtype == np.float64


def test_unbatched_equals_batch_of_one(rng: np.random.Generator) -> None:
    layer = Conv2d(3, 2, 3, stride=2, padding=1)
    X = rng.standard_normal((3, 7, 6))
    dA = rng.standard_normal((2, 4, 3))
    A1, dX1 = layer.forward(X), layer.backward(dA)
    dW1, db1 = layer.dW.copy(), layer.db.copy()
    A2, dX2 = layer.forward(X[None]), layer.backward(dA[None])
    assert A1.shape == (2, 4, 3) and dX1.shape == X.shape
    np.testing.assert_allclose(A1, A2[0])
    np.testing.assert_allclose(dX1, dX2[0])
    np.testing.assert_allclose(layer.dW, dW1)
    np.testing.assert_allclose(layer.db, db1)


@pytest.mark.parametrize("layer", [Conv2d(2, 3, 3), SimpleConv1d(3)], ids=repr)
def test_compute_input_grad_false_skips_dx(layer: object, rng: np.random.Generator) -> None:
    X = rng.standard_normal((4, 2, 6, 6) if isinstance(layer, Conv2d) else (8,))
    dA = rng.standard_normal(layer.forward(X).shape)
    layer.backward(dA)
    dW, db = layer.dW.copy(), layer.db.copy()
    layer.compute_input_grad = False
    layer.forward(X)
    assert layer.backward(dA) is None
    np.testing.assert_allclose(layer.dW, dW)
    np.testing.assert_allclose(layer.db, db)


def test_changing_shapes_between_steps(rng: np.random.Generator) -> None:
    """The layer's scratch buffers are reused; a new shape or dtype must not leak old data."""
    layer = Conv2d(2, 3, 3, padding=1)
    reference = Conv2d(2, 3, 3, padding=1)
    reference.W, reference.b = layer.W, layer.b
    for shape, dtype in [
        ((4, 2, 6, 6), np.float64),
        ((2, 2, 5, 7), np.float64),
        ((4, 2, 6, 6), np.float64),
        ((4, 2, 6, 6), np.float32),
    ]:
        X = rng.standard_normal(shape).astype(dtype)
        dA = rng.standard_normal((shape[0], 3, *shape[2:])).astype(dtype)
        A, dX = layer.forward(X), layer.backward(dA)
        reference._workspace = {}
        np.testing.assert_array_equal(A, reference.forward(X))
        np.testing.assert_array_equal(dX, reference.backward(dA))
        np.testing.assert_array_equal(layer.dW, reference.dW)


def test_non_contiguous_input(rng: np.random.Generator) -> None:
    layer = Conv2d(3, 2, 3)
    X = rng.standard_normal((5, 6, 3, 4)).transpose(3, 2, 0, 1)  # (4, 3, 5, 6), strided
    np.testing.assert_allclose(layer.forward(X), layer.forward(np.ascontiguousarray(X)))


def test_bias_false_has_no_b() -> None:
    layer = Conv2d(2, 4, 3, bias=False)
    assert layer.b is None
    assert set(layer.params()) == set(layer.grads()) == {"W"}
    assert layer.num_params() == 4 * 2 * 9


def test_default_init_is_pytorchs_bound_and_seeded() -> None:
    manual_seed(0)
    layer = Conv2d(6, 16, 5, groups=2)
    bound = 1 / np.sqrt(3 * 25)
    assert layer.W.shape == (16, 3, 5, 5) and layer.b.shape == (16,)
    assert np.abs(layer.W).max() <= bound and np.abs(layer.b).max() <= bound
    assert np.abs(layer.W).max() > 0.9 * bound  # uses the whole range
    manual_seed(0)
    np.testing.assert_array_equal(Conv2d(6, 16, 5, groups=2).W, layer.W)


class _RecordingInitializer:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def W(self, *shape: int) -> np.ndarray:
        self.calls.append(("W", shape))
        return np.full(shape, 0.5)

    def B(self, n: int) -> np.ndarray:
        self.calls.append(("B", n))
        return np.full(n, -1.0)


def test_custom_initializer() -> None:
    init = _RecordingInitializer()
    layer = Conv1d(4, 6, 3, groups=2, initializer=init)
    assert init.calls == [("W", (6, 2, 3)), ("B", 6)]
    assert layer.W.dtype == np.float32 and np.all(layer.W == 0.5) and np.all(layer.b == -1)
    simple = SimpleConv1d(3, initializer=init)
    assert init.calls[-2:] == [("W", (3,)), ("B", 1)]
    assert simple.b.shape == (1,)


class _RecordingOptimizer:
    def __init__(self) -> None:
        self.seen: list[dict] = []

    def update(self, layer: object) -> object:
        self.seen.append({k: v.copy() for k, v in layer.grads().items()})
        return layer


@pytest.mark.parametrize(
    "make", [lambda o: Conv2d(1, 2, 2, optimizer=o), lambda o: SimpleConv1d(2, optimizer=o)]
)
def test_optimizer_runs_at_the_end_of_backward(make: object, rng: np.random.Generator) -> None:
    optimizer = _RecordingOptimizer()
    layer = make(optimizer)
    X = rng.standard_normal((1, 1, 4, 4) if isinstance(layer, Conv2d) else (5,))
    layer.backward(np.ones(layer.forward(X).shape))
    assert len(optimizer.seen) == 1
    np.testing.assert_array_equal(optimizer.seen[0]["W"], layer.dW)


# -- shapes, configs, repr -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("layer", "input_shape"),
    [
        (Conv2d(1, 6, 5, padding=2), (1, 28, 28)),
        (Conv2d(3, 8, (3, 4), stride=(2, 3), dilation=2, padding=1), (3, 17, 13)),
        (Conv2d(4, 4, 4, padding="same", padding_mode="circular"), (4, 6, 7)),
        (Conv1d(2, 5, 7, stride=3, padding="valid"), (2, 20)),
        (SimpleConv1d(4), (10,)),
    ],
    ids=repr,
)
def test_output_shape_matches_forward(
    layer: object, input_shape: tuple, rng: np.random.Generator
) -> None:
    expected = layer.output_shape(input_shape)
    assert layer.forward(rng.standard_normal(input_shape)).shape == expected


@pytest.mark.parametrize(
    "layer",
    [
        Conv2d(1, 6, 5),
        Conv2d(3, 8, (3, 1), stride=2, padding=(1, 0), bias=False, padding_mode="replicate"),
        Conv1d(4, 8, 3, padding="same", dilation=2, groups=4),
        SimpleConv1d(5),
    ],
    ids=repr,
)
def test_config_round_trips_through_json(layer: object) -> None:
    config = json.loads(json.dumps(layer.get_config()))
    rebuilt = LAYER_REGISTRY[type(layer).__name__](**config)
    assert repr(rebuilt) == repr(layer)
    assert rebuilt.get_config() == config
    assert {k: v.shape for k, v in rebuilt.params().items()} == {
        k: v.shape for k, v in layer.params().items()
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(padding="same"),
        dict(stride=2, padding=(1, 2)),
        dict(padding="valid"),
        dict(dilation=(2, 1), groups=2, bias=False, padding_mode="reflect", padding=1),
    ],
    ids=str,
)
def test_repr_matches_pytorch(kwargs: dict) -> None:
    ours = Conv2d(2, 4, 3, **kwargs)
    assert repr(ours) == repr(torch.nn.Conv2d(2, 4, 3, **kwargs))
    assert repr(Conv1d(2, 4, 3)) == repr(torch.nn.Conv1d(2, 4, 3))


# -- errors, one message each --------------------------------------------------------------
def test_error_wrong_rank_conv2d() -> None:
    with pytest.raises(
        ValueError,
        match=r"^Conv2d\(3, 8, kernel_size=\(3, 3\), stride=\(1, 1\)\): expected 3D \(unbatched\) "
        r"or 4D \(batched\) input, but got input of shape \(2, 8\)",
    ):
        Conv2d(3, 8, 3).forward(np.zeros((2, 8)))


def test_error_wrong_rank_conv1d() -> None:
    with pytest.raises(
        ValueError,
        match=r"expected 2D \(unbatched\) or 3D \(batched\) input, but "
        r"got input of shape \(1, 2, 3, 4\)",
    ):
        Conv1d(2, 3, 1).forward(np.zeros((1, 2, 3, 4)))


def test_error_wrong_rank_simple_conv1d() -> None:
    with pytest.raises(
        ValueError, match=r"SimpleConv1d\(filter_size=3\): expected 1D \(L,\) input"
    ):
        SimpleConv1d(3).forward(np.zeros((2, 5)))


def test_error_channel_count() -> None:
    with pytest.raises(
        ValueError,
        match=r"^Conv2d\(3, 8, .*\): expected input with 3 channels "
        r"\(in_channels\), but got 4 channels in input of shape "
        r"\(2, 4, 8, 8\)",
    ):
        Conv2d(3, 8, 3).forward(np.zeros((2, 4, 8, 8)))


def test_error_kernel_larger_than_input() -> None:
    with pytest.raises(
        ValueError,
        match=r"Kernel size can't be greater than actual input size: "
        r"padded input size \(4, 6\), dilated kernel size \(5, 5\)",
    ):
        Conv2d(1, 1, 3, padding=(0, 1), dilation=2).forward(np.zeros((1, 4, 4)))


def test_error_kernel_larger_than_input_simple() -> None:
    with pytest.raises(
        ValueError,
        match=r"SimpleConv1d\(filter_size=5\): Kernel size can't be "
        r"greater than actual input size",
    ):
        SimpleConv1d(5).forward(np.zeros(4))


@pytest.mark.parametrize("name", ["kernel_size", "stride", "dilation"])
def test_error_non_positive_sizes(name: str) -> None:
    kwargs = {"kernel_size": 3, name: 0} if name != "kernel_size" else {"kernel_size": (3, 0)}
    with pytest.raises(ValueError, match=rf"^Conv2d: {name} must be positive, but got {name}="):
        Conv2d(1, 1, **kwargs)


def test_error_negative_padding() -> None:
    with pytest.raises(
        ValueError, match=r"^Conv1d: padding must be at least 0, but got padding=-1"
    ):
        Conv1d(1, 1, 3, padding=-1)


@pytest.mark.parametrize("name", ["in_channels", "out_channels", "groups"])
def test_error_non_positive_channels(name: str) -> None:
    kwargs = {"in_channels": 2, "out_channels": 2, "kernel_size": 1, name: 0}
    with pytest.raises(ValueError, match=rf"^Conv2d: {name} must be positive, but got {name}=0"):
        Conv2d(**kwargs)


def test_error_kernel_size_type() -> None:
    with pytest.raises(
        TypeError,
        match=r"^Conv2d: kernel_size must be an int or a tuple of 2 ints, "
        r"but got \(3, 3, 3\)",
    ):
        Conv2d(1, 1, (3, 3, 3))


def test_error_in_channels_not_divisible_by_groups() -> None:
    with pytest.raises(
        ValueError,
        match=r"^Conv2d: in_channels must be divisible by groups, but "
        r"got in_channels=3 and groups=2",
    ):
        Conv2d(3, 4, 3, groups=2)


def test_error_out_channels_not_divisible_by_groups() -> None:
    with pytest.raises(
        ValueError,
        match=r"^Conv1d: out_channels must be divisible by groups, but "
        r"got out_channels=3 and groups=2",
    ):
        Conv1d(4, 3, 3, groups=2)


def test_error_same_with_stride() -> None:
    with pytest.raises(
        ValueError,
        match=r"^Conv2d: padding='same' is not supported for strided "
        r"convolutions, but got stride=\(1, 2\)",
    ):
        Conv2d(1, 1, 3, stride=(1, 2), padding="same")


def test_error_unknown_padding_string() -> None:
    with pytest.raises(
        ValueError,
        match=r"^Conv1d: padding must be 'valid', 'same', an int or a "
        r"tuple of 1 ints, but got 'full'",
    ):
        Conv1d(1, 1, 3, padding="full")


def test_error_unknown_padding_mode() -> None:
    with pytest.raises(
        ValueError,
        match=r"^Conv2d: padding_mode must be one of \('zeros', "
        r"'reflect', 'replicate', 'circular'\), but got 'mirror'",
    ):
        Conv2d(1, 1, 3, padding_mode="mirror")


def test_error_bias_type() -> None:
    with pytest.raises(TypeError, match=r"^Conv2d: bias must be True or False, but got 'yes'"):
        Conv2d(1, 1, 3, bias="yes")


def test_error_reflect_padding_too_wide() -> None:
    layer = Conv2d(1, 1, 3, padding=3, padding_mode="reflect")
    with pytest.raises(
        ValueError,
        match=r"padding_mode='reflect' needs padding smaller than the "
        r"input size, but got padding \(3, 3\) for size 3 along "
        r"H in input of shape \(2, 1, 3, 5\)",
    ):
        layer.forward(np.zeros((2, 1, 3, 5)))


def test_error_circular_padding_wraps_twice() -> None:
    layer = Conv1d(1, 1, 1, padding=4, padding_mode="circular")
    with pytest.raises(
        ValueError,
        match=r"padding_mode='circular' needs padding at most the input "
        r"size \(it would wrap around more than once\), but got "
        r"padding \(4, 4\) for size 3 along L",
    ):
        layer.forward(np.zeros((1, 3)))


def test_error_output_shape_gives_forwards_errors() -> None:
    layer = Conv2d(3, 8, 5)
    with pytest.raises(
        ValueError,
        match=r"expected a per-sample input shape \(C, H, W\), but got "
        r"\(1, 3, 8, 8\)",
    ):
        layer.output_shape((1, 3, 8, 8))
    with pytest.raises(ValueError, match=r"expected input with 3 channels"):
        layer.output_shape((1, 8, 8))
    with pytest.raises(ValueError, match=r"Kernel size can't be greater than actual input size"):
        layer.output_shape((3, 4, 8))
    with pytest.raises(ValueError, match=r"SimpleConv1d\(filter_size=2\): expected 1D input"):
        SimpleConv1d(2).output_shape((1, 5))


def test_error_gradient_shape(rng: np.random.Generator) -> None:
    layer = Conv2d(1, 2, 3)
    layer.forward(rng.standard_normal((2, 1, 5, 5)))
    with pytest.raises(
        ValueError,
        match=r"^Conv2d\(1, 2, .*\): backward expected a gradient dA of "
        r"shape \(2, 2, 3, 3\) \(the shape of the forward output\), "
        r"but got \(2, 2, 3, 4\)",
    ):
        layer.backward(np.zeros((2, 2, 3, 4)))


def test_error_gradient_shape_simple() -> None:
    layer = SimpleConv1d(2)
    layer.forward(np.zeros(5))
    with pytest.raises(ValueError, match=r"backward expected a gradient dA of shape \(4,\)"):
        layer.backward(np.zeros(5))


@pytest.mark.parametrize("layer", [Conv2d(1, 2, 3), Conv1d(1, 2, 3), SimpleConv1d(3)], ids=repr)
def test_error_backward_before_forward(layer: object) -> None:
    with pytest.raises(ValueError, match=r"backward\(\) called before forward\(\)"):
        layer.backward(np.zeros(3))


def test_error_non_numeric_input() -> None:
    with pytest.raises(TypeError, match=r"^Conv1d\(.*\): expected input to be an array of numbers"):
        Conv1d(1, 1, 1).forward(np.array([["a", "b"]]))


@pytest.mark.parametrize("groups", [1, 2])
def test_empty_batch(groups: int) -> None:
    """Batch size 0 works as in PyTorch: empty output and input gradient, zero dW and db."""
    layer = Conv2d(2, 4, 3, padding=1, padding_mode="reflect", groups=groups)
    A = layer.forward(np.zeros((0, 2, 5, 5)))
    assert A.shape == (0, 4, 5, 5)
    assert layer.backward(np.zeros(A.shape)).shape == (0, 2, 5, 5)
    assert not layer.dW.any() and not layer.db.any()


def test_pickled_conv_drops_cache_and_scratch_buffers(rng: np.random.Generator) -> None:
    import pickle

    layer = Conv2d(2, 3, 3, padding=1)
    X = rng.standard_normal((4, 2, 6, 6)).astype(np.float32)
    expected = np.array(layer.forward(X))
    clone = pickle.loads(pickle.dumps(layer))
    assert clone._cache is None and clone._workspace == {}
    np.testing.assert_array_equal(clone.forward(X), expected)


def test_second_backward_needs_a_new_forward(rng: np.random.Generator) -> None:
    layer = Conv2d(2, 3, 3)
    A = layer.forward(rng.standard_normal((2, 2, 5, 5)))
    dA = rng.standard_normal(A.shape)
    layer.backward(dA)
    first = layer.dW.copy()
    with pytest.raises(ValueError, match=r"backward\(\) called before forward\(\)"):
        layer.backward(dA)
    layer.forward(rng.standard_normal((2, 2, 5, 5)))
    layer.backward(dA)
    assert not np.array_equal(layer.dW, first)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Conv2d(8, 16, 3, padding=1),  # Winograd
        lambda: Conv2d(2, 8, 3),  # direct loops
        lambda: Conv2d(8, 8, 3, stride=2, padding=1),  # im2col
        lambda: Conv2d(8, 8, 3, groups=2),  # grouped im2col
        lambda: Conv1d(4, 6, 3, dilation=2),  # 1-D im2col
        lambda: Conv1d(4, 6, 5, stride=2, padding=2),  # position-major
    ],
)
@pytest.mark.parametrize("grad", [True, False])
def test_rectified_output_equals_relu_of_the_output(rng, make, grad, kernel_path):
    """rectify_output (a model sets it before an in-place ReLU): the output the ReLU would
    have made, bit for bit, on every path, with and without gradients; NaN stays NaN."""
    from scratchcnn import no_grad
    from scratchcnn.layers import ReLU

    layer = make()
    shape = (5, layer.in_channels, *((9, 9) if isinstance(layer, Conv2d) else (17,)))
    X = rng.standard_normal(shape).astype(np.float32)
    X[1, 0, 2] = np.nan
    with contextlib.nullcontext() if grad else no_grad():
        expected = ReLU(inplace=True).forward(layer.forward(X).copy())
        layer.rectify_output = True
        got = layer.forward(X)
    np.testing.assert_array_equal(got, expected)
    assert np.isnan(got).any() and (got == 0).any() and (got > 0).any()
