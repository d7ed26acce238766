"""The library's own threads: how many, the parts they run, and BLAS held to one thread meanwhile.

Compiled loops release the GIL (``nogil``), so plain Python threads run them on several
cores. Callers split their work by the shapes alone (never by the thread count), so that a
result does not depend on how many threads ran it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import cache
from typing import Any

from scratchcnn.kernels.helper_threads import helper_threads


def thread_count() -> int:
    """How many threads the library's own loops use.

    SCRATCHCNN_NUM_THREADS when set to a positive integer (the CLI's ``--threads`` sets it);
    else the CPUs this process may use, shared by the MPI ranks launched on this machine
    (``mpirun`` sets OMPI_COMM_WORLD_LOCAL_SIZE or MPI_LOCALNRANKS) unless the rank is already
    bound to its share, so that ranks do not oversubscribe the cores.
    """
    text = os.environ.get("SCRATCHCNN_NUM_THREADS", "")
    if text.strip().isdigit() and int(text) > 0:
        return int(text)
    cpus, ranks = usable_cpus(), ranks_on_this_machine()
    if ranks and cpus >= (os.cpu_count() or cpus):  # not already bound to its share of cores
        cpus //= ranks
    return max(1, cpus)


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def ranks_on_this_machine() -> int | None:
    """How many MPI ranks ``mpirun`` started on this machine, or None outside one (or unset)."""
    local = os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE") or os.environ.get("MPI_LOCALNRANKS")
    if local and local.strip().isdigit() and int(local) > 0:
        return int(local)
    return None


@cache
def blas_controller() -> Any:
    """threadpoolctl's controller (made once: finding the libraries takes milliseconds)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return None
    return ThreadpoolController()


@contextmanager
def single_thread_blas_calls() -> Iterator[None]:
    """BLAS on one thread inside the block, its thread counts restored after.

    Sets the BLAS libraries' thread counts directly (3 us a call) instead of threadpoolctl's
    ``limit`` context (20 us, which re-reads every library's state): that was 3% of an MNIST-1D
    training step, which calls it three times.
    """
    controller = blas_controller()
    libraries = [] if controller is None else blas_libraries(controller)
    previous = [library.get_num_threads() for library in libraries]
    for library in libraries:
        library.set_num_threads(1)
    try:
        yield
    finally:
        for library, count in zip(libraries, previous, strict=True):
            library.set_num_threads(count)


def blas_libraries(controller: Any) -> list[Any]:
    """threadpoolctl's per-library controllers of the BLAS libraries (found once)."""
    return [lib for lib in controller.lib_controllers if lib.user_api == "blas"]


def run_parts(
    work: Callable[[Any], Any],
    parts: Sequence[Any],
    single_thread_blas: bool = False,
    uses_blas: bool = True,
    threads: int | None = None,
) -> list[Any]:
    """``[work(part) for part in parts]``, on up to ``threads`` (``thread_count()``)
    threads, BLAS at one.

    The parts must write disjoint memory; results come back in the parts' order. The calling
    thread works too, and every thread takes the next part not yet taken. With
    ``single_thread_blas`` BLAS runs on one thread even when the parts run serially, so that
    a product's rounding never depends on the thread count; ``uses_blas=False`` (the parts
    never call BLAS, or the caller holds BLAS at one thread already) skips limiting it.
    """
    threads = min(thread_count() if threads is None else threads, len(parts))
    if threads <= 1 and not single_thread_blas:
        return [work(part) for part in parts]
    with single_thread_blas_calls() if uses_blas else nullcontext():
        if threads <= 1:
            return [work(part) for part in parts]
        results: list[Any] = [None] * len(parts)
        taken = itertools.count()  # next() is atomic: each part goes to one thread

        def drain() -> None:
            while (k := next(taken)) < len(parts):
                results[k] = work(parts[k])

        if not helper_threads(threads - 1).run(drain, threads - 1):
            drain()  # the helpers serve another call (nested, or another thread's)
        return results
