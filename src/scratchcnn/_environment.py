"""Thread settings read when NumPy's OpenBLAS loads: set before NumPy is imported, if we can.

After a matrix product, OpenBLAS's worker threads spin-wait for the next one for about 2^28
cycles (~0.1 s) by default. scratchcnn runs its own threads between products (the Winograd
blocks) and compiled single-pass loops, which those spinning threads slow down, and on a
machine where another process holds a core a spinning thread steals its time.
``OPENBLAS_THREAD_TIMEOUT=4`` (2^4 cycles, the minimum) makes them sleep at once.

OpenBLAS reads the variable once, when it loads, so it only takes effect when scratchcnn is
imported before NumPy (as ``scratchcnn`` on the command line does). A value already in the
environment is kept. In your own scripts, import scratchcnn first or set the variable in the
shell. ``SCRATCHCNN_NUM_THREADS`` sets scratchcnn's own threads (default: the CPUs the
process may run on).
"""

from __future__ import annotations

import os
import sys

DEFAULTS = {"OPENBLAS_THREAD_TIMEOUT": "4"}


def apply_defaults() -> bool:
    """Put ``DEFAULTS`` into the environment unless set; False if NumPy was already loaded."""
    if "numpy" in sys.modules:
        return False
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    return True
