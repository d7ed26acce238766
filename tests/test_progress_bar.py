"""The training progress bar fits an 80-column terminal and keeps the validation metrics."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator

import numpy as np
import pytest

from scratchcnn.layers import Dense, Flatten
from scratchcnn.model import Sequential, TqdmProgress

pty = pytest.importorskip("pty", reason="needs a pseudo-terminal (POSIX)")
fcntl = pytest.importorskip("fcntl")
termios = pytest.importorskip("termios")


class Terminal:
    """An 80 x 24 pseudo-terminal; ``attach`` points sys.stderr at it, ``lines`` reads it."""

    def __init__(self) -> None:
        import struct

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.stream = os.fdopen(slave, "w", buffering=1)
        os.set_blocking(self.master, False)
        self.chunks: list[bytes] = []

    def attach(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # inside the test: pytest re-installs its own sys.stderr when the test starts
        monkeypatch.setattr(sys, "stderr", self.stream)

    def lines(self) -> list[str]:
        """Every state of every line the user saw (a carriage return starts a redraw)."""
        self.stream.flush()
        while True:
            try:
                chunk = os.read(self.master, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.chunks.append(chunk)
        text = b"".join(self.chunks).decode()
        parts = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return [part for part in parts if part.strip()]

    def close(self) -> None:
        self.stream.close()
        os.close(self.master)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[Terminal]:
    term = Terminal()
    yield term
    monkeypatch.undo()  # give sys.stderr back before the pty closes
    term.close()


def _events(epoch: int, epochs: int, n: int, steps: int, loss: float) -> list[dict]:
    events = []
    for step in range(1, steps + 1):
        seen = min(n, step * (n // steps))
        events.append({
            "event": "batch", "epoch": epoch, "epochs": epochs, "step": step, "steps": steps,
            "batch_size": n // steps, "samples": seen, "total_samples": n, "loss": loss,
            "accuracy": 0.8967, "seconds": 61.5 * step, "images_per_second": 12345.6,
        })
    final = {k: v for k, v in events[-1].items() if k != "batch_size"}
    final.update(event="epoch", val_loss=loss * 1.1, val_accuracy=0.8901, seconds=99999.9)
    return [*events, final]


@pytest.mark.parametrize(
    ("epoch", "epochs", "loss"), [(3, 10, 0.2843), (100, 100, 12345.6), (999, 999, float("nan"))]
)
def test_bar_fits_80_columns_with_every_metric(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch, epoch: int, epochs: int, loss: float
) -> None:
    terminal.attach(monkeypatch)
    hook = TqdmProgress(verbose=1)
    for event in _events(epoch, epochs, 60000, 3, loss):
        hook(event)
        time.sleep(0.12)  # past tqdm's 0.1 s redraw interval, so every state is drawn
    lines = terminal.lines()
    assert len(lines) >= 3, lines
    assert all(len(line) <= 80 for line in lines), [len(line) for line in lines]
    assert any("img/s" in line and "loss=" in line and "acc=" in line for line in lines[:-1])
    last = lines[-1]
    assert last.startswith(f"Epoch {epoch}/{epochs}: loss=")
    for part in ("acc=0.8967", "val_loss=", "val_acc=0.8901", "99999.9s"):
        assert part in last, last


def test_real_fit_on_a_terminal(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    terminal.attach(monkeypatch)
    X = rng.standard_normal((60, 1, 4, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=60)
    model = Sequential([Flatten(), Dense(16, 3)])
    model.fit(X, y, epochs=2, batch_size=10, validation_split=0.2, verbose=1)
    lines = terminal.lines()
    finals = [line for line in lines if "val_acc=" in line]
    assert [line.split(":")[0] for line in finals] == ["Epoch 1/2", "Epoch 2/2"]
    assert all(len(line) <= 80 for line in lines), lines
    assert all(" val_loss=" in line and line.rstrip().endswith("s") for line in finals)


def test_without_a_width_the_line_keeps_the_rate(capsys, rng: np.random.Generator) -> None:
    X = rng.standard_normal((20, 1, 4, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=20)
    Sequential([Flatten(), Dense(16, 3)]).fit(X, y, epochs=1, batch_size=10, verbose=2)
    line = capsys.readouterr().out.strip()
    assert line.startswith("Epoch 1/1: loss=") and line.endswith(" img/s")
