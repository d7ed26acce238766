"""Process settings made at import (scratchcnn/_environment.py): malloc keeps freed memory."""

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
