"""Losses: ``forward(logits, labels) -> float`` (mean over the batch), ``backward() -> dlogits``.

``backward`` returns the gradient of that mean, so a model's parameter gradients are those of
the mean loss (layers sum over the batch; the 1/N lives here). Labels are integer classes of
shape (N,) or rows of shape (N, K) (one-hot or probabilities).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.validation import as_float_array, check_finite


class Loss:
    """Base class: ``forward`` caches what ``backward`` needs; calling the loss runs forward."""

    def __init__(self) -> None:
        self._cache: Any = None

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, logits: np.ndarray, labels: np.ndarray) -> float:
        return self.forward(logits, labels)

    def _cached(self) -> Any:
        if self._cache is None:
            raise ValueError(f"{self!r}: backward() called before forward()")
        return self._cache

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _targets(
        self, labels: Any, logits: np.ndarray
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(class_indices, target_rows)`` for (N, K) logits: indices are None for row labels.

        Integer labels of shape (N,) are checked against [0, K); rows of shape (N, K) are
        checked for NaN/inf and cast to the logits' dtype.
        """
        owner = repr(self)
        N, K = logits.shape
        labels = labels if isinstance(labels, np.ndarray) else np.asarray(labels)
        if labels.ndim == 1:
            if labels.dtype.kind not in "iu":
                raise TypeError(
                    f"{owner}: class labels of shape (N,) must be integers, but got dtype "
                    f"{labels.dtype}; pass rows of shape (N, K) for one-hot or probability labels"
                )
            if labels.shape[0] != N:
                raise ValueError(
                    f"{owner}: expected {N} labels to match logits of shape {(N, K)}, but got "
                    f"labels of shape {labels.shape}"
                )
            if labels.size and (labels.min() < 0 or labels.max() >= K):
                bad = labels[(labels < 0) | (labels >= K)][0]
                raise ValueError(
                    f"{owner}: class labels must be in [0, {K}) for {K} classes, but got {bad}"
                )
            return labels.astype(np.intp, copy=False), None
        if labels.ndim == 2:
            if labels.shape != (N, K):
                raise ValueError(
                    f"{owner}: one-hot or probability labels must have the logits' shape "
                    f"{(N, K)}, but got labels of shape {labels.shape}"
                )
            return None, _as_dtype(labels, logits.dtype, owner, "labels")
        raise ValueError(
            f"{owner}: expected labels of shape (N,) (class indices) or (N, K) (one-hot or "
            f"probabilities), but got labels of shape {labels.shape}"
        )


def _as_dtype(labels: np.ndarray, dtype: np.dtype, owner: str, name: str) -> np.ndarray:
    """Numeric ``labels`` in ``dtype`` (no float64 detour for integers), checked finite."""
    if labels.dtype.kind not in "iubf":
        as_float_array(labels, owner, name)  # raises the TypeError for non-numbers
    check_finite(labels, owner, name)
    return labels.astype(dtype, copy=False)


def _check_logits(logits: Any, owner: str, name: str = "logits") -> np.ndarray:
    X = as_float_array(logits, owner, name)
    if X.ndim != 2:
        raise ValueError(
            f"{owner}: expected {name} of shape (N, K), but got {name} of shape {X.shape}"
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{owner}: expected a non-empty batch, but got {name} of shape {X.shape}")
    check_finite(X, owner, name)
    return X


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by cross-entropy, like ``torch.nn.CrossEntropyLoss()`` (mean).

    Shapes: logits (N, K); labels (N,) integers in [0, K) or (N, K) one-hot/probability rows.
    ``forward`` uses log-sum-exp, so logits of 1e4 neither overflow nor warn; ``probs`` holds
    the last softmax. ``backward()`` is (softmax * sum(labels_row) - labels) / N, which is
    (softmax - onehot) / N for class labels, in the logits' dtype.
    """

    def __init__(self) -> None:
        super().__init__()
        self.probs: np.ndarray | None = None

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        X = _check_logits(logits, repr(self))
        indices, rows = self._targets(labels, X)
        shifted = X - X.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        log_probs = shifted - log_norm
        self.probs = np.exp(log_probs)
        N = X.shape[0]
        if indices is not None:
            loss = -log_probs[np.arange(N), indices].sum() / N
        else:
            loss = -(rows * log_probs).sum() / N
        self._cache = (indices, rows)
        return float(loss)

    def backward(self) -> np.ndarray:
        indices, rows = self._cached()
        probs = self.probs
        N = probs.shape[0]
        if indices is not None:
            dX = probs.copy()
            dX[np.arange(N), indices] -= 1
        else:
            dX = probs * rows.sum(axis=1, keepdims=True) - rows
        dX /= N
        return dX


class MSE(Loss):
    """Mean squared error over all elements, like ``torch.nn.MSELoss()`` ('mean').

    Shapes: predictions of any shape with targets of the same shape; 2-D predictions (N, K)
    also take integer class labels (N,), compared as one-hot rows. ``backward()`` is
    2 * (pred - target) / pred.size, in the predictions' dtype.
    """

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        owner = repr(self)
        X = as_float_array(logits, owner, "predictions")
        if X.ndim == 0 or X.size == 0:
            raise ValueError(
                f"{owner}: expected non-empty predictions with at least one axis, but got "
                f"predictions of shape {X.shape}"
            )
        check_finite(X, owner, "predictions")
        labels = labels if isinstance(labels, np.ndarray) else np.asarray(labels)
        if labels.shape == X.shape:
            target = _as_dtype(labels, X.dtype, owner, "targets")
        elif X.ndim == 2 and labels.ndim == 1 and X.shape[1] > 1:
            indices, _ = self._targets(labels, X)
            target = np.zeros_like(X)
            target[np.arange(X.shape[0]), indices] = 1
        else:
            raise ValueError(
                f"{owner}: expected targets of the predictions' shape {X.shape}, but got "
                f"targets of shape {labels.shape}"
            )
        diff = X - target
        self._cache = diff
        return float(np.square(diff).sum() / diff.size)

    def backward(self) -> np.ndarray:
        diff = self._cached()
        return diff * (2 / diff.size)


LOSSES: dict[str, type[Loss]] = {
    "cross_entropy": SoftmaxCrossEntropy,
    "softmax_cross_entropy": SoftmaxCrossEntropy,
    "mse": MSE,
}


def make_loss(name: str) -> Loss:
    """A loss by name (case-insensitive): 'cross_entropy', 'softmax_cross_entropy' or 'mse'."""
    if not isinstance(name, str):
        raise TypeError(f"make_loss: name must be a str, but got {name!r}")
    key = name.lower()
    if key not in LOSSES:
        valid = ", ".join(repr(k) for k in LOSSES)
        raise ValueError(f"make_loss: unknown loss {name!r}; expected one of {valid}")
    return LOSSES[key]()
