"""Where batches come from: arrays (in memory or memory-mapped) or an iterable of batches.

Arrays are gathered one batch at a time, so a memory map (``np.load(path, mmap_mode="r")``)
is never copied whole: a shuffled batch is read in file order (one sweep) and put back in the
shuffled order, and its finiteness is checked per batch rather than by a scan of the file.
An iterable of ``(X, y)`` batches (a list, a re-iterable loader, or a function that returns a
fresh iterator) is passed through as it comes, each batch checked like an array.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np


def is_memmap(X: Any) -> bool:
    """True for memory-mapped arrays (and views of them), which are read per batch."""
    while isinstance(X, np.ndarray):
        if isinstance(X, np.memmap):
            return True
        X = X.base
    return False


def gather(X: np.ndarray, index: slice | np.ndarray) -> np.ndarray:
    """``X[index]``; from a memory map, rows are read in file order and then reordered."""
    if isinstance(index, slice) or not is_memmap(X):
        return X[index]
    order = np.argsort(index, kind="stable")
    out = np.empty((len(index), *X.shape[1:]), dtype=X.dtype)
    out[order] = X[index[order]]
    return out


def is_batch_source(X: Any, y: Any) -> bool:
    """``fit(X, None)`` / ``evaluate(X, None)`` with X batches rather than an array."""
    return y is None and not isinstance(X, np.ndarray) and (
        callable(X) or isinstance(X, Iterable)
    )


class BatchSource:
    """An iterable of ``(X, y)`` batches, iterated once per epoch, each batch checked.

    ``source`` is a re-iterable (a list, or an object whose ``__iter__`` starts over, like a
    DataLoader) or a function returning a fresh iterator. A one-shot iterator (a generator)
    serves one pass; a second pass over it is an error that says so.
    """

    def __init__(self, source: Any, owner: str) -> None:
        if not (callable(source) or isinstance(source, Iterable)):
            raise TypeError(
                f"{owner}: expected an iterable of (X, y) batches or a function returning one, "
                f"but got {type(source).__name__}"
            )
        self.source = source
        self.owner = owner
        self._one_shot = not callable(source) and iter(source) is source
        self._passes = 0

    def __len__(self) -> int:
        return len(self.source)  # type: ignore[arg-type]

    @property
    def steps(self) -> int | None:
        """The number of batches per pass when the source knows it, else None."""
        try:
            return len(self.source)  # type: ignore[arg-type]
        except TypeError:
            return None

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if self._one_shot and self._passes:
            raise ValueError(
                f"{self.owner}: the batches are a one-shot iterator (a generator) and were used "
                "up by the previous pass; pass a list, a re-iterable, or a function that returns "
                "a new iterator (e.g. lambda: make_batches())"
            )
        self._passes += 1
        iterator = self.source() if callable(self.source) else iter(self.source)
        if not isinstance(iterator, Iterator):
            iterator = iter(iterator)
        empty = True
        for i, batch in enumerate(iterator):
            if not isinstance(batch, (tuple, list)) or len(batch) != 2:
                raise TypeError(
                    f"{self.owner}: batch {i} must be a pair (X, y), but got "
                    f"{type(batch).__name__}"
                )
            empty = False
            yield batch[0], batch[1]
        if empty:
            raise ValueError(f"{self.owner}: the iterable of batches yielded no batch")


def input_batches(source: Any, owner: str) -> Iterator[Any]:
    """X batches for ``predict``: from an iterable of X arrays or of (X, y) tuples."""
    iterator = source() if callable(source) else iter(source)
    for batch in iterator:
        yield batch[0] if isinstance(batch, tuple) and len(batch) == 2 else batch


BatchFactory = Callable[[], Iterable[tuple[Any, Any]]]
