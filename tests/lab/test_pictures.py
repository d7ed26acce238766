"""Every picture is written as a PNG of a sensible size; bad input gets a named error."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from scratchcnn import plots, zoo
from scratchcnn.layers import Conv2d, Dense, Flatten
from scratchcnn.model import Sequential


def _png(path):
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


@pytest.fixture(scope="module")
def lenet():
    return zoo.lenet5(seed=0)


def test_each_picture_of_a_lenet(lenet, tmp_path, rng):
    X = rng.random((6, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 6)
    written = [
        plots.plot_filters(lenet, tmp_path / "filters.png"),
        plots.plot_feature_maps(lenet, X[0], tmp_path / "maps.png"),
        plots.plot_saliency(lenet, X[:2], tmp_path / "saliency.png"),
        plots.plot_class_activation(lenet, X[:2], tmp_path / "cam.png", target=1),
        plots.plot_misclassified(lenet, X, y, tmp_path / "wrong.png"),
    ]
    for path in written:
        width, height = _png(path)
        assert width >= 300 and height >= 150, path


def test_filters_of_rgb_and_1d_convolutions(tmp_path):
    rgb = Sequential([Conv2d(3, 4, 3), Flatten(), Dense(4 * 6 * 6, 2)])
    assert _png(plots.plot_filters(rgb, tmp_path / "rgb.png"))[0] > 300
    seq = zoo.mnist1d_cnn(seed=0)
    assert _png(plots.plot_filters(seq, tmp_path / "seq.png", layer=2))[0] > 300
    with pytest.raises(ValueError, match=r"plot_filters: layer 1 is not a convolution"):
        plots.plot_filters(seq, tmp_path / "x.png", layer=1)


def test_no_misclassified_images_says_so(lenet, tmp_path, rng):
    X = rng.random((3, 1, 28, 28)).astype(np.float32)
    y = lenet.predict(X)
    assert _png(plots.plot_misclassified(lenet, X, y, tmp_path / "none.png")) == (500, 200)


def test_named_errors(lenet, tmp_path):
    dense = Sequential([Dense(4, 2)])
    with pytest.raises(ValueError, match="plot_filters: the model has no convolution layer"):
        plots.plot_filters(dense, tmp_path / "f.png")
    with pytest.raises(ValueError, match=r"plot_saliency: expected images \(N, C, H, W\)"):
        plots.plot_saliency(dense, np.zeros((1, 4)), tmp_path / "s.png")
    with pytest.raises(ValueError, match="plot_misclassified: y must hold one class label"):
        plots.plot_misclassified(lenet, np.zeros((2, 1, 28, 28)), [1], tmp_path / "m.png")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plots.plot_filters(lenet, tmp_path / "missing" / "f.png")
