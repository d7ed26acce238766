"""MNIST-1D (Greydanus 2020, "Scaling down deep learning"), made by the ``mnist1d`` package.

``make_mnist1d()`` returns the paper's dataset: the arrays of the package's
``make_dataset(get_dataset_args())`` (seed 42, 5,000 sequences of length 40, the first 4,000
for training and the last 1,000 for testing), shaped (N, 1, 40) for ``Conv1d``. Nothing is
downloaded: the package generates the data from its ten templates in a second or two (the
last few results are cached in memory; each call returns fresh arrays). It
seeds NumPy's and Python's global random generators to do so; their states are restored
afterwards, so calling it does not change other code's random numbers.

Only the package's ``make_dataset`` is called: its ``get_dataset`` would try to download a
pickle from GitHub, unpickle it and write ``mnist1d_data.pkl`` into the working folder.

The values are a real-valued signal standardized over the whole set (mean 0, standard
deviation 1), not pixels in [0, 1].
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from scratchcnn.validation import check_positive_int, check_probability

OWNER = "make_mnist1d"

# Generating takes a second or two; the last few results (float64, as made) are kept.
_CACHE: dict[tuple[tuple[str, str], ...], dict[str, np.ndarray]] = {}
_CACHE_SIZE = 4


def _package() -> Any:
    """The ``mnist1d.data`` module, imported on first use (it pulls in scipy and matplotlib)."""
    try:
        from mnist1d import data
    except ImportError as error:
        raise ImportError(
            f"{OWNER}: needs the mnist1d package, which generates the paper's dataset; "
            "install it with: pip install mnist1d"
        ) from error
    return data


@contextmanager
def _global_rng_preserved() -> Iterator[None]:
    """Restore NumPy's legacy global generator and Python's ``random`` after the block."""
    numpy_state = np.random.get_state()  # noqa: NPY002 (the package seeds the legacy one)
    python_state = random.getstate()
    try:
        yield
    finally:
        np.random.set_state(numpy_state)  # noqa: NPY002
        random.setstate(python_state)


def mnist1d_templates() -> np.ndarray:
    """The ten digit templates the dataset is made from, shape (10, 12), float64."""
    return np.array(_package().get_templates()["x"], dtype=np.float64)


def _check_args(
    num_samples: int,
    train_split: float,
    padding: tuple[int, int],
    max_translation: int,
    final_seq_length: int,
    scales: dict[str, float],
) -> tuple[int, int]:
    check_positive_int(num_samples, "num_samples", OWNER)
    if num_samples < 10:
        raise ValueError(
            f"{OWNER}: num_samples must be at least 10 (one per digit), but got {num_samples}"
        )
    check_probability(train_split, "train_split", OWNER)
    if (
        not isinstance(padding, (tuple, list))
        or len(padding) != 2
        or not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in padding)
    ):
        raise TypeError(f"{OWNER}: padding must be a tuple (low, high) of ints, got {padding!r}")
    low, high = int(padding[0]), int(padding[1])
    if not 0 <= low <= high:
        raise ValueError(f"{OWNER}: padding must satisfy 0 <= low <= high, but got {padding}")
    check_positive_int(max_translation, "max_translation", OWNER)
    if final_seq_length < 2:
        raise ValueError(
            f"{OWNER}: final_seq_length must be at least 2, but got {final_seq_length}"
        )
    for name, value in scales.items():
        if not value >= 0:
            raise ValueError(f"{OWNER}: {name} must be non-negative, but got {name}={value}")
    return low, high


def make_mnist1d(
    num_samples: int = 5000,
    train_split: float = 0.8,
    template_len: int = 12,
    padding: tuple[int, int] = (36, 60),
    scale_coeff: float = 0.4,
    max_translation: int = 48,
    corr_noise_scale: float = 0.25,
    iid_noise_scale: float = 2e-2,
    shear_scale: float = 0.75,
    shuffle_seq: bool = False,
    final_seq_length: int = 40,
    seed: int = 42,
    dtype: DTypeLike = np.float32,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST-1D as ``(X_train, y_train), (X_test, y_test)``; X (N, 1, final_seq_length).

    The arguments are those of ``mnist1d.get_dataset_args()`` and the defaults are the
    paper's, so the result is exactly the package's ``make_dataset(get_dataset_args())``
    (X cast to ``dtype``; pass ``np.float64`` for the package's own values). Each digit gets
    ``num_samples // 10`` sequences; the shuffled set is split at ``int(N * train_split)``,
    as the package does. ``template_len + padding[1]`` is the working length before the final
    resampling to ``final_seq_length``. y is int64.
    """
    check_positive_int(template_len, "template_len", OWNER)
    final_seq_length = check_positive_int(final_seq_length, "final_seq_length", OWNER)
    scales = {
        "scale_coeff": scale_coeff,
        "corr_noise_scale": corr_noise_scale,
        "iid_noise_scale": iid_noise_scale,
        "shear_scale": shear_scale,
    }
    low, high = _check_args(
        num_samples, train_split, padding, max_translation, final_seq_length, scales
    )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"{OWNER}: seed must be a non-negative int, but got {seed!r}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{OWNER}: dtype must be a floating dtype, but got {dtype}")
    package = _package()
    args = package.get_dataset_args()
    for name, value in {
        "num_samples": int(num_samples),
        "train_split": float(train_split),
        "template_len": int(template_len),
        "padding": [low, high],
        "scale_coeff": float(scale_coeff),
        "max_translation": int(max_translation),
        "corr_noise_scale": float(corr_noise_scale),
        "iid_noise_scale": float(iid_noise_scale),
        "shear_scale": float(shear_scale),
        "shuffle_seq": bool(shuffle_seq),
        "final_seq_length": final_seq_length,
        "seed": int(seed),
    }.items():
        setattr(args, name, value)
    key = tuple(sorted((k, str(v)) for k, v in vars(args).items()))
    if key not in _CACHE:
        with _global_rng_preserved():
            data = package.make_dataset(args)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = {name: np.asarray(data[name]) for name in ("x", "y", "x_test", "y_test")}
    data = _CACHE[key]

    def arrays(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # fresh arrays on every call: the cache is never handed out
        return np.array(x, dtype=dtype)[:, None, :], np.array(y, dtype=np.int64)

    return arrays(data["x"], data["y"]), arrays(data["x_test"], data["y_test"])
