"""Run folders of ``scratchcnn train``: claimed before training, every file written atomically.

A run folder holds ``config.json`` (written first, with ``"status": "running"``, which also
proves the folder writable), ``checkpoint.npz`` and ``history.json`` after every epoch
(``checkpoint.npz`` is what ``--resume`` continues from: the end of the last completed
epoch), then ``model.npz`` (the final or last good weights), ``curves.png`` and
``confusion.png``. An existing folder is never replaced silently.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from pathlib import Path
from typing import Any

from scratchcnn.atomic import atomic_write_text
from scratchcnn.model.callbacks import Callback

RUN_FILES = (
    "config.json",
    "checkpoint.npz",
    "history.json",
    "model.npz",
    "curves.png",
    "confusion.png",
)

# How a run ended -> the command's exit status (documented in the README).
EXIT_STATUS = {"finished": 0, "diverged": 1, "interrupted": 130, "terminated": 143}


class RunFolderError(ValueError):
    """A run folder that cannot be used: exists already, is a file, is not writable."""


def default_run_name(dataset: str, model: str) -> str:
    return f"{dataset}-{model}-{time.strftime('%Y%m%d-%H%M%S')}"


def new_run_folder(parent: str | os.PathLike[str], name: str) -> Path:
    """Create ``parent/name``, or ``name-2``, ``name-3``, ... when taken, and return it.

    ``mkdir`` either creates the folder or fails, so two runs started in the same second
    (even in two processes) never share one.
    """
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        folder = parent / (name if n == 1 else f"{name}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise AssertionError("unreachable")


def claim_run_folder(folder: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Create ``folder`` for a new run; refuse one that holds files unless ``overwrite``.

    With ``overwrite`` the files of an earlier run (``RUN_FILES``) are removed first, so
    nothing of it is mistaken for this run's; other files are left alone.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"--out {str(folder)!r} is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        if not overwrite:
            raise RunFolderError(
                f"--out {str(folder)!r} already exists and is not empty; pass --overwrite to "
                f"replace its run, or --resume {str(folder)!r} to continue it"
            )
        for name in RUN_FILES:
            (folder / name).unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically (strict JSON: NaN becomes null)."""
    text = json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n"
    return atomic_write_text(path, text)


def write_config(folder: Path, config: dict[str, Any]) -> None:
    """Write ``config.json``; a folder that cannot be written is a RunFolderError."""
    try:
        write_json(folder / "config.json", config)
    except OSError as error:
        raise RunFolderError(
            f"cannot write to the run folder {str(folder)!r}: {error.strerror or error}"
        ) from error


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise RunFolderError(f"{str(folder)!r} is not a run folder (no config.json)")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise RunFolderError(f"{str(path)!r} is not valid JSON: {error}") from error
    if not isinstance(config, dict):
        raise RunFolderError(f"{str(path)!r} does not hold a run's settings")
    return config


class HistoryWriter(Callback):
    """Writes the model's whole history to ``history.json`` after every epoch."""

    def __init__(self, path: Path, extra: dict[str, Any] | None = None) -> None:
        self.path = path
        self.extra = extra or {}

    def on_epoch_end(self, event: dict[str, Any]) -> None:
        write_json(self.path, {**self.model.history.to_dict(), **self.extra})
