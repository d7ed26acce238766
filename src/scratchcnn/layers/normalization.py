"""Batch normalization over channels: BatchNorm1d for (N, C) and (N, C, L), BatchNorm2d for images.

The arithmetic lives in ``kernels/normalization.py`` on per-channel rows (C, M); these layers
check arguments and shapes, keep the running statistics and move to the batch-last layout,
where each channel's values are one contiguous row.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from scratchcnn.grad_mode import is_grad_enabled
from scratchcnn.kernels.layout import from_batch_last, to_batch_last
from scratchcnn.kernels.normalization import (
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_inference,
    batch_statistics,
)
from scratchcnn.kernels.workspace import buffer as workspace_buffer
from scratchcnn.layers.base import Layer
from scratchcnn.validation import as_float_array, check_grad_shape, check_ndim, check_positive_int


class _BatchNorm(Layer):
    """Shared arguments, running statistics and the kernel calls of BatchNorm1d and 2d.

    Subclasses set ``sample_shapes`` (the per-sample shapes they take, for messages and
    ``output_shape``) and ``input_ranks`` with its description for ``forward``.
    """

    owns_output = True  # its output buffer or a new array; backward reads the input instead

    sample_shapes: ClassVar[tuple[str, ...]] = ()
    input_ranks: ClassVar[tuple[int, ...]] = ()
    input_text: ClassVar[str] = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        optimizer: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        owner = type(self).__name__
        self.num_features = check_positive_int(num_features, "num_features", owner)
        for name, value in (("eps", eps), ("momentum", momentum)):
            if value is None and name == "momentum":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise TypeError(f"{owner}: {name} must be a number, but got {value!r}")
        if not eps > 0:
            raise ValueError(f"{owner}: eps must be positive, but got eps={eps}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{owner}: momentum must be in [0, 1], but got momentum={momentum}")
        for name, value in (
            ("affine", affine),
            ("track_running_stats", track_running_stats),
            ("bias", bias),
        ):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{owner}: {name} must be a bool, but got {value!r}")
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.bias = bool(bias)
        self.track_running_stats = bool(track_running_stats)
        self._workspace: dict[str, np.ndarray] = {}
        # instance-level names: without affine there is nothing to train (bias=False keeps
        # gamma only), without running stats nothing to save; momentum=None (a cumulative
        # average) needs the batch count
        self.param_names = (("W", "b") if self.bias else ("W",)) if self.affine else ()
        buffers: tuple[str, ...] = ()
        if self.track_running_stats:
            buffers = ("running_mean", "running_var")
            if self.momentum is None:
                buffers += ("num_batches_tracked",)
        self.buffer_names = buffers
        super().__init__(optimizer)
        C = self.num_features
        if self.affine:
            self.W = np.ones(C, dtype=np.float32)
            if self.bias:
                self.b = np.zeros(C, dtype=np.float32)
        if self.track_running_stats:
            self.running_mean = np.zeros(C, dtype=np.float32)
            self.running_var = np.ones(C, dtype=np.float32)
            if self.momentum is None:
                # a float array, so that it follows the model's dtype like the other buffers
                self.num_batches_tracked = np.zeros((), dtype=np.float32)

    # -- shapes ----------------------------------------------------------------------------
    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The input's per-sample shape; its first axis must be ``num_features`` channels."""
        shape = tuple(input_shape)
        if len(shape) + 1 not in self.input_ranks:
            raise ValueError(
                f"{self!r}: expected a per-sample input shape {' or '.join(self.sample_shapes)}, "
                f"but got {shape}"
            )
        if shape[0] != self.num_features:
            raise ValueError(
                f"{self!r}: expected input with {self.num_features} channels, but got input "
                f"with {shape[0]} channels (per-sample shape {shape})"
            )
        return shape

    # -- computation -----------------------------------------------------------------------
    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, M: int) -> None:
        """running = (1 - m) running + m batch, with the unbiased variance, as PyTorch does."""
        if self.momentum is None:
            self.num_batches_tracked += 1
            m = 1.0 / float(self.num_batches_tracked)
        else:
            m = self.momentum
        self.running_mean *= 1 - m
        self.running_mean += m * mean
        self.running_var *= 1 - m
        self.running_var += (m * M / (M - 1)) * var

    def _output_buffer(self, rows: np.ndarray, name: str = "output") -> np.ndarray:
        """The output rows, reused between batches (a model consumes them before the next)."""
        return workspace_buffer(self._workspace, name, rows.shape, rows.dtype)

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = as_float_array(X, self)
        check_ndim(X, self.input_ranks, self, self.input_text)
        self.output_shape(X.shape[1:])
        self._adopt_dtype(X.dtype)
        if X.shape[0] == 0:  # as in torch: an empty output, the running statistics untouched
            if self.training and self.track_running_stats and self.momentum is None:
                self.num_batches_tracked += 1
            self._cache = (None, False, X.shape, X.dtype)
            return X.copy()
        Xb = to_batch_last(X)  # (C, *S, N): each channel one contiguous row
        rows = Xb.reshape(self.num_features, -1)
        M = rows.shape[1]
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            if M <= 1:
                raise ValueError(
                    f"{self!r}: expected more than 1 value per channel when training, but "
                    f"got input of shape {tuple(X.shape)}"
                )
            mean, var = batch_statistics(rows)
        else:
            mean, var = self.running_mean, self.running_var
        gamma = self.W if self.affine else None
        beta = self.b if self.affine and self.bias else None
        if not use_batch and not is_grad_enabled():  # inference: one scale and shift
            self._cache = None
            out = self._output_buffer(rows, "inference") if self.reuse_output else None
            A = batch_norm_inference(rows, mean, var, self.eps, gamma, beta, out=out)
            return from_batch_last(A.reshape(Xb.shape))
        out = self._output_buffer(rows) if self.reuse_output else None
        A, inv_std = batch_norm_forward(rows, mean, var, self.eps, gamma, beta, out=out)
        if self.training and self.track_running_stats:
            self._update_running_stats(mean, var, M)
        # the input itself, as PyTorch keeps it (in-place layers only write their own input)
        self._cache = ((rows, mean.copy(), inv_std), use_batch, X.shape, X.dtype)
        return from_batch_last(A.reshape(Xb.shape))

    def backward(self, dA: np.ndarray) -> np.ndarray:
        saved, use_batch, shape, dtype = self._cached()
        dA = as_float_array(dA, self, "dA").astype(dtype, copy=False)
        check_grad_shape(dA, shape, self)
        if saved is None:  # an empty batch
            dgamma = dbeta = np.zeros(self.num_features, dtype=dtype)
            dX = dA.copy()
        else:
            rows, mean, inv_std = saved
            dA_rows = to_batch_last(dA).reshape(rows.shape)
            gamma = self.W if self.affine else None
            dead = self._output_buffer_for_grad(rows.shape, rows.dtype, dA_rows)
            if dead is not None and np.may_share_memory(dead, rows):
                dead = None
            dX, dgamma, dbeta = batch_norm_backward(
                dA_rows, rows, mean, inv_std, gamma, use_batch,
                overwrite_dA=self.overwrite_dA, out=dead,
            )  # fmt: skip
            dX = from_batch_last(dX.reshape(shape[1], *shape[2:], shape[0]))
        if self.affine and self._wants_param_grads():
            self.dW = dgamma
            if self.bias:
                self.db = dbeta
        self._apply_optimizer()
        return dX

    # -- description -----------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.affine,
            "track_running_stats": self.track_running_stats,
            "bias": self.bias,
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
        if not self.bias:
            text += ", bias=False"
        return text


class BatchNorm1d(_BatchNorm):
    """Per-channel normalization, like ``torch.nn.BatchNorm1d``: (N, C) or (N, C, L) -> same.

    Statistics are over N (and L). Training mode normalizes with the batch's mean and biased
    variance and updates ``running_mean`` / ``running_var`` (unbiased variance) by
    ``running = (1 - momentum) * running + momentum * batch``; ``momentum=None`` takes the
    cumulative average over ``num_batches_tracked`` batches. Eval mode uses the running
    statistics. ``W`` (gamma) and ``b`` (beta), shape (C,), scale and shift the result
    (``bias=False``, keyword-only as in torch, keeps gamma only). An empty batch (N = 0)
    gives an empty output and leaves the statistics alone, as in torch.
    """

    sample_shapes = ("(C,)", "(C, L)")
    input_ranks = (2, 3)
    input_text = "2D (N, C) or 3D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Per-channel normalization, like ``torch.nn.BatchNorm2d``: (N, C, H, W) -> same shape.

    Training mode normalizes with the batch's mean and biased variance over (N, H, W) and
    updates ``running_mean`` / ``running_var`` (unbiased variance) by
    ``running = (1 - momentum) * running + momentum * batch`` (``momentum=None``: the
    cumulative average); eval mode uses the running statistics. ``W`` (gamma) and ``b``
    (beta), shape (C,), scale and shift the result.
    """

    sample_shapes = ("(C, H, W)",)
    input_ranks = (4,)
    input_text = "4D (N, C, H, W)"
