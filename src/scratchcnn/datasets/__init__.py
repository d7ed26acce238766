"""Datasets: MNIST-format IDX files, scikit-learn's 8x8 digits, CSV, MNIST-1D, image folders.

Every loader returns ``(X_train, y_train), (X_test, y_test)`` with X shaped (N, C, ...) as the
layers expect (float32) and y int64; :func:`load_dataset` picks one by name.
:func:`load_image_folder` reads your own pictures as ``(X, y, class_names)``.
"""

from scratchcnn.datasets.csv import load_csv_images
from scratchcnn.datasets.digits import load_digits
from scratchcnn.datasets.download import DownloadError, download_file, md5sum
from scratchcnn.datasets.idx import read_idx, write_idx
from scratchcnn.datasets.image_folder import load_image_folder
from scratchcnn.datasets.mnist import load_fashion_mnist, load_idx_split, load_mnist
from scratchcnn.datasets.mnist1d import make_mnist1d
from scratchcnn.datasets.registry import DATASETS, load_dataset

__all__ = [
    "DATASETS",
    "DownloadError",
    "download_file",
    "load_csv_images",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_idx_split",
    "load_image_folder",
    "load_mnist",
    "make_mnist1d",
    "md5sum",
    "read_idx",
    "write_idx",
]
