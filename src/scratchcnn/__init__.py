"""scratchcnn: convolutional neural networks from scratch on NumPy, checked against PyTorch."""

from scratchcnn.random import manual_seed

__version__ = "0.1.0"
__all__ = ["__version__", "manual_seed"]
