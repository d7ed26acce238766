"""Initializers: shapes, float32, the spread of large draws against each formula, fans, seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import scratchcnn
import scratchcnn.random
from scratchcnn.initializers import (
    DefaultInitializer,
    HeInitializer,
    SimpleInitializer,
    XavierInitializer,
    compute_fans,
)

ALL = (SimpleInitializer(0.01), XavierInitializer(), HeInitializer(), DefaultInitializer())


# -- shapes and dtypes -----------------------------------------------------------------------
@pytest.mark.parametrize("init", ALL, ids=repr)
@pytest.mark.parametrize("shape", [(7,), (784, 400), (6, 3, 5, 5), (4, 2, 3), (2, 1, 3, 3, 3)])
def test_weight_shape_and_float32(init: object, shape: tuple[int, ...]) -> None:
    W = init.W(*shape)
    assert W.shape == shape
    assert W.dtype == np.float32


@pytest.mark.parametrize("init", ALL, ids=repr)
def test_bias_shape_and_float32(init: object) -> None:
    b = init.B(5, fan_in=20)
    assert b.shape == (5,)
    assert b.dtype == np.float32


def test_notebook_calls() -> None:
    init = SimpleInitializer(0.01)
    assert init.W(784, 400).shape == (784, 400)
    assert init.B(400).shape == (400,)
    assert init.W((3, 4)).shape == (3, 4)  # one tuple works as well as separate ints


def test_compute_fans() -> None:
    assert compute_fans((9,)) == (9, 9)
    assert compute_fans((784, 400)) == (784, 400)  # the notebooks' Dense (in, out)
    assert compute_fans((6, 3, 5, 5)) == (3 * 25, 6 * 25)
    assert compute_fans((8, 2, 7)) == (14, 56)


def test_fans_of_conv_match_torch() -> None:
    weight = torch.empty(6, 3, 5, 5)
    expected = torch.nn.init._calculate_fan_in_and_fan_out(weight)
    assert compute_fans((6, 3, 5, 5)) == expected
    # the notebooks' Dense is torch's Linear weight transposed
    linear = torch.empty(400, 784)
    assert compute_fans((784, 400)) == torch.nn.init._calculate_fan_in_and_fan_out(linear)


# -- the spread of large draws -----------------------------------------------------------------
def _check_std(values: np.ndarray, std: float) -> None:
    # the sample std of n normal draws has relative standard error about 1/sqrt(2n)
    assert abs(values.std() - std) < 6 * std / math.sqrt(2 * values.size)
    assert abs(values.mean()) < 6 * std / math.sqrt(values.size)


def test_simple_std_is_sigma_and_biases_are_zero_as_in_the_notebooks() -> None:
    init = SimpleInitializer(0.05, seed=1)
    _check_std(init.W(300, 400), 0.05)
    np.testing.assert_array_equal(init.B(7), np.zeros(7, dtype=np.float32))


@pytest.mark.parametrize("shape", [(500, 300), (64, 32, 3, 3), (50_000,)])
def test_xavier_std(shape: tuple[int, ...]) -> None:
    fan_in, fan_out = compute_fans(shape)
    init = XavierInitializer(seed=2)
    _check_std(init.W(*shape), math.sqrt(2 / (fan_in + fan_out)))
    np.testing.assert_array_equal(init.B(7), np.zeros(7, dtype=np.float32))


@pytest.mark.parametrize("shape", [(500, 300), (64, 32, 3, 3), (50_000,)])
def test_he_std(shape: tuple[int, ...]) -> None:
    fan_in, _ = compute_fans(shape)
    init = HeInitializer(seed=3)
    _check_std(init.W(*shape), math.sqrt(2 / fan_in))
    np.testing.assert_array_equal(init.B(7), np.zeros(7, dtype=np.float32))


@pytest.mark.parametrize("shape", [(500, 300), (64, 32, 3, 3), (900,)])
def test_default_is_uniform_within_one_over_sqrt_fan_in(shape: tuple[int, ...]) -> None:
    bound = 1 / math.sqrt(compute_fans(shape)[0])
    W = DefaultInitializer(seed=4).W(*shape)
    assert np.abs(W).max() <= bound
    assert np.abs(W).max() > 0.99 * bound  # it fills the interval
    # uniform on [-a, a] has std a / sqrt(3)
    assert abs(W.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_default_matches_torch_bounds_for_linear_and_conv() -> None:
    # torch's reset_parameters: kaiming_uniform_(a=sqrt(5)) gives bound 1/sqrt(fan_in)
    linear = torch.nn.Linear(50, 20)
    assert linear.weight.abs().max().item() <= 1 / math.sqrt(50)
    conv = torch.nn.Conv2d(3, 8, 5)
    W = DefaultInitializer(seed=5).W(8, 3, 5, 5)
    b = DefaultInitializer(seed=5).B(8, fan_in=75)
    assert max(np.abs(W).max(), np.abs(b).max()) <= 1 / math.sqrt(75)
    assert conv.weight.abs().max().item() <= 1 / math.sqrt(75)


def test_default_bias_uses_fan_in() -> None:
    b = DefaultInitializer(seed=6).B(100_000, fan_in=16)
    assert np.abs(b).max() <= 0.25
    assert np.abs(b).max() > 0.249


def test_default_bias_reuses_the_last_weights_fan_in() -> None:
    init = DefaultInitializer(seed=7)
    init.W(6, 3, 5, 5)  # conv: 6 outputs, fan_in 75
    assert np.abs(init.B(6)).max() <= 1 / math.sqrt(75)
    init.W(16, 4)  # Dense (in, out): 4 outputs, fan_in 16
    assert np.abs(init.B(4)).max() <= 0.25
    init.W(5)  # SimpleConv1d kernel: any bias size
    assert init.B(1).shape == (1,)


def test_default_bias_reuse_equals_explicit_fan_in() -> None:
    a, b = DefaultInitializer(seed=8), DefaultInitializer(seed=8)
    a.W(10, 3)
    b.W(10, 3)
    np.testing.assert_array_equal(a.B(3), b.B(3, fan_in=10))


# -- seeds ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [XavierInitializer, HeInitializer, DefaultInitializer])
def test_same_seed_same_draws(cls: type) -> None:
    np.testing.assert_array_equal(cls(seed=3).W(4, 5), cls(seed=3).W(4, 5))
    assert not np.array_equal(cls(seed=3).W(4, 5), cls(seed=4).W(4, 5))


def test_successive_draws_differ_but_replay() -> None:
    init = SimpleInitializer(1.0, seed=9)
    first, second = init.W(3, 3), init.W(3, 3)
    assert not np.array_equal(first, second)
    replay = SimpleInitializer(1.0, seed=9)
    np.testing.assert_array_equal(replay.W(3, 3), first)
    np.testing.assert_array_equal(replay.W(3, 3), second)


def test_generator_seed_is_used(rng: np.random.Generator) -> None:
    state = rng.bit_generator.state
    W = HeInitializer(seed=rng).W(4, 4)
    rng.bit_generator.state = state
    np.testing.assert_array_equal(HeInitializer(seed=rng).W(4, 4), W)


def test_manual_seed_after_construction_still_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    # restore the library's default generator afterwards: no global seed leaks to other tests
    monkeypatch.setattr(scratchcnn.random, "_generator", scratchcnn.random.default_rng())
    init = XavierInitializer()  # no seed: draws from the library's default generator
    scratchcnn.manual_seed(123)
    first = init.W(4, 4)
    scratchcnn.manual_seed(123)
    np.testing.assert_array_equal(init.W(4, 4), first)


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma", [0, -0.1, float("nan"), float("inf")])
def test_sigma_must_be_positive(sigma: float) -> None:
    with pytest.raises(ValueError, match="SimpleInitializer: sigma must be positive"):
        SimpleInitializer(sigma)


def test_sigma_must_be_a_number() -> None:
    with pytest.raises(TypeError, match="SimpleInitializer: sigma must be a number"):
        SimpleInitializer("0.01")


def test_shape_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"HeInitializer\.W: each dimension of the shape must be "
                       r"positive"):
        HeInitializer().W(3, 0)


def test_shape_must_be_ints() -> None:
    with pytest.raises(TypeError, match=r"XavierInitializer\.W: each dimension of the shape must "
                       r"be a positive int"):
        XavierInitializer().W(3, 2.0)


def test_shape_must_not_be_empty() -> None:
    with pytest.raises(ValueError, match=r"DefaultInitializer\.W: W\(\) needs at least one"):
        DefaultInitializer().W()


def test_bias_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"SimpleInitializer\.B: n must be positive"):
        SimpleInitializer(0.01).B(0)


def test_default_bias_without_fan_in() -> None:
    with pytest.raises(ValueError, match=r"DefaultInitializer\.B: .* pass B\(4, fan_in=...\)"):
        DefaultInitializer().B(4)


def test_default_bias_size_not_matching_last_weight() -> None:
    init = DefaultInitializer()
    init.W(10, 3)
    with pytest.raises(ValueError, match=r"last weight shape: \(10, 3\)"):
        init.B(10)


def test_default_bias_fan_in_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"DefaultInitializer\.B: fan_in must be positive"):
        DefaultInitializer().B(4, fan_in=0)


@pytest.mark.parametrize("name", ["XavierInitializer", "HeInitializer", "DefaultInitializer",
                                  "SimpleInitializer"])
def test_unexpected_argument_names_the_initializer(name: str) -> None:
    import scratchcnn.initializers as initializers

    cls = getattr(initializers, name)
    args = (0.1,) if name == "SimpleInitializer" else ()
    with pytest.raises(TypeError, match=rf"^{name}\.__init__\(\) got an unexpected keyword "
                       "argument 'gain'"):
        cls(*args, gain=2.0)
