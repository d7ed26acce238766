"""Ctrl+C and SIGTERM during training: never between two updates, never lost.

``InterruptGuard`` defers SIGINT (and SIGTERM, inside ``sigterm_as_interrupt``) while a
block that must not be cut in half runs (a step's updates, the bookkeeping of an epoch, a
save) and raises it right after. ``sigterm_as_interrupt`` makes SIGTERM raise
``Terminated``, a ``KeyboardInterrupt``, so that ``kill`` stops a run the way Ctrl+C does.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where a Ctrl+C would be (see ``sigterm_as_interrupt``)."""


def interrupt_for(signum: int) -> KeyboardInterrupt:
    """The exception a signal becomes: ``Terminated`` for SIGTERM, else KeyboardInterrupt."""
    return Terminated() if signum == getattr(signal, "SIGTERM", None) else KeyboardInterrupt()


def signal_of(interrupt: BaseException) -> int:
    """The signal number behind an interrupt: SIGTERM for ``Terminated``, else SIGINT."""
    return int(signal.SIGTERM) if isinstance(interrupt, Terminated) else int(signal.SIGINT)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside, SIGTERM raises ``Terminated``, so ``fit`` stops and saves as on a Ctrl+C.

    Only from the main thread (signals are delivered there); elsewhere it does nothing.
    """
    if not _in_main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class InterruptGuard:
    """Defers SIGINT and SIGTERM while ``run(block)`` runs; a deferred one is raised after.

    It takes over SIGINT only from Python's default handler, SIGTERM only from
    ``sigterm_as_interrupt``'s, and either from an enclosing guard; only from the main thread.
    Elsewhere signals behave as usual (a Ctrl+C can then land inside the block).
    """

    def __init__(self) -> None:
        self.deferring = False
        self.pending: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> InterruptGuard:
        if not _in_main_thread():
            return self
        for signum, ours in (
            (signal.SIGINT, signal.default_int_handler),
            (getattr(signal, "SIGTERM", None), _raise_terminated),
        ):
            if signum is None:
                continue
            handler = signal.getsignal(signum)
            if handler is ours or isinstance(getattr(handler, "__self__", None), InterruptGuard):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        if self.deferring:
            if self.pending is None:
                self.pending = signum
            return
        raise interrupt_for(signum)

    def run(self, block: Callable[[], T]) -> T:
        """Run ``block`` with the signals deferred; a deferred signal is raised after it."""
        outer = self.deferring
        self.deferring = True
        try:
            result = block()
        finally:
            self.deferring = outer
        if self.pending is not None and not outer:
            signum, self.pending = self.pending, None
            raise interrupt_for(signum)
        return result


def uninterrupted(block: Callable[[], T]) -> T:
    """Run ``block`` with Ctrl+C (and a handled SIGTERM) deferred until it has finished."""
    with InterruptGuard() as guard:
        return guard.run(block)
