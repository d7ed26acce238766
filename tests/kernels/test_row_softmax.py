"""Softmax over short rows: the compiled twin against the NumPy reference (bit for bit) and
both against torch.softmax in float64."""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn.kernels import compiled
from scratchcnn.kernels.activations import SHORT_ROW
from scratchcnn.kernels.row_softmax import _twin_applies, softmax_rows, softmax_rows_reference

needs_numba = pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="Numba is not installed")


def _logits(rng, shape, dtype):
    return (rng.standard_normal(shape) * 5).astype(dtype)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1000, 10), (65, 64), (3, 2), (130, 1)])
def test_twin_equals_reference_bit_for_bit(rng, monkeypatch, dtype, shape):
    monkeypatch.setattr(compiled, "ENABLED", True)
    Z = _logits(rng, shape, dtype)
    Z[0, 0] = 80.0  # far above the rest: exp underflows to 0 for the others
    assert _twin_applies(Z, None) == (shape[0] > shape[1])
    got, expected = softmax_rows(Z), softmax_rows_reference(Z)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)


@needs_numba
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_twin_equals_reference_on_non_finite_rows(rng, monkeypatch, bad):
    monkeypatch.setattr(compiled, "ENABLED", True)
    Z = _logits(rng, (50, 10), np.float32)
    Z[3, 0], Z[7, 9] = bad, bad
    Z[11, :] = bad  # a whole row
    with np.errstate(invalid="ignore"):
        expected = softmax_rows_reference(Z)
    np.testing.assert_array_equal(softmax_rows(Z), expected)  # NaN where NaN
    assert np.isfinite(expected[0]).all() and np.isfinite(expected[49]).all()


@pytest.mark.parametrize("path", ["numba", "numpy"])
def test_writes_into_out(rng, monkeypatch, path):
    if path == "numba" and not compiled.HAVE_NUMBA:
        pytest.skip("Numba is not installed")
    monkeypatch.setattr(compiled, "ENABLED", path == "numba")
    Z = _logits(rng, (40, 10), np.float32)
    result = np.full((60, 10), -1.0, dtype=np.float32)
    returned = softmax_rows(Z, out=result[10:50])
    assert np.shares_memory(returned, result)
    np.testing.assert_array_equal(result[10:50], softmax_rows_reference(Z))
    assert (result[:10] == -1).all() and (result[50:] == -1).all()


def test_layouts_the_twin_does_not_take_fall_back(rng, monkeypatch):
    """Long rows, rows outnumbering none, a transposed view: the reference's result."""
    monkeypatch.setattr(compiled, "ENABLED", True)
    for Z in (
        _logits(rng, (200, SHORT_ROW + 1), np.float32),
        _logits(rng, (5, 10), np.float32),
        _logits(rng, (10, 300), np.float32).T,
    ):
        assert not _twin_applies(Z, None)
        np.testing.assert_array_equal(softmax_rows(Z), softmax_rows_reference(Z))


@pytest.mark.parametrize("path", ["numba", "numpy"])
def test_matches_torch_softmax_in_float64(rng, monkeypatch, path):
    torch = pytest.importorskip("torch")
    if path == "numba" and not compiled.HAVE_NUMBA:
        pytest.skip("Numba is not installed")
    monkeypatch.setattr(compiled, "ENABLED", path == "numba")
    Z = _logits(rng, (300, 10), np.float64)
    expected = torch.softmax(torch.from_numpy(Z), dim=1).numpy()
    np.testing.assert_allclose(softmax_rows(Z), expected, rtol=1e-13, atol=1e-300)
