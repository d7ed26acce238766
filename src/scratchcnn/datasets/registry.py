"""Datasets by name, for the command line: ``load_dataset("mnist", normalize=False)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scratchcnn.datasets.digits import load_digits
from scratchcnn.datasets.mnist import load_fashion_mnist, load_mnist
from scratchcnn.datasets.mnist1d import make_mnist1d

DATASETS: dict[str, Callable[..., Any]] = {
    "digits": load_digits,
    "mnist": load_mnist,
    "fashion-mnist": load_fashion_mnist,
    "mnist1d": make_mnist1d,
}


# Loaders that can read one split without touching the other's files
SPLIT_LOADERS = {"mnist", "fashion-mnist"}


def load_dataset(name: str, split: str | None = None, **kwargs: Any) -> Any:
    """Load the dataset registered as ``name`` (see ``DATASETS``), passing ``kwargs`` on.

    Names are case-insensitive and ``_`` may stand for ``-`` (``fashion_mnist``). Every
    loader returns ``(X_train, y_train), (X_test, y_test)``; with ``split="train"`` or
    ``"test"`` only that ``(X, y)`` is returned (and, for MNIST-format datasets, only that
    split's files are read or downloaded).
    """
    if not isinstance(name, str):
        raise TypeError(f"load_dataset: name must be a str, but got {type(name).__name__}")
    key = name.strip().lower().replace("_", "-")
    if key not in DATASETS:
        valid = ", ".join(repr(n) for n in sorted(DATASETS))
        raise ValueError(f"load_dataset: unknown dataset {name!r}; valid names are {valid}")
    if split is None:
        return DATASETS[key](**kwargs)
    if split not in ("train", "test"):
        raise ValueError(f"load_dataset: split must be 'train' or 'test', but got {split!r}")
    if key in SPLIT_LOADERS:
        return DATASETS[key](split=split, **kwargs)
    train, test = DATASETS[key](**kwargs)  # generated or embedded: both splits are cheap
    return train if split == "train" else test
