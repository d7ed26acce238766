"""The notebooks' way: LeNet-5 with convolutions and pooling that loop over output positions.

This is the baseline the library's speed-up is measured against, written the way the course
notebooks wrote their ``Conv2d`` and ``MaxPool2D``: a Python loop over every output position
(i, j) and, in the convolution, every output channel k, each iteration a NumPy operation over
the batch. Dense layers, ReLU and the loss are vectorized, as in the notebooks.

Two choices make the baseline faster than the notebooks', so the measured speed-up is a lower
bound: arrays keep the input's dtype (the notebooks allocated float64 with ``np.zeros(shape)``),
and max-pool backward is vectorized over batch and channels at each output position (the
notebooks also looped over batch and channels there). Like the library, the first convolution
skips its input gradient.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np


class LoopConv2d:
    """Valid, stride-1 convolution, one output position and output channel at a time."""

    def __init__(self, W: np.ndarray, b: np.ndarray, compute_input_grad: bool = True) -> None:
        self.W, self.b = W, b
        self.compute_input_grad = compute_input_grad

    def forward(self, X: np.ndarray) -> np.ndarray:
        self.X = X
        N, _, H, W_in = X.shape
        C_out, _, KH, KW = self.W.shape
        OH, OW = H - KH + 1, W_in - KW + 1
        out = np.zeros((N, C_out, OH, OW), dtype=X.dtype)
        for i in range(OH):
            for j in range(OW):
                x_slice = X[:, :, i : i + KH, j : j + KW]
                for k in range(C_out):
                    out[:, k, i, j] = np.sum(x_slice * self.W[k], axis=(1, 2, 3)) + self.b[k]
        return out

    def backward(self, dA: np.ndarray) -> np.ndarray | None:
        X = self.X
        _, C_out, OH, OW = dA.shape
        KH, KW = self.W.shape[2:]
        dX = np.zeros_like(X) if self.compute_input_grad else None
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        for i in range(OH):
            for j in range(OW):
                x_slice = X[:, :, i : i + KH, j : j + KW]
                for k in range(C_out):
                    d_out_k = dA[:, k, i, j][:, None, None, None]
                    self.dW[k] += np.sum(x_slice * d_out_k, axis=0)
                    self.db[k] += np.sum(dA[:, k, i, j])
                    if dX is not None:
                        dX[:, :, i : i + KH, j : j + KW] += self.W[k][None] * d_out_k
        return dX


class LoopMaxPool2d:
    """Non-overlapping max pooling, one output position at a time."""

    def __init__(self, size: int = 2) -> None:
        self.size = size

    def forward(self, X: np.ndarray) -> np.ndarray:
        self.X = X
        N, C, H, W = X.shape
        s = self.size
        OH, OW = H // s, W // s
        out = np.zeros((N, C, OH, OW), dtype=X.dtype)
        self.argmax = np.zeros((N, C, OH, OW), dtype=np.int64)
        for i in range(OH):
            for j in range(OW):
                window = X[:, :, i * s : i * s + s, j * s : j * s + s].reshape(N, C, s * s)
                out[:, :, i, j] = window.max(axis=2)
                self.argmax[:, :, i, j] = window.argmax(axis=2)
        return out

    def backward(self, dA: np.ndarray) -> np.ndarray:
        N, C, OH, OW = dA.shape
        s = self.size
        dX = np.zeros_like(self.X)
        offsets = np.arange(s * s)
        for i in range(OH):
            for j in range(OW):
                mask = offsets == self.argmax[:, :, i, j][:, :, None]
                grad = (mask * dA[:, :, i, j][:, :, None]).reshape(N, C, s, s)
                dX[:, :, i * s : i * s + s, j * s : j * s + s] += grad
        return dX


class ReLU:
    def forward(self, X: np.ndarray) -> np.ndarray:
        self.mask = X > 0
        return X * self.mask

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return dA * self.mask


class Flatten:
    def forward(self, X: np.ndarray) -> np.ndarray:
        self.shape = X.shape
        return X.reshape(X.shape[0], -1)

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return dA.reshape(self.shape)


class FullyConnected:
    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W, self.b = W, b

    def forward(self, X: np.ndarray) -> np.ndarray:
        self.X = X
        return X @ self.W + self.b

    def backward(self, dA: np.ndarray) -> np.ndarray:
        self.dW = self.X.T @ dA
        self.db = dA.sum(axis=0)
        return dA @ self.W.T


class Adam:
    """Adam with PyTorch's defaults, one state per parameter array."""

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999)) -> None:
        self.lr, self.betas, self.eps = lr, betas, 1e-8
        self.state: dict[int, dict[str, Any]] = {}

    def update(self, layer: Any) -> None:
        beta1, beta2 = self.betas
        for name in ("W", "b"):
            param, grad = getattr(layer, name), getattr(layer, "d" + name)
            state = self.state.setdefault(
                id(param), {"m": np.zeros_like(param), "v": np.zeros_like(param), "t": 0}
            )
            state["t"] += 1
            m, v, t = state["m"], state["v"], state["t"]
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class NotebookLeNet:
    """LeNet-5 (6@5x5, pool, 16@5x5, pool, 120, 84, 10) from loop layers, trained with Adam."""

    def __init__(self, seed: int = 0, dtype: np.dtype = np.float32) -> None:
        rng = np.random.default_rng(seed)

        def uniform(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
            bound = 1.0 / np.sqrt(fan_in)
            return rng.uniform(-bound, bound, size=shape).astype(dtype)

        self.layers: list[Any] = [
            LoopConv2d(uniform((6, 1, 5, 5), 25), uniform((6,), 25), compute_input_grad=False),
            ReLU(),
            LoopMaxPool2d(2),
            LoopConv2d(uniform((16, 6, 5, 5), 150), uniform((16,), 150)),
            ReLU(),
            LoopMaxPool2d(2),
            Flatten(),
            FullyConnected(uniform((256, 120), 256), uniform((120,), 256)),
            ReLU(),
            FullyConnected(uniform((120, 84), 120), uniform((84,), 120)),
            ReLU(),
            FullyConnected(uniform((84, 10), 84), uniform((10,), 84)),
        ]
        self.optimizer = Adam(1e-3)

    def train_step(self, X: np.ndarray, y: np.ndarray) -> float:
        """One full step: forward, softmax cross-entropy, backward, Adam update."""
        out = X
        for layer in self.layers:
            out = layer.forward(out)
        shifted = out - out.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -float(log_probs[np.arange(len(y)), y].mean())
        grad = np.exp(log_probs)
        grad[np.arange(len(y)), y] -= 1
        grad /= len(y)
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        for layer in self.layers:
            if hasattr(layer, "W"):
                self.optimizer.update(layer)
        return loss


def notebook_images_per_second(
    X: np.ndarray, y: np.ndarray, steps: int = 1, seed: int = 0
) -> dict[str, float]:
    """Time ``steps`` notebook-style LeNet steps on (X, y) and return the best images/s."""
    model = NotebookLeNet(seed=seed, dtype=X.dtype)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_step(X, y)
        times.append(time.perf_counter() - start)
    best = min(times)
    return {
        "batch": len(X),
        "steps": steps,
        "seconds_per_step": best,
        "images_per_s": len(X) / best,
    }
