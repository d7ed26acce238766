"""Atomic writes: umask permissions, stale temporary files, a writer killed mid-save."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from scratchcnn.atomic import atomic_write, atomic_write_text, remove_stale_temporaries
from scratchcnn.layers import Dense
from scratchcnn.model import Sequential, load


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_files_get_the_umask_permissions(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        Sequential([Dense(3, 2)]).save(tmp_path / "model.npz")
        atomic_write_text(tmp_path / "config.json", "{}")
    finally:
        os.umask(old)
    for name in ("model.npz", "config.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask, name


def test_the_next_save_removes_temporaries_of_dead_writers(tmp_path: Path) -> None:
    target = tmp_path / "model.npz"
    dead = tmp_path / f".model.npz.{dead_pid()}.0a1b2c3d.tmp"
    legacy = tmp_path / ".model.npz.k3j_x9qz.tmp"  # tempfile.mkstemp's name, an old crash
    live = tmp_path / f".model.npz.{os.getppid()}.0a1b2c3d.tmp"  # a writer still running
    recent_legacy = tmp_path / ".model.npz.abcdefgh.tmp"
    other = tmp_path / f".other.npz.{dead_pid()}.00.tmp"
    for path in (dead, legacy, live, recent_legacy, other):
        path.write_bytes(b"partial")
    hour_ago = time.time() - 3600
    os.utime(legacy, (hour_ago, hour_ago))
    Sequential([Dense(3, 2)]).save(target)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["model.npz", live.name, recent_legacy.name, other.name])


def test_remove_stale_temporaries_reports_what_it_removed(tmp_path: Path) -> None:
    dead = tmp_path / f".x.json.{dead_pid()}.ff.tmp"
    dead.write_text("{")
    assert remove_stale_temporaries(tmp_path / "x.json") == [dead]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "config.json"
    target.write_text("old")

    def fail(f: object) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fail)
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]
    assert target.read_text() == "old"


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"the folder .*nowhere' does not exist"):
        atomic_write_text(tmp_path / "nowhere" / "x.json", "{}")


KILLED_SAVE = """
import os, signal, sys
import numpy as np
from scratchcnn.layers import Dense
from scratchcnn.model import Sequential

model = Sequential([Dense(300, 200)])
original = np.savez
def savez(f, **arrays):
    f.write(b"PK half a zip")
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)
np.savez = savez
model.save(sys.argv[1])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_9_during_a_save_keeps_the_old_file_and_the_next_save_cleans_up(
    tmp_path: Path,
) -> None:
    target = tmp_path / "model.npz"
    before = Sequential([Dense(300, 200)])
    before.save(target)
    done = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(target)], check=False)
    assert done.returncode == -signal.SIGKILL
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1  # what the killed writer left
    np.testing.assert_array_equal(load(target).layers[0].W, before.layers[0].W)
    before.save(target)
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
