"""benchmarks/train_resnet.py: its PyTorch twin is our ResNet, and a tiny run writes results."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def bench():
    import importlib.util

    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("_bench_train_resnet",
                                                      BENCHMARKS / "train_resnet.py")  # fmt: skip
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_twin_has_our_weights_and_outputs(bench, rng: np.random.Generator) -> None:
    args = argparse.Namespace(depth=8, epochs=2, batch=16, lr=0.1, weight_decay=1e-4)
    r = bench.recipe(args, n_train=40)
    assert (r["warmup_steps"], r["total_steps"]) == (3, 6)
    model = bench.build_ours(r, seed=0)
    net = bench.torch_twin(model)
    assert sum(p.numel() for p in net.parameters()) == model.num_params()
    X = rng.random((4, 1, 28, 28), dtype=np.float32)
    assert bench.wiring_check(r, X) < 1e-4
    model.train()
    net.train()
    ours = model.forward(X)
    theirs = net(torch.from_numpy(X)).detach().numpy()  # BatchNorm on batch statistics
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.slow  # two trainings of a ResNet-8 on random images, about a minute
def test_tiny_synthetic_run_writes_results(tmp_path: Path) -> None:
    command = [
        sys.executable, str(BENCHMARKS / "train_resnet.py"), "--synthetic", "--subset", "64",
        "--test-subset", "32", "--epochs", "1", "--depth", "8", "--seeds", "0", "--threads", "1",
        "--out", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "train_resnet.json").read_text())
    assert set(record["summary"]) == {"scratchcnn", "pytorch"}
    assert record["logit_wiring_check"] < 1e-4
    assert "accuracy gap" in done.stdout
