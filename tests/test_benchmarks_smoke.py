"""The benchmark suite: its pieces are right, and one quick run writes every result file."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str) -> ModuleType:
    """Import benchmarks/<name>.py without putting benchmarks/ on sys.path."""
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_loop_conv_and_pool_match_torch(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    loop = _load("notebook_loop")
    X = rng.standard_normal((3, 2, 8, 8))
    W = rng.standard_normal((4, 2, 3, 3))
    b = rng.standard_normal(4)
    dA = rng.standard_normal((3, 4, 6, 6))
    conv = loop.LoopConv2d(W.copy(), b.copy())
    A = conv.forward(X)
    dX = conv.backward(dA)

    Xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
    At = torch.nn.functional.conv2d(Xt, Wt, bt)
    At.backward(torch.tensor(dA))
    np.testing.assert_allclose(A, At.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(conv.dW, Wt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(conv.db, bt.grad.numpy(), atol=1e-12)

    pool = loop.LoopMaxPool2d(2)
    dP = rng.standard_normal((3, 4, 3, 3))
    P = pool.forward(A)
    dA_pool = pool.backward(dP)
    At = torch.tensor(A, requires_grad=True)
    Pt = torch.nn.functional.max_pool2d(At, 2)
    Pt.backward(torch.tensor(dP))
    np.testing.assert_allclose(P, Pt.detach().numpy())
    np.testing.assert_allclose(dA_pool, At.grad.numpy())


def test_notebook_lenet_step_lowers_the_loss(rng: np.random.Generator) -> None:
    loop = _load("notebook_loop")
    model = loop.NotebookLeNet(seed=0)
    X = rng.random((8, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, size=8)
    losses = [model.train_step(X, y) for _ in range(5)]
    assert losses[-1] < losses[0]
    assert model.layers[0].W.dtype == np.float32


def test_lenet5_flop_count() -> None:
    from scratchcnn import zoo

    flops = _load("flops")
    counted = flops.count_flops(zoo.lenet5().layers, (1, 28, 28))
    # 2 x MACs: conv1 86,400, conv2 153,600, dense 30,720 + 10,080 + 840
    assert counted["forward"] == 2 * 281_640
    # training: conv1 forward + dW only (no dX for the first layer), the others x3
    assert counted["training"] == 2 * (2 * 86_400 + 3 * (153_600 + 30_720 + 10_080 + 840))


def test_resblock_workload_matches_its_torch_twin() -> None:
    torch = pytest.importorskip("torch")
    workloads, torch_models, flops = _load("workloads"), _load("torch_models"), _load("flops")
    assert "resblock" in workloads.MODELS and workloads.INPUT_SHAPES["resblock"] == (64, 32, 32)
    model = workloads.build_model("resblock")
    assert type(model.layers[0]).__name__ == "Residual" and model.layers[0].shortcut is None
    X, y, X_test, _, source = workloads.load_data("resblock", 8, 4)
    assert X.shape == (8, 64, 32, 32) and X.dtype == np.float32 and source == "random"
    net = torch_models.to_torch(model.layers)
    ours = workloads.our_logits
    assert torch_models.max_abs_logit_difference(lambda d: ours(model, d), net, X_test) < 1e-4
    our_step, _ = workloads.our_train_step(model)
    torch_step = workloads.torch_train_step(net)
    for _ in range(2):  # same weights, same batch, BatchNorm in training mode, Adam
        loss = our_step(X, y)
        loss_t = torch_step(torch.from_numpy(X), torch.from_numpy(y))
        assert abs(loss - loss_t) < 1e-4 * max(1.0, abs(loss_t))
    # two 64->64 3x3 convolutions at 32x32 and Dense(64, 10); the first conv skips its dX
    macs = 64 * 64 * 9 * 32 * 32
    counted = flops.count_flops(model.layers, (64, 32, 32))
    assert counted["forward"] == 2 * (2 * macs + 640)
    assert counted["training"] == 2 * (2 * macs + 3 * macs + 3 * 640)


def test_torch_twins_of_other_blocks(rng: np.random.Generator) -> None:
    pytest.importorskip("torch")
    from scratchcnn.layers import (
        BatchNorm2d,
        Concat,
        Conv2d,
        Dense,
        GlobalAvgPool2d,
        PadChannelsShortcut,
        ReLU,
        Residual,
    )
    from scratchcnn.model import Sequential

    torch_models = _load("torch_models")
    layers = [
        Residual(
            [Conv2d(3, 6, 3, stride=2, padding=1), BatchNorm2d(6)], [PadChannelsShortcut(3, 6)]
        ),
        Residual([Conv2d(6, 8, 3, padding=1)], [Conv2d(6, 8, 1), BatchNorm2d(8)]),
        Concat([[Conv2d(8, 2, 1), ReLU()], []]),
        GlobalAvgPool2d(), Dense(10, 4),
    ]  # fmt: skip
    model = Sequential(layers)
    X = rng.standard_normal((4, 3, 9, 9), dtype=np.float32)
    net = torch_models.to_torch(model.layers)
    model.eval()
    assert torch_models.max_abs_logit_difference(model.forward, net, X) < 1e-5
    flops = _load("flops").count_flops(model.layers, (3, 9, 9))
    # 6x5x5 x 27, 8x5x5 x 54, 8x5x5 x 6, 2x5x5 x 8, 40: first convs (of both paths) skip dX
    assert flops["forward"] == 2 * (4050 + 10800 + 1200 + 400 + 40)
    assert flops["training"] == 2 * (2 * 4050 + 3 * (10800 + 1200 + 400 + 40))


def _fake_results() -> dict:
    ratio = {"min": 0.9, "median": 1.1, "max": 1.3, "per_round": [0.9, 1.1, 1.3]}
    ips = {"ours": 1000.0, "torch_nchw": 900.0, "torch_channels_last": None, "torch_best": 900.0}
    memory = {who: {"growth_mib": mib} for who, mib in (("ours", 10.0), ("torch", 12.0))}
    model = {
        "data": "random", "flops_per_image": {"forward": 10**6, "training": 3 * 10**6},
        "train_ips_median": ips, "infer_ips_median": ips, "train_ratio": ratio,
        "infer_ratio": ratio, "flop_share": {"ours": 0.5, "torch": 0.4}, "memory": memory,
    }  # fmt: skip
    meta = {
        "command": "python benchmarks/run.py", "date": "today", "cpu": "cpu", "logical_cpus": 2,
        "threads": 2, "python": "3", "numpy": "2", "torch": "2", "blas": "openblas",
        "batch": 128, "infer_batch": 1000, "rounds": 3, "dtype": "float32",
        "optimizer": "Adam(lr=1e-3)", "quick": False,
    }  # fmt: skip
    results = {
        "meta": meta,
        "matmul_gflops": {"numpy": 50.0, "torch": 60.0, "bound": 60.0},
        "models": {
            "lenet5": model,
            "seed_cnn": dict(
                model,
                flop_share={"ours": 0.7, "torch": 1},
                memory={"ours": {"growth_mib": 20.0}, "torch": {"growth_mib": 12.0}},
                infer_ratio=dict(ratio, min=0.8, median=0.85),
            ),
        },
        "notebook_loop": {"batch": 128, "images_per_s": 100.0, "speedup": 200.0},
    }
    results["notebook_loop"]["library_images_per_s"] = 2e4
    return results


def test_targets_and_report_files(tmp_path: Path) -> None:
    run = _load_run()
    results = _fake_results()
    results["targets"] = run.evaluate_targets(results)
    status = {t["target"]: t["status"] for t in results["targets"]}
    assert status["lenet5 training ratio >= 1.0x"] == "PASS"
    assert status["lenet5 inference ratio >= 1.0x"] == "PASS"
    assert status["seed_cnn inference ratio >= 0.9x"] == "GAP"
    assert status["mnist1d_cnn training ratio >= 1.0x"] == "not run"
    assert status["resblock training ratio >= 0.8x"] == "not run"
    assert status["seed_cnn training >= 60% of the matmul FLOP bound"] == "PASS"
    assert status["lenet5 peak training memory <= 1.2x PyTorch's"] == "PASS"
    assert status["seed_cnn peak training memory <= 1.2x PyTorch's"] == "GAP"
    assert status["library >= 100x the notebook loop (LeNet step)"] == "PASS"

    report = run.report
    paths = report.write_all(results, tmp_path)
    assert json.loads(Path(paths["json"]).read_text())["models"]["lenet5"]["data"] == "random"
    markdown = Path(paths["markdown"]).read_text()
    assert "| lenet5 | random |" in markdown and "| GAP |" in markdown
    assert Path(paths["chart"]).read_bytes().startswith(b"\x89PNG")
    assert "1.10x (0.90-1.30)" in report.console_table(results)


def _load_run() -> ModuleType:
    """run.py imports its sibling modules by name, as when it runs as a script."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return _load("run")
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.slow  # three processes import PyTorch; about 20 s on an idle 2-core machine
def test_quick_run_writes_results(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    command = [
        sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--models", "lenet5",
        "--threads", "1", "--out-dir", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "notebook loop" in done.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) >= {"meta", "matmul_gflops", "models", "notebook_loop", "targets"}
    lenet = results["models"]["lenet5"]
    for key in ("train_ips", "infer_ips", "train_ratio", "infer_ratio", "flop_share", "memory"):
        assert key in lenet
    assert set(lenet["train_ratio"]) >= {"min", "median", "max", "per_round"}
    assert lenet["train_ratio"]["median"] > 0
    assert lenet["logit_max_abs_diff_at_start"] < 1e-4
    assert lenet["memory"]["ours"]["growth_mib"] >= 0
    assert {t["status"] for t in results["targets"]} <= {"PASS", "GAP", "not run"}
    assert "| lenet5 |" in (tmp_path / "RESULTS.md").read_text()
    assert (tmp_path / "results.png").read_bytes().startswith(b"\x89PNG")


def test_bench_conv_counts_flops_and_names_each_algorithm(rng: np.random.Generator) -> None:
    """bench_conv.py: a direct convolution's FLOPs by hand, the kernel each layer takes."""
    from scratchcnn.kernels import compiled

    bench = _load("bench_conv")
    lenet_conv1, lenet_conv2 = bench.CONVOLUTIONS[0], bench.CONVOLUTIONS[1]
    # 1->6, 5x5 on 28x28 gives 24x24: 2 * 6 * 24 * 24 * 25 per sample; no dX on a first layer
    assert bench.direct_flops(lenet_conv1, 128) == (128 * 172_800, 2 * 128 * 172_800)
    assert bench.direct_flops(lenet_conv2, 1)[1] == 3 * 2 * 16 * 8 * 8 * 150
    # MNIST-1D's strided conv2: 10 outputs of 3 x 25 inputs for 25 channels, with dX
    assert bench.direct_flops(bench.CONVOLUTIONS[-1], 1) == (2 * 25 * 10 * 75, 3 * 2 * 25 * 10 * 75)
    expected = {"direct", "Winograd"} if compiled.HAVE_NUMBA else {"im2col"}
    expected.add("position-major")
    kinds = set()
    for spec in bench.CONVOLUTIONS:
        forward, both, kind = bench.ours(spec, 2, rng)
        torch_forward, torch_both = bench.theirs(spec, 2, rng)
        forward(), both(), torch_forward(), torch_both()
        kinds.add(kind)
    assert kinds == expected


def _profile_module() -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))  # profile_layers imports run, which imports report
    try:
        return _load("profile_layers")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_layer_timer_times_each_layer_and_restores_the_classes(rng: np.random.Generator) -> None:
    from scratchcnn.layers import BatchNorm2d, Conv2d, Dense, GlobalAvgPool2d, ReLU, Residual
    from scratchcnn.model import Sequential

    profile = _profile_module()
    body = [Conv2d(4, 4, 3, padding=1), BatchNorm2d(4), ReLU(inplace=True)]
    model = Sequential([Conv2d(2, 4, 3, padding=1), ReLU(inplace=True), Residual(body),
                        GlobalAvgPool2d(), Dense(4, 3)])  # fmt: skip
    X, y = rng.standard_normal((6, 2, 8, 8)).astype(np.float32), rng.integers(0, 3, 6)
    rows = list(profile.rows_of(model.layers))
    assert [depth for depth, _ in rows] == [0, 0, 0, 1, 1, 1, 0, 0]  # the body under Residual
    originals = {cls: cls.__dict__.get("forward") for cls in (Conv2d, ReLU, Residual, Dense)}
    expected = model.forward(X)

    timer = profile.LayerTimer()
    timer.wrap_classes_of(model.layers)
    try:
        assert all("forward" not in vars(layer) for _, layer in rows)  # classes, not objects
        np.testing.assert_array_equal(model.forward(X), expected)
        model.train_step(X, y)
        seconds = timer.reset()
    finally:
        timer.unwrap()
    for _, layer in rows:
        assert seconds[id(layer), "forward"] > 0
    assert all(seconds[id(layer), "backward"] > 0 for layer in model.layers if layer.param_names)
    residual = model.layers[2]
    inner = sum(seconds[id(layer), "forward"] for layer in residual.body)
    assert seconds[id(residual), "forward"] >= inner  # a container's time includes its body's
    assert {cls: cls.__dict__.get("forward") for cls in originals} == originals
    assert timer.reset() == {}


@pytest.mark.slow  # imports PyTorch in a fresh process; about 15 s
def test_profile_script_writes_each_layer(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "profile.json"
    command = [
        sys.executable, str(BENCHMARKS / "profile_layers.py"), "--models", "mnist1d_cnn",
        "--steps", "5", "--threads", "1", "--json", str(out),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "| **whole step / batch** |" in done.stdout
    result = json.loads(out.read_text())["models"]["mnist1d_cnn"]
    assert len(result["layers"]) == 8 and result["steps"] == 5
    assert 0 < result["outside_layers_ms"] < result["step_ms"]
    assert all(row["forward_ms"] >= 0 for row in result["layers"])
    assert result["torch_step_ms"] > 0 and result["torch_inference_ms"] > 0
