"""Process settings made at import (scratchcnn/_environment.py): malloc keeps freed memory,
OpenBLAS's threads sleep after a product even when NumPy was imported first."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# A loop that frees and allocates 1 MB arrays, as a training step does, and counts the page
# faults of the last 50 rounds (after the first round warmed the heap).
FAULTS = (
    "import resource, numpy as np, scratchcnn._environment as env\n"
    "import scratchcnn\n"
    "def round_():\n"
    "    for _ in range(4):\n"
    "        a = np.ones(250_000, dtype=np.float32); a += 1\n"
    "round_()\n"
    "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
    "for _ in range(50): round_()\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
)


def _faults(**env: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", FAULTS],
        capture_output=True, text=True, check=True, env={**os.environ, **env}, timeout=120,
    )  # fmt: skip
    return int(result.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux's")
def test_freed_arrays_are_reused_without_page_faults() -> None:
    """200 fresh 1 MB arrays: almost no faults with the setting, ~250 per array without it."""
    kept = _faults()
    returned = _faults(SCRATCHCNN_KEEP_FREED_MEMORY="0")
    assert kept < 100, kept
    assert returned > 10 * max(kept, 10), (kept, returned)


def test_the_setting_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from scratchcnn import _environment

    monkeypatch.setenv("SCRATCHCNN_KEEP_FREED_MEMORY", "0")
    assert _environment.keep_freed_memory() is False


# The thread timeout OpenBLAS uses, read through its own entry point, after imports in the
# order a script has them; then a product on its threads, checked.
TIMEOUT = (
    "import ctypes, numpy as np, threadpoolctl\n"
    "a = np.random.default_rng(0).random((300, 300)); a @ a  # OpenBLAS's threads are up\n"
    "import scratchcnn\n"
    "blas = [lib for lib in threadpoolctl.ThreadpoolController().lib_controllers\n"
    "        if lib.internal_api == 'openblas']\n"
    "if not blas or not hasattr(ctypes.CDLL(blas[0].filepath), 'openblas_read_env'):\n"
    "    print('none'); raise SystemExit\n"
    "assert np.allclose(a @ a, np.einsum('ij,jk->ik', a, a))\n"
    "print(ctypes.CDLL(blas[0].filepath).openblas_thread_timeout(), blas[0].get_num_threads())\n"
)


def _timeout(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    result = subprocess.run(
        [sys.executable, "-c", TIMEOUT],
        capture_output=True, text=True, check=True, env={**environment, **env}, timeout=120,
    )  # fmt: skip
    return result.stdout.strip()


def test_openblas_loaded_first_gets_the_timeout_and_keeps_its_threads() -> None:
    out = _timeout(OPENBLAS_NUM_THREADS="2")
    if out == "none":
        pytest.skip("NumPy's BLAS is not an OpenBLAS that can read its environment again")
    assert out == "4 2"


def test_a_timeout_of_the_users_is_kept() -> None:
    out = _timeout(OPENBLAS_THREAD_TIMEOUT="7")
    if out == "none":
        pytest.skip("NumPy's BLAS is not an OpenBLAS that can read its environment again")
    assert out.split()[0] == "7"
