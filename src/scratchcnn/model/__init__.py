"""Models: the ``Sequential`` container, its training loop, its file format and ``load``.

sequential.py   the container: forward/backward, predict, evaluate, summary, save
training.py     fit, the training step and the NaN/infinity checks
interrupts.py   Ctrl+C and SIGTERM: deferred while updates and saves run
history.py      History, the per-epoch record fit keeps and returns
callbacks.py    the Callback hooks fit calls, and the default progress bar
resume.py       the training state a checkpoint keeps: epoch count, history, random streams
archive.py      the .npz file format: atomic write, pickle-free read
loading.py      load(): rebuild a model from the layer registry
"""

from scratchcnn.model.archive import FORMAT_NAME, FORMAT_VERSION
from scratchcnn.model.callbacks import Callback, ProgressHook, TqdmProgress
from scratchcnn.model.history import History
from scratchcnn.model.interrupts import Terminated, sigterm_as_interrupt
from scratchcnn.model.loading import load
from scratchcnn.model.sequential import Sequential

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Callback",
    "History",
    "ProgressHook",
    "Sequential",
    "Terminated",
    "TqdmProgress",
    "load",
    "sigterm_as_interrupt",
]
