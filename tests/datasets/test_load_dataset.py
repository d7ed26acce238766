"""load_dataset: datasets by name, as the command line asks for them."""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn.datasets import DATASETS, load_dataset


def test_names() -> None:
    assert sorted(DATASETS) == ["digits", "fashion-mnist", "mnist", "mnist1d"]


def test_loads_by_name_with_arguments() -> None:
    (X_train, _), (X_test, _) = load_dataset("digits", test_size=0.5, flatten=True)
    assert X_train.shape[1:] == (64,)
    assert len(X_test) == 899
    (X_train, _), _ = load_dataset("MNIST1D", num_samples=100)
    assert X_train.shape == (80, 1, 40)


def test_underscore_spelling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DATASETS, "fashion-mnist", lambda **kwargs: kwargs)
    assert load_dataset("fashion_mnist", download=False) == {"download": False}


def test_unknown_name() -> None:
    message = (
        "load_dataset: unknown dataset 'cifar10'; valid names are 'digits', 'fashion-mnist', "
        "'mnist', 'mnist1d'"
    )
    with pytest.raises(ValueError, match=message):
        load_dataset("cifar10")


def test_name_must_be_str() -> None:
    with pytest.raises(TypeError, match="load_dataset: name must be a str, but got int"):
        load_dataset(3)


def test_digits_x_is_float32() -> None:
    (X_train, _), _ = load_dataset("digits")
    assert X_train.dtype == np.float32
