"""Batch transforms for training-time augmentation: ``RandomCrop``, ``RandomHorizontalFlip``,
``Normalize`` and ``Compose``, with torchvision's names and arguments.

A transform takes a whole batch (N, C, ..., W) and a ``numpy.random.Generator`` and returns a
new array (the input is never written, so read-only memory maps are fine). Each works on the
batch at once: one pad and one strided gather for the crops, one masked reversal for the flips.
Random transforms set ``random = True``; ``Compose.deterministic()`` keeps the others, which is
what ``fit`` applies to validation batches (augmentation is off at evaluation).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from scratchcnn.validation import check_probability

__all__ = ["Compose", "Normalize", "RandomCrop", "RandomHorizontalFlip", "Transform"]

_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


class Transform:
    """Base class: ``__call__(X, rng)`` returns the transformed batch as a new array."""

    random: bool = False

    def __call__(self, X: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def _check_batch(self, X: Any, min_ndim: int) -> np.ndarray:
        if not isinstance(X, np.ndarray):
            X = np.asarray(X)
        if X.dtype.kind not in "fiub":
            raise TypeError(f"{self!r}: expected an array of numbers, but got dtype {X.dtype}")
        if X.ndim < min_ndim:
            raise ValueError(
                f"{self!r}: expected a batch of at least {min_ndim} dimensions (N, C, ...), but "
                f"got shape {X.shape}"
            )
        return X


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    if rng is None:
        from scratchcnn.random import default_rng

        return default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"transforms: rng must be a numpy Generator, but got {type(rng).__name__}")
    return rng


def _pair(value: Any, name: str, owner: str) -> tuple[int, int]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif isinstance(value, Sequence) and len(value) == 2 and all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value
    ):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{owner}: {name} must be an int or a pair of ints, but got {value!r}")
    if min(pair) < 1:
        raise ValueError(f"{owner}: {name} must be positive, but got {name}={value}")
    return pair


def _padding(value: Any, owner: str) -> tuple[int, int, int, int]:
    """torchvision's padding: an int, (left/right, top/bottom) or (left, top, right, bottom)."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok:
        value = (int(value),) * 4
    elif isinstance(value, Sequence) and len(value) in (2, 4):
        ok = all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
        if ok and len(value) == 2:
            value = (value[0], value[1], value[0], value[1])
    if not ok:
        raise TypeError(
            f"{owner}: padding must be an int or a sequence of 2 or 4 ints, but got {value!r}"
        )
    left, top, right, bottom = (int(v) for v in value)
    if min(left, top, right, bottom) < 0:
        raise ValueError(f"{owner}: padding must be non-negative, but got {value!r}")
    return left, top, right, bottom


def crop_windows(
    X: np.ndarray, top: np.ndarray, left: np.ndarray, size: tuple[int, int]
) -> np.ndarray:
    """Sample i of (N, C, H, W) cropped to ``size`` at (top[i], left[i]): (N, C, h, w), a copy."""
    h, w = size
    windows = np.lib.stride_tricks.sliding_window_view(X, (h, w), axis=(2, 3))
    # windows: (N, C, H-h+1, W-w+1, h, w); the arrays at axes 0, 2, 3 pick one window each
    return windows[np.arange(X.shape[0]), :, top, left]


class RandomCrop(Transform):
    """Pad by ``padding``, then crop each image at a random place to ``size`` (h, w).

    Like ``torchvision.transforms.RandomCrop``: ``padding`` is an int, (left/right, top/bottom)
    or (left, top, right, bottom); ``pad_if_needed`` pads images smaller than ``size``;
    ``padding_mode`` is 'constant' (with ``fill``), 'edge', 'reflect' or 'symmetric'.

    Shape: (N, C, H, W) -> (N, C, h, w).
    """

    random = True

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: float = 0,
        padding_mode: str = "constant",
    ) -> None:
        owner = "RandomCrop"
        self.size = _pair(size, "size", owner)
        self.padding = None if padding is None else _padding(padding, owner)
        self.pad_if_needed = bool(pad_if_needed)
        if isinstance(fill, bool) or not isinstance(fill, numbers.Real):
            raise TypeError(f"{owner}: fill must be a number, but got {fill!r}")
        self.fill = fill
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{owner}: padding_mode must be one of {', '.join(map(repr, _PADDING_MODES))}, "
                f"but got {padding_mode!r}"
            )
        self.padding_mode = padding_mode

    def extra_repr(self) -> str:
        text = f"size={self.size}"
        if self.padding is not None:
            text += f", padding={self.padding}"
        if self.pad_if_needed:
            text += ", pad_if_needed=True"
        if self.padding_mode != "constant":
            text += f", padding_mode={self.padding_mode!r}"
        return text

    def __call__(self, X: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        X = self._check_batch(X, 4)
        if X.ndim != 4:
            raise ValueError(f"{self!r}: expected a batch (N, C, H, W), but got shape {X.shape}")
        rng = _rng(rng)
        left, top, right, bottom = self.padding or (0, 0, 0, 0)
        h, w = self.size
        H, W = X.shape[2] + top + bottom, X.shape[3] + left + right
        if self.pad_if_needed:
            extra_h, extra_w = max(h - H, 0), max(w - W, 0)
            top, bottom = top + extra_h, bottom + extra_h
            left, right = left + extra_w, right + extra_w
            H, W = H + 2 * extra_h, W + 2 * extra_w
        if h > H or w > W:
            raise ValueError(
                f"{self!r}: required crop size {(h, w)} is larger than the (padded) input image "
                f"size {(H, W)}"
            )
        if top or bottom or left or right:
            pads = ((0, 0), (0, 0), (top, bottom), (left, right))
            if self.padding_mode == "constant":
                X = np.pad(X, pads, mode="constant", constant_values=self.fill)
            else:
                X = np.pad(X, pads, mode=self.padding_mode)
        n = X.shape[0]
        tops = rng.integers(0, H - h + 1, size=n)
        lefts = rng.integers(0, W - w + 1, size=n)
        return crop_windows(X, tops, lefts, (h, w))


class RandomHorizontalFlip(Transform):
    """Reverse the last axis (width) of each sample with probability ``p``.

    Shape: (N, C, ..., W) -> the same.
    """

    random = True

    def __init__(self, p: float = 0.5) -> None:
        self.p = check_probability(p, "p", "RandomHorizontalFlip")

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def __call__(self, X: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        X = self._check_batch(X, 2)
        flip = _rng(rng).random(X.shape[0]) < self.p
        out = np.array(X, copy=True)
        out[flip] = X[flip][..., ::-1]
        return out


class Normalize(Transform):
    """(X - mean[c]) / std[c] per channel (axis 1), as ``torchvision.transforms.Normalize``.

    ``mean`` and ``std`` are a number or one per channel. Floating batches keep their dtype;
    integer batches become float64. Shape: (N, C, ...) -> the same.
    """

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        owner = "Normalize"
        self.mean = self._vector(mean, "mean", owner)
        self.std = self._vector(std, "std", owner)
        if np.any(self.std == 0):
            raise ValueError(f"{owner}: std evaluated to zero, leading to division by zero")
        if self.mean.size != self.std.size and 1 not in (self.mean.size, self.std.size):
            raise ValueError(
                f"{owner}: mean and std must have the same length, but got {self.mean.size} and "
                f"{self.std.size}"
            )

    @staticmethod
    def _vector(value: Any, name: str, owner: str) -> np.ndarray:
        try:
            array = np.asarray(value, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"{owner}: {name} must be a number or a list of numbers, but got {value!r}"
            ) from error
        if array.size == 0 or not np.all(np.isfinite(array)):
            raise ValueError(f"{owner}: {name} must be finite numbers, but got {value!r}")
        return array

    def extra_repr(self) -> str:
        return f"mean={self.mean.tolist()}, std={self.std.tolist()}"

    def __call__(self, X: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        X = self._check_batch(X, 2)
        channels = max(self.mean.size, self.std.size)
        if channels != 1 and X.shape[1] != channels:
            raise ValueError(
                f"{self!r}: expected {channels} channels (axis 1), but got input of shape "
                f"{X.shape}"
            )
        dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float64)
        shape = (1, -1) + (1,) * (X.ndim - 2)
        mean = self.mean.astype(dtype).reshape(shape)
        std = self.std.astype(dtype).reshape(shape)
        return (X.astype(dtype, copy=False) - mean) / std


class Compose(Transform):
    """Apply ``transforms`` in order. ``deterministic()`` keeps only the non-random ones."""

    def __init__(self, transforms: Sequence[Transform]) -> None:
        if isinstance(transforms, Transform) or not isinstance(transforms, Sequence):
            raise TypeError(
                f"Compose: transforms must be a list of transforms, but got "
                f"{type(transforms).__name__}"
            )
        for i, transform in enumerate(transforms):
            if not callable(transform):
                raise TypeError(
                    f"Compose: transforms[{i}] must be a transform, but got "
                    f"{type(transform).__name__}"
                )
        self.transforms = list(transforms)
        self.random = any(getattr(t, "random", True) for t in self.transforms)

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])" if inner else "Compose([])"

    def __call__(self, X: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        for transform in self.transforms:
            X = transform(X, rng)
        return X

    def deterministic(self) -> Compose:
        """The transforms without randomness (e.g. ``Normalize``), for evaluation."""
        kept = []
        for t in self.transforms:
            if isinstance(t, Compose):
                kept.append(t.deterministic())
            elif not getattr(t, "random", True):
                kept.append(t)
        return Compose(kept)


def deterministic_part(transform: Any) -> Any:
    """What of ``transform`` runs at evaluation: None for a random one, itself otherwise."""
    if transform is None:
        return None
    if isinstance(transform, Compose):
        part = transform.deterministic()
        return part if part.transforms else None
    return None if getattr(transform, "random", True) else transform
