"""Process settings made when scratchcnn is imported: OpenBLAS's threads, and glibc's malloc.

**OpenBLAS.** Thread settings are read when NumPy's OpenBLAS loads: set before NumPy is
imported, if we can.

After a matrix product, OpenBLAS's worker threads spin-wait for the next one for about 2^28
cycles (~0.1 s) by default. scratchcnn runs its own threads between products (the Winograd
blocks) and compiled single-pass loops, which those spinning threads slow down, and on a
machine where another process holds a core a spinning thread steals its time.
``OPENBLAS_THREAD_TIMEOUT=4`` (2^4 cycles, the minimum) makes them sleep at once.

OpenBLAS reads the variable once, when it loads. Imported before NumPy (as ``scratchcnn``
on the command line is), scratchcnn sets it first. Imported after NumPy (``import numpy as
np`` at the top of a script), ``quiet_loaded_openblas`` makes OpenBLAS read its environment
again and stops its threads; the next parallel product starts them anew with the timeout
(seed_cnn's training step in such a script: 113-143 ms -> 85 ms). A value of the user's,
in the environment when OpenBLAS loaded, is kept either way. ``SCRATCHCNN_NUM_THREADS``
sets scratchcnn's own threads (default: the CPUs the process may run on).

**malloc.** glibc hands freed blocks of 128 kB and more back to the kernel (``munmap``, and
trimming the top of the heap), so the fresh arrays of every step page-fault anew: 120 faults
per MNIST-1D inference batch of 1,000, about a quarter of its time, on the VM where the
benchmarks ran. ``keep_freed_memory`` asks glibc (``mallopt``) to serve blocks up to
``MMAP_THRESHOLD`` from its heap and to keep up to ``TRIM_THRESHOLD`` of freed heap for
reuse, as PyTorch's CPU tuning guides get from jemalloc or tcmalloc. The resident set then
stays near its peak after large arrays are freed. ``SCRATCHCNN_KEEP_FREED_MEMORY=0`` leaves
malloc as it is; elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
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


_OPENBLAS_ENTRY_POINTS = ("openblas_thread_timeout", "openblas_read_env", "blas_thread_shutdown_")


def quiet_loaded_openblas() -> bool:
    """Give an OpenBLAS that loaded before scratchcnn the thread timeout of ``DEFAULTS``.

    Only where OpenBLAS found no OPENBLAS_THREAD_TIMEOUT when it loaded and exports the
    entry points to read its environment again (OpenBLAS 0.3 does); True when the timeout
    changed. Its threads stop here and restart on the next parallel product, so call it
    while no other thread runs a product (scratchcnn calls it once, on import).
    """
    from scratchcnn.kernels.threads import blas_controller  # made once, kept for later use

    controller = blas_controller()
    if controller is None:  # pragma: no cover - threadpoolctl is a dependency
        return False
    changed = False
    for library in controller.lib_controllers:
        if library.internal_api != "openblas":
            continue
        try:
            shared = ctypes.CDLL(library.filepath)
            timeout, read_env, shutdown = (getattr(shared, n) for n in _OPENBLAS_ENTRY_POINTS)
        except (OSError, AttributeError):
            continue
        if timeout() != 0:  # set when it loaded: the user's choice, or ours
            continue
        for name, value in DEFAULTS.items():
            os.environ.setdefault(name, value)
        read_env()
        if timeout() != 0:
            shutdown()
            changed = True
    return changed


MMAP_THRESHOLD = 32 * 2**20  # glibc's own ceiling for its sliding threshold (64-bit)
TRIM_THRESHOLD = 256 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)


def keep_freed_memory() -> bool:
    """Set glibc's thresholds (see the module docstring); False where nothing was set."""
    if os.environ.get("SCRATCHCNN_KEEP_FREED_MEMORY", "").strip() == "0":
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process already runs on
    except (OSError, AttributeError):  # pragma: no cover - no mallopt (not glibc)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
