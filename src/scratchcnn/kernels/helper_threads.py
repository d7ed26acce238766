"""The library's helper threads, woken through raw locks.

A part of a kernel here is 0.1-2 ms of work, so what it costs to wake a thread counts.
``concurrent.futures``' pool wakes a worker through a queue and a Future, each a condition
variable: 34 us for an empty round trip on this project's 2-core VM, 58 us for ``run_parts``
with two empty parts. A raw ``threading.Lock`` released by one thread and acquired by another
is the cheapest wake-up CPython has: 14.5 us for the round trip. So each helper owns two
locks, ``go`` (released to start it) and ``done`` (released when it has finished), and
sleeps in ``acquire``: no thread ever spins.

One caller uses the helpers at a time. A second caller (another thread of the user's, or a
part that itself splits its work) is told they are busy and runs its parts itself: parts
never depend on which thread runs them, so only the speed changes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class HelperThreads:
    """``count`` daemon threads that each run the task of ``run`` once per call."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._in_use = threading.Lock()
        self._go = [threading.Lock() for _ in range(count)]
        self._done = [threading.Lock() for _ in range(count)]
        for lock in (*self._go, *self._done):
            lock.acquire()
        self._task: Callable[[], object] | None = None
        self.broken = False
        self._errors: list[BaseException | None] = [None] * count
        for i in range(count):
            name = f"scratchcnn-helper-{i}"
            threading.Thread(target=self._serve, args=(i,), name=name, daemon=True).start()

    def _serve(self, i: int) -> None:
        while True:
            self._go[i].acquire()
            try:
                self._task()  # type: ignore[misc]
            except BaseException as error:  # handed to the caller, which raises it
                self._errors[i] = error
            finally:
                self._done[i].release()

    def run(self, task: Callable[[], object], helpers: int) -> bool:
        """Run ``task()`` on ``helpers`` of the threads and in the calling thread, and wait
        for all of them; the first error any raised is raised here.

        Returns False, having run nothing, when another call holds the helpers.
        """
        helpers = min(helpers, self.count)
        if not self._in_use.acquire(blocking=False):
            return False
        if self.broken:
            self._in_use.release()
            return False
        try:
            self._task = task
            for i in range(helpers):
                self._go[i].release()
            try:
                task()
            finally:
                self._wait_for(helpers)
            errors = [self._errors[i] for i in range(helpers)]
            self._errors[:helpers] = [None] * helpers
            for error in errors:
                if error is not None:
                    raise error
            return True
        finally:
            self._in_use.release()

    def _wait_for(self, helpers: int) -> None:
        """Wait until the first ``helpers`` threads are done. A signal (Ctrl+C) can interrupt
        a lock's acquire; then some helper may still be running, and its late ``done`` would
        end a later wait too early, so these threads are retired (``broken``) and never
        handed work again."""
        try:
            for i in range(helpers):
                self._done[i].acquire()
        except BaseException:
            self.broken = True
            raise
        self._task = None


_STARTED: dict[tuple[int, int], HelperThreads] = {}
_STARTING = threading.Lock()


def helper_threads(count: int) -> HelperThreads:
    """The process's ``count`` helper threads, started on first use, again in a forked child
    (which inherits none of its parent's threads) and after an interrupted wait retired them."""
    key = (count, os.getpid())
    helpers = _STARTED.get(key)
    if helpers is None or helpers.broken:
        with _STARTING:
            helpers = _STARTED.get(key)
            if helpers is None or helpers.broken:
                helpers = _STARTED[key] = HelperThreads(count)
    return helpers
