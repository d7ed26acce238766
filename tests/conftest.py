"""Shared fixtures: each test gets its own seeded generator (no global seeds)."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

# Files the tests need from outside the repository (MNIST's test split, the notebooks' seeds)
# live in ../shared beside the checkout, as in CI.
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def in_ci() -> bool:
    """True under CI (CI=true, as GitHub Actions and most services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def shared_path(relative: str, root: Path | None = None) -> Path:
    """``../shared/<relative>``; skips the test when it is absent, fails under ``CI=true``.

    Every test that reads files from outside the repository goes through this, so a fresh
    clone runs the suite without them and CI never skips them silently.
    """
    path = (SHARED if root is None else root) / relative
    if path.exists():
        return path
    message = f"needs {relative} from ../shared ({path}), which is absent"
    if in_ci():
        pytest.fail(f"CI=true: {message}; CI must provide ../shared", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def shared() -> Callable[[str], Path]:
    """``shared("data/mnist")``: the path in ../shared, or a skip (a failure in CI)."""
    return shared_path


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
