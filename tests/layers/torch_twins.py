"""PyTorch twins of our layers and blocks, built from ``torch.nn`` with our weights copied in.

Shared by the block tests in this folder (importable because pytest puts the folder of a
test file without ``__init__.py`` on ``sys.path``). Everything is float64.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional


class TorchResidual(nn.Module):
    def __init__(self, body: nn.Module, shortcut: nn.Module | None) -> None:
        super().__init__()
        self.body, self.shortcut = body, shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + (x if self.shortcut is None else self.shortcut(x))


class TorchPadChannels(nn.Module):
    """Option A as the CIFAR ResNets write it: subsample, then F.pad the channel axis."""

    def __init__(self, before: int, after: int, stride: int) -> None:
        super().__init__()
        self.before, self.after, self.stride = before, after, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.stride
        return functional.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, self.before, self.after))


class TorchConcat(nn.Module):
    def __init__(self, branches: list[nn.Module | None], dim: int) -> None:
        super().__init__()
        self.branches = nn.ModuleList([b if b is not None else nn.Identity() for b in branches])
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=self.dim)


def _copy(param: torch.Tensor, array: np.ndarray) -> None:
    with torch.no_grad():
        param.copy_(torch.tensor(np.asarray(array, dtype=np.float64)))


def twin(layer, rng=None) -> nn.Module:
    """The torch module for one of our layers, float64, same weights (BatchNorm's randomized)."""
    name = type(layer).__name__
    if name == "Conv2d":
        module = nn.Conv2d(
            layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
            layer.padding, bias=layer.bias, dtype=torch.float64,
        )  # fmt: skip
        _copy(module.weight, layer.W)
        if layer.bias:
            _copy(module.bias, layer.b)
        return module
    if name == "BatchNorm2d":
        module = nn.BatchNorm2d(layer.num_features, layer.eps, layer.momentum, dtype=torch.float64)
        if rng is not None:  # non-trivial gamma, beta and running statistics
            C = layer.num_features
            layer.W[...] = rng.uniform(0.5, 1.5, C)
            layer.b[...] = rng.standard_normal(C)
            layer.running_mean[...] = rng.standard_normal(C)
            layer.running_var[...] = rng.uniform(0.5, 2.0, C)
        for theirs, ours in (
            (module.weight, layer.W), (module.bias, layer.b),
            (module.running_mean, layer.running_mean), (module.running_var, layer.running_var),
        ):  # fmt: skip
            _copy(theirs, ours)
        return module
    if name == "ReLU":
        return nn.ReLU()
    if name == "MaxPool2d":
        return nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding)
    if name == "GlobalAvgPool2d":
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    if name == "Dense":
        module = nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
        _copy(module.weight, layer.W.T)
        _copy(module.bias, layer.b)
        return module
    if name == "PadChannelsShortcut":
        before = layer.pad_before
        return TorchPadChannels(
            before, layer.out_channels - layer.in_channels - before, layer.stride
        )
    if name == "Residual":
        shortcut = None if layer.shortcut is None else twins(layer.shortcut, rng)
        return TorchResidual(twins(layer.body, rng), shortcut)
    if name == "Concat":
        return TorchConcat([twins(b, rng) if b else None for b in layer.branches], layer.dim)
    raise AssertionError(f"no twin for {layer!r}")


def twins(layers, rng=None) -> nn.Sequential:
    return nn.Sequential(*[twin(layer, rng) for layer in layers])


def our_grads(layer_or_model) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in layer_or_model.grads().items()}


def torch_grads(module: nn.Module) -> list[np.ndarray]:
    """Gradients in our layout: a Linear weight's transposed to Dense's (in, out)."""
    grads = []
    for sub in module.modules():
        for name, p in sub.named_parameters(recurse=False):
            is_linear = isinstance(sub, nn.Linear) and name == "weight"
            grads.append(p.grad.numpy().T if is_linear else p.grad.numpy())
    return grads


def assert_close(ours, theirs, tol: float = 1e-10) -> None:
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = np.asarray(ours)
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.max(np.abs(theirs))))
    assert float(np.max(np.abs(ours - theirs))) <= tol * scale


def assert_same_step(layer, module, X, dA) -> np.ndarray:
    """Forward, backward, every parameter gradient and the running stats of ``layer``."""
    A = layer.forward(X)
    X_t = torch.tensor(X, requires_grad=True)
    A_t = module(X_t)
    assert_close(A, A_t)
    dX = layer.backward(dA.copy())
    A_t.backward(torch.tensor(dA))
    assert_close(dX, X_t.grad)
    ours = list(our_grads(layer).values())
    theirs = torch_grads(module)
    assert len(ours) == len(theirs)
    for g, g_t in zip(ours, theirs, strict=True):
        assert_close(g, g_t)
    buffers = [b for name, b in module.named_buffers() if "num_batches" not in name]
    for b, b_t in zip(layer.buffers().values(), buffers, strict=True):
        assert_close(b, b_t)
    module.zero_grad(set_to_none=True)
    return A


def model_and_twin(rng, layers):
    from scratchcnn.model import Sequential

    model = Sequential(layers, optimizer="sgd", dtype=np.float64)
    return model, twins(model.layers, rng)
