"""The compiled Adam step against its NumPy reference: equal bit for bit, threads or not."""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn.kernels import compiled
from scratchcnn.kernels.adam import AdamScalars, adam_step, adam_step_reference

needs_numba = pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="Numba is not installed")

OPTIONS = [
    {"weight_decay": 0.0, "decoupled": False, "amsgrad": False},
    {"weight_decay": 0.1, "decoupled": False, "amsgrad": False},
    {"weight_decay": 0.1, "decoupled": True, "amsgrad": False},
    {"weight_decay": 0.0, "decoupled": False, "amsgrad": True},
    {"weight_decay": 0.05, "decoupled": True, "amsgrad": True},
]


def _state(rng, shape, dtype, amsgrad):
    """W, g, m, v (, v_max) as after some steps: v >= 0, v_max >= v mostly."""
    W = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    m = (0.1 * rng.standard_normal(shape)).astype(dtype)
    v = (0.01 * rng.random(shape)).astype(dtype)
    v_max = (v * rng.uniform(0.5, 2.0, shape)).astype(dtype) if amsgrad else None
    return W, g, m, v, v_max


def _copies(arrays):
    return [None if a is None else a.copy() for a in arrays]


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(map(str, o.values())))
@pytest.mark.parametrize("shape", [(7,), (33, 5), (2, 3, 4, 5)])
def test_compiled_step_equals_reference(rng, monkeypatch, dtype, options, shape):
    monkeypatch.setattr(compiled, "ENABLED", True)
    W, g, m, v, v_max = _state(rng, shape, dtype, options["amsgrad"])
    fast, slow = _copies([W, g, m, v, v_max]), _copies([W, g, m, v, v_max])
    for step in (1, 2, 17):
        s = AdamScalars.of_step(0.003, (0.9, 0.999), 1e-8, options["weight_decay"],
                                options["decoupled"], step)
        adam_step(*fast[:4], fast[4], s)
        adam_step_reference(*slow[:4], slow[4], s)
        for got, expected in zip(fast, slow, strict=True):
            if got is not None:
                assert got.dtype == dtype
                np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(fast[0], W)  # the weights moved


@needs_numba
@pytest.mark.parametrize("amsgrad", [False, True])
def test_threaded_parts_equal_reference(rng, monkeypatch, amsgrad):
    """A parameter past PARALLEL_MIN_SIZE runs in parts on threads; same numbers."""
    monkeypatch.setattr(compiled, "ENABLED", True)
    monkeypatch.setattr(compiled, "PARALLEL_MIN_SIZE", 1000)
    monkeypatch.setattr(compiled, "FLAT_PART", 300)
    W, g, m, v, v_max = _state(rng, (41, 53), np.float32, amsgrad)
    fast, slow = _copies([W, g, m, v, v_max]), _copies([W, g, m, v, v_max])
    s = AdamScalars.of_step(0.01, (0.8, 0.99), 1e-6, 0.0, False, 3)
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("SCRATCHCNN_NUM_THREADS", threads)
        run = _copies(fast)
        adam_step(*run[:4], run[4], s)
        if threads == "1":
            first = run
        for got, expected in zip(run, first, strict=True):
            if got is not None:
                np.testing.assert_array_equal(got, expected)
    adam_step_reference(*slow[:4], slow[4], s)
    for got, expected in zip(first, slow, strict=True):
        if got is not None:
            np.testing.assert_array_equal(got, expected)


@needs_numba
def test_non_finite_values_propagate_as_in_numpy(monkeypatch):
    monkeypatch.setattr(compiled, "ENABLED", True)
    g = np.array([np.nan, np.inf, -np.inf, 1.0, 0.0, -0.0], dtype=np.float32)
    W = np.ones(6, dtype=np.float32)
    m, v = np.zeros(6, np.float32), np.zeros(6, np.float32)
    v_max = np.array([0, 0, 0, np.nan, 0, 0], dtype=np.float32)
    fast, slow = _copies([W, g, m, v, v_max]), _copies([W, g, m, v, v_max])
    s = AdamScalars.of_step(0.1, (0.9, 0.999), 1e-8, 0.0, False, 1)
    with np.errstate(invalid="ignore"):
        adam_step(*fast[:4], fast[4], s)
        adam_step_reference(*slow[:4], slow[4], s)
    for got, expected in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(got, expected)  # NaN where NaN, signs of zeros


@needs_numba
def test_division_by_zero_gives_nan_as_in_numpy(monkeypatch):
    """eps = 0 and a zero gradient: 0 / 0 is NaN in both paths, not an exception."""
    monkeypatch.setattr(compiled, "ENABLED", True)
    arrays = [np.ones(4), np.array([0.0, 1.0, 0.0, -2.0]), np.zeros(4), np.zeros(4)]
    fast, slow = _copies(arrays), _copies(arrays)
    s = AdamScalars.of_step(0.1, (0.9, 0.999), 0.0, 0.0, False, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        adam_step(*fast, None, s)
        adam_step_reference(*slow, None, s)
    assert np.isnan(fast[0][0]) and np.isfinite(fast[0][1])
    for got, expected in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_non_contiguous_parameters_take_the_reference(rng, monkeypatch):
    """A transposed (F-ordered) parameter is updated correctly by the NumPy path."""
    W, g, m, v, _ = _state(rng, (6, 4), np.float64, False)
    Wt, gt, mt, vt = (np.asfortranarray(a) for a in (W, g, m, v))
    s = AdamScalars.of_step(0.01, (0.9, 0.999), 1e-8, 0.0, False, 1)
    adam_step(Wt, gt, mt, vt, None, s)
    adam_step_reference(W, g, m, v, None, s)
    np.testing.assert_array_equal(Wt, W)
    np.testing.assert_array_equal(mt, m)
