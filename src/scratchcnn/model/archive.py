"""The model file: one ``.npz`` archive, written atomically, read without pickle.

Entries: ``__architecture__`` (JSON: format name and version, layer class names and
``get_config()``, loss, optimizer name and config, dtype), ``param/<i>/<name>``,
``buffer/<i>/<name>``, ``optimizer/<key>`` (the optimizer's ``state_dict``) and, from
version 2, ``__training__`` (JSON: what resuming needs, see resume.py).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from scratchcnn import losses as _losses
from scratchcnn import optimizers as _optimizers
from scratchcnn.atomic import atomic_write
from scratchcnn.model.resume import training_state

FORMAT_NAME = "scratchcnn.Sequential"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1 had no training state
ARCHITECTURE_KEY = "__architecture__"
TRAINING_KEY = "__training__"


def model_arrays(model: Any) -> dict[str, np.ndarray]:
    """Every entry of ``model``'s archive: architecture, parameters, buffers, optimizer state."""
    arrays: dict[str, np.ndarray] = {ARCHITECTURE_KEY: np.array(json.dumps(model.get_config()))}
    for i, layer in enumerate(model.layers):
        for name, value in layer.params().items():
            arrays[f"param/{i}/{name}"] = np.asarray(value)
        for name, value in layer.buffers().items():
            arrays[f"buffer/{i}/{name}"] = np.asarray(value)
    if hasattr(model.optimizer, "state_dict"):
        for key, value in model.optimizer.state_dict(model.layers).items():
            arrays[f"optimizer/{key}"] = np.asarray(value)
    arrays[TRAINING_KEY] = np.array(json.dumps(training_state(model)))
    return arrays


def loss_name(loss: Any) -> str:
    for name, cls in _losses.LOSSES.items():
        if type(loss) is cls:
            return name
    raise ValueError(
        f"Sequential.save: cannot save a model with the custom loss {loss!r}; a saved model "
        f"names its loss, one of {', '.join(repr(k) for k in _losses.LOSSES)}"
    )


def optimizer_name(optimizer: Any) -> str:
    registry = getattr(_optimizers, "OPTIMIZERS", {})
    for name, cls in registry.items():
        if type(optimizer) is cls:
            return name
    raise ValueError(
        f"Sequential.save: cannot save a model with the custom optimizer {optimizer!r}; a saved "
        f"model names its optimizer, one of {', '.join(repr(k) for k in registry)}"
    )


def atomic_savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` to a temporary file beside ``path``, fsync, then ``os.replace``."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"Sequential.save: the folder {str(folder)!r} does not exist")
    atomic_write(path, lambda f: np.savez(f, **arrays))


def read_arrays(path: Path, where: str) -> dict[str, np.ndarray]:
    """Every entry of the archive at ``path`` (``allow_pickle=False``); ValueError if not one."""
    # We open the file ourselves: np.load leaks its handle when the zip directory is broken.
    with open(path, "rb") as f:
        magic = f.read(6)
        f.seek(0)
        if magic == b"\x93NUMPY":
            raise ValueError(
                f"{where}: not a scratchcnn model file (a single .npy array, not an .npz)"
            )
        if not magic.startswith(b"PK"):  # not a zip archive; np.load would suggest unpickling
            raise ValueError(
                f"{where}: not a scratchcnn model file (expected a .npz archive written by "
                "Sequential.save)"
            )
        try:
            archive = np.load(f, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(
                f"{where}: not a scratchcnn model file (not a readable .npz): {error}"
            ) from error
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(
                f"{where}: not a scratchcnn model file (a single .npy array, not an .npz)"
            )
        with archive:
            try:
                arrays = {key: archive[key] for key in archive.files}
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
                raise ValueError(f"{where}: the file is corrupt: {error}") from error
    return arrays
