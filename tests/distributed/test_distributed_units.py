"""The pieces of scratchcnn.distributed that need no MPI: sharding, the flat buffer, errors."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

from scratchcnn import distributed
from scratchcnn.distributed import communicator
from scratchcnn.distributed.flat import FlatLayout
from scratchcnn.distributed.sharding import shard_bounds, shard_index, shard_sizes
from scratchcnn.layers import Dense
from scratchcnn.model import Sequential


@pytest.mark.parametrize("n", [0, 1, 5, 32, 33, 37])
@pytest.mark.parametrize("size", [1, 2, 3, 8])
def test_shards_cover_the_batch_in_order_and_differ_by_at_most_one(n, size):
    blocks = [shard_bounds(n, size, r) for r in range(size)]
    assert blocks[0][0] == 0 and blocks[-1][1] == n
    assert all(a[1] == b[0] for a, b in itertools.pairwise(blocks))
    sizes = shard_sizes(n, size)
    assert sum(sizes) == n and max(sizes) - min(sizes) <= 1
    assert sizes == sorted(sizes, reverse=True)  # the larger blocks come first
    assert sizes == [len(b) for b in np.array_split(np.arange(n), size)]


def test_shard_index_of_a_slice_and_of_an_index_array():
    order = np.array([5, 3, 9, 1, 0])
    assert list(shard_index(order, 2, 0)) == [5, 3, 9]
    assert list(shard_index(order, 2, 1)) == [1, 0]
    assert shard_index(slice(10, 15), 2, 1) == slice(13, 15)


def test_shard_bounds_rejects_a_rank_outside_the_job():
    with pytest.raises(
        ValueError, match=r"shard_bounds: expected 0 <= rank < size, but got rank 2"
    ):
        shard_bounds(10, 2, 2)
    with pytest.raises(ValueError, match=r"shard_bounds: expected n >= 0, but got -1"):
        shard_bounds(-1, 2, 0)


def test_shard_index_rejects_a_strided_slice():
    with pytest.raises(ValueError, match="shard_index: expected a slice with a stop and step 1"):
        shard_index(slice(0, 10, 2), 2, 0)


def test_flat_layout_packs_scaled_arrays_and_unpacks_them(rng):
    arrays = [rng.standard_normal((2, 3)), rng.standard_normal(4), rng.standard_normal((1, 1, 2))]
    layout = FlatLayout([a.shape for a in arrays], extra=3)
    assert layout.size == 6 + 4 + 2 + 3
    buffer = layout.new_buffer(np.float64)
    layout.extras(buffer)[:] = 7.0
    layout.pack(buffer, arrays, scale=3)
    for got, want in zip(layout.unpack(buffer, scale=0.5), arrays, strict=True):
        np.testing.assert_allclose(got, 1.5 * want, rtol=1e-15)
    assert list(layout.extras(buffer)) == [7.0, 7.0, 7.0]
    layout.pack(buffer, [None, arrays[1], arrays[2]])
    assert not buffer[:6].any()


def test_flat_layout_rejects_a_wrong_shape():
    layout = FlatLayout([(2, 3)])
    with pytest.raises(ValueError, match=r"FlatLayout.pack: expected an array of shape \(2, 3\)"):
        layout.pack(layout.new_buffer(np.float32), [np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"FlatLayout\.pack: expected 1 arrays, got 2"):
        layout.pack(layout.new_buffer(np.float32), [np.zeros((2, 3))] * 2)


def test_launched_size_reads_the_launchers_variables(monkeypatch):
    for name in communicator._LAUNCHER_SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert communicator.launched_size() == 1
    monkeypatch.setenv("PMI_SIZE", "4")
    assert communicator.launched_size() == 4
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "3")
    assert communicator.launched_size() == 3


def test_one_process_needs_no_mpi4py():
    """rank() and world_size() outside mpirun, and a plain fit, never import mpi4py."""
    code = (
        "import sys, numpy as np\n"
        "from scratchcnn import distributed\n"
        "from scratchcnn.model import Sequential\n"
        "from scratchcnn.layers import Dense\n"
        "d = distributed\n"
        "assert (d.rank(), d.world_size(), d.is_root()) == (0, 1, True)\n"
        "m = Sequential([Dense(3, 2)])\n"
        "m.fit(np.ones((4, 3)), np.array([0, 1, 0, 1]), verbose=0, distributed=False)\n"
        "m.evaluate(np.ones((4, 3)), np.array([0, 1, 0, 1]), distributed=None)\n"
        "assert 'mpi4py' not in sys.modules, 'mpi4py was imported'\n"
    )
    env_clean = {
        k: v for k, v in os.environ.items() if k not in communicator._LAUNCHER_SIZE_VARIABLES
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env_clean, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_fit_rejects_a_wrong_distributed_argument():
    model = Sequential([Dense(3, 2)])
    with pytest.raises(
        TypeError, match=r"distributed must be None, True, a scratchcnn\.distributed"
    ):
        model.fit(np.ones((4, 3)), np.array([0, 1, 0, 1]), verbose=0, distributed="yes")


def test_communicator_rejects_something_that_is_not_a_communicator():
    pytest.importorskip("mpi4py")
    with pytest.raises(TypeError, match="Communicator: comm must be an mpi4py communicator"):
        distributed.Communicator(comm=object())


def test_missing_mpi4py_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"pip install 'scratchcnn\[mpi\]'"):
        distributed.import_mpi()


def test_ranks_on_one_machine_share_its_cores(monkeypatch):
    from scratchcnn.distributed import cli_support

    for name in communicator._LAUNCHER_SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert cli_support.threads_per_rank() is None  # one process: BLAS's own choice
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "8")
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2")
    assert cli_support.threads_per_rank() == 4
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "16")
    assert cli_support.threads_per_rank() == 1


def test_distributed_fit_needs_a_sample_per_rank_in_each_first_batch(monkeypatch):
    from types import SimpleNamespace

    from scratchcnn.distributed import data_parallel

    monkeypatch.setattr(data_parallel, "abort_on_uncaught_exception", lambda comm: None)
    dp = data_parallel.DataParallel(SimpleNamespace(rank=0, size=4))
    with pytest.raises(ValueError, match=r"over 4 ranks needs batch_size .* batch_size=2 and 100"):
        dp.check_batches(2, 100, "Sequential.fit")
    with pytest.raises(ValueError, match=r"batch_size=32 and 3 samples"):
        dp.check_batches(32, 3, "Sequential.fit")
    dp.check_batches(4, 4, "Sequential.fit")
