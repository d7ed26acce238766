"""``load``: rebuild a saved model from ``LAYER_REGISTRY`` names, never running file code."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from scratchcnn import losses as _losses
from scratchcnn import optimizers as _optimizers
from scratchcnn.layers.base import LAYER_REGISTRY, Layer
from scratchcnn.model import archive
from scratchcnn.model.resume import restore_training_state
from scratchcnn.model.sequential import Sequential


def load(path: str | os.PathLike[str]) -> Sequential:
    """Rebuild a model written by ``Sequential.save``: same predictions, resumable training.

    Only classes in ``LAYER_REGISTRY`` are built and nothing is unpickled, so loading never
    runs code from the file. A missing file raises FileNotFoundError; a file that is not a
    scratchcnn model, or whose weights do not fit its architecture, raises ValueError.
    """
    path = Path(path)
    where = f"load({str(path)!r})"
    if not path.exists():
        raise FileNotFoundError(f"{where}: no such file")
    if path.is_dir():
        raise ValueError(f"{where}: is a folder, not a model file")
    return model_from_arrays(archive.read_arrays(path, where), where)


def model_from_arrays(arrays: dict[str, np.ndarray], where: str) -> Sequential:
    """The model an archive's entries describe (it consumes them); ValueError on misfit."""
    if archive.ARCHITECTURE_KEY not in arrays:
        raise ValueError(f"{where}: not a scratchcnn model file (no architecture entry)")
    try:
        spec = json.loads(str(arrays.pop(archive.ARCHITECTURE_KEY)))
    except (json.JSONDecodeError, TypeError) as error:
        raise ValueError(f"{where}: the architecture entry is not valid JSON: {error}") from error
    if not isinstance(spec, dict) or spec.get("format") != archive.FORMAT_NAME:
        raise ValueError(f"{where}: not a scratchcnn model file (unknown format)")
    version = spec.get("format_version")
    if version not in archive.READABLE_VERSIONS:
        readable = " and ".join(map(str, archive.READABLE_VERSIONS))
        raise ValueError(
            f"{where}: file format version {version!r} is not supported (this scratchcnn "
            f"reads versions {readable})"
        )
    training = None
    if archive.TRAINING_KEY in arrays:
        try:
            training = json.loads(str(arrays.pop(archive.TRAINING_KEY)))
        except (json.JSONDecodeError, TypeError) as error:
            raise ValueError(f"{where}: the training state is not valid JSON: {error}") from error
    try:
        layer_specs = list(spec["layers"])
        loss_name = spec["loss"]
        opt_name, opt_config = spec["optimizer"]["name"], dict(spec["optimizer"]["config"])
        dtype = spec["dtype"]
    except (KeyError, TypeError) as error:
        raise ValueError(f"{where}: the architecture entry is incomplete: {error!r}") from error

    layers: list[Layer] = []
    for i, layer_spec in enumerate(layer_specs):
        cls_name = layer_spec.get("class") if isinstance(layer_spec, dict) else None
        cls = LAYER_REGISTRY.get(cls_name) if isinstance(cls_name, str) else None
        if cls is None:
            known = ", ".join(sorted(LAYER_REGISTRY))
            raise ValueError(f"{where}: layer {i} has unknown class {cls_name!r}; known: {known}")
        config = layer_spec.get("config", {})
        if not isinstance(config, dict):
            raise ValueError(f"{where}: layer {i} ({cls_name}) has a config that is not a dict")
        try:
            layers.append(cls(**config))
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{where}: cannot build layer {i} {cls_name}({config}): {error}"
            ) from error

    for i, layer in enumerate(layers):
        for kind, names in (("param", layer.param_names), ("buffer", layer.buffer_names)):
            for name in names:
                key = f"{kind}/{i}/{name}"
                current = layer._get_array(name)
                if key not in arrays:
                    raise ValueError(f"{where}: {kind} {name} of layer {i} {layer!r} is missing")
                stored = arrays.pop(key)
                expected = np.shape(current)
                if stored.shape != expected:
                    raise ValueError(
                        f"{where}: {kind} {name} of layer {i} {layer!r} has shape "
                        f"{stored.shape} in the file, but the layer needs {expected}"
                    )
                if (
                    stored.dtype.kind != "f"
                    and isinstance(current, np.ndarray)
                    and current.dtype.kind == "f"
                ):
                    raise ValueError(
                        f"{where}: {kind} {name} of layer {i} {layer!r} has dtype "
                        f"{stored.dtype} in the file; expected a floating-point array"
                    )
                layer._set_array(name, stored)  # np.load gives a fresh, writable array
    optimizer_state = {
        key[len("optimizer/") :]: (value.item() if value.ndim == 0 else value)
        for key, value in arrays.items()
        if key.startswith("optimizer/")
    }
    leftover = [key for key in arrays if not key.startswith("optimizer/")]
    if leftover:
        raise ValueError(
            f"{where}: unexpected entries that fit no layer: {', '.join(leftover[:5])}"
        )

    try:
        loss = _losses.make_loss(loss_name)
        optimizer = _optimizers.make_optimizer(opt_name, **opt_config)
        model = Sequential(layers, loss=loss, optimizer=optimizer, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: cannot rebuild the model: {error}") from error
    if optimizer_state:
        try:
            optimizer.load_state_dict(model.layers, optimizer_state)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{where}: the optimizer state does not fit: {error}") from error
    if training is not None:
        restore_training_state(model, training, where)
    return model
