"""Optional dependencies (torch, onnx, onnxruntime), imported only when a function needs them."""

from __future__ import annotations

import importlib
from types import ModuleType

# pip extra that installs each package, named in the error message
_EXTRAS = {"torch": "torch", "onnx": "onnx", "onnxruntime": "onnx"}


def require(package: str, owner: str) -> ModuleType:
    """Import ``package`` or raise ImportError saying who needs it and how to install it."""
    try:
        return importlib.import_module(package)
    except ImportError as error:
        extra = _EXTRAS.get(package, package)
        raise ImportError(
            f"{owner} needs the optional package {package!r}, which is not installed; "
            f"install it with: pip install {package}  (or pip install 'scratchcnn[{extra}]')"
        ) from error
