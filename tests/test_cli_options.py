"""The command line's options: help texts, checked values, --data-root, the test split only."""

from __future__ import annotations

import argparse
import functools
import json
import re
from pathlib import Path

import numpy as np
import pytest

from scratchcnn.cli import DATASET_DEFAULTS, build_parser, main
from scratchcnn.datasets import DATASETS, write_idx
from scratchcnn.datasets import mnist as mnist_module
from scratchcnn.layers import Dense, Flatten
from scratchcnn.model import Sequential


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


@pytest.mark.parametrize(
    "command",
    ["train", "evaluate", "predict", "summary", "explain", "gradcheck", "visualize", "export"],
)
def test_every_option_has_help_with_its_default(command: str) -> None:
    for action in _subparsers()[command]._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = "/".join(action.option_strings) or action.metavar or action.dest
        assert action.help, f"{command} {name} has no help text"
        if action.option_strings:  # an option: its help says what happens when it is not given
            assert re.search(r"\(default: |\(required\)", action.help), f"{command} {name}"


def test_help_shows_the_defaults(capsys) -> None:
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for expected in ("--epochs EPOCHS number of passes", "--batch-size BATCH_SIZE samples per",
                     "--limit N use only the first N", "(default: digits)", "(default: 0.1)"):
        assert expected in text
    for name, defaults in DATASET_DEFAULTS.items():  # the description states each dataset's
        assert f"{name}: {defaults['model']}, {defaults['epochs']} epochs" in text
    assert main(["predict", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "IMAGE an image file, or a folder" in text and "--top-k K" in text
    assert main(["summary", "--help"]) == 0
    assert "--num-classes K outputs of a named model" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--seed", "-5"], "argument --seed: expected a non-negative integer, got '-5'"),
        (["train", "--seed", "x"], "argument --seed: expected a non-negative integer, got 'x'"),
        (["train", "--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
        (["predict", "m", "a.png", "--top-k", "0"], "argument --top-k: expected a positive"),
        (["predict", "m", "--input-shape", "1", "8"], "argument --input-shape: expected 3"),
    ],
)
def test_bad_values_name_their_option(argv: list[str], message: str, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_confusion_matrix_title_names_the_split(tmp_path: Path, monkeypatch) -> None:
    titles = {}

    def record(matrix, path, class_names=None, title=""):
        titles["confusion"] = title
        return Path(path)

    monkeypatch.setattr("scratchcnn.plots.plot_confusion_matrix", record)
    argv = ["train", "--epochs", "1", "--limit", "120", "--out", str(tmp_path / "run")]
    assert main(argv) == 0
    assert titles["confusion"] == "small_cnn on digits: test split (120 samples)"


# -- evaluate: the test split only, --data-root checked -------------------------------------
@pytest.fixture
def tiny_mnist_run(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    """A run folder for 4x5 'MNIST' images and a data root that holds only the test split."""
    rng = np.random.default_rng(5)
    root = tmp_path / "data"
    (root / "mnist").mkdir(parents=True)
    images = rng.integers(0, 256, size=(30, 4, 5), dtype=np.uint8)
    labels = rng.integers(0, 10, size=30, dtype=np.uint8)
    write_idx(root / "mnist" / "t10k-images-idx3-ubyte.gz", images)
    write_idx(root / "mnist" / "t10k-labels-idx1-ubyte.gz", labels)
    run = tmp_path / "run"
    run.mkdir()
    model = Sequential([Flatten(), Dense(20, 10)])
    model.save(run / "model.npz")
    config = {"dataset": "mnist", "input_shape": [1, 4, 5], "num_classes": 10}
    (run / "config.json").write_text(json.dumps(config))
    expected = model.evaluate(images[:, None] / np.float32(255), labels.astype(np.int64))
    return run, root, np.array(expected)


def test_evaluate_reads_only_the_test_split(tiny_mnist_run, monkeypatch, capsys) -> None:
    run, root, (loss, accuracy) = tiny_mnist_run

    def no_download(*args, **kwargs):
        raise AssertionError(f"evaluate tried to download {args}")

    monkeypatch.setattr(mnist_module, "download_file", no_download)
    monkeypatch.setattr(mnist_module, "SYSTEM_FOLDERS", {"mnist": [], "fashion-mnist": []})
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "empty-cache"))
    assert main(["evaluate", str(run), "--data-root", str(root)]) == 0
    printed = capsys.readouterr().out
    assert "mnist test split: 30 samples" in printed
    assert float(printed.split("loss", 1)[1].split()[0]) == pytest.approx(loss, abs=5e-5)
    assert float(printed.split("accuracy", 1)[1].split()[0]) == pytest.approx(accuracy, abs=5e-5)


def test_download_error_names_the_data_root_option(
    tiny_mnist_run, tmp_path: Path, monkeypatch, capsys
) -> None:
    run, _, _ = tiny_mnist_run
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(mnist_module, "MIRRORS", {"mnist": ["http://127.0.0.1:9/"]})
    monkeypatch.setattr(mnist_module, "SYSTEM_FOLDERS", {"mnist": [], "fashion-mnist": []})
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SCRATCHCNN_DATA", raising=False)
    assert main(["evaluate", str(run), "--data-root", str(empty)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "could not download t10k-images-idx3-ubyte.gz" in err
    assert "or pass --data-root FOLDER." in err and "root=" not in err


def test_missing_files_without_download_name_the_option(
    tiny_mnist_run, tmp_path: Path, monkeypatch, capsys
) -> None:
    run, _, _ = tiny_mnist_run
    offline = functools.partial(mnist_module.load_mnist, download=False)
    monkeypatch.setitem(DATASETS, "mnist", offline)
    (tmp_path / "nothing").mkdir()
    assert main(["evaluate", str(run), "--data-root", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "not found and download=False" in err and "pass --data-root FOLDER" in err


def test_threads_option_sets_the_librarys_own_threads_for_the_command(monkeypatch) -> None:
    """--threads holds BLAS and scratchcnn's own loops to N while the command runs, then
    the environment is as it was (a process that runs commands in turn keeps its setting)."""
    import os

    from scratchcnn.kernels.threads import thread_count

    seen = []
    monkeypatch.setattr("scratchcnn.cli.cmd_evaluate", lambda args: seen.append(thread_count()))
    monkeypatch.setenv("SCRATCHCNN_NUM_THREADS", "5")
    main(["evaluate", "run-folder", "--threads", "1"])
    assert seen == [1]
    assert os.environ["SCRATCHCNN_NUM_THREADS"] == "5"
    monkeypatch.delenv("SCRATCHCNN_NUM_THREADS")
    main(["evaluate", "run-folder", "--threads", "2"])
    assert seen == [1, 2] and "SCRATCHCNN_NUM_THREADS" not in os.environ
