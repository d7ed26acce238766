"""benchmarks/mpi_scaling.py: the ring Allreduce model, the projection and the report."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "mpi_scaling.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("_bench_mpi_scaling", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ring_allreduce_cost_is_the_textbook_formula(bench):
    # 4 nodes, 1 MB at 8 Gbit/s (1 GB/s): 2*3/4 * 1e6 B / 1e9 B/s = 1.5 ms, plus 6 latencies
    assert bench.ring_allreduce_seconds(1e6, 4, 8, 10e-6) == pytest.approx(1.5e-3 + 60e-6)
    assert bench.ring_allreduce_seconds(1e6, 1, 8, 10e-6) == 0.0


def test_projection_efficiency_is_compute_over_step(bench):
    steps = {"m": {"params": 250_000 - 7, "step_seconds": 0.010}}
    rows = bench.project(steps, node_batch=64, latency=0.0)
    row = next(r for r in rows if r["nodes"] == 2 and r["gbit"] == 10)
    comm = 2 * 1 / 2 * 1e6 / (10e9 / 8)  # 1 MB of float32 gradients
    assert row["allreduce_ms"] == pytest.approx(1e3 * comm)
    assert row["efficiency"] == pytest.approx(0.010 / (0.010 + comm))
    assert row["images_per_second"] == pytest.approx(2 * 64 / (0.010 + comm))
    assert len(rows) == len(bench.NODES) * len(bench.BANDWIDTHS_GBIT)


def test_missing_resnet20_is_estimated_and_said_so(bench):
    steps = {"lenet5": {"params": 44_426, "step_seconds": 0.02, "flops": 1e6}, "resnet20": None}
    note = bench.fill_resnet20(steps, node_batch=10)
    assert steps["resnet20"]["params"] == 269_722 and steps["resnet20"]["estimated"]
    assert "resnet20 is not in this checkout's zoo" in note
    rate = 1e6 * 10 / 0.02
    assert steps["resnet20"]["step_seconds"] == pytest.approx(6 * 40.8e6 * 10 / rate)


@pytest.mark.slow
def test_quick_run_writes_the_table_and_plot(tmp_path):
    pytest.importorskip("mpi4py")
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = (tmp_path / "mpi_scaling.md").read_text()
    assert "mpirun -n 2, 1 thread each" in text and "| lenet5 | 44,426 |" in text
    results = json.loads((tmp_path / "mpi_scaling.json").read_text())
    assert results["two_ranks"]["ranks"] == 2
    assert (tmp_path / "mpi_scaling.png").stat().st_size > 10_000
