"""Models: the ``Sequential`` container, its training loop, its file format and ``load``.

sequential.py   the container: forward/backward, predict, evaluate, summary, save
training.py     fit, the training step, the Ctrl+C guard and the NaN/infinity checks
callbacks.py    History (what fit returns) and the progress hooks fit calls
archive.py      the .npz file format: atomic write, pickle-free read
loading.py      load(): rebuild a model from the layer registry
"""

from scratchcnn.model.archive import FORMAT_NAME, FORMAT_VERSION
from scratchcnn.model.callbacks import History, ProgressHook, TqdmProgress
from scratchcnn.model.loading import load
from scratchcnn.model.sequential import Sequential

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "History",
    "ProgressHook",
    "Sequential",
    "TqdmProgress",
    "load",
]
