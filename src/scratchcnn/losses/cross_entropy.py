"""Softmax cross-entropy with ``torch.nn.CrossEntropyLoss``'s options and shapes."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.kernels.activations import row_max, row_sum
from scratchcnn.losses.base import Loss, as_dtype
from scratchcnn.validation import as_float_array, check_finite


def _check_logits(logits: Any, owner: str) -> np.ndarray:
    X = as_float_array(logits, owner, "logits")
    if X.ndim == 0:
        raise ValueError(
            f"{owner}: expected logits of shape (K,), (N, K) or (N, K, d1, ...), but got logits "
            "of shape ()"
        )
    if X.size == 0:
        raise ValueError(f"{owner}: expected a non-empty batch, but got logits of shape {X.shape}")
    check_finite(X, owner, "logits")
    return X


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by cross-entropy, like ``torch.nn.CrossEntropyLoss``.

    Shapes: logits (N, K), (K,) unbatched, or (N, K, d1, ...) with the classes on axis 1;
    targets are class indices of the logits' shape without the class axis (integers in
    [0, K), or ``ignore_index``), or one-hot/probability targets of the logits' shape
    (which, as in torch, cannot be combined with a non-default ``ignore_index``).
    ``weight`` (K,) rescales each class; with class indices 'mean' is the weighted mean,
    sum(w[y_i] * loss_i) / sum(w[y_i]) over the targets not ignored. ``label_smoothing`` e
    mixes the target with the uniform distribution: (1 - e) * target + e / K. ``probs``
    holds the last softmax. Log-sum-exp keeps logits of 1e4 finite.
    """

    def __init__(
        self,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
        weight: Any = None,
        ignore_index: int = -100,
    ) -> None:
        owner = type(self).__name__
        super().__init__(reduction)
        if isinstance(label_smoothing, (bool, np.bool_)) or not isinstance(
            label_smoothing, (int, float, np.integer, np.floating)
        ):
            raise TypeError(
                f"{owner}: label_smoothing must be a number, but got {label_smoothing!r}"
            )
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"{owner}: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"
            )
        self.label_smoothing = float(label_smoothing)
        self.weight = None
        if weight is not None:
            w = as_float_array(weight, owner, "weight")
            if w.ndim != 1 or w.size == 0:
                raise ValueError(
                    f"{owner}: weight must be a 1-D array with one entry per class, but got "
                    f"weight of shape {w.shape}"
                )
            check_finite(w, owner, "weight")
            self.weight = w.astype(np.float64)
        if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(
            ignore_index, (int, np.integer)
        ):
            raise TypeError(f"{owner}: ignore_index must be an int, but got {ignore_index!r}")
        self.ignore_index = int(ignore_index)
        self.probs: np.ndarray | None = None

    # -- targets ---------------------------------------------------------------------------
    def _targets(
        self, labels: Any, X: np.ndarray, Z: np.ndarray, class_axis: int
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(indices (M,), None)`` for class indices or ``(None, rows (M, K))``."""
        owner = repr(self)
        K = X.shape[class_axis]
        index_shape = X.shape[:class_axis] + X.shape[class_axis + 1 :]
        labels = labels if isinstance(labels, np.ndarray) else np.asarray(labels)
        if labels.shape == X.shape:
            if self.ignore_index != -100:
                raise ValueError(
                    f"{owner}: ignore_index is not supported for one-hot or probability targets "
                    "(as in torch); pass class indices, or leave ignore_index at -100"
                )
            rows = as_dtype(labels, X.dtype, owner, "labels")
            return None, np.moveaxis(rows, class_axis, -1).reshape(Z.shape)
        if labels.shape == index_shape:
            if labels.dtype.kind not in "iu":
                raise TypeError(
                    f"{owner}: class labels of shape {_index_text(X.ndim)} must be integers, but "
                    f"got dtype {labels.dtype}; pass targets of the logits' shape for one-hot or "
                    "probability labels"
                )
            y = labels.reshape(-1).astype(np.intp, copy=False)
            bad = (y != self.ignore_index) & ((y < 0) | (y >= K))
            if bad.any():
                raise ValueError(
                    f"{owner}: class labels must be in [0, {K}) for {K} classes, but got "
                    f"{y[bad][0]} (labels equal to ignore_index={self.ignore_index} are ignored)"
                )
            return y, None
        if labels.ndim == X.ndim:
            raise ValueError(
                f"{owner}: one-hot or probability labels must have the logits' shape "
                f"{X.shape}, but got labels of shape {labels.shape}"
            )
        raise ValueError(
            f"{owner}: expected labels of shape {index_shape} (class indices) or {X.shape} "
            f"(one-hot or probabilities) for logits of shape {X.shape}, but got labels of shape "
            f"{labels.shape}"
        )

    def _class_weights(self, K: int, dtype: np.dtype) -> np.ndarray | None:
        if self.weight is None:
            return None
        if self.weight.shape != (K,):
            raise ValueError(
                f"{self!r}: weight should be defined either for all {K} classes or no classes, "
                f"but got weight of shape {self.weight.shape}"
            )
        return self.weight.astype(dtype)

    # -- the computation -------------------------------------------------------------------
    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float | np.ndarray:
        X = _check_logits(logits, repr(self))
        class_axis = 0 if X.ndim == 1 else 1
        K = X.shape[class_axis]
        Z = np.moveaxis(X, class_axis, -1).reshape(-1, K)  # (M, K): a view for (N, K)
        indices, rows = self._targets(labels, X, Z, class_axis)
        w = self._class_weights(K, X.dtype)
        shifted = Z - row_max(Z)
        log_probs = shifted - np.log(row_sum(np.exp(shifted)))
        probs = np.exp(log_probs)
        e = self.label_smoothing
        if indices is not None:
            valid = indices != self.ignore_index
            safe = np.where(valid, indices, 0)
            picked_w = (np.ones(len(safe), X.dtype) if w is None else w[safe]) * valid
            losses = -picked_w * log_probs[np.arange(len(safe)), safe]
            if e > 0:
                smooth = -(log_probs.sum(axis=1) if w is None else log_probs @ w) * valid
                losses = (1 - e) * losses + (e / K) * smooth
            denominator = float(picked_w.sum())
            targets = (safe, valid, picked_w)
        else:
            if e > 0:
                rows = rows * (1 - e) + e / K
            weighted = rows if w is None else rows * w
            losses = -(weighted * log_probs).sum(axis=1)
            denominator = float(Z.shape[0])
            targets = weighted
        index_shape = X.shape[:class_axis] + X.shape[class_axis + 1 :]
        self.probs = np.moveaxis(probs.reshape(*index_shape, K), -1, class_axis)
        self._cache = (probs, targets, w, X.shape, class_axis, denominator)
        return self._reduce(losses.reshape(index_shape), denominator)

    def backward(self, dloss: Any = None) -> np.ndarray:
        """Gradient of the reduced loss with respect to the logits (``dloss`` for 'none')."""
        probs, targets, w, shape, class_axis, denominator = self._cached()
        M, K = probs.shape
        index_shape = shape[:class_axis] + shape[class_axis + 1 :]
        upstream = self._upstream(dloss, index_shape, denominator, probs.dtype)
        e = self.label_smoothing
        if isinstance(targets, tuple):
            safe, valid, picked_w = targets
            # d/dz of w_y * -log p_y is w_y (p - onehot_y); of the smoothing term
            # -sum_c w_c log p_c it is sum(w) p - w
            valid = valid.astype(probs.dtype)  # a bool array times a float would be float64
            total_w = float(K) if w is None else float(w.sum())
            coefficient = (1 - e) * picked_w + (e / K) * total_w * valid
            dZ = probs * coefficient[:, np.newaxis]
            dZ[np.arange(M), safe] -= (1 - e) * picked_w
            if e > 0:
                dZ -= (e / K) * valid[:, np.newaxis] * (1.0 if w is None else w)
        else:
            weighted = targets
            dZ = probs * weighted.sum(axis=1, keepdims=True) - weighted
        if isinstance(upstream, np.ndarray):
            dZ *= upstream.reshape(M, 1)
        else:
            dZ *= upstream
        return np.moveaxis(dZ.reshape(*index_shape, K), -1, class_axis)

    # -- description -----------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {
            "reduction": self.reduction,
            "label_smoothing": self.label_smoothing,
            "weight": None if self.weight is None else self.weight.tolist(),
            "ignore_index": self.ignore_index,
        }

    def extra_repr(self) -> str:
        parts = [super().extra_repr()] if self.reduction != "mean" else []
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        if self.weight is not None:
            shown = ", ".join(f"{v:g}" for v in self.weight[:6])
            parts.append(f"weight=[{shown}{', ...' if len(self.weight) > 6 else ''}]")
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        return ", ".join(parts)


def _index_text(ndim: int) -> str:
    """The shape of class-index targets for logits of ``ndim`` dimensions, in words."""
    return {1: "()", 2: "(N,)"}.get(ndim, "(N, d1, ...)")


