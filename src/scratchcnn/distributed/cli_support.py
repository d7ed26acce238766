"""``mpirun -n K scratchcnn train ...``: what the command line does differently under MPI.

Every rank runs the same command, loads the same data and builds the same model; ``fit`` and
the test evaluation are data-parallel. Rank 0 alone prints and writes the run folder: the
other ranks write into a private temporary folder (deleted at exit) and their output is
kept back, shown only when that rank fails. A rank that fails (an error, a non-zero exit)
ends the whole job with ``MPI_Abort``, so no rank is left waiting.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from scratchcnn.distributed.communicator import launched_size

_context: _RankContext | None = None
# Exit statuses that come from how training ended, which every rank agrees on: finished,
# diverged, interrupted, terminated. Any other (a user error on one rank) ends the job.
_SAME_ON_EVERY_RANK = (0, 1, 130, 143)


class _RankContext:
    def __init__(self) -> None:
        from scratchcnn.distributed.communicator import world
        from scratchcnn.distributed.data_parallel import DataParallel

        self.data_parallel = DataParallel(world())
        self.rank, self.size = self.data_parallel.rank, self.data_parallel.size
        self._scratch: Path | None = None

    def scratch_folder(self) -> Path:
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix=f"scratchcnn-rank{self.rank}-"))
            atexit.register(shutil.rmtree, self._scratch, True)
        return self._scratch


def threads_per_rank() -> int | None:
    """BLAS threads for each rank: this machine's cores shared by its ranks (None alone)."""
    from scratchcnn.kernels.threads import ranks_on_this_machine

    if launched_size() <= 1:
        return None
    return max(1, (os.cpu_count() or 1) // (ranks_on_this_machine() or launched_size()))


def data_parallel() -> Any:
    """The command's ``DataParallel`` under ``mpirun -n K`` (K > 1), else None."""
    return None if _context is None else _context.data_parallel


def is_root() -> bool:
    return _context is None or _context.rank == 0


def run_folder(make: Callable[[], Path]) -> Path:
    """Rank 0: ``make()`` (the real run folder). Other ranks: their private scratch folder."""
    if _context is None or _context.rank == 0:
        return make()
    return _context.scratch_folder()


def folder_for_writing(out: Path) -> Path:
    """``out`` on rank 0, the scratch folder on the others (they must not touch rank 0's)."""
    return out if is_root() else run_folder(lambda: out)


@contextlib.contextmanager
def rank_context() -> Iterator[Callable[[int], int]]:
    """Around one CLI command; yields ``finish(status)`` to call with the exit status.

    Outside ``mpirun`` (or with one rank) it does nothing and imports no MPI.
    """
    global _context
    if launched_size() <= 1:
        yield lambda status: status
        return
    _context = _RankContext()
    held = io.StringIO()
    streams = (
        contextlib.nullcontext()
        if _context.rank == 0
        else _redirect_both(held)  # rank 0 speaks for the job
    )

    def finish(status: int) -> int:
        if status not in _SAME_ON_EVERY_RANK:
            _abort(status, f"exited with status {status}", held)
        return status

    try:
        with streams:
            yield finish
    except BaseException as error:
        if isinstance(error, SystemExit) and not error.code:
            raise
        _abort(1, f"failed ({type(error).__name__}: {error})", held)
        raise
    finally:
        _context = None


@contextlib.contextmanager
def _redirect_both(held: io.StringIO) -> Iterator[None]:
    with contextlib.redirect_stdout(held), contextlib.redirect_stderr(held):
        yield


def _abort(status: int, what: str, held: io.StringIO) -> None:
    context = _context
    assert context is not None
    lines = held.getvalue().rstrip()
    if lines:
        prefix = f"[rank {context.rank}] "
        sys.__stderr__.write("".join(prefix + line + "\n" for line in lines.splitlines()))
    sys.__stderr__.write(
        f"scratchcnn: rank {context.rank} of {context.size} {what}; ending the job\n"
    )
    sys.__stderr__.flush()
    context.data_parallel.comm.abort(status)
