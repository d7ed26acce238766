"""export_onnx against onnxruntime: the written file passes onnx.checker and gives our outputs.

Our eval-mode forward in float32 is the reference (our layers are checked against torch
elsewhere); onnxruntime must agree within 1e-5 for every zoo model, for two models with
every exportable option (PyTorch's ceil_mode windows included) at several opsets, and with
a dynamic batch axis.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from interop_models import OPTION_MODELS, ZOO_CASES, zoo_model  # noqa: E402

from scratchcnn.interop import DEFAULT_OPSET, export_onnx  # noqa: E402
from scratchcnn.interop.onnx_export import MIN_OPSET  # noqa: E402
from scratchcnn.layers import Dense, Flatten, Layer, MaxPool2d, ReLU, SimpleConv1d  # noqa: E402
from scratchcnn.model import Sequential  # noqa: E402

TOLERANCE = 1e-5


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _run(path: Path, X: np.ndarray) -> np.ndarray:
    return _session(path).run(["output"], {"input": X.astype(np.float32)})[0]


def _reference(model: Sequential, X: np.ndarray) -> np.ndarray:
    return model.eval().forward(X.astype(model.dtype))


def _assert_close(theirs: np.ndarray, ours: np.ndarray) -> None:
    assert theirs.shape == ours.shape and theirs.dtype == np.float32
    np.testing.assert_allclose(theirs, ours, rtol=TOLERANCE, atol=TOLERANCE)


@pytest.mark.parametrize("name", list(ZOO_CASES))
def test_zoo_models_run_in_onnxruntime(name: str, tmp_path: Path, rng) -> None:
    model = zoo_model(name, np.float32)
    shape = ZOO_CASES[name][1]
    path = model.export_onnx(tmp_path / "model.onnx", shape)  # the Sequential method
    onnx.checker.check_model(str(path), full_check=True)
    X = rng.standard_normal((3, *shape)).astype(np.float32)
    _assert_close(_run(path, X), _reference(model, X))


@pytest.mark.parametrize("name", list(OPTION_MODELS))
@pytest.mark.parametrize("opset", [MIN_OPSET, DEFAULT_OPSET, 18, 21])
def test_every_option_at_several_opsets(name: str, opset: int, tmp_path: Path, rng) -> None:
    build, shape = OPTION_MODELS[name]
    model = build(np.float32, rng)
    model.train()
    model.forward(rng.standard_normal((4, *shape)))  # running statistics away from (0, 1)
    path = export_onnx(model, tmp_path / "model.onnx", shape, opset=opset)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", opset)]
    X = rng.standard_normal((5, *shape)).astype(np.float32)
    _assert_close(_run(path, X), _reference(model, X))


def test_the_batch_axis_is_dynamic(tmp_path: Path, rng) -> None:
    model = zoo_model("lenet5", np.float32)
    path = export_onnx(model, tmp_path / "lenet5.onnx", (1, 28, 28))
    session = _session(path)
    (given,), (out,) = session.get_inputs(), session.get_outputs()
    assert (given.name, given.shape) == ("input", ["batch", 1, 28, 28])
    assert (out.name, out.shape) == ("output", ["batch", 10])
    for n in (1, 7):
        X = rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
        _assert_close(session.run(None, {"input": X})[0], _reference(model, X))


def test_without_input_shape_the_spatial_axes_stay_symbolic(tmp_path: Path, rng) -> None:
    model = zoo_model("lenet5", np.float32)
    path = model.export_onnx(tmp_path / "lenet5.onnx")
    (given,) = _session(path).get_inputs()
    assert given.shape == ["batch", 1, "height", "width"]
    X = rng.standard_normal((2, 1, 29, 30)).astype(np.float32)  # any size that fits
    _assert_close(_run(path, X), _reference(model, X))


def test_a_float64_model_exports_float32_and_stays_float64(tmp_path: Path, rng) -> None:
    model = zoo_model("mnist1d_cnn", np.float64)
    path = export_onnx(model, tmp_path / "m.onnx", (1, 40))
    assert model.dtype == np.float64 and model.layers[0].W.dtype == np.float64
    X = rng.standard_normal((2, 1, 40))
    _assert_close(_run(path, X), _reference(model, X).astype(np.float32))


def test_the_file_names_its_producer_and_weights(tmp_path: Path) -> None:
    model = zoo_model("lenet5", np.float32)
    proto = onnx.load(str(export_onnx(model, tmp_path / "m.onnx", (1, 28, 28))))
    assert proto.producer_name == "scratchcnn"
    assert "Conv2d(1, 6" in proto.doc_string
    names = {t.name for t in proto.graph.initializer}
    assert {"0.weight", "0.bias", "11.weight", "11.bias"} <= names


def test_the_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old model")

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        export_onnx(zoo_model("lenet5", np.float32), path, (1, 28, 28))
    assert path.read_bytes() == b"old model"
    assert os.listdir(tmp_path) == ["model.onnx"]  # no temporary file left behind


# -- errors ----------------------------------------------------------------------------------
class OnnxlessDoubler(Layer):
    def forward(self, X: np.ndarray) -> np.ndarray:
        return 2 * X


@pytest.mark.parametrize(
    ("layer", "match"),
    [
        (SimpleConv1d(3), r"layer 1 SimpleConv1d\(filter_size=3\) cannot be exported to ONNX"),
        (
            OnnxlessDoubler(),
            r"layer 1 OnnxlessDoubler\(\) cannot be exported to ONNX; exportable layers: ",
        ),
    ],
)
def test_a_layer_without_an_exporter_is_named(layer: Layer, match: str, tmp_path: Path) -> None:
    model = Sequential([Dense(4, 4), layer])
    path = tmp_path / "m.onnx"
    with pytest.raises(TypeError, match="export_onnx: " + match):
        export_onnx(model, path, (4,))
    assert not path.exists()


def test_an_input_shape_that_does_not_fit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"export_onnx: samples of shape \(1, 8, 8\) do not fit"):
        export_onnx(zoo_model("lenet5", np.float32), tmp_path / "m.onnx", (1, 8, 8))


def test_input_shape_must_be_a_tuple(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="export_onnx: input_shape must be a tuple of ints"):
        export_onnx(zoo_model("lenet5", np.float32), tmp_path / "m.onnx", "1x28x28")


@pytest.mark.parametrize("opset", [MIN_OPSET - 1, 10_000])
def test_opset_out_of_range(opset: int, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"export_onnx: opset must be between {MIN_OPSET} and"):
        export_onnx(zoo_model("lenet5", np.float32), tmp_path / "m.onnx", opset=opset)


def test_the_method_passes_the_opset(tmp_path: Path) -> None:
    path = zoo_model("lenet5", np.float32).export_onnx(tmp_path / "m.onnx", opset=MIN_OPSET)
    assert onnx.load(str(path)).opset_import[0].version == MIN_OPSET


def test_opset_must_be_an_int(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="export_onnx: opset must be an int, but got '17'"):
        export_onnx(zoo_model("lenet5", np.float32), tmp_path / "m.onnx", opset="17")


def test_ceil_mode_needs_the_input_shape(tmp_path: Path) -> None:
    model = Sequential([MaxPool2d(2, ceil_mode=True), Flatten()])
    with pytest.raises(
        ValueError,
        match=r"MaxPool2d\(.*ceil_mode=True\) with ceil_mode=True "
        "needs the input's size",
    ):
        export_onnx(model, tmp_path / "m.onnx")


def test_an_input_shape_the_layers_do_not_tell(tmp_path: Path) -> None:
    model = Sequential([Flatten(), ReLU(), Dense(4, 2)])
    with pytest.raises(
        ValueError,
        match="export_onnx: cannot tell the input's shape from the "
        "model's layers; pass input_shape",
    ):
        export_onnx(model, tmp_path / "m.onnx")


def test_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"export_onnx: the folder .* does not exist"):
        export_onnx(zoo_model("lenet5", np.float32), tmp_path / "nowhere" / "m.onnx")


def test_export_needs_a_model(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="export_onnx: expected a scratchcnn Sequential"):
        export_onnx(Dense(2, 2), tmp_path / "m.onnx")


def test_missing_onnx_is_a_clear_import_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    with pytest.raises(
        ImportError,
        match=r"export_onnx needs the optional package 'onnx', which "
        r"is not installed; install it with: pip install onnx",
    ):
        export_onnx(zoo_model("lenet5", np.float32), tmp_path / "m.onnx")
