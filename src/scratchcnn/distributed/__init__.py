"""Data-parallel training over MPI (mpi4py), optional: ``pip install 'scratchcnn[mpi]'``.

Run the same script on K processes with ``mpirun -n K python train.py``; in it::

    from scratchcnn import distributed
    model = zoo.lenet5(seed=0)                # rank 0's weights are broadcast anyway
    history = model.fit(X, y, epochs=5, batch_size=64, distributed=True)
    if distributed.is_root():
        model.save("model.npz")

Each global batch of ``batch_size`` is split over the ranks, gradients are averaged with one
Allreduce per step, and every rank ends with the same weights (see ``data_parallel.py``).
``rank()``, ``world_size()`` and ``is_root()`` work without MPI too (0, 1, True) and never
import mpi4py outside ``mpirun``; nothing here changes a single-process run.
"""

from __future__ import annotations

from scratchcnn.distributed.communicator import Communicator, import_mpi, launched_size, world
from scratchcnn.distributed.data_parallel import (
    DataParallel,
    abort_on_uncaught_exception,
    as_data_parallel,
    report_failure,
)
from scratchcnn.distributed.sharding import shard_bounds, shard_index, shard_sizes


def is_launched() -> bool:
    """True inside a job of more than one process started by ``mpirun`` / ``mpiexec``."""
    return launched_size() > 1


def rank() -> int:
    """This process's rank in the job (0 without MPI)."""
    return world().rank if is_launched() else 0


def world_size() -> int:
    """The number of processes in the job (1 without MPI)."""
    return world().size if is_launched() else 1


def is_root() -> bool:
    """True on rank 0: the rank that prints and writes files."""
    return rank() == 0


__all__ = [
    "Communicator",
    "DataParallel",
    "abort_on_uncaught_exception",
    "as_data_parallel",
    "import_mpi",
    "is_launched",
    "is_root",
    "launched_size",
    "rank",
    "report_failure",
    "shard_bounds",
    "shard_index",
    "shard_sizes",
    "world",
    "world_size",
]
