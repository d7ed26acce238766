"""The padding kernel against np.pad and hand-worked examples; its adjoint by inner products."""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn.kernels.padding import PADDING_MODES, pad, pad_adjoint, padded_shape

# NumPy's names for PyTorch's modes: an independent implementation to compare with.
NUMPY_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}

# (sample spatial shape, pads): the widest pads each mode allows (reflect < size,
# circular <= size), asymmetric pads, and no padding at all.
CASES = [
    ((5,), ((2, 3),)),
    ((3,), ((2, 2),)),
    ((4,), ((0, 0),)),
    ((4, 5), ((1, 2), (3, 0))),
    ((3, 3), ((2, 2), (2, 2))),
    ((6, 4), ((0, 1), (1, 1))),
    ((2,), ((3, 1),)),  # wider than the input: only zeros and replicate allow it
]


def _limit_ok(spatial: tuple[int, ...], pads: tuple[tuple[int, int], ...], mode: str) -> bool:
    widest = [max(p) for p in pads]
    if mode == "reflect":
        return all(w < s for w, s in zip(widest, spatial, strict=True))
    if mode == "circular":
        return all(w <= s for w, s in zip(widest, spatial, strict=True))
    return True


# Every (mode, shape, pads) combination PyTorch accepts.
VALID = [
    pytest.param(mode, spatial, pads, id=f"{mode}-{spatial}-{pads}")
    for mode in PADDING_MODES
    for spatial, pads in CASES
    if _limit_ok(spatial, pads, mode)
]


@pytest.mark.parametrize("mode", PADDING_MODES)
def test_hand_worked_1d(mode: str) -> None:
    X = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    expected = {
        "zeros": [0, 0, 1, 2, 3, 0, 0],
        "reflect": [3, 2, 1, 2, 3, 2, 1],
        "replicate": [1, 1, 1, 2, 3, 3, 3],
        "circular": [2, 3, 1, 2, 3, 1, 2],
    }[mode]
    np.testing.assert_array_equal(pad(X, ((2, 2),), mode).ravel(), expected)


@pytest.mark.parametrize(("mode", "spatial", "pads"), VALID)
def test_matches_numpy_pad(
    mode: str, spatial: tuple, pads: tuple, rng: np.random.Generator
) -> None:
    X = rng.standard_normal((2, *spatial, 3))
    expected = np.pad(X, ((0, 0), *pads, (0, 0)), mode=NUMPY_MODE[mode])
    result = pad(X, pads, mode)
    assert result.shape == padded_shape(X.shape, pads)
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("mode", PADDING_MODES)
def test_out_buffer_is_fully_overwritten(mode: str, rng: np.random.Generator) -> None:
    X = rng.standard_normal((2, 4, 5, 3)).astype(np.float32)
    pads = ((1, 2), (2, 1))
    out = np.full(padded_shape(X.shape, pads), np.nan, dtype=np.float32)
    result = pad(X, pads, mode, out=out)
    assert result is out
    np.testing.assert_array_equal(result, pad(X, pads, mode))


@pytest.mark.parametrize(("mode", "spatial", "pads"), VALID)
def test_adjoint_inner_product(
    mode: str, spatial: tuple, pads: tuple, rng: np.random.Generator
) -> None:
    """<pad(x), y> == <x, pad_adjoint(y)> for every x, y: the definition of the adjoint."""
    x = rng.standard_normal((2, *spatial, 3))
    y = rng.standard_normal(padded_shape(x.shape, pads))
    back = pad_adjoint(y, pads, mode)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(pad(x, pads, mode) * y), np.sum(x * back), rtol=1e-12)


def test_adjoint_of_replicate_accumulates_on_the_edge() -> None:
    dXp = np.arange(1.0, 8.0).reshape(1, 7, 1)  # [1..7] for [e, e, x0, x1, x2, e, e]
    np.testing.assert_array_equal(pad_adjoint(dXp, ((2, 2),), "replicate").ravel(), [6, 4, 18])


@pytest.mark.parametrize("mode", PADDING_MODES)
def test_float32_stays_float32(mode: str, rng: np.random.Generator) -> None:
    X = rng.standard_normal((1, 4, 4, 2)).astype(np.float32)
    padded = pad(X, ((1, 1), (1, 1)), mode)
    assert padded.dtype == np.float32
    assert pad_adjoint(padded, ((1, 1), (1, 1)), mode).dtype == np.float32
