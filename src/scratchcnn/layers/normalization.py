"""Batch normalization over the channels of images."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.kernels.layout import from_batch_last, to_batch_last
from scratchcnn.layers.base import Layer
from scratchcnn.validation import as_float_array, check_grad_shape, check_ndim, check_positive_int


class BatchNorm2d(Layer):
    """Per-channel normalization, like ``torch.nn.BatchNorm2d``: (N, C, H, W) -> same shape.

    Training mode normalizes with the batch's mean and biased variance over (N, H, W) and
    updates ``running_mean`` / ``running_var`` (unbiased variance) by
    ``running = (1 - momentum) * running + momentum * batch``; eval mode uses the running
    statistics. ``W`` (gamma) and ``b`` (beta), shape (C,), scale and shift the result.
    """

    param_names = ("W", "b")
    buffer_names = ("running_mean", "running_var")

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        optimizer: Any = None,
    ) -> None:
        owner = "BatchNorm2d"
        self.num_features = check_positive_int(num_features, "num_features", owner)
        for name, value in (("eps", eps), ("momentum", momentum)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise TypeError(f"{owner}: {name} must be a number, but got {value!r}")
        if not eps > 0:
            raise ValueError(f"{owner}: eps must be positive, but got eps={eps}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"{owner}: momentum must be in [0, 1], but got momentum={momentum}")
        for name, value in (("affine", affine), ("track_running_stats", track_running_stats)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{owner}: {name} must be a bool, but got {value!r}")
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        # instance-level names: without affine there is nothing to train, without running
        # stats nothing to save
        self.param_names = ("W", "b") if self.affine else ()
        self.buffer_names = ("running_mean", "running_var") if self.track_running_stats else ()
        super().__init__(optimizer)
        C = self.num_features
        if self.affine:
            self.W = np.ones(C, dtype=np.float32)
            self.b = np.zeros(C, dtype=np.float32)
        if self.track_running_stats:
            self.running_mean = np.zeros(C, dtype=np.float32)
            self.running_var = np.ones(C, dtype=np.float32)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """(C, H, W) -> (C, H, W) for one sample; C must be ``num_features``."""
        if len(input_shape) != 3:
            raise ValueError(
                f"{self!r}: expected a per-sample input shape (C, H, W), but got "
                f"{tuple(input_shape)}"
            )
        if input_shape[0] != self.num_features:
            raise ValueError(
                f"{self!r}: expected input with {self.num_features} channels, but got input "
                f"with {input_shape[0]} channels (per-sample shape {tuple(input_shape)})"
            )
        return tuple(input_shape)

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = as_float_array(X, repr(self))
        check_ndim(X, (4,), repr(self), "4D (N, C, H, W)")
        self.output_shape(X.shape[1:])
        self._adopt_dtype(X.dtype)
        Xb = to_batch_last(X)  # (C, H, W, N): each channel one contiguous row
        C = Xb.shape[0]
        rows = Xb.reshape(C, -1)
        M = rows.shape[1]
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            if M <= 1:
                raise ValueError(
                    f"{self!r}: expected more than 1 value per channel when training, but "
                    f"got input of shape {tuple(X.shape)}"
                )
            mean = rows.mean(axis=1)
            centered = rows - mean[:, np.newaxis]
            var = np.einsum("ij,ij->i", centered, centered) / M
        else:
            mean, var = self.running_mean, self.running_var
            centered = rows - mean[:, np.newaxis]
        inv_std = 1.0 / np.sqrt(var + self.eps)
        X_hat = centered
        X_hat *= inv_std[:, np.newaxis]
        if self.training and self.track_running_stats:
            m = self.momentum
            self.running_mean *= 1 - m
            self.running_mean += m * mean
            self.running_var *= 1 - m
            self.running_var += (m * M / (M - 1)) * var
        A = X_hat * self.W[:, np.newaxis] + self.b[:, np.newaxis] if self.affine else X_hat.copy()
        self._cache = (X_hat, inv_std, use_batch, X.shape)
        return from_batch_last(A.reshape(Xb.shape))

    def backward(self, dA: np.ndarray) -> np.ndarray:
        X_hat, inv_std, use_batch, shape = self._cached()
        dA = as_float_array(dA, repr(self), "dA").astype(X_hat.dtype, copy=False)
        check_grad_shape(dA, shape, repr(self))
        C, M = X_hat.shape
        dA_rows = to_batch_last(dA).reshape(C, M)
        if self.affine:
            self.db = dA_rows.sum(axis=1)
            self.dW = np.einsum("ij,ij->i", dA_rows, X_hat)
            gamma = self.W
        else:
            gamma = np.ones(C, dtype=X_hat.dtype)
        if use_batch:
            # batch statistics depend on every input: subtract the gradient's mean and its
            # projection on X_hat (d mean and d var folded in)
            sum_dA = self.db if self.affine else dA_rows.sum(axis=1)
            dot = self.dW if self.affine else np.einsum("ij,ij->i", dA_rows, X_hat)
            dX = X_hat * (dot / M)[:, np.newaxis]
            np.subtract(dA_rows, dX, out=dX)
            dX -= (sum_dA / M)[:, np.newaxis]
            dX *= (gamma * inv_std)[:, np.newaxis]
        else:
            dX = dA_rows * (gamma * inv_std)[:, np.newaxis]
        self._apply_optimizer()
        return from_batch_last(dX.reshape(shape[1], *shape[2:], shape[0]))

    def get_config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.affine,
            "track_running_stats": self.track_running_stats,
        }

    def extra_repr(self) -> str:
        text = f"{self.num_features}"
        if self.eps != 1e-5:
            text += f", eps={self.eps}"
        if self.momentum != 0.1:
            text += f", momentum={self.momentum}"
        if not self.affine:
            text += ", affine=False"
        if not self.track_running_stats:
            text += ", track_running_stats=False"
        return text
