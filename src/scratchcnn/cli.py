"""The ``scratchcnn`` command line: train, evaluate, predict, summary, export (and the lab's
explain, gradcheck and visualize, in ``scratchcnn/lab/commands.py``).

``scratchcnn train`` with no options trains a small CNN on scikit-learn's 8x8 digits (no
download) and writes a run folder: ``model.npz``, ``config.json`` (the command, the resolved
settings and the preprocessing ``predict`` needs), ``history.json``, ``curves.png`` and
``confusion.png``. User errors (unknown names, missing files, shapes that do not fit) print
one line to stderr and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np

import scratchcnn
from scratchcnn import cli_training
from scratchcnn.images import PREPROCESSING

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

# Settings used when the command line does not give them, per dataset. The digits defaults
# reach about 97% test accuracy in a few seconds; their matrices are so small that one BLAS
# thread is fastest (several threads can be 10x slower on a busy machine).
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    "digits": {"model": "small_cnn", "epochs": 15, "batch_size": 32, "lr": 3e-3, "threads": 1},
    "mnist": {"model": "lenet5", "epochs": 5, "batch_size": 128, "lr": 1e-3},
    "fashion-mnist": {"model": "lenet5", "epochs": 10, "batch_size": 128, "lr": 1e-3},
    "mnist1d": {"model": "mnist1d_cnn", "epochs": 30, "batch_size": 100, "lr": 1e-2},
    "folder": {"model": "small_cnn", "epochs": 10, "batch_size": 32, "lr": 1e-3},
}

# Every dataset here stores light strokes on a dark background (high value = ink).
LIGHT_ON_DARK = {"digits", "mnist", "fashion-mnist"}

# The datasets read from MNIST-format files, for which --data-root means something.
ROOT_DATASETS = {"mnist", "fashion-mnist"}


class CLIError(Exception):
    """A user error: printed as one line on stderr, exit status 2."""


class BrokenModelError(Exception):
    """A model that cannot give meaningful outputs (NaN weights): one line, exit status 1."""


# -- names -----------------------------------------------------------------------------------
def _model_names() -> list[str]:
    from scratchcnn import zoo

    return ["small_cnn", *zoo.MODELS]


def _dataset_key(name: str) -> str:
    from scratchcnn.datasets import DATASETS

    if cli_training.is_folder(name):
        return name  # folder:PATH, your own images
    key = name.strip().lower().replace("_", "-")
    if key not in DATASETS:
        raise CLIError(f"unknown dataset {name!r}; valid names: {', '.join(sorted(DATASETS))}")
    return key


def _model_key(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    if key not in _model_names():
        raise CLIError(f"unknown model {name!r}; valid names: {', '.join(_model_names())}")
    return key


def build_model(
    name: str,
    input_shape: tuple[int, ...],
    num_classes: int,
    optimizer: Any = "adam",
    seed: int | None = None,
) -> Any:
    """A ``Sequential`` from a model name (``small_cnn`` or a zoo name) for this input shape.

    ``small_cnn`` is the classifier module's default network: 2-D for (C, H, W) input and
    1-D for (C, L) input.
    """
    from scratchcnn import zoo
    from scratchcnn.classifier import small_cnn, small_cnn1d
    from scratchcnn.model import Sequential

    key = _model_key(name)
    if key == "small_cnn":
        if len(input_shape) not in (2, 3):
            raise CLIError(f"small_cnn takes (C, L) or (C, H, W) inputs, not {input_shape}")
        factory = small_cnn if len(input_shape) == 3 else small_cnn1d
        return Sequential(factory(input_shape, num_classes, seed=seed), optimizer=optimizer)
    return zoo.get_model(
        key, input_shape=input_shape, num_classes=num_classes, seed=seed, optimizer=optimizer
    )


# -- data ------------------------------------------------------------------------------------
def _load_data(name: str, data_root: str | None, split: str | None = None) -> Any:
    """The dataset's two splits, or one (``split="test"``) as ``(X, y)``.

    ``--data-root`` must be an existing folder and is only for the MNIST-format datasets;
    the loaders' hints about their ``root=`` argument name the option instead.
    """
    from scratchcnn.datasets import DownloadError, load_dataset
    from scratchcnn.datasets.mnist import ROOT_HINT

    key = _dataset_key(name)
    if cli_training.is_folder(key):
        return cli_training.load_folder(key)
    kwargs: dict[str, Any] = {}
    if data_root is not None:
        if key not in ROOT_DATASETS:
            raise CLIError(
                f"--data-root is for {' and '.join(sorted(ROOT_DATASETS))}; {key} needs no files"
            )
        if not Path(data_root).is_dir():
            what = "is not a folder" if Path(data_root).exists() else "does not exist"
            raise CLIError(f"--data-root {data_root!r} {what}")
        kwargs["root"] = data_root
    try:
        return load_dataset(key, split=split, **kwargs)
    except (DownloadError, FileNotFoundError) as error:
        raise CLIError(str(error).replace(ROOT_HINT, "pass --data-root FOLDER")) from error


def _train_defaults(dataset: str) -> dict[str, Any]:
    key = _dataset_key(dataset)
    if cli_training.is_folder(key):
        return DATASET_DEFAULTS["folder"]
    return DATASET_DEFAULTS.get(key, DATASET_DEFAULTS["mnist"])


def _class_names(dataset: str, num_classes: int) -> list[str]:
    if cli_training.is_folder(dataset):
        return cli_training.folder_class_names(dataset)
    if dataset == "fashion-mnist" and num_classes == len(FASHION_MNIST_CLASSES):
        return list(FASHION_MNIST_CLASSES)
    return [str(i) for i in range(num_classes)]


def _limit(X: np.ndarray, y: np.ndarray, n: int | None) -> tuple[np.ndarray, np.ndarray]:
    return (X, y) if n is None else (X[:n], y[:n])


# -- run folders -----------------------------------------------------------------------------
def _model_paths(path: str) -> tuple[Path, Path]:
    """``(model.npz, config.json)`` for a run folder or a model file."""
    model_path = Path(path)
    if model_path.is_dir():
        model_path = model_path / "model.npz"
    if not model_path.exists():
        raise CLIError(f"model file not found: {str(model_path)!r}")
    return model_path, model_path.parent / "config.json"


def _load_run(path: str) -> tuple[Any, dict[str, Any]]:
    """The model and its run config (empty when there is no config.json beside it)."""
    from scratchcnn.model import load

    model_path, config_path = _model_paths(path)
    model = load(model_path)
    config: dict[str, Any] = {}
    if config_path.exists():
        try:
            config = json.loads(config_path.read_text())
        except json.JSONDecodeError as error:
            raise CLIError(f"{str(config_path)!r} is not valid JSON: {error}") from error
    return model, config


def _input_shape(config: dict[str, Any], given: Sequence[int] | None, path: str) -> tuple[int, ...]:
    if given:
        return tuple(given)
    if "input_shape" in config:
        return tuple(int(n) for n in config["input_shape"])
    raise CLIError(
        f"no config.json with the input shape next to {path!r}; pass --input-shape C H W"
    )


# -- commands --------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    """Train a model on a dataset (or continue a run with --resume) and write the run folder."""
    from scratchcnn.optimizers import make_optimizer
    from scratchcnn.runs import claim_run_folder, default_run_name, new_run_folder, write_config

    if args.resume is not None:
        return _resume(args)
    dataset = _dataset_key(args.dataset)
    defaults = _train_defaults(dataset)
    settings = {
        key: getattr(args, key) if getattr(args, key) is not None else defaults[key]
        for key in ("model", "epochs", "batch_size", "lr")
    }
    model_name = _model_key(settings["model"])
    optimizer = make_optimizer(
        args.optimizer, lr=float(settings["lr"]), **cli_training.optimizer_kwargs(args)
    )
    if not 0.0 <= args.val_split < 1.0:
        raise CLIError(f"--val-split must be in [0, 1), but got {args.val_split}")
    if args.seed < 0:
        raise CLIError(f"--seed must be a non-negative integer, but got {args.seed}")
    # the folder first: a taken or unwritable --out fails before any data is read
    from scratchcnn.distributed import cli_support as mpi

    # under mpirun rank 0 claims the folder, the others write into scratch folders
    if args.dry_run:
        out = Path(args.out or ".")  # a dry run writes nothing
    elif args.out:
        out = mpi.run_folder(lambda: claim_run_folder(args.out, overwrite=args.overwrite))
    else:
        out = mpi.run_folder(lambda: new_run_folder("runs", default_run_name(dataset, model_name)))

    if cli_training.is_folder(dataset):
        size = tuple(args.image_size) if args.image_size else None
        (X_train, y_train), (X_test, y_test) = cli_training.load_folder(
            dataset, size, args.test_split, args.seed
        )
    else:
        (X_train, y_train), (X_test, y_test) = _load_data(dataset, args.data_root)
    num_classes = int(max(y_train.max(), y_test.max())) + 1  # before --limit drops any
    X_train, y_train = _limit(X_train, y_train, args.limit)
    X_test, y_test = _limit(X_test, y_test, args.limit)
    input_shape = tuple(int(n) for n in X_train.shape[1:])
    class_names = _class_names(dataset, num_classes)
    model = build_model(model_name, input_shape, num_classes, optimizer, args.seed)
    cli_training.apply_loss(model, args)
    if args.dry_run:
        from scratchcnn.lab.commands import dry_run

        n_fit = int(X_train.shape[0] * (1.0 - args.val_split))
        return dry_run(model, input_shape, n_fit, settings)
    config = {
        "command": ["scratchcnn", *args.argv],
        "scratchcnn_version": scratchcnn.__version__,
        "status": "running",
        "dataset": dataset,
        "model": model_name,
        "epochs": int(settings["epochs"]),
        "batch_size": int(settings["batch_size"]),
        "optimizer": args.optimizer,
        "lr": float(settings["lr"]),
        "seed": args.seed,
        "threads": args.threads,
        "val_split": args.val_split,
        "limit": args.limit,
        "data_root": args.data_root,
        "train_samples": int(X_train.shape[0]),
        "test_samples": int(X_test.shape[0]),
        "input_shape": list(input_shape),
        "num_classes": num_classes,
        "class_names": class_names,
        "preprocessing": {
            "scale": "pixel / 255 (images in [0, 1])",
            "light_on_dark": dataset in LIGHT_ON_DARK,
            "resize": "to the input H x W",
        },
        "parameters": model.num_params(),
    }
    n_fit = int(X_train.shape[0] * (1.0 - args.val_split))  # as fit's validation_split
    extras = cli_training.fit_kwargs(
        args, model, input_shape, config["epochs"],
        math.ceil(max(n_fit, 1) / config["batch_size"]), out,
    )  # fmt: skip
    config.update(cli_training.describe(args, extras))
    from scratchcnn.lab.commands import train_callbacks

    extras["callbacks"] = [*extras.get("callbacks", []), *train_callbacks(args)]
    write_config(out, config)
    print(
        f"Training {model_name} ({model.num_params():,} parameters) on {dataset}: "
        f"{X_train.shape[0]} training, {X_test.shape[0]} test samples of shape {input_shape}"
    )
    print(f"Run folder: {out}/ (checkpoint after every epoch)")
    return _train_run(
        model, out, config, (X_train, y_train), (X_test, y_test), seed=args.seed, extras=extras
    )


# Options that --resume takes from the run's config.json instead (--epochs may grow it).
_FIXED_BY_RUN = (
    "--model", "--dataset", "--batch-size", "--optimizer", "--lr", "--seed", "--val-split",
    "--limit", "--out", "--overwrite", *cli_training.RECIPE_OPTIONS,
)
_RESUME_OPTIONS = ("--resume", "--epochs", "--threads", "--data-root")


def _given_options(argv: Sequence[str], parser_options: Sequence[str]) -> set[str]:
    """The long options present in ``argv``, abbreviations resolved as argparse does."""
    given = set()
    for token in argv:
        if token == "--":
            break
        if not token.startswith("--"):
            continue
        name = token.split("=", 1)[0]
        matches = [opt for opt in parser_options if opt == name] or [
            opt for opt in parser_options if opt.startswith(name)
        ]
        if len(matches) == 1:
            given.add(matches[0])
    return given


def _resume(args: argparse.Namespace) -> int:
    """``train --resume RUN_DIR [--epochs N]``: continue from the run's last checkpoint."""
    from scratchcnn.model import load
    from scratchcnn.runs import read_config, write_config

    out = Path(args.resume)
    if not out.is_dir():
        raise CLIError(f"--resume {str(out)!r}: no such run folder")
    config = read_config(out)
    given = _given_options(args.argv, (*_FIXED_BY_RUN, *_RESUME_OPTIONS))
    fixed = sorted(given & set(_FIXED_BY_RUN))
    if fixed:
        raise CLIError(
            f"--resume continues the run with its own settings (config.json); {', '.join(fixed)} "
            "cannot be given with it (only --epochs, --threads and --data-root)"
        )
    checkpoint = out / "checkpoint.npz"
    if not checkpoint.is_file():
        raise CLIError(
            f"--resume {str(out)!r}: no checkpoint.npz there (the run stopped before its first "
            "epoch ended); start it again instead"
        )
    model = load(checkpoint)
    done = model.epochs_trained
    epochs = int(args.epochs) if args.epochs is not None else int(config.get("epochs", done))
    if epochs < done:
        raise CLIError(
            f"--resume {str(out)!r}: the run has trained {done} epochs already, more than "
            f"--epochs {epochs}"
        )
    try:
        dataset = _dataset_key(str(config["dataset"]))
        limit = config.get("limit")
    except KeyError as error:
        raise CLIError(f"{str(out / 'config.json')!r} lacks the setting {error}") from None
    if cli_training.is_folder(dataset):
        (X_train, y_train), (X_test, y_test) = cli_training.load_folder_of_run(config)
    else:
        (X_train, y_train), (X_test, y_test) = _load_data(dataset, args.data_root or config.get(
            "data_root"))
    X_train, y_train = _limit(X_train, y_train, limit)
    X_test, y_test = _limit(X_test, y_test, limit)
    if list(X_train.shape[1:]) != list(config.get("input_shape", X_train.shape[1:])):
        raise CLIError(f"{dataset} samples of shape {X_train.shape[1:]} do not fit the run")
    recipe = cli_training.recipe_of_run(config, epochs)  # before config takes the new epochs
    resumes = [
        *config.get("resumed", []),
        {"command": ["scratchcnn", *args.argv], "from_epoch": done},
    ]
    config.update(epochs=epochs, status="running", resumed=resumes)
    for key in ("test_loss", "test_accuracy", "interrupted"):
        config.pop(key, None)
    from scratchcnn.distributed import cli_support as mpi

    write_config(mpi.folder_for_writing(out), config)  # rank 0 alone under mpirun
    cli_training.apply_loss(model, recipe)
    n_fit = int(X_train.shape[0] * (1.0 - float(config["val_split"])))
    extras = cli_training.fit_kwargs(
        recipe, model, tuple(X_train.shape[1:]), epochs,
        math.ceil(max(n_fit, 1) / int(config["batch_size"])), out,
    )  # fmt: skip
    print(f"Resuming {out}/ at epoch {done} of {epochs}")
    return _train_run(
        model, out, config, (X_train, y_train), (X_test, y_test), seed=None, extras=extras
    )


def _train_run(
    model: Any,
    out: Path,
    config: dict[str, Any],
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    seed: int | None,
    extras: dict[str, Any] | None = None,
) -> int:
    """Train up to ``config["epochs"]`` epochs, save, then evaluate; returns the exit status.

    Saving comes before the test evaluation and cannot be cut by a Ctrl+C, so an interrupt
    at any point leaves the run's files in place (exit 130, or 143 for SIGTERM).
    """
    from scratchcnn.distributed import cli_support as mpi
    from scratchcnn.model.interrupts import uninterrupted
    from scratchcnn.runs import EXIT_STATUS, RUN_FILES, HistoryWriter, write_config, write_json

    out = mpi.folder_for_writing(out)  # under mpirun the other ranks write into scratch
    (X_train, y_train), (X_test, y_test) = train, test
    extras = dict(extras or {})  # the recipe: schedule, augmentation, callbacks (cli_training)
    recipe_callbacks = extras.pop("callbacks", [])
    remaining = int(config["epochs"]) - model.epochs_trained
    start = time.perf_counter()
    if remaining > 0:
        with warnings.catch_warnings():  # a divergence gets its own message below
            warnings.filterwarnings("ignore", "Sequential.fit stopped", RuntimeWarning)
            history = model.fit(
                X_train,
                y_train,
                epochs=remaining,
                batch_size=int(config["batch_size"]),
                validation_split=float(config["val_split"]),
                seed=seed,
                verbose=1,
                checkpoint_path=out / "checkpoint.npz",
                callbacks=[HistoryWriter(out / "history.json"), *recipe_callbacks],
                distributed=mpi.data_parallel(),
                **extras,
            )
    else:
        history = model.history.copy()
        history.start_run()
    train_seconds = time.perf_counter() - start + float(config.get("train_seconds") or 0.0)
    if history.interrupted:
        status = "terminated" if history.signal == signal.SIGTERM else "interrupted"
    else:
        status = "diverged" if history.diverged else "finished"
    config.update(train_seconds=round(train_seconds, 3), interrupted=history.interrupted)

    def save_run() -> None:
        model.save(out / "model.npz")
        config["status"] = status if status != "finished" else "evaluating"
        write_config(out, config)
        write_json(out / "history.json", history.to_dict())

    uninterrupted(save_run)  # a second Ctrl+C waits until the files are complete
    title = f"{config['model']} on {config['dataset']}"
    if history.interrupted:
        _plot_curves(history, out, title)
        print(f"Stopped: {history.stopped_reason}", file=sys.stderr)
        if history.epochs:
            hint = f"continue with: scratchcnn train --resume {out}"
        else:
            hint = "no epoch completed, so there is no checkpoint to resume from"
        print(
            f"Saved the weights of the last completed step to {out}/model.npz; {hint}",
            file=sys.stderr,
        )
        return EXIT_STATUS[status]
    if history.diverged:
        print(_divergence_message(history, out, config), file=sys.stderr)
    try:
        test_loss, test_accuracy, predicted = _test_evaluation(model, X_test, y_test)
    except KeyboardInterrupt as stop:
        from scratchcnn.model.interrupts import Terminated

        config["status"] = "trained, test evaluation interrupted"
        uninterrupted(lambda: write_config(out, config))
        print(
            f"Interrupted during the test evaluation; the trained model is saved in "
            f"{out}/model.npz (evaluate it with: scratchcnn evaluate {out})",
            file=sys.stderr,
        )
        return EXIT_STATUS["terminated" if isinstance(stop, Terminated) else "interrupted"]
    if not mpi.is_root():  # rank 0 writes the results
        return EXIT_STATUS[status]

    config.update(status=status, test_loss=test_loss, test_accuracy=test_accuracy)
    record = history.to_dict()
    record.update(test_loss=test_loss, test_accuracy=test_accuracy)

    def save_results() -> None:
        write_config(out, config)
        write_json(out / "history.json", record)

    uninterrupted(save_results)
    _plot_curves(history, out, title)
    from scratchcnn.plots import confusion_matrix, plot_confusion_matrix

    matrix = confusion_matrix(y_test, predicted, int(config["num_classes"]))
    split_title = f"{title}: test split ({len(y_test)} samples)"
    plot_confusion_matrix(matrix, out / "confusion.png", config["class_names"], title=split_title)
    from scratchcnn.lab.commands import write_run_pictures

    write_run_pictures(model, out, X_test, y_test, config["class_names"], recipe_callbacks)

    if history.stopped_reason and not history.diverged:
        print(f"Stopped early: {history.stopped_reason}")
    print(f"Test loss {test_loss:.4f}, test accuracy {test_accuracy:.2%} ({train_seconds:.1f}s)")
    warning = None if history.diverged else _chance_level_warning(test_accuracy, y_test, config)
    if warning:
        print(warning, file=sys.stderr)
    written = [name for name in RUN_FILES if (out / name).is_file()]
    print(f"Wrote {out}/: {', '.join(written)}")
    return EXIT_STATUS[status]


def _plot_curves(history: Any, out: Path, title: str) -> None:
    from scratchcnn.plots import plot_learning_curves

    if history.epochs:
        plot_learning_curves(history, out / "curves.png", title=title)


def _test_evaluation(
    model: Any, X: np.ndarray, y: np.ndarray
) -> tuple[float, float, np.ndarray]:
    """Loss, accuracy and predictions on the test split; a diverged model gives NaN/inf.

    Under mpirun the evaluation is sharded over the ranks; only rank 0 predicts (for the
    confusion matrix).
    """
    from scratchcnn.distributed import cli_support as mpi

    loss, accuracy = model.evaluate(X, y, distributed=mpi.data_parallel())
    if not mpi.is_root():
        return loss, float(accuracy or 0.0), np.empty(0, dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        predicted = model.predict(X)
    return loss, float(accuracy or 0.0), predicted


def _divergence_message(history: Any, out: Path, config: dict[str, Any]) -> str:
    done = history.epochs
    kept = f"those at the end of epoch {done}" if done else "those it started with"
    default_lr = _train_defaults(config["dataset"])["lr"]
    return (
        f"Training diverged: {history.stopped_reason}\n"
        f"The last good weights, {kept}, are saved in {out}/model.npz.\n"
        f"Try a lower learning rate: this run used --lr {config['lr']:g} "
        f"(the default for {config['dataset']} is {default_lr:g}), e.g. --lr "
        f"{config['lr'] / 10:g}."
    )


def _chance_level_warning(
    accuracy: float, y: np.ndarray, config: dict[str, Any]
) -> str | None:
    """A warning when the test accuracy is no better than always guessing the commonest class."""
    chance = float(np.bincount(y).max() / len(y))
    if accuracy > chance + 0.05:
        return None
    return (
        f"warning: the test accuracy {accuracy:.1%} is at chance level (always answering the "
        f"most frequent class scores {chance:.1%}): the model learned nothing. Try a lower "
        f"learning rate (this run used --lr {config['lr']:g}) or more --epochs."
    )


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Loss, accuracy and per-class accuracy of a saved model on a dataset's test split."""
    model, config = _load_run(args.model)
    _check_weights(model, args.model)
    if args.dataset is None and "dataset" not in config:
        raise CLIError(f"no config.json with the dataset next to {args.model!r}; pass --dataset")
    dataset = _dataset_key(args.dataset or config["dataset"])
    X, y = _load_data(dataset, args.data_root, split="test")
    X, y = _limit(X, y, args.limit)
    expected = config.get("input_shape")
    if expected is not None and tuple(expected) != tuple(X.shape[1:]):
        raise CLIError(
            f"the model takes inputs of shape {tuple(expected)}, but {dataset} has samples of "
            f"shape {tuple(X.shape[1:])}"
        )
    try:
        out_shape = model.output_shape(X.shape[1:])
    except ValueError as error:
        raise CLIError(f"{dataset} samples of shape {tuple(X.shape[1:])} do not fit the model: "
                       f"{error}") from error
    num_classes = out_shape[0]
    if y.max() >= num_classes:
        raise CLIError(
            f"{dataset} has labels up to {int(y.max())}, but the model has {num_classes} outputs"
        )
    loss, accuracy = model.evaluate(X, y, batch_size=args.batch_size)
    if not math.isfinite(loss):
        raise BrokenModelError(
            f"the model in {args.model!r} is broken: its outputs are NaN or infinite on "
            f"{dataset} (the loss is {loss}), so its predictions mean nothing; retrain it with "
            "a lower learning rate (--lr)"
        )
    predicted = model.predict(X, batch_size=args.batch_size)
    names = config.get("class_names") or _class_names(dataset, num_classes)
    print(f"{dataset} test split: {len(y)} samples")
    print(f"loss      {loss:.4f}")
    print(f"accuracy  {accuracy:.4f}")
    print("per-class accuracy:")
    width = max(len(str(n)) for n in names)
    for k in range(num_classes):
        mask = y == k
        if mask.any():
            rate = float(np.mean(predicted[mask] == k))
            print(f"  {names[k]:<{width}}  {rate:.4f}  ({int(mask.sum())} samples)")
    return 0


def _check_weights(model: Any, path: str) -> None:
    """BrokenModelError when a parameter or buffer holds NaN or infinity."""
    for i, layer in enumerate(model.layers):
        for kind, arrays in (("parameter", layer.params()), ("buffer", layer.buffers())):
            for name, value in arrays.items():
                if not np.isfinite(value).all():
                    bad = "NaN" if np.isnan(value).any() else "infinity"
                    raise BrokenModelError(
                        f"the model in {path!r} is broken: {kind} {name} of layer {i} "
                        f"{layer!r} contains {bad}, so its predictions mean nothing (did its "
                        "training diverge?); retrain it with a lower learning rate (--lr)"
                    )


def cmd_predict(args: argparse.Namespace) -> int:
    """Print the top labels and their probabilities for each picture (see scratchcnn.predict).

    A file that cannot be read is reported on stderr and the others are still classified;
    the exit status is then 2.
    """
    from scratchcnn.predict import classify_pictures, framing_for

    model, config = _load_run(args.model)
    input_shape = _input_shape(config, args.input_shape, args.model)
    if len(input_shape) != 3 or input_shape[0] not in (1, 3):
        what = "not images (C, H, W)" if len(input_shape) != 3 else (
            f"{input_shape[0]}-channel inputs; images give 1 (gray) or 3 (RGB) channels"
        )
        raise CLIError(f"the model takes inputs of shape {input_shape}: {what}")
    preprocess = args.preprocess
    if preprocess == "auto":
        preprocess = framing_for(config.get("dataset"))
    predictions = classify_pictures(
        model, args.images, input_shape,
        class_names=config.get("class_names") or (),
        top_k=args.top_k,
        invert=args.invert,
        light_on_dark=bool(config.get("preprocessing", {}).get("light_on_dark", False)),
        preprocess=preprocess,
    )
    count = failures = 0
    for prediction in predictions:
        count += 1
        if prediction.error is not None:
            failures += 1
            print(f"scratchcnn predict: error: {prediction.path}: {prediction.error}",
                  file=sys.stderr, flush=True)
        else:
            text = ", ".join(f"{label} ({p:.4f})" for label, p in prediction.top)
            print(f"{prediction.path}: {text}", flush=True)
    if failures and count > 1:
        print(f"scratchcnn predict: {failures} of {count} files could not be classified",
              file=sys.stderr)
    return 2 if failures else 0


def cmd_summary(args: argparse.Namespace) -> int:
    """Print the Keras-style summary table of a zoo model or a saved model."""
    if args.model.endswith(".npz") or "/" in args.model or Path(args.model).is_dir():
        model, config = _load_run(args.model)
        shape = _input_shape(config, args.input_shape, args.model)
    else:
        key = _model_key(args.model)
        kwargs: dict[str, Any] = {}
        if args.num_classes is not None:
            kwargs["num_classes"] = args.num_classes
        if key == "small_cnn":
            shape = tuple(args.input_shape or (1, 8, 8))
            model = build_model(key, shape, kwargs.get("num_classes", 10))
        else:
            from scratchcnn import zoo

            if args.input_shape:
                kwargs["input_shape"] = tuple(args.input_shape)
            model = zoo.get_model(key, **kwargs)
            default = _default_input_shape(zoo.MODELS[key])
            shape = tuple(args.input_shape) if args.input_shape else default
    print(model.summary(shape))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write a saved model as an ONNX file (checked with onnx.checker, written atomically)."""
    from scratchcnn.interop import export_onnx

    model, config = _load_run(args.model)
    shape = _input_shape(config, args.input_shape, args.model)
    try:
        path = export_onnx(model, args.output, shape, opset=args.opset)
    except ImportError as error:
        raise CLIError(str(error)) from error
    out_shape = model.output_shape(shape)
    print(
        f"wrote {path}: opset {args.opset}, input 'input' (batch, {', '.join(map(str, shape))}), "
        f"output 'output' (batch, {', '.join(map(str, out_shape))}), float32"
    )
    return 0


def _default_input_shape(factory: Callable[..., Any]) -> tuple[int, ...]:
    import inspect

    return tuple(inspect.signature(factory).parameters["input_shape"].default)


# -- the parser ------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a non-negative integer, got {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _state_defaults(parser: argparse.ArgumentParser) -> None:
    """Append "(default: ...)" to every option's help that does not say it already."""
    for sub in parser._actions:
        if not isinstance(sub, argparse._SubParsersAction):
            continue
        for command in sub.choices.values():
            for action in command._actions:
                if isinstance(action, argparse._HelpAction) or not action.option_strings:
                    continue
                text = action.help or ""
                if "(default: " in text or "(required)" in text:
                    continue
                if isinstance(action, argparse._StoreTrueAction):
                    shown = "off"
                elif action.default in (None, (), [], ""):
                    shown = "none"
                else:
                    shown = str(action.default).replace("%", "%%")
                action.help = f"{text} (default: {shown})".strip()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser and its subcommands; every option's help gives its default."""
    parser = argparse.ArgumentParser(
        prog="scratchcnn",
        description="Convolutional neural networks from scratch on NumPy.",
        epilog="Run 'scratchcnn train' with no options to train a small CNN on the 8x8 digits.",
    )
    parser.add_argument("--version", action="version", version=scratchcnn.__version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--threads", type=_positive_int, default=None,
                       help="BLAS threads and scratchcnn's own (default: 1 to train on "
                       "digits, else BLAS's choice and the CPUs shared by the MPI ranks)")
        p.add_argument("--data-root", default=None, metavar="FOLDER",
                       help="an existing folder with the MNIST-format files of mnist or "
                       "fashion-mnist, or where to download them (default: search "
                       "$SCRATCHCNN_DATA, the cache and system folders)")

    per_dataset = "default: per dataset, see above"
    train = sub.add_parser(
        "train", help="train a model and write a run folder",
        description="Train a model on a dataset. Unset options take per-dataset defaults ("
        + "; ".join(
            f"{name}: {d['model']}, {d['epochs']} epochs, batch {d['batch_size']}, lr {d['lr']:g}"
            for name, d in DATASET_DEFAULTS.items()
        )
        + ").",
    )
    train.add_argument("--model", default=None,
                       help=f"small_cnn or a zoo name: {', '.join(_model_names()[1:])} "
                       f"({per_dataset})")
    train.add_argument("--dataset", default="digits",
                       help="digits, mnist, fashion-mnist, mnist1d, or folder:PATH (class "
                       "subfolders of images) (default: digits)")
    train.add_argument("--epochs", type=_positive_int, default=None,
                       help=f"number of passes over the training set ({per_dataset})")
    train.add_argument("--batch-size", type=_positive_int, default=None,
                       help=f"samples per training step ({per_dataset})")
    train.add_argument("--optimizer", default="adam",
                       help="adam, adamw, sgd, momentum, rmsprop or adagrad (default: adam)")
    train.add_argument("--lr", type=_positive_float, default=None,
                       help=f"learning rate ({per_dataset})")
    train.add_argument("--out", default=None, metavar="FOLDER",
                       help="run folder (default: runs/<dataset>-<model>-<time>); an existing "
                       "one that holds files is refused")
    train.add_argument("--overwrite", action="store_true",
                       help="replace the run in an existing --out folder")
    train.add_argument("--resume", default=None, metavar="RUN_DIR",
                       help="continue the run in RUN_DIR from its last checkpoint, up to "
                       "--epochs in total (default: the run's own)")
    train.add_argument("--seed", type=_non_negative_int, default=0,
                       help="seed of the weights and the shuffling (default: 0)")
    train.add_argument("--val-split", type=float, default=0.1,
                       help="fraction of the training set held out for validation, in [0, 1) "
                       "(default: 0.1)")
    train.add_argument("--limit", type=_positive_int, default=None, metavar="N",
                       help="use only the first N training and N test samples (default: all)")
    cli_training.add_options(train)
    common(train)
    train.set_defaults(handler=cmd_train)

    evaluate = sub.add_parser(
        "evaluate", help="loss and accuracy of a saved model on a test split",
        description="Loss, accuracy and per-class accuracy of a saved model on a dataset's "
        "test split (only the test split is read).",
    )
    evaluate.add_argument("model", help="a run folder or a model.npz file")
    evaluate.add_argument("--dataset", default=None,
                          help="digits, mnist, fashion-mnist or mnist1d (default: the run's "
                          "dataset, from its config.json)")
    evaluate.add_argument("--batch-size", type=_positive_int, default=256,
                          help="samples per forward pass (default: 256)")
    evaluate.add_argument("--limit", type=_positive_int, default=None, metavar="N",
                          help="use only the first N test samples (default: all)")
    common(evaluate)
    evaluate.set_defaults(handler=cmd_evaluate)

    predict = sub.add_parser(
        "predict", help="classify image files (PNG, JPEG, ...)",
        description="Classify pictures with a saved model. Each is read (EXIF orientation, "
        "16-bit and transparent images handled), converted to the model's channels, inverted "
        "when needed and framed like the training images. A file that cannot be read is "
        "reported and the others are still classified; the exit status is then 2.",
    )
    predict.add_argument("model", help="a run folder or a model.npz file")
    predict.add_argument("images", nargs="+", metavar="IMAGE",
                         help="an image file, or a folder: every image file in it")
    predict.add_argument("--invert", choices=("auto", "yes", "no"), default="auto",
                         help="auto: invert dark-on-light pictures for models trained on "
                         "light-on-dark images such as MNIST (default: auto)")
    predict.add_argument("--preprocess", choices=("auto", *PREPROCESSING), default="auto",
                         help="resize: the whole picture to the input size; mnist: crop to "
                         "the ink, fit in 20x20, centre of mass at the centre of 28x28; fit: "
                         "crop to the ink and fit the input size; auto: mnist for MNIST "
                         "models, fit for digits and fashion-mnist, else resize "
                         "(default: auto)")
    predict.add_argument("--top-k", type=_positive_int, default=1, metavar="K",
                         help="print the K most probable labels (default: 1)")
    predict.add_argument("--input-shape", type=_positive_int, nargs=3, default=None,
                         metavar=("C", "H", "W"),
                         help="the model's input shape (default: from the run's config.json)")
    common(predict)
    predict.set_defaults(handler=cmd_predict)

    summary = sub.add_parser("summary", help="print a model's layers and parameter counts")
    summary.add_argument("--model", required=True,
                         help="a model name (small_cnn or a zoo name), a run folder or a "
                         ".npz file (required)")
    summary.add_argument("--input-shape", type=_positive_int, nargs="+", default=None,
                         metavar="N",
                         help="C H W (or C L) (default: the model's, or the run's)")
    summary.add_argument("--num-classes", type=_positive_int, default=None, metavar="K",
                         help="outputs of a named model (default: the model's own, 10 or 1000)")
    summary.set_defaults(handler=cmd_summary, threads=None)

    from scratchcnn.interop.onnx_export import DEFAULT_OPSET

    export = sub.add_parser("export", help="write a saved model as an ONNX file")
    export.add_argument("model", help="run folder or model.npz")
    export.add_argument("output", help="the .onnx file to write")
    export.add_argument("--opset", type=_positive_int, default=DEFAULT_OPSET,
                        help=f"ONNX opset version (default: {DEFAULT_OPSET})")
    export.add_argument("--input-shape", type=_positive_int, nargs="+", default=None,
                        metavar="N",
                        help="C H W (or C L), when there is no config.json (default: its own)")
    export.set_defaults(handler=cmd_export, threads=None)

    from scratchcnn.lab.commands import add_commands, add_train_options

    add_train_options(train)
    add_commands(sub, _positive_int)
    _state_defaults(parser)
    return parser


@contextmanager
def _own_threads(threads: int | None) -> Iterator[None]:
    """SCRATCHCNN_NUM_THREADS = ``threads`` for the command (the library's own loops:
    Winograd, direct convolution, BatchNorm, pooling), restored afterwards; None: unchanged."""
    if threads is None:
        yield
        return
    previous = os.environ.get("SCRATCHCNN_NUM_THREADS")
    os.environ["SCRATCHCNN_NUM_THREADS"] = str(threads)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SCRATCHCNN_NUM_THREADS", None)
        else:
            os.environ["SCRATCHCNN_NUM_THREADS"] = previous


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see ``EXIT_STATUS`` in runs.py).

    0 done; 1 training diverged or the model is broken; 2 a user error; 130 interrupted by
    Ctrl+C; 143 stopped by SIGTERM. Under ``mpirun -n K`` every rank runs the command, rank 0
    prints and writes, and a rank that fails ends the job (``distributed/cli_support.py``).
    """
    from scratchcnn.distributed.cli_support import rank_context

    with rank_context() as finish:
        return finish(_run_command(argv))


def _run_command(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version and argparse's own usage errors
        return int(stop.code or 0) if not isinstance(stop.code, str) else 2
    if args.command is None:
        parser.print_help()
        return 2
    args.argv = argv
    from scratchcnn.datasets import DownloadError
    from scratchcnn.distributed import cli_support as mpi
    from scratchcnn.model.interrupts import Terminated, sigterm_as_interrupt

    try:
        threads = args.threads
        if threads is None and args.command == "train":
            threads = _train_defaults(args.dataset).get("threads")
        if threads is None:  # under mpirun: the cores shared by the ranks
            threads = mpi.threads_per_rank()
        args.threads = threads
        if threads is not None:
            from threadpoolctl import threadpool_limits

            limits: Any = threadpool_limits(limits=threads)
        else:
            limits = nullcontext()
        with limits, _own_threads(threads), sigterm_as_interrupt():
            return args.handler(args)
    except BrokenModelError as error:
        print(f"scratchcnn {args.command}: error: {error}", file=sys.stderr)
        return 1
    except (CLIError, ValueError, TypeError, OSError, DownloadError, MemoryError) as error:
        if os.environ.get("SCRATCHCNN_DEBUG"):
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        if isinstance(error, MemoryError) and not isinstance(error, ValueError):
            message = f"out of memory: {message}"
        filename = getattr(error, "filename", None)
        if isinstance(error, FileNotFoundError) and filename and str(filename) not in message:
            message = f"{message}: {filename}"
        print(f"scratchcnn {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, Terminated)
        print(f"scratchcnn {args.command}: {'terminated' if terminated else 'interrupted'}",
              file=sys.stderr)
        return 143 if terminated else 130
