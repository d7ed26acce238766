"""Shared fixtures: each test gets its own seeded generator (no global seeds)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded from the test's id, so every test is reproducible on its own."""
    seed = zlib.crc32(request.node.nodeid.encode())
    return np.random.default_rng(seed)


@pytest.fixture(params=["numba", "numpy"])
def kernel_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test on the compiled Numba loops and on the NumPy fallback."""
    from scratchcnn.kernels import compiled

    if request.param == "numba" and not compiled.HAVE_NUMBA:
        pytest.skip("Numba is not installed (or SCRATCHCNN_NO_NUMBA is set)")
    monkeypatch.setattr(compiled, "ENABLED", request.param == "numba")
    return request.param
