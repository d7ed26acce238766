"""MNIST-1D is the paper's dataset: the arrays of the mnist1d package's make_dataset."""

from __future__ import annotations

import random

import numpy as np
import pytest
from mnist1d import data as mnist1d_data
from sklearn.neighbors import KNeighborsClassifier

from scratchcnn.datasets import load_dataset, make_mnist1d
from scratchcnn.datasets.mnist1d import mnist1d_templates


@pytest.fixture(scope="module")
def reference() -> dict:
    """The package's own dataset, made as its README says (no download)."""
    return mnist1d_data.make_dataset(mnist1d_data.get_dataset_args())


@pytest.fixture(scope="module")
def default_data():
    return make_mnist1d()


def test_same_arrays_as_the_package(reference) -> None:
    (X_train, y_train), (X_test, y_test) = make_mnist1d(dtype=np.float64)
    np.testing.assert_array_equal(X_train[:, 0], reference["x"])
    np.testing.assert_array_equal(X_test[:, 0], reference["x_test"])
    np.testing.assert_array_equal(y_train, reference["y"])
    np.testing.assert_array_equal(y_test, reference["y_test"])


def test_default_is_float32_of_the_package(default_data, reference) -> None:
    (X_train, y_train), (X_test, y_test) = default_data
    assert X_train.shape == (4000, 1, 40) and X_test.shape == (1000, 1, 40)
    assert X_train.dtype == X_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    np.testing.assert_array_equal(X_train[:, 0], reference["x"].astype(np.float32))
    np.testing.assert_array_equal(X_test[:, 0], reference["x_test"].astype(np.float32))


def test_known_values_of_the_paper_dataset(default_data) -> None:
    # seed 42 of mnist1d 0.0.2: a fingerprint that catches a changed recipe or argument
    (X_train, y_train), (X_test, y_test) = default_data
    assert y_train[:20].tolist() == [2, 6, 4, 5, 6, 6, 6, 0, 3, 1, 6, 9, 4, 3, 4, 5, 1, 9, 0, 3]
    assert y_test[:10].tolist() == [2, 6, 3, 9, 4, 3, 1, 9, 5, 2]
    np.testing.assert_allclose(
        X_train[0, 0, :4], [-0.332005667, -0.471910366, -0.778697076, -1.009740827], atol=1e-6
    )
    np.testing.assert_allclose(X_test[-1, 0, -3:], [0.659875647, 0.877734350, 1.193151837],
                               atol=1e-6)
    assert np.bincount(np.concatenate([y_train, y_test])).tolist() == [500] * 10


def test_load_dataset_by_name_is_the_same(default_data) -> None:
    (X_train, _), (_, y_test) = load_dataset("mnist1d")
    np.testing.assert_array_equal(X_train, default_data[0][0])
    np.testing.assert_array_equal(y_test, default_data[1][1])


def test_standardized_real_valued_signal(default_data) -> None:
    (X_train, _), (X_test, _) = default_data
    everything = np.concatenate([X_train, X_test]).astype(np.float64)
    assert everything.mean() == pytest.approx(0.0, abs=1e-6)
    assert everything.std() == pytest.approx(1.0, abs=1e-6)
    assert everything.min() < -3 and everything.max() > 3  # not in [0, 1]


def test_global_random_state_is_left_alone() -> None:
    # the package seeds NumPy's legacy global generator and Python's random module
    numpy_before = np.random.get_state()  # noqa: NPY002
    python_before = random.getstate()
    make_mnist1d(num_samples=30, seed=5)
    numpy_after = np.random.get_state()  # noqa: NPY002
    assert numpy_after[0] == numpy_before[0]
    np.testing.assert_array_equal(numpy_after[1], numpy_before[1])
    assert numpy_after[2:] == numpy_before[2:]
    assert random.getstate() == python_before


def test_returns_fresh_arrays_each_call() -> None:
    (X_a, y_a), _ = make_mnist1d(num_samples=50)
    X_a[:] = 0.0
    y_a[:] = -1
    (X_b, y_b), _ = make_mnist1d(num_samples=50)
    assert np.abs(X_b).max() > 0 and y_b.min() >= 0


def test_same_seed_same_data() -> None:
    (X_a, y_a), (T_a, _) = make_mnist1d(num_samples=200, seed=7)
    (X_b, y_b), (T_b, _) = make_mnist1d(num_samples=200, seed=7)
    (X_c, _), _ = make_mnist1d(num_samples=200, seed=8)
    np.testing.assert_array_equal(X_a, X_b)
    np.testing.assert_array_equal(y_a, y_b)
    np.testing.assert_array_equal(T_a, T_b)
    assert not np.array_equal(X_a, X_c)


def test_arguments_reach_the_package(reference) -> None:
    args = mnist1d_data.get_dataset_args()
    args.num_samples, args.train_split, args.final_seq_length = 103, 0.5, 24
    args.seed, args.shuffle_seq = 3, True
    expected = mnist1d_data.make_dataset(args)
    (X_train, _), (X_test, y_test) = make_mnist1d(
        num_samples=103, train_split=0.5, final_seq_length=24, seed=3, shuffle_seq=True,
        dtype=np.float64,
    )
    assert X_train.shape == (50, 1, 24) and X_test.shape == (50, 1, 24)  # 10 per digit
    np.testing.assert_array_equal(X_train[:, 0], expected["x"])
    np.testing.assert_array_equal(y_test, expected["y_test"])


def test_learnable_by_knn(default_data) -> None:
    (X_train, y_train), (X_test, y_test) = default_data
    knn = KNeighborsClassifier(n_neighbors=5).fit(X_train[:, 0], y_train)
    assert knn.score(X_test[:, 0], y_test) > 0.40


def test_templates_are_the_packages() -> None:
    templates = mnist1d_templates()
    assert templates.shape == (10, 12)
    np.testing.assert_array_equal(templates, mnist1d_data.get_templates()["x"])
    np.testing.assert_allclose(templates[:, [0, -1]], 0.0, atol=1e-12)


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


def test_bad_seed_and_dtype() -> None:
    with pytest.raises(TypeError, match="make_mnist1d: seed must be a non-negative int"):
        make_mnist1d(seed=-1)
    with pytest.raises(TypeError, match="make_mnist1d: dtype must be a floating dtype"):
        make_mnist1d(dtype=np.int32)


def test_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "mnist1d", None)  # makes `import mnist1d` fail
    with pytest.raises(ImportError, match="pip install mnist1d"):
        make_mnist1d(num_samples=20, seed=99)


def test_offline_and_writes_nothing(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("make_mnist1d tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.chdir(tmp_path)
    (X_train, _), _ = make_mnist1d(num_samples=40, seed=11)
    assert X_train.shape == (32, 1, 40)
    assert list(tmp_path.iterdir()) == []  # no mnist1d_data.pkl left in the working folder
