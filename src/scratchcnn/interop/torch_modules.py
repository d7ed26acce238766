"""torch modules for what ``torch.nn`` has no class for: residual blocks, concatenation.

``to_torch`` uses them for ``Residual``, ``Concat`` and ``PadChannelsShortcut``. Their
submodule names match our nested parameter keys (``body.0.weight`` for ``body.0.W``,
``branches.1.0.weight``), so state dicts line up. This file imports torch: only the
converters import it, when torch is needed anyway.
"""

from __future__ import annotations

import torch
from torch import nn


class Residual(nn.Module):
    """``body(x) + shortcut(x)``; an empty shortcut is the identity (torchvision's BasicBlock
    without its last ReLU)."""

    def __init__(self, body: nn.Sequential, shortcut: nn.Sequential | None = None) -> None:
        super().__init__()
        self.body = body
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        return self.body(x) + identity


class Concat(nn.Module):
    """``torch.cat([branch(x) for branch in branches], dim)``; an empty branch is x itself."""

    def __init__(self, branches: list[nn.Sequential], dim: int = 1) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PadChannelsShortcut(nn.Module):
    """Option A shortcut: ``x[:, :, ::stride, ::stride]`` with zero channels added, split
    evenly before and after (the extra one after), as the CIFAR ResNets' ``F.pad`` does."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 2) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        before = (self.out_channels - self.in_channels) // 2
        after = self.out_channels - self.in_channels - before
        s = self.stride
        return nn.functional.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, before, after))

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"
