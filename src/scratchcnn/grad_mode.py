"""``no_grad()``: forward passes that will not be followed by ``backward``, like PyTorch's.

Inside it, layers may skip what only ``backward`` needs: convolutions keep no im2col columns
and work through the output in cache-sized row bands, so inference on large batches needs
little scratch memory. ``Sequential.predict`` and ``evaluate`` run under it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_state = threading.local()


def is_grad_enabled() -> bool:
    """False inside ``no_grad()``."""
    return getattr(_state, "enabled", True)


@contextmanager
def no_grad() -> Iterator[None]:
    """Run forward passes without keeping what backward needs (thread-local, nestable)."""
    previous = is_grad_enabled()
    _state.enabled = False
    try:
        yield
    finally:
        _state.enabled = previous
