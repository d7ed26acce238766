"""MNIST-1D, generated offline: ten 1-D digit templates turned into noisy, shifted sequences.

The recipe is that of Greydanus (2020), "Scaling down deep learning": each template is padded
with a random number of zeros and stretched back to a fixed length, scaled, circularly
translated, its background filled with smoothed (correlated) noise, iid noise added, sheared
by a random linear ramp and resampled to ``final_seq_length``; the whole set is standardized.
The templates are this module's own piecewise-linear shapes (not the reference's numbers) and
the random draws differ, so the data follow the recipe without matching the published file.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from scratchcnn.validation import check_positive_int, check_probability

OWNER = "make_mnist1d"

# Knots (position in [0, 1], height) of each digit's 1-D stroke profile; each starts and ends
# at the baseline 0, so the padded template meets its zero padding without a step.
TEMPLATE_KNOTS: dict[int, list[tuple[float, float]]] = {
    0: [(0.0, 0.0), (0.15, 1.0), (0.3, 1.6), (0.5, 1.8), (0.7, 1.6), (0.85, 1.0), (1.0, 0.0)],
    1: [(0.0, 0.0), (0.1, -2.0), (0.9, 0.8), (1.0, 0.0)],
    2: [(0.0, 0.0), (0.2, 1.5), (0.35, 1.5), (0.7, -1.5), (0.85, -1.5), (1.0, 0.0)],
    3: [(0.0, 0.0), (0.2, 1.5), (0.35, 1.5), (0.5, 0.2), (0.65, 1.5), (0.8, 1.5), (1.0, 0.0)],
    4: [(0.0, 0.0), (0.45, -2.4), (0.55, -2.4), (0.6, 0.0), (1.0, 0.0)],
    5: [(0.0, 0.0), (0.1, -2.0), (0.4, -2.0), (0.5, 0.0), (0.65, 1.5), (0.8, 1.5), (1.0, 0.0)],
    6: [(0.0, 0.0), (0.15, -1.0), (0.3, -1.6), (0.5, -1.8), (0.7, -1.6), (0.85, -1.0), (1.0, 0.0)],
    7: [(0.0, 0.0), (0.1, 2.0), (0.9, -0.8), (1.0, 0.0)],
    8: [(0.0, 0.0), (0.2, -1.5), (0.35, -1.5), (0.5, -0.2), (0.65, -1.5), (0.8, -1.5), (1.0, 0.0)],
    9: [(0.0, 0.0), (0.15, -1.5), (0.3, -1.5), (0.45, 0.0), (0.75, 0.0), (0.9, -0.8), (1.0, 0.0)],
}

# scipy.ndimage.gaussian_filter's defaults, which the recipe uses: sigma 2, cut at 4 sigma
_NOISE_SIGMA = 2.0
_NOISE_TRUNCATE = 4.0


def mnist1d_templates(template_len: int = 12) -> np.ndarray:
    """The ten digit templates, shape (10, template_len), float64.

    Each profile is sampled at ``template_len`` points, standardized, shifted to start at 0
    and divided by 6, as the recipe does with its templates.
    """
    template_len = check_positive_int(template_len, "template_len", "mnist1d_templates")
    if template_len < 2:
        raise ValueError(
            f"mnist1d_templates: template_len must be at least 2, but got {template_len}"
        )
    t = np.linspace(0.0, 1.0, template_len)
    rows = []
    for digit in range(10):
        knot_t, knot_v = zip(*TEMPLATE_KNOTS[digit], strict=True)
        rows.append(np.interp(t, knot_t, knot_v))
    x = np.stack(rows)
    x -= x.mean(axis=1, keepdims=True)
    x /= x.std(axis=1, keepdims=True)
    x -= x[:, :1]
    return x / 6.0


def _resample(signals: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation of each row of ``signals`` (N, L) at ``positions`` (N, F)."""
    left = np.clip(np.floor(positions).astype(np.int64), 0, signals.shape[1] - 2)
    frac = positions - left
    below = np.take_along_axis(signals, left, axis=1)
    above = np.take_along_axis(signals, left + 1, axis=1)
    return below + frac * (above - below)


def _smooth(noise: np.ndarray) -> np.ndarray:
    """Gaussian smoothing along the last axis with mirrored edges (scipy's ``reflect``)."""
    radius = int(_NOISE_TRUNCATE * _NOISE_SIGMA + 0.5)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / _NOISE_SIGMA) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(noise, ((0, 0), (radius, radius)), mode="symmetric")
    return sliding_window_view(padded, 2 * radius + 1, axis=1) @ kernel


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
    final_seq_length: int = 40,
    seed: int = 42,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST-1D as ``(X_train, y_train), (X_test, y_test)``; X (N, 1, final_seq_length) float32.

    The defaults are the paper's: 5,000 sequences of length 40, split 4,000 / 1,000. Classes
    are balanced and the split is stratified (400 / 100 of each digit by default). The same
    ``seed`` gives the same data. ``padding`` is the (low, high) range of zeros appended.
    """
    template_len = check_positive_int(template_len, "template_len", OWNER)
    final_seq_length = check_positive_int(final_seq_length, "final_seq_length", OWNER)
    scales = {
        "scale_coeff": scale_coeff,
        "corr_noise_scale": corr_noise_scale,
        "iid_noise_scale": iid_noise_scale,
        "shear_scale": shear_scale,
    }
    pad_low, pad_high = _check_args(
        num_samples, train_split, padding, max_translation, final_seq_length, scales
    )
    rng = np.random.default_rng(seed)
    templates = mnist1d_templates(template_len)

    per_class = np.full(10, num_samples // 10) + (np.arange(10) < num_samples % 10)
    y = np.repeat(np.arange(10), per_class)
    N = len(y)
    width = template_len + pad_high  # the recipe's working length

    # pad with a random number of zeros, then stretch back to `width` points
    pads = rng.integers(pad_low, pad_high, endpoint=True, size=N)
    signals = np.concatenate([templates[y], np.zeros((N, pad_high))], axis=1)
    positions = np.linspace(0.0, 1.0, width) * (template_len + pads - 1)[:, None]
    x = _resample(signals, positions)
    inside = positions < template_len  # where the digit is, as opposed to its padding

    x *= 1.0 + scale_coeff * (rng.random((N, 1)) - 0.5)
    shifts = rng.integers(0, max_translation, size=N)
    rolled = (np.arange(width)[None, :] - shifts[:, None]) % width
    x = np.take_along_axis(x, rolled, axis=1)
    inside = np.take_along_axis(inside, rolled, axis=1)

    background = _smooth(corr_noise_scale * rng.standard_normal((N, width)))
    x = np.where(inside, x, background)
    x += iid_noise_scale * rng.standard_normal((N, width))
    x -= shear_scale * (rng.random((N, 1)) - 0.5) * np.linspace(-0.5, 0.5, width)
    final_positions = np.linspace(0.0, width - 1, final_seq_length)
    x = _resample(x, np.broadcast_to(final_positions, (N, final_seq_length)))
    x = (x - x.mean()) / x.std()

    train_idx, test_idx = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(y == digit))
        n_train = round(len(members) * train_split)
        train_idx.append(members[:n_train])
        test_idx.append(members[n_train:])
    train = rng.permutation(np.concatenate(train_idx))
    test = rng.permutation(np.concatenate(test_idx))
    X = x.astype(np.float32)[:, None, :]
    return (X[train], y[train].astype(np.int64)), (X[test], y[test].astype(np.int64))
