"""scratchcnn: convolutional neural networks from scratch on NumPy, checked against PyTorch."""

from scratchcnn import _environment

if not _environment.apply_defaults():  # before NumPy loads (see _environment.py), or after:
    _environment.quiet_loaded_openblas()
_environment.keep_freed_memory()

# ruff: noqa: E402
from typing import Any

from scratchcnn.grad_mode import is_grad_enabled, no_grad
from scratchcnn.random import manual_seed

__version__ = "0.1.0"
__all__ = ["__version__", "check_gradients", "is_grad_enabled", "manual_seed", "no_grad"]


def __getattr__(name: str) -> Any:
    # imported on first use, so that ``import scratchcnn`` stays light
    if name == "check_gradients":
        from scratchcnn.gradcheck import check_gradients

        return check_gradients
    raise AttributeError(f"module 'scratchcnn' has no attribute {name!r}")
