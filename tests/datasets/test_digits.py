"""scikit-learn's 8x8 digits as (N, 1, 8, 8) images with a stratified split."""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn.datasets import load_digits


def test_shapes_range_and_types() -> None:
    (X_train, y_train), (X_test, y_test) = load_digits()
    assert X_train.shape == (1437, 1, 8, 8)
    assert X_test.shape == (360, 1, 8, 8)
    assert X_train.dtype == X_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    assert X_train.min() == 0.0
    assert X_train.max() == 1.0


def test_split_is_stratified() -> None:
    (_, y_train), (_, y_test) = load_digits(test_size=0.25)
    train_share = np.bincount(y_train) / len(y_train)
    test_share = np.bincount(y_test) / len(y_test)
    np.testing.assert_allclose(train_share, test_share, atol=0.01)
    assert len(y_test) == 450


def test_seed_fixes_the_split() -> None:
    (_, first), _ = load_digits(seed=3)
    (_, again), _ = load_digits(seed=3)
    (_, other), _ = load_digits(seed=4)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_raw_pixels_and_flatten() -> None:
    (X_train, _), _ = load_digits(normalize=False, flatten=True, dtype=np.float64)
    assert X_train.shape == (1437, 64)
    assert X_train.dtype == np.float64
    assert X_train.max() == 16.0
    np.testing.assert_array_equal(X_train, np.round(X_train))


def test_test_size_must_be_a_fraction() -> None:
    with pytest.raises(ValueError, match="load_digits: test_size must be strictly between 0 and 1"):
        load_digits(test_size=1.0)


def test_normalize_needs_float_dtype() -> None:
    with pytest.raises(TypeError, match="load_digits: normalize=True needs a floating dtype"):
        load_digits(dtype=np.int64)
