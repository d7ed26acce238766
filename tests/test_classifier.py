"""The scikit-learn estimators: sklearn's own checks, then clone, pipelines and search."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from scratchcnn.classifier import (
    ScratchCNN1DClassifier,
    ScratchCNNClassifier,
    small_cnn,
    small_cnn1d,
)
from scratchcnn.layers import Conv2d, Dense, Flatten, ReLU


@pytest.fixture(autouse=True)
def one_blas_thread() -> Iterator[None]:
    """These matrices are tiny: one BLAS thread is fastest and keeps timings stable."""
    with threadpool_limits(limits=1):
        yield


# The checks fit on tiny tables (2-D, up to a few hundred rows); five epochs at lr=1e-2 reach
# the accuracy check_classifiers_train asks for (0.83 on make_blobs) in a fraction of a second.
# Every check applies: none is expected to fail. The pandas and array-API checks skip when
# those libraries are not set up.
@parametrize_with_checks(
    [
        ScratchCNNClassifier(epochs=5, lr=1e-2, random_state=0),
        ScratchCNN1DClassifier(epochs=5, lr=1e-2, random_state=0),
    ]
)
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """600 of the 8x8 digits as a flat (N, 64) table in [0, 1], and their labels."""
    bunch = load_digits()
    return (bunch.data[:600] / 16.0).astype(np.float32), bunch.target[:600]


def _images(X: np.ndarray) -> np.ndarray:
    return X.reshape(-1, 1, 8, 8)


def test_fit_returns_self_and_sets_learned_attributes(digits) -> None:
    X, y = digits
    clf = ScratchCNNClassifier(epochs=2, random_state=0)
    assert clf.fit(_images(X), y) is clf
    assert list(clf.classes_) == list(range(10))
    assert clf.n_features_in_ == 1  # sklearn's convention: X.shape[1], the channels here
    assert clf.input_shape_ == (1, 8, 8)
    assert clf.history_.epochs == 2
    assert len(clf.model_.layers) == len(small_cnn((1, 8, 8), 10))


def test_digits_images_reach_good_accuracy(digits) -> None:
    X, y = digits
    clf = ScratchCNNClassifier(epochs=6, lr=1e-2, random_state=0).fit(_images(X[:450]), y[:450])
    assert clf.score(_images(X[450:]), y[450:]) > 0.85


def test_three_dimensional_images_mean_one_channel(digits) -> None:
    X, y = digits
    a = ScratchCNNClassifier(epochs=1, random_state=0).fit(_images(X), y)
    b = ScratchCNNClassifier(epochs=1, random_state=0).fit(X.reshape(-1, 8, 8), y)
    np.testing.assert_array_equal(
        a.predict_proba(_images(X[:50])), b.predict_proba(X[:50].reshape(-1, 8, 8))
    )


def test_flat_rows_with_image_shape_equal_images(digits) -> None:
    X, y = digits
    a = ScratchCNNClassifier(epochs=1, random_state=0).fit(_images(X), y)
    b = ScratchCNNClassifier(epochs=1, random_state=0, image_shape=(8, 8)).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(_images(X[:50])), b.predict_proba(X[:50]))
    assert b.input_shape_ == (1, 8, 8)


def test_flat_rows_without_image_shape_are_one_row_images(digits) -> None:
    X, y = digits
    clf = ScratchCNNClassifier(epochs=1, random_state=0).fit(X, y)
    assert clf.input_shape_ == (1, 1, 64)
    assert clf.n_features_in_ == 64


def test_predict_proba_rows_sum_to_one(digits) -> None:
    X, y = digits
    proba = ScratchCNNClassifier(epochs=1, random_state=0).fit(_images(X), y).predict_proba(
        _images(X[:100])
    )
    assert proba.shape == (100, 10)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert (proba >= 0).all()


@pytest.mark.parametrize(
    "labels",
    [np.array(["cat", "dog", "emu"]), np.array([-7, -1, 12]), np.array([False, True])],
    ids=["strings", "negative-ints", "bools"],
)
def test_arbitrary_label_values(rng, labels) -> None:
    X = rng.standard_normal((90, 1, 4, 4)).astype(np.float32)
    codes = np.repeat(np.arange(len(labels)), 90 // len(labels))
    X[:, 0, 0, 0] += 3.0 * codes  # a learnable signal
    y = labels[codes]
    clf = ScratchCNNClassifier(epochs=10, lr=1e-2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    predicted = clf.predict(X)
    assert predicted.dtype == y.dtype
    assert set(predicted) <= set(labels)
    assert clf.score(X, y) > 0.8


def test_same_random_state_same_model_and_different_state_differs(digits) -> None:
    X, y = digits
    fit = lambda seed: ScratchCNNClassifier(epochs=1, random_state=seed).fit(_images(X), y)  # noqa: E731
    p1, p2, p3 = (fit(s).predict_proba(_images(X[:40])) for s in (3, 3, 4))
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p1, p3)


def test_random_state_accepts_a_random_state_object(digits) -> None:
    X, y = digits
    clf = ScratchCNNClassifier(epochs=1, random_state=np.random.RandomState(0))
    clf.fit(_images(X[:100]), y[:100])
    assert clf.predict(_images(X[:5])).shape == (5,)


def test_clone_gives_an_unfitted_copy_with_the_same_parameters() -> None:
    clf = ScratchCNNClassifier(epochs=3, lr=0.01, channels=(4, 8), random_state=1)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "model_")


def test_custom_layer_list_is_deep_copied_at_fit(digits) -> None:
    X, y = digits
    layers = [Conv2d(1, 4, 3), ReLU(), Flatten(), Dense(4 * 6 * 6, 10)]
    before = layers[0].W.copy()
    clf = ScratchCNNClassifier(layers=layers, epochs=1, random_state=0)
    clf.fit(_images(X), y)
    np.testing.assert_array_equal(layers[0].W, before)  # the user's layers are untouched
    assert clf.model_.layers[0] is not layers[0]
    first = clf.predict_proba(_images(X[:20]))
    clone(clf).fit(_images(X), y)  # clone deep-copies the list too
    np.testing.assert_array_equal(layers[0].W, before)
    np.testing.assert_array_equal(clf.fit(_images(X), y).predict_proba(_images(X[:20])), first)


def test_callable_layers_get_shape_classes_and_seed(digits) -> None:
    X, y = digits
    seen = {}

    def build(input_shape, num_classes, seed):
        seen.update(input_shape=input_shape, num_classes=num_classes)
        return small_cnn(input_shape, num_classes, channels=(4,), seed=seed)

    clf = ScratchCNNClassifier(layers=build, epochs=1, random_state=0).fit(_images(X), y)
    assert seen == {"input_shape": (1, 8, 8), "num_classes": 10}
    again = ScratchCNNClassifier(layers=build, epochs=1, random_state=0).fit(_images(X), y)
    np.testing.assert_array_equal(
        clf.predict_proba(_images(X[:20])), again.predict_proba(_images(X[:20]))
    )


def test_zoo_name_as_layers(rng) -> None:
    X = rng.standard_normal((40, 1, 40)).astype(np.float32)
    y = np.arange(40) % 2
    clf = ScratchCNN1DClassifier(layers="mnist1d_cnn", epochs=1, random_state=0).fit(X, y)
    assert clf.predict_proba(X).shape == (40, 2)


def test_one_dimensional_classifier_on_sequences(rng) -> None:
    codes = np.repeat(np.arange(2), 40)
    X = rng.standard_normal((80, 2, 16)).astype(np.float32)
    X[:, 0, 5] += 3.0 * codes
    clf = ScratchCNN1DClassifier(epochs=10, lr=1e-2, random_state=0).fit(X, codes)
    assert clf.input_shape_ == (2, 16)
    assert clf.score(X, codes) > 0.9
    flat = ScratchCNN1DClassifier(epochs=1, random_state=0).fit(X[:, 0], codes)
    assert flat.input_shape_ == (1, 16)
    assert len(flat.model_.layers) == len(small_cnn1d((1, 16), 2))


def test_pipeline_with_scaler_and_reshaping(digits) -> None:
    X, y = digits
    pipe = make_pipeline(
        StandardScaler(),
        FunctionTransformer(_images),
        ScratchCNNClassifier(epochs=6, lr=1e-2, random_state=0),
    )
    pipe.fit(X[:450], y[:450])
    assert pipe.score(X[450:], y[450:]) > 0.8


def test_cross_val_score_on_digits(digits) -> None:
    X, y = digits
    clf = ScratchCNNClassifier(epochs=6, lr=1e-2, image_shape=(8, 8), random_state=0)
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.mean() > 0.75


def test_tiny_grid_search_on_digits(digits) -> None:
    X, y = digits
    search = GridSearchCV(
        ScratchCNNClassifier(epochs=2, image_shape=(8, 8), random_state=0),
        {"lr": [1e-4, 3e-3]},
        cv=2,
    )
    search.fit(X[:400], y[:400])
    assert search.best_params_ == {"lr": 3e-3}
    assert search.predict(X[:5]).shape == (5,)


def test_pickle_round_trip_predicts_the_same(digits) -> None:
    X, y = digits
    clf = ScratchCNNClassifier(epochs=1, random_state=0).fit(_images(X), y)
    expected = clf.predict_proba(_images(X[:30]))
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(_images(X[:30])), expected)


# -- errors ----------------------------------------------------------------------------------
def test_predict_with_other_image_size_is_a_clear_error(digits) -> None:
    X, y = digits
    clf = ScratchCNNClassifier(epochs=1, random_state=0).fit(_images(X), y)
    with pytest.raises(ValueError, match=r"samples of shape \(1, 4, 4\).*fitted on samples of "
                                         r"shape \(1, 8, 8\)"):
        clf.predict(np.zeros((2, 1, 4, 4), dtype=np.float32))


def test_image_shape_that_does_not_match_the_features(digits) -> None:
    X, y = digits
    with pytest.raises(ValueError, match=r"image_shape \(7, 7\) holds 49 values, but X has 64"):
        ScratchCNNClassifier(image_shape=(7, 7)).fit(X, y)


def test_image_shape_of_the_wrong_form(digits) -> None:
    X, y = digits
    with pytest.raises(ValueError, match=r"image_shape must be \(H, W\) or \(C, H, W\)"):
        ScratchCNNClassifier(image_shape=(64,)).fit(X, y)


def test_five_dimensional_input_is_rejected(rng) -> None:
    X = rng.standard_normal((6, 1, 2, 2, 2))
    with pytest.raises(ValueError, match=r"ScratchCNNClassifier: expected images"):
        ScratchCNNClassifier().fit(X, np.arange(6) % 2)
    with pytest.raises(ValueError, match=r"ScratchCNN1DClassifier: expected sequences"):
        ScratchCNN1DClassifier().fit(X, np.arange(6) % 2)


def test_a_single_class_is_a_clear_error(rng) -> None:
    with pytest.raises(ValueError, match="at least 2 classes, but y has only 1 class"):
        ScratchCNNClassifier().fit(rng.standard_normal((5, 3)), np.zeros(5))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive int, but got 0"),
        ({"batch_size": 2.5}, "batch_size must be a positive int, but got 2.5"),
        ({"lr": -1.0}, "lr must be a positive number, but got -1.0"),
        ({"optimizer": None}, "optimizer must be a name"),
        ({"channels": ()}, r"channels must be a non-empty tuple of positive ints"),
        ({"layers": 3}, "layers must be None, a list of layers"),
    ],
)
def test_bad_hyperparameters_fail_at_fit(rng, params, message) -> None:
    with pytest.raises(ValueError, match=message):
        ScratchCNNClassifier(**params).fit(rng.standard_normal((6, 4)), np.arange(6) % 2)


def test_unknown_optimizer_name(rng) -> None:
    with pytest.raises(ValueError, match="unknown optimizer 'nadam'"):
        ScratchCNNClassifier(optimizer="nadam").fit(rng.standard_normal((6, 4)), np.arange(6) % 2)


def test_custom_layers_with_the_wrong_number_of_outputs(digits) -> None:
    X, y = digits
    layers = [Flatten(), Dense(64, 3)]
    with pytest.raises(ValueError, match=r"output .* has shape \(3,\), but y has 10 classes"):
        ScratchCNNClassifier(layers=layers).fit(_images(X), y)


def test_defaults_do_well_on_a_few_hundred_digits() -> None:
    """Out of the box, as MLPClassifier users expect: 300 digits, flat rows, no tuning."""
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))[:300]
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    clf = ScratchCNNClassifier(random_state=0)
    scores = cross_val_score(clf, X[order] / 16, y[order], cv=folds)
    assert scores.mean() >= 0.9, scores  # 10 epochs at lr 1e-3 (the old defaults) gave 0.63
