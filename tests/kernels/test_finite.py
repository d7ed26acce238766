"""The finite check: the compiled twin against the NumPy reference, every kind of bad value
at every place, every dtype and memory order."""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn.kernels import compiled
from scratchcnn.kernels.finite import all_finite, all_finite_reference


@pytest.fixture(params=["numba", "numpy"])
def path(request, monkeypatch):
    if request.param == "numba" and not compiled.HAVE_NUMBA:
        pytest.skip("Numba is not installed")
    monkeypatch.setattr(compiled, "ENABLED", request.param == "numba")
    return request.param


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 17, 4095, -1])
def test_finds_each_non_finite_value(path, dtype, bad, where):
    a = np.linspace(-3, 3, 4096).astype(dtype).reshape(64, 8, 8)
    assert all_finite(a) and all_finite_reference(a)
    a.reshape(-1)[where] = bad
    assert not all_finite(a)
    assert not all_finite_reference(a)


def test_huge_finite_values_are_finite(path):
    """Values whose sum overflows are still finite (the reference's sum is only a hint)."""
    a = np.full((1000, 10), np.finfo(np.float32).max, dtype=np.float32)
    a[::2] *= -1
    a[1, 1] = np.finfo(np.float32).max
    assert all_finite(a) and all_finite_reference(a)
    a[0, 0] = np.float32(-0.0)
    assert all_finite(a)


def test_other_memory_orders_and_kinds(path):
    a = np.ones((30, 40), dtype=np.float32)
    a[5, 6] = np.nan  # column 6: the third of every third column
    assert not all_finite(a.T) and not all_finite(a[:, ::3][:, 2:])
    assert all_finite(a[:, ::3][:, 3:])  # the NaN's column is skipped
    assert all_finite(np.arange(10)) and all_finite(np.array([True, False]))
    assert all_finite(np.empty((0, 3), dtype=np.float32))
