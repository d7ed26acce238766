"""Residual blocks (He et al., 2016): output = body(x) + shortcut(x).

``Residual`` takes its paths as lists of layers, like torchvision's ``BasicBlock`` written out:
``Residual([Conv2d(64, 64, 3, padding=1, bias=False), BatchNorm2d(64), ReLU(inplace=True),
Conv2d(64, 64, 3, padding=1, bias=False), BatchNorm2d(64)])`` followed by ``ReLU(inplace=True)``
in the model. A downsampling block takes a projection shortcut (``[Conv2d(64, 128, 1,
stride=2, bias=False), BatchNorm2d(128)]``, option B) or ``PadChannelsShortcut`` (option A:
subsample and zero-pad the new channels, no parameters), as the CIFAR ResNets do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.grad_mode import is_grad_enabled
from scratchcnn.kernels.layout import from_batch_last, to_batch_last
from scratchcnn.layers.base import Layer
from scratchcnn.layers.branching import (
    _Branching,
    accumulate,
    build_path,
    path_config,
)
from scratchcnn.validation import (
    as_float_array,
    check_grad_shape,
    check_ndim,
    check_positive_int,
)


class Residual(_Branching):
    """body(X) + shortcut(X), where ``body`` and ``shortcut`` are lists of layers.

    ``shortcut=None`` (or ``[]``) is the identity, so the body must keep the input's shape;
    otherwise both paths must give the same shape. Shape: X (N, *S) -> (N, *S_out), as the body
    maps it (unbatched input works when the inner layers take it). Parameters, gradients and
    buffers have nested keys: ``"body.0.W"``, ``"shortcut.1.running_mean"``. An activation
    after the addition (torchvision's BasicBlock) is the next layer of the model.
    """

    def __init__(self, body: Any, shortcut: Any = None, optimizer: Any = None) -> None:
        super().__init__(optimizer)
        owner = "Residual"
        body_path = build_path(body, owner, "body")
        if not body_path:
            raise ValueError(f"{owner}: body must hold at least one layer, but got an empty list")
        shortcut_path = [] if shortcut is None else build_path(shortcut, owner, "shortcut")
        self._init_paths([("body", body_path), ("shortcut", shortcut_path)])

    @property
    def body(self) -> list[Layer]:
        return self._paths["body"]

    @property
    def shortcut(self) -> list[Layer] | None:
        """The shortcut's layers, or None for the identity."""
        return self._paths["shortcut"] or None

    def _last_overwrites(self) -> dict[str, bool]:
        # The shortcut runs backward first and must leave dA intact for the body; the body may
        # then write over dA only when the block's own dA is a temporary and no identity
        # shortcut still needs it.
        return {
            "shortcut": False,
            "body": self.overwrite_dA and self.shortcut is not None,
        }

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The body's output shape, after checking that the shortcut gives the same."""
        shape = tuple(input_shape)
        body = self._path_shape("body", shape)
        short = self._path_shape("shortcut", shape)
        self._check_shapes(body, short, shape)
        return body

    def _check_shapes(
        self, body: tuple[int, ...], short: tuple[int, ...], input_shape: tuple[int, ...]
    ) -> None:
        if body == short:
            return
        identity = self.shortcut is None
        what = "the identity shortcut's (the input's)" if identity else "the shortcut's"
        hint = ""
        if self.shortcut is None:
            hint = (
                "; a block that changes the shape needs a shortcut, e.g. [Conv2d(C_in, C_out, 1, "
                "stride=s, bias=False), BatchNorm2d(C_out)] or PadChannelsShortcut(C_in, C_out, s)"
            )
        raise ValueError(
            f"{self._label()}: the body's output shape {body} and {what} {short} must be equal "
            f"to be added, for input of shape {input_shape}{hint}"
        )

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = as_float_array(X, self._label())
        X, shared = self._shared_input(X)
        with self._flags_set():
            S = self._run_path("shortcut", shared) if self.shortcut is not None else X
            B = self._run_path("body", shared)
        if B.shape != S.shape:
            self._check_shapes(tuple(B.shape), tuple(S.shape), tuple(X.shape))
        out = np.add(B, S, out=B if self._may_add_into(B, S) else self._output_buffer(B))
        self._cache = (out.shape, out.dtype) if is_grad_enabled() else None
        return out

    def _may_add_into(self, B: np.ndarray, S: np.ndarray) -> bool:
        """Whether the shortcut may be added into the body's output B in place.

        B must be memory that the body's last layer owns and never reads again
        (``Layer.owns_output``: its output buffer, BatchNorm's in a BasicBlock), and the
        block's output must be consumed before its next forward (``reuse_output``): that
        saves an output buffer as large as the activations.
        """
        return (
            self.reuse_output
            and self.body[-1].owns_output
            and B.flags.writeable
            and B.shape == S.shape
            and B.dtype == S.dtype
            and not np.may_share_memory(B, S)
        )

    def backward(self, dA: np.ndarray) -> np.ndarray | None:
        out_shape, dtype = self._cached()
        owner = self._label()
        dA = as_float_array(dA, owner, "dA").astype(dtype, copy=False)
        check_grad_shape(dA, out_shape, owner)
        with self._flags_set():
            if self.shortcut is not None:
                dS = self._backprop_path("shortcut", dA)
                if dS is not None and np.may_share_memory(dS, dA):
                    dS = dS.copy()  # a pass-through shortcut: the body may overwrite dA next
            else:
                dS = dA if self.compute_input_grad else None
            dB = self._backprop_path("body", dA)
        self._apply_optimizer()
        if dB is None or dS is None:
            return None
        return accumulate([dB, dS], dA, self.overwrite_dA)

    def get_config(self) -> dict[str, Any]:
        shortcut = None if self.shortcut is None else path_config(self.shortcut)
        return {"body": path_config(self.body), "shortcut": shortcut}


class PadChannelsShortcut(Layer):
    """He et al.'s option A shortcut: X[:, :, ::stride, ::stride], zero-padded to out_channels.

    Shape: (N, C_in, H, W) -> (N, C_out, ceil(H / stride), ceil(W / stride)) (the size of a
    3x3 convolution with padding 1 and that stride), or unbatched (C, H, W). The
    ``C_out - C_in`` new channels are zeros, split evenly before and after the input's (the
    extra one after when odd), as the CIFAR ResNets' ``F.pad`` does. No parameters.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 2) -> None:
        super().__init__()
        owner = "PadChannelsShortcut"
        self.in_channels = check_positive_int(in_channels, "in_channels", owner)
        self.out_channels = check_positive_int(out_channels, "out_channels", owner)
        self.stride = check_positive_int(stride, "stride", owner)
        if self.out_channels < self.in_channels:
            raise ValueError(
                f"{owner}: out_channels must be at least in_channels (channels are only added), "
                f"but got in_channels={self.in_channels} and out_channels={self.out_channels}"
            )
        self.pad_before = (self.out_channels - self.in_channels) // 2

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """(C_in, H, W) -> (C_out, ceil(H / stride), ceil(W / stride))."""
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise ValueError(
                f"{self!r}: expected a per-sample input shape (C, H, W), but got {shape}"
            )
        if shape[0] != self.in_channels:
            raise ValueError(
                f"{self!r}: expected input with {self.in_channels} channels (in_channels), but "
                f"got {shape[0]} channels in input of shape {shape}"
            )
        s = self.stride
        return (self.out_channels, -(-shape[1] // s), -(-shape[2] // s))

    def forward(self, X: np.ndarray) -> np.ndarray:
        X = as_float_array(X, self)
        check_ndim(X, (3, 4), self, "3D (unbatched) or 4D (batched)")
        unbatched = X.ndim == 3
        if unbatched:
            X = X[np.newaxis]
        C, OH, OW = self.output_shape(X.shape[1:])
        Xb = to_batch_last(X)  # (C_in, H, W, N)
        s, lo = self.stride, self.pad_before
        Yb = np.zeros((C, OH, OW, X.shape[0]), dtype=X.dtype)
        Yb[lo : lo + self.in_channels] = Xb[:, ::s, ::s]
        self._cache = (Xb.shape, X.dtype, unbatched)
        A = from_batch_last(Yb)
        return A[0] if unbatched else A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        x_shape, dtype, unbatched = self._cached()
        C_in, H, W, N = x_shape
        out_shape = (N, *self.output_shape((C_in, H, W)))
        dA = as_float_array(dA, self, "dA").astype(dtype, copy=False)
        check_grad_shape(dA, out_shape[1:] if unbatched else out_shape, self)
        dAb = to_batch_last(dA[np.newaxis] if unbatched else dA)
        s, lo = self.stride, self.pad_before
        dXb = np.zeros(x_shape, dtype=dtype)
        dXb[:, ::s, ::s] = dAb[lo : lo + C_in]
        self._apply_optimizer()
        dX = from_batch_last(dXb)
        return dX[0] if unbatched else dX

    def get_config(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "stride": self.stride,
        }

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"
