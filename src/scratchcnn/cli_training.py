"""The training recipe options of ``scratchcnn train``: schedule, warm-up, early stopping,
augmentation, label smoothing, weight decay, gradient clipping, and ``folder:PATH`` datasets.

``add_options`` puts the flags on the ``train`` parser; ``optimizer_kwargs``, ``apply_loss``
and ``fit_kwargs`` turn the parsed flags into what ``make_optimizer``, the model and
``Sequential.fit`` take, and ``describe`` into the run's config.json entries. Schedules step
per batch, so a warm-up of a fraction of an epoch is smooth.
"""

from __future__ import annotations

import argparse
import inspect
import math
from pathlib import Path
from typing import Any

import numpy as np

RECIPE_OPTIONS = (
    "--lr-schedule", "--warmup", "--early-stopping", "--augment", "--label-smoothing",
    "--weight-decay", "--clip-grad-norm", "--image-size", "--test-split",
)  # fmt: skip  (a resumed run takes these from its config.json)
LR_SCHEDULES = ("none", "step", "multistep", "exponential", "cosine", "linear", "onecycle")
AUGMENTATIONS = ("crop", "flip")
FOLDER_PREFIX = "folder:"


class RecipeError(ValueError):
    """A flag value that does not fit the run (printed by the CLI as a one-line error)."""


# -- flags -----------------------------------------------------------------------------------
def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _augmentations(text: str) -> tuple[str, ...]:
    names = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    unknown = [n for n in names if n not in AUGMENTATIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(AUGMENTATIONS)}, got {text!r}"
        )
    return names


def add_options(train: argparse.ArgumentParser) -> None:
    """Add the recipe flags to the ``train`` subcommand's parser."""
    group = train.add_argument_group("training recipe")
    group.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="none",
                       help="learning-rate schedule over the run, stepped every batch: "
                       "step (x0.1 at 1/3 and 2/3), multistep (x0.1 at 1/2 and 3/4), "
                       "exponential (to 1%%), cosine (to 0), linear (to 0), onecycle")
    group.add_argument("--warmup", type=_non_negative_float, default=0.0, metavar="EPOCHS",
                       help="linear warm-up from 1%% of the rate over EPOCHS (may be a "
                       "fraction), then the schedule")
    group.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE",
                       help="stop after PATIENCE epochs without a better validation loss and "
                       "keep the best epoch's weights (needs --val-split > 0)")
    group.add_argument("--augment", type=_augmentations, default=(), metavar="LIST",
                       help="augment training images on the fly: crop (random crop after "
                       "padding by 1/8 of the size), flip (horizontal), e.g. crop,flip")
    group.add_argument("--label-smoothing", type=_non_negative_float, default=0.0,
                       metavar="EPS", help="cross-entropy label smoothing (0 to 1)")
    group.add_argument("--weight-decay", type=_non_negative_float, default=0.0, metavar="WD",
                       help="the optimizer's weight decay")
    group.add_argument("--clip-grad-norm", type=_non_negative_float, default=None,
                       metavar="MAX", help="clip the gradients' global 2-norm to MAX")
    group.add_argument("--image-size", type=int, nargs=2, default=None, metavar=("H", "W"),
                       help="resize the images of a folder:PATH dataset")
    group.add_argument("--test-split", type=float, default=0.2, metavar="FRACTION",
                       help="fraction of a folder:PATH dataset held out for testing (default: 0.2)")


# -- folder datasets -------------------------------------------------------------------------
def is_folder(dataset: str) -> bool:
    return dataset.startswith(FOLDER_PREFIX)


def folder_root(dataset: str) -> Path:
    root = Path(dataset[len(FOLDER_PREFIX) :]).expanduser()
    if not root.is_dir():
        raise RecipeError(f"--dataset {dataset}: {str(root)!r} is not a folder")
    return root


def folder_class_names(dataset: str) -> list[str]:
    from scratchcnn.datasets.image_folder import find_classes

    return find_classes(folder_root(dataset))


def load_folder(
    dataset: str, image_size: Any = None, test_split: float = 0.2, seed: int | None = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A ``folder:PATH`` dataset as ``(X_train, y_train), (X_test, y_test)``.

    Every class keeps ``test_split`` of its images (at least one) for testing, chosen with
    ``seed``, so the split is the same on every run with the same seed.
    """
    from scratchcnn.datasets import load_image_folder

    if not 0.0 < test_split < 1.0:
        raise RecipeError(f"--test-split must be in (0, 1), but got {test_split}")
    X, y, _ = load_image_folder(folder_root(dataset), size=image_size)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        if len(members) < 2:
            raise RecipeError(
                f"--dataset {dataset}: class {int(label)} has {len(members)} image; each class "
                "needs at least 2 (one for training, one for testing)"
            )
        count = min(len(members) - 1, max(1, round(test_split * len(members))))
        test[rng.choice(members, count, replace=False)] = True
    return (X[~test], y[~test]), (X[test], y[test])


def load_folder_of_run(config: dict[str, Any]) -> Any:
    """The train/test split of a ``folder:PATH`` run, as its config.json recorded it."""
    size = config.get("image_size")
    return load_folder(
        str(config["dataset"]),
        None if size is None else tuple(size),
        float(config.get("test_split", 0.2)),
        config.get("seed", 0),
    )


def recipe_of_run(config: dict[str, Any], epochs: int) -> argparse.Namespace:
    """The recipe flags of a run being resumed, from its config.json (see ``describe``).

    A run with a learning-rate schedule cannot grow: the schedule was planned for its epochs.
    """
    schedule = config.get("lr_schedule", "none")
    planned = int(config.get("epochs", epochs))
    if epochs != planned and (schedule != "none" or config.get("warmup_epochs")):
        raise RecipeError(
            f"--epochs {epochs}: the run's --lr-schedule {schedule} (warm-up "
            f"{config.get('warmup_epochs', 0)}) was planned for {planned} epochs; resume it "
            "without --epochs, or start a new run"
        )
    return argparse.Namespace(
        lr_schedule=schedule,
        warmup=float(config.get("warmup_epochs", 0.0)),
        early_stopping=config.get("early_stopping_patience"),
        augment=tuple(config.get("augment", ())),
        label_smoothing=float(config.get("label_smoothing", 0.0)),
        weight_decay=float(config.get("weight_decay", 0.0)),
        clip_grad_norm=config.get("clip_grad_norm"),
        val_split=float(config.get("val_split", 0.0)),
    )


# -- what the flags become -------------------------------------------------------------------
def optimizer_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for ``make_optimizer`` beyond the rate."""
    return {"weight_decay": args.weight_decay} if args.weight_decay else {}


def apply_loss(model: Any, args: argparse.Namespace) -> None:
    """Give ``model`` a label-smoothing cross-entropy when ``--label-smoothing`` asks for one."""
    if not args.label_smoothing:
        return
    from scratchcnn.losses import SoftmaxCrossEntropy

    if not 0.0 <= args.label_smoothing <= 1.0:
        raise RecipeError(f"--label-smoothing must be in [0, 1], but got {args.label_smoothing}")
    if "label_smoothing" not in inspect.signature(SoftmaxCrossEntropy).parameters:
        raise RecipeError(
            "--label-smoothing needs SoftmaxCrossEntropy(label_smoothing=...), which this "
            "version of scratchcnn does not have"
        )
    model.loss = SoftmaxCrossEntropy(label_smoothing=args.label_smoothing)


def build_schedule(
    name: str, optimizer: Any, epochs: int, steps_per_epoch: int, warmup_epochs: float
) -> Any:
    """The schedule of ``--lr-schedule`` and ``--warmup``, stepped once per batch (or None)."""
    from scratchcnn import schedules

    total = epochs * steps_per_epoch
    warmup = round(warmup_epochs * steps_per_epoch)
    if name == "onecycle":
        if warmup:
            raise RecipeError("--warmup does not combine with --lr-schedule onecycle (it warms up)")
        return schedules.OneCycleLR(optimizer, max_lr=optimizer.lr, total_steps=total)
    if warmup >= total and (warmup or name != "none"):
        raise RecipeError(
            f"--warmup {warmup_epochs} covers the whole run of {epochs} epochs; make it shorter"
        )
    warm = (
        schedules.LinearLR(optimizer, start_factor=0.01, total_iters=warmup) if warmup else None
    )
    rest = total - warmup
    main: Any
    if name == "none":
        main = None
    elif name == "step":
        main = schedules.MultiStepLR(
            optimizer, sorted({max(1, rest // 3), max(1, 2 * rest // 3)}), gamma=0.1
        )
    elif name == "multistep":
        main = schedules.MultiStepLR(
            optimizer, sorted({max(1, rest // 2), max(1, 3 * rest // 4)}), gamma=0.1
        )
    elif name == "exponential":
        main = schedules.ExponentialLR(optimizer, gamma=0.01 ** (1 / rest))
    elif name == "cosine":
        main = schedules.CosineAnnealingLR(optimizer, T_max=rest)
    elif name == "linear":
        main = schedules.LinearLR(optimizer, start_factor=1.0, end_factor=0.0, total_iters=rest)
    else:  # argparse's choices keep other names out
        raise RecipeError(f"unknown --lr-schedule {name!r}")
    if warm is None:
        return main
    if main is None:
        return warm
    return schedules.SequentialLR(optimizer, [warm, main], milestones=[warmup])


def build_transform(augment: tuple[str, ...], input_shape: tuple[int, ...]) -> Any:
    from scratchcnn.transforms import Compose, RandomCrop, RandomHorizontalFlip

    if not augment:
        return None
    if len(input_shape) != 3:
        raise RecipeError(f"--augment needs images (C, H, W), but the samples are {input_shape}")
    _, H, W = input_shape
    parts: list[Any] = []
    if "crop" in augment:
        parts.append(RandomCrop((H, W), padding=max(1, round(min(H, W) / 8))))
    if "flip" in augment:
        parts.append(RandomHorizontalFlip(0.5))
    return Compose(parts)


def fit_kwargs(
    args: argparse.Namespace,
    model: Any,
    input_shape: tuple[int, ...],
    epochs: int,
    steps_per_epoch: int,
    run_folder: Path,
) -> dict[str, Any]:
    """What the flags add to ``model.fit``: schedule, transform, clipping, callbacks."""
    from scratchcnn.callbacks import CSVLogger, EarlyStopping

    callbacks: list[Any] = [CSVLogger(run_folder / "log.csv")]
    if args.early_stopping is not None:
        if args.early_stopping < 0:
            raise RecipeError(f"--early-stopping must be >= 0, but got {args.early_stopping}")
        if not args.val_split > 0:
            raise RecipeError("--early-stopping watches the validation loss; use --val-split > 0")
        callbacks.append(
            EarlyStopping("val_loss", patience=args.early_stopping, restore_best_weights=True)
        )
    schedule = build_schedule(
        args.lr_schedule, model.optimizer, epochs, steps_per_epoch, args.warmup
    )
    return {
        "lr_schedule": schedule,
        "lr_schedule_interval": "step",
        "transform": build_transform(tuple(args.augment), input_shape),
        "clip_grad_norm": args.clip_grad_norm or None,
        "callbacks": callbacks,
    }


def describe(args: argparse.Namespace, extras: dict[str, Any]) -> dict[str, Any]:
    """The recipe's entries for config.json."""
    schedule = extras["lr_schedule"]
    return {
        "lr_schedule": args.lr_schedule,
        "lr_schedule_detail": None if schedule is None else repr(schedule),
        "warmup_epochs": args.warmup,
        "early_stopping_patience": args.early_stopping,
        "augment": list(args.augment),
        "label_smoothing": args.label_smoothing,
        "weight_decay": args.weight_decay,
        "clip_grad_norm": args.clip_grad_norm,
        "image_size": getattr(args, "image_size", None),
        "test_split": getattr(args, "test_split", None),
    }
