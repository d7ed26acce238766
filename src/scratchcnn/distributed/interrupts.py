"""Ctrl+C and SIGTERM under MPI: every rank stops after the same step.

A signal reaches the ranks at slightly different moments. Acting on it at once would leave
the other ranks waiting in the next Allreduce, so each rank only records it; the flag rides
in the step's Allreduce, and when any rank saw one, every rank finishes that step's update
and then raises the interrupt (``KeyboardInterrupt``, or ``Terminated`` for SIGTERM), which
``fit`` turns into ``interrupted=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from scratchcnn.model.interrupts import InterruptGuard, interrupt_for

T = TypeVar("T")


class AgreedInterruptGuard(InterruptGuard):
    """``InterruptGuard`` that never raises from the signal handler; ``agree`` decides."""

    def __init__(self) -> None:
        super().__init__()
        self._agreed: int | None = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.pending is None:
            self.pending = signum

    def agree(self, signum: int | None) -> None:
        """Called after each step's Allreduce with the signal some rank saw, or None."""
        self._agreed = None if signum is None else int(signum)

    def run(self, block: Callable[[], T]) -> T:
        result = block()
        if self._agreed is not None:
            raise interrupt_for(self._agreed)
        return result
