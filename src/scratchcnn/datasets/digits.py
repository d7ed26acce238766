"""scikit-learn's 8x8 handwritten digits (1,797 images, shipped with scikit-learn: no download)."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike
from sklearn.datasets import load_digits as _sklearn_load_digits
from sklearn.model_selection import train_test_split

from scratchcnn.validation import check_probability

Split = tuple[np.ndarray, np.ndarray]


def load_digits(
    normalize: bool = True,
    test_size: float = 0.2,
    seed: int = 0,
    flatten: bool = False,
    dtype: DTypeLike = np.float32,
) -> tuple[Split, Split]:
    """The 8x8 digits as ``(X_train, y_train), (X_test, y_test)``, split stratified by class.

    X is (N, 1, 8, 8) (or (N, 64) with ``flatten``); pixels are 0..16, scaled to [0, 1] with
    ``normalize``. y is int64. ``test_size`` is the test fraction; ``seed`` fixes the split.
    """
    owner = "load_digits"
    test_size = check_probability(test_size, "test_size", owner)
    if not 0.0 < test_size < 1.0:
        raise ValueError(
            f"{owner}: test_size must be strictly between 0 and 1, but got test_size={test_size}"
        )
    if normalize and np.dtype(dtype).kind != "f":
        raise TypeError(f"{owner}: normalize=True needs a floating dtype, but got {dtype!r}")
    bunch = _sklearn_load_digits()
    X = bunch.data.astype(dtype)
    if normalize:
        X /= X.dtype.type(16)
    X = X.reshape(-1, 64) if flatten else X.reshape(-1, 1, 8, 8)
    y = bunch.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y
    )
    return (X_train, y_train), (X_test, y_test)
