"""MNIST-1D: shapes, determinism, balance, and that the classes can be learned."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from scratchcnn.datasets import make_mnist1d
from scratchcnn.datasets.mnist1d import mnist1d_templates


@pytest.fixture(scope="module")
def default_data():
    return make_mnist1d()


def test_default_shapes(default_data) -> None:
    (X_train, y_train), (X_test, y_test) = default_data
    assert X_train.shape == (4000, 1, 40)
    assert X_test.shape == (1000, 1, 40)
    assert X_train.dtype == X_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    assert np.isfinite(X_train).all()


def test_standardized(default_data) -> None:
    (X_train, _), (X_test, _) = default_data
    everything = np.concatenate([X_train, X_test])
    assert everything.mean() == pytest.approx(0.0, abs=1e-5)
    assert everything.std() == pytest.approx(1.0, abs=1e-4)


def test_classes_balanced_in_each_split(default_data) -> None:
    (_, y_train), (_, y_test) = default_data
    assert np.bincount(y_train).tolist() == [400] * 10
    assert np.bincount(y_test).tolist() == [100] * 10


def test_same_seed_same_data() -> None:
    (X_a, y_a), (T_a, _) = make_mnist1d(num_samples=200, seed=7)
    (X_b, y_b), (T_b, _) = make_mnist1d(num_samples=200, seed=7)
    (X_c, _), _ = make_mnist1d(num_samples=200, seed=8)
    np.testing.assert_array_equal(X_a, X_b)
    np.testing.assert_array_equal(y_a, y_b)
    np.testing.assert_array_equal(T_a, T_b)
    assert not np.array_equal(X_a, X_c)


def test_learnable_by_knn(default_data) -> None:
    # the paper's logistic regression reaches ~32%; nearest neighbours do better than that
    (X_train, y_train), (X_test, y_test) = default_data
    knn = KNeighborsClassifier(n_neighbors=5).fit(X_train[:, 0], y_train)
    assert knn.score(X_test[:, 0], y_test) > 0.40


def test_arguments_change_shapes() -> None:
    (X_train, y_train), (X_test, _) = make_mnist1d(
        num_samples=103, train_split=0.5, final_seq_length=24, template_len=16
    )
    assert X_train.shape[1:] == (1, 24)
    assert len(X_train) + len(X_test) == 103
    assert np.bincount(y_train).min() >= 5


def test_templates_start_and_end_at_zero() -> None:
    templates = mnist1d_templates()
    assert templates.shape == (10, 12)
    np.testing.assert_allclose(templates[:, [0, -1]], 0.0, atol=1e-12)
    assert len({row.tobytes() for row in templates}) == 10


def test_too_few_samples() -> None:
    with pytest.raises(ValueError, match="make_mnist1d: num_samples must be at least 10"):
        make_mnist1d(num_samples=9)


def test_bad_padding() -> None:
    with pytest.raises(
        ValueError, match=r"padding must satisfy 0 <= low <= high, but got \(5, 2\)"
    ):
        make_mnist1d(padding=(5, 2))
    with pytest.raises(TypeError, match="padding must be a tuple"):
        make_mnist1d(padding=5)


def test_negative_noise() -> None:
    with pytest.raises(ValueError, match="iid_noise_scale must be non-negative"):
        make_mnist1d(iid_noise_scale=-1.0)


def test_template_len_at_least_two() -> None:
    with pytest.raises(ValueError, match="template_len must be at least 2"):
        make_mnist1d(template_len=1)
