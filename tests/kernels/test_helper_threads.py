"""The helper threads behind run_parts: every part runs once, errors reach the caller, a
second caller (nested or another thread) runs its parts itself, a forked child gets its own."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from scratchcnn.kernels import threads
from scratchcnn.kernels.helper_threads import HelperThreads, helper_threads


def test_each_part_runs_once_on_several_threads(monkeypatch):
    monkeypatch.setenv("SCRATCHCNN_NUM_THREADS", "3")
    seen: list[str] = []
    lock = threading.Lock()

    def work(part: int) -> int:
        with lock:
            seen.append(threading.current_thread().name)
        return part * part

    assert threads.run_parts(work, list(range(50)), uses_blas=False) == [k * k for k in range(50)]
    assert len(seen) == 50


def test_an_error_in_a_helper_reaches_the_caller_and_the_helpers_stay_usable():
    helpers = HelperThreads(2)
    calls = []

    def fails_on_a_helper() -> None:
        calls.append(1)
        if threading.current_thread().name.startswith("scratchcnn-helper"):
            raise RuntimeError("helper failed")

    with pytest.raises(RuntimeError, match="helper failed"):
        helpers.run(fails_on_a_helper, 2)
    assert len(calls) == 3  # the caller and both helpers ran, and were all waited for
    done = []
    assert helpers.run(lambda: done.append(1), 2) and len(done) == 3


def test_an_error_in_the_caller_still_waits_for_the_helpers():
    helpers = HelperThreads(1)
    finished = threading.Event()

    def task() -> None:
        if threading.current_thread().name.startswith("scratchcnn-helper"):
            finished.wait(0.05)
            finished.set()
        else:
            raise ValueError("caller failed")

    with pytest.raises(ValueError, match="caller failed"):
        helpers.run(task, 1)
    assert finished.is_set()  # run returned only after the helper's part was done


def test_a_nested_call_runs_its_parts_in_its_own_thread(monkeypatch):
    monkeypatch.setenv("SCRATCHCNN_NUM_THREADS", "2")

    def outer(part: int) -> list[int]:
        return threads.run_parts(lambda k: (part, k), range(4), uses_blas=False)

    results = threads.run_parts(outer, [0, 1, 2], uses_blas=False)
    assert results == [[(p, k) for k in range(4)] for p in range(3)]


def test_two_user_threads_share_the_helpers(monkeypatch):
    monkeypatch.setenv("SCRATCHCNN_NUM_THREADS", "2")
    out: dict[int, list[int]] = {}

    def user(i: int) -> None:
        for _ in range(200):
            out[i] = threads.run_parts(lambda k: k + i, range(6), uses_blas=False)

    users = [threading.Thread(target=user, args=(i,)) for i in range(2)]
    for thread in users:
        thread.start()
    for thread in users:
        thread.join()
    assert out == {0: list(range(6)), 1: list(range(1, 7))}


def _in_child(queue) -> None:
    queue.put(threads.run_parts(lambda k: 2 * k, range(5), uses_blas=False))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_a_forked_child_starts_its_own_helpers(monkeypatch):
    monkeypatch.setenv("SCRATCHCNN_NUM_THREADS", "2")
    helper_threads(1)  # the parent's helpers exist before the fork
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_in_child, args=(queue,))
    child.start()
    assert queue.get(timeout=60) == [0, 2, 4, 6, 8]
    child.join(timeout=60)
    assert child.exitcode == 0


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals")
def test_an_interrupted_wait_retires_the_helpers():
    """Ctrl+C while the caller waits: a helper may still run, so those threads get no more
    work and the next call starts new ones (a late 'done' must not end a later wait)."""
    import signal

    helpers = helper_threads(1)
    let_go = threading.Event()

    def task() -> None:
        if threading.current_thread().name.startswith("scratchcnn-helper"):
            let_go.wait(10)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            helpers.run(task, 1)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        let_go.set()
    assert helpers.broken and helpers.run(lambda: None, 1) is False
    fresh = helper_threads(1)
    assert fresh is not helpers and not fresh.broken
    ran = []
    assert fresh.run(lambda: ran.append(1), 1) and len(ran) == 2
