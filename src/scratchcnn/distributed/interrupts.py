"""Ctrl+C and SIGTERM under MPI: every rank stops after the same step.

A signal reaches the ranks at slightly different moments. Acting on it at once would leave
the other ranks waiting in the next Allreduce, so each rank only records it; the flag rides
in the step's Allreduce, and when any rank saw one, every rank finishes that step's update
and then raises ``KeyboardInterrupt``, which ``fit`` turns into ``interrupted=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scratchcnn.model.training import InterruptGuard


class AgreedInterruptGuard(InterruptGuard):
    """``InterruptGuard`` that never raises from the signal handler; ``agree`` decides."""

    def __init__(self) -> None:
        super().__init__()
        self._agreed = False

    def _handle(self, signum: int, frame: Any) -> None:
        self.pending = True

    def agree(self, any_rank_interrupted: bool) -> None:
        """Called with the reduced flag after each step's Allreduce."""
        self._agreed = any_rank_interrupted

    def run(self, updates: Callable[[], None]) -> None:
        updates()
        if self._agreed:
            raise KeyboardInterrupt
