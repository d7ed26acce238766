"""save/load: identical predictions, resumed training, atomic writes, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import scratchcnn.model.archive as archive_module
from scratchcnn.initializers import DefaultInitializer
from scratchcnn.layers import LAYER_REGISTRY, Conv2d, Dense, Flatten, MaxPool2d, ReLU
from scratchcnn.losses import SoftmaxCrossEntropy
from scratchcnn.model import Sequential, load
from scratchcnn.optimizers import SGD, Adam


def small_cnn(seed: int = 0, **kw: object) -> Sequential:
    init = DefaultInitializer(seed=seed)
    layers = [
        Conv2d(1, 4, 3, padding=1, initializer=init),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Dense(64, 3, initializer=init),
    ]
    if "BatchNorm2d" in LAYER_REGISTRY and kw.pop("batchnorm", False):
        layers.insert(1, LAYER_REGISTRY["BatchNorm2d"](4))
    return Sequential(layers, **kw)


@pytest.fixture
def data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((20, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 20)


def raw_entries(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def write_entries(path: Path, entries: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as f:
        np.savez(f, **entries)


def edit_architecture(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    entries = raw_entries(path)
    spec = json.loads(str(entries["__architecture__"]))
    edit(spec)
    entries["__architecture__"] = np.array(json.dumps(spec))
    write_entries(path, entries)


# -- round trips ------------------------------------------------------------------------------
def test_loaded_model_predicts_identically(data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    X, y = data
    model = small_cnn(optimizer=SGD(lr=0.05, momentum=0.9))
    model.fit(X, y, epochs=2, batch_size=5, verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = load(tmp_path / "m.npz")
    assert repr(loaded) == repr(model)
    assert loaded.get_config() == model.get_config()
    assert isinstance(loaded.optimizer, SGD) and loaded.optimizer.momentum == 0.9
    assert isinstance(loaded.loss, SoftmaxCrossEntropy)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("optimizer", [Adam(lr=0.01), SGD(lr=0.1, momentum=0.9)], ids=repr)
def test_loaded_model_resumes_training_exactly(data, tmp_path: Path, optimizer) -> None:  # type: ignore[no-untyped-def]
    X, y = data
    model = small_cnn(optimizer=optimizer)
    model.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = load(tmp_path / "m.npz")
    model.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    loaded.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for key, value in model.params().items():
        np.testing.assert_array_equal(loaded.params()[key], value, err_msg=key)


def test_float64_model_keeps_its_dtype(data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = small_cnn(dtype=np.float64)
    model.save(tmp_path / "m.npz")
    loaded = load(tmp_path / "m.npz")
    assert loaded.dtype == np.float64
    assert all(p.dtype == np.float64 for p in loaded.params().values())


@pytest.mark.skipif("BatchNorm2d" not in LAYER_REGISTRY, reason="BatchNorm2d not written yet")
def test_buffers_are_saved(data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    X, y = data
    model = small_cnn(batchnorm=True)
    model.fit(X, y, epochs=1, batch_size=5, verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = load(tmp_path / "m.npz")
    for key, value in model.buffers().items():
        np.testing.assert_array_equal(loaded.buffers()[key], value)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_path_is_used_as_given(tmp_path: Path) -> None:
    small_cnn().save(tmp_path / "model")
    assert (tmp_path / "model").exists()
    load(str(tmp_path / "model"))


def test_file_holds_no_pickles(tmp_path: Path) -> None:
    small_cnn().save(tmp_path / "m.npz")
    entries = raw_entries(tmp_path / "m.npz")  # allow_pickle=False would raise on objects
    assert all(value.dtype != object for value in entries.values())
    assert "param/0/W" in entries and "__architecture__" in entries


def test_custom_loss_cannot_be_saved(tmp_path: Path) -> None:
    class MyLoss(SoftmaxCrossEntropy):
        pass

    with pytest.raises(ValueError, match=r"cannot save a model with the custom loss"):
        small_cnn(loss=MyLoss()).save(tmp_path / "m.npz")


# -- atomic writes ----------------------------------------------------------------------------
def test_crash_while_writing_keeps_the_previous_file(
    data,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    X, _ = data
    path = tmp_path / "m.npz"
    old = small_cnn(seed=1)
    old.save(path)
    before = path.read_bytes()
    real_savez = np.savez

    def crashing_savez(file, **arrays):  # type: ignore[no-untyped-def]
        real_savez(file, **arrays)
        file.truncate(len(before) // 2)  # half the new file is on disk
        raise OSError("disk full")

    monkeypatch.setattr(archive_module.np, "savez", crashing_savez)
    with pytest.raises(OSError, match="disk full"):
        small_cnn(seed=2).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left
    np.testing.assert_array_equal(load(path).predict_proba(X), old.predict_proba(X))


def test_save_into_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"Sequential.save: the folder .* does not exist"):
        small_cnn().save(tmp_path / "nope" / "m.npz")


# -- errors -----------------------------------------------------------------------------------
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"load\('.*missing.npz'\): no such file"):
        load(tmp_path / "missing.npz")


def test_folder_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"is a folder, not a model file"):
        load(tmp_path)


def test_text_file_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "notes.npz"
    path.write_text("hello")
    with pytest.raises(ValueError, match=r"notes.npz'\): not a scratchcnn model file"):
        load(path)


def test_npy_file_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "a.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match=r"a single .npy array, not an .npz"):
        load(path)


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_cnn().save(path)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(ValueError, match=r"m.npz'\): "):
        load(path)


def test_npz_without_architecture(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    write_entries(path, {"W": np.zeros(3)})
    with pytest.raises(ValueError, match=r"not a scratchcnn model file \(no architecture entry\)"):
        load(path)


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_cnn().save(path)
    entries = raw_entries(path)
    entries["param/0/W"] = np.array([{"evil": 1}], dtype=object)
    np.savez(path, **entries)
    with pytest.raises(ValueError, match=r"m.npz'\)"):
        load(path)


def test_unknown_layer_class(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_cnn().save(path)
    edit_architecture(path, lambda spec: spec["layers"][1].update({"class": "os.system"}))
    with pytest.raises(ValueError, match=r"layer 1 has unknown class 'os.system'; known: .*Conv2d"):
        load(path)


def test_bad_layer_config(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_cnn().save(path)
    edit_architecture(path, lambda spec: spec["layers"][0]["config"].update({"colour": "red"}))
    with pytest.raises(ValueError, match=r"cannot build layer 0 Conv2d"):
        load(path)


def test_weight_shape_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_cnn().save(path)
    entries = raw_entries(path)
    entries["param/4/W"] = entries["param/4/W"][:-1]
    write_entries(path, entries)
    with pytest.raises(
        ValueError,
        match=r"param W of layer 4 Dense.* has shape \(63, 3\) in the "
        r"file, but the layer needs \(64, 3\)",
    ):
        load(path)


def test_missing_weight(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_cnn().save(path)
    entries = raw_entries(path)
    del entries["param/0/b"]
    write_entries(path, entries)
    with pytest.raises(ValueError, match=r"param b of layer 0 Conv2d.* is missing"):
        load(path)


def test_newer_format_version(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_cnn().save(path)
    edit_architecture(path, lambda spec: spec.update({"format_version": 99}))
    with pytest.raises(ValueError, match=r"file format version 99 is not supported"):
        load(path)


def test_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_cnn().save(path)
    entries = raw_entries(path)
    entries["__architecture__"] = np.array("{not json")
    write_entries(path, entries)
    with pytest.raises(ValueError, match=r"the architecture entry is not valid JSON"):
        load(path)


def test_optimizer_state_that_does_not_fit(data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    X, y = data
    path = tmp_path / "m.npz"
    model = small_cnn()
    model.fit(X, y, batch_size=10, verbose=0)
    model.save(path)
    entries = raw_entries(path)
    entries["optimizer/4.W.m"] = np.zeros((2, 2), dtype=np.float32)
    write_entries(path, entries)
    with pytest.raises(ValueError, match=r"the optimizer state does not fit"):
        load(path)


def test_integer_weights_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_cnn().save(path)
    entries = raw_entries(path)
    entries["param/0/W"] = entries["param/0/W"].astype(np.int64)
    write_entries(path, entries)
    with pytest.raises(
        ValueError,
        match=r"param W of layer 0 Conv2d.* has dtype int64 in the "
        r"file; expected a floating-point array",
    ):
        load(path)


def test_unexpected_entries(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_cnn().save(path)
    entries = raw_entries(path)
    entries["param/9/W"] = np.zeros(2, dtype=np.float32)
    write_entries(path, entries)
    with pytest.raises(ValueError, match=r"unexpected entries that fit no layer: param/9/W"):
        load(path)


def test_incomplete_architecture(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_cnn().save(path)
    edit_architecture(path, lambda spec: spec.pop("optimizer"))
    with pytest.raises(ValueError, match=r"the architecture entry is incomplete: KeyError"):
        load(path)


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_cnn().save(path)
    edit_architecture(path, lambda spec: spec.update({"format": "keras"}))
    with pytest.raises(ValueError, match=r"not a scratchcnn model file \(unknown format\)"):
        load(path)


def test_loading_a_non_archive_says_so_without_suggesting_pickle(tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match=r"not a scratchcnn model file") as caught:
        load(path)
    assert "pickle" not in str(caught.value)
