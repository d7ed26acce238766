"""Arrays too large for memory: a clear error before allocating, from layers, files and the CLI."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from scratchcnn import memory
from scratchcnn.cli import main
from scratchcnn.layers import Conv2d, Dense, Flatten
from scratchcnn.memory import ArrayTooLargeError, check_allocation, format_bytes
from scratchcnn.model import Sequential, load

GIB = 1 << 30


@pytest.fixture
def eight_gib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend the machine has 8 GiB free, so the limits do not depend on the test machine."""
    monkeypatch.setattr(memory, "available_memory", lambda: 8 * GIB)


def test_available_memory_is_plausible() -> None:
    available = memory.available_memory()
    assert available is None or 1 << 20 < available < 1 << 50


def test_format_bytes() -> None:
    assert format_bytes(512) == "512 B"
    assert format_bytes(1.5 * GIB) == "1.5 GiB"
    assert format_bytes(122.07 * GIB) == "122.1 GiB"


def test_check_allocation_message(eight_gib) -> None:
    check_allocation((1024, 1024), np.float32, "W", "Dense(1024, 1024)")  # 4 MiB: fine
    message = (
        "Dense(8000000, 4096): W of shape (8000000, 4096) needs 122.1 GiB as float32 "
        "(366.2 GiB while it is made), more than the 8.0 GiB of memory available"
    )
    with pytest.raises(ArrayTooLargeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_allocation((8_000_000, 4096), np.float32, "W", "Dense(8000000, 4096)", 3)


def test_error_is_a_memory_error_and_a_value_error(eight_gib) -> None:
    with pytest.raises(MemoryError):
        check_allocation((GIB, 16), np.float32, "W", "x")
    with pytest.raises(ValueError):
        check_allocation((GIB, 16), np.float32, "W", "x")


def test_dense_refuses_before_allocating(eight_gib) -> None:
    with pytest.raises(ArrayTooLargeError, match=r"Dense\(in_features=1000000, out_features="
                       r"100000\): W of shape \(1000000, 100000\) needs 372.5 GiB"):
        Dense(1_000_000, 100_000)


def test_conv_refuses_before_allocating(eight_gib) -> None:
    with pytest.raises(ArrayTooLargeError, match=r"Conv2d\(100000, 100000, kernel_size=\(3, 3\).*"
                       r"W of shape \(100000, 100000, 3, 3\) needs 335.3 GiB"):
        Conv2d(100_000, 100_000, 3)


def test_crafted_architecture_in_a_model_file(tmp_path: Path, eight_gib) -> None:
    # a saved model whose architecture entry was edited to declare a 372 GiB Dense layer
    path = tmp_path / "crafted.npz"
    Sequential([Flatten(), Dense(4, 3)]).save(path)
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    spec = json.loads(str(arrays["__architecture__"]))
    spec["layers"][1]["config"].update(in_features=1_000_000, out_features=100_000)
    arrays["__architecture__"] = np.array(json.dumps(spec))
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"cannot build layer 1 Dense.*needs 372.5 GiB"):
        load(path)
    assert main(["summary", "--model", str(path)]) == 2


def test_crafted_array_header_in_a_model_file(tmp_path: Path, eight_gib) -> None:
    # an entry whose .npy header declares a (100000, 100000) float32 array: 37 GiB, no data
    path = tmp_path / "huge-entry.npz"
    Sequential([Flatten(), Dense(4, 3)]).save(path)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (100_000, 100_000)}
    )
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("param/1/X.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:])
    with pytest.raises(ArrayTooLargeError, match=r"the file's arrays need 37.3 GiB \(the largest"
                       r", 'param/1/X', has shape \(100000, 100000\) of float32\)"):
        load(path)


def test_summary_of_a_huge_input_is_one_line(eight_gib, capsys) -> None:
    assert main(["summary", "--model", "vgg16", "--input-shape", "3", "4000", "4000"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err
    assert lines[0].startswith("scratchcnn summary: error: Dense(in_features=8000000, ")
    assert "needs 122.1 GiB as float32" in lines[0]


def test_cli_reports_numpy_memory_errors_in_one_line(monkeypatch, capsys) -> None:
    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 1.00 TiB for an array")

    monkeypatch.setattr("scratchcnn.cli.cmd_summary", exhausted)
    assert main(["summary", "--model", "lenet5"]) == 2
    assert capsys.readouterr().err.strip() == (
        "scratchcnn summary: error: out of memory: Unable to allocate 1.00 TiB for an array"
    )


def test_predict_with_a_huge_input_shape(tmp_path: Path, eight_gib, capsys) -> None:
    from PIL import Image

    lonely = tmp_path / "m.npz"
    Sequential([Flatten(), Dense(4, 3)]).save(lonely)
    Image.new("L", (4, 4)).save(tmp_path / "a.png")
    argv = ["predict", str(lonely), str(tmp_path / "a.png"), "--input-shape", "3", "99999",
            "99999"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("scratchcnn predict: error: prepare_image: the framed picture of shape "
                          "(3, 99999, 99999) needs 223.5 GiB as float64")
