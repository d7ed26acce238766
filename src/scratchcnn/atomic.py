"""Atomic file writes: a temporary file beside the target, fsync, then one rename.

A reader sees the old file or the new one, never half of one; a crash, a full disk or a
``kill -9`` leaves the old file in place. Temporary files are named
``.<name>.<pid>.<random>.tmp`` and created with mode 0o666 minus the umask (as ``open``
would), not owner-only; the next write of the same file removes those left behind by a
process that died.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

# Temporary files of writers that crashed before pids were in the name (tempfile.mkstemp's
# 8 random characters) count as stale once they are this old.
_ANONYMOUS_STALE_SECONDS = 600.0


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, sync it and rename it over.

    The folder must exist (FileNotFoundError otherwise). On any error, or an interrupt, the
    temporary file is removed and ``path`` is untouched. Returns ``path`` as a Path.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(
            f"cannot write {str(path)!r}: the folder {str(folder)!r} does not exist"
        )
    remove_stale_temporaries(path)
    tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # os.open applies the umask to 0o666, as open() does; mkstemp would make it 0o600
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_folder(folder)
    return path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """``atomic_write`` of ``data``."""
    return atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """``atomic_write`` of ``text`` as UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files of earlier writes of ``path`` whose writer is gone.

    A file ``.<name>.<pid>.<hex>.tmp`` is stale when no process ``pid`` runs (a writer of
    this process never leaves one: it removes its file on every error). Older files
    ``.<name>.<8 chars>.tmp`` are stale after ten minutes. Returns the removed paths.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    with_pid = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.[0-9a-f]+\.tmp$")
    anonymous = re.compile(rf"^\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}\.tmp$")
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = with_pid.match(entry.name)
        if match:
            stale = not _process_alive(int(match.group(1)))
        elif anonymous.match(entry.name):
            try:
                stale = now - entry.stat(follow_symlinks=False).st_mtime > _ANONYMOUS_STALE_SECONDS
            except OSError:
                continue
        else:
            continue
        if stale and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # on Windows os.kill(pid, 0) would kill it
        return True  # (and another thread of ours may be writing right now)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists (another user's) or we cannot tell: leave the file alone
    return True


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); not possible everywhere."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
