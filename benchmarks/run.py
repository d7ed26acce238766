"""Benchmark scratchcnn against PyTorch on the CPU: ``python benchmarks/run.py``.

For each model, trains and runs inference in both libraries on the same data, batch, optimizer,
dtype and thread count, interleaved over several rounds; then measures peak training memory in
fresh processes, the notebook-loop baseline for one LeNet-5 step and the machine's float32 matmul
rate. Prints a table with PASS/GAP per target and writes ``results.json``, ``RESULTS.md`` and
``results.png`` (into ``benchmarks/`` unless ``--out-dir`` says otherwise). ``--quick`` is a
smoke run of a few seconds per model.
"""

from __future__ import annotations

import argparse
import atexit
import copy
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import report

HERE = Path(__file__).resolve().parent
THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
    "SCRATCHCNN_NUM_THREADS",
)  # fmt: skip
# --isa avx2: what each library reads at load time to stay below AVX-512 on an AVX-512 CPU, so an
# AVX2-only machine can be measured here (same cores and clocks, half-width vectors).
AVX2_VARIABLES = {
    "NUMBA_CPU_NAME": "haswell",  # Numba/LLVM generates AVX2 + FMA code
    "OPENBLAS_CORETYPE": "Haswell",  # OpenBLAS's AVX2 kernels
    "ATEN_CPU_CAPABILITY": "avx2",  # PyTorch's own vectorized kernels
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN's JIT convolutions
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",  # MKL, PyTorch's matrix products
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from workloads import MODELS

    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py", description="Benchmark scratchcnn against PyTorch."
    )
    parser.add_argument(
        "--models", default=",".join(MODELS), help=f"comma-separated, from {', '.join(MODELS)}"
    )
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (5)")
    parser.add_argument(
        "--steps", type=int, default=None,
        help="training steps per round and library (default: about 1 s of the slower one)",
    )  # fmt: skip
    parser.add_argument("--batch", type=int, default=128, help="training batch size (128)")
    parser.add_argument("--infer-batch", type=int, default=1000, help="inference batch (1000)")
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1, help="threads for both libraries"
    )
    parser.add_argument(
        "--isa", choices=("native", "avx2"), default="native",
        help="avx2: both libraries use AVX2 kernels only, as on a CPU without AVX-512 (native)",
    )  # fmt: skip
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where the results go")
    parser.add_argument("--quick", action="store_true", help="smoke run: few steps and rounds")
    parser.add_argument("--skip-memory", action="store_true", help="no peak-memory processes")
    parser.add_argument("--skip-notebook", action="store_true", help="no notebook-loop baseline")
    parser.add_argument(
        "--busy", action="store_true",
        help="run a CPU burner on the last core meanwhile (a machine where another process "
        "holds a core); compare its ratios with an idle run's",
    )  # fmt: skip
    args = parser.parse_args(argv)
    args.models = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = [name for name in args.models if name not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5
    for name in ("rounds", "batch", "infer_batch", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.steps is not None and args.steps < 1:
        parser.error("--steps must be at least 1")
    return args


# -- setup -------------------------------------------------------------------------------------
def set_thread_variables(argv: list[str] | None) -> None:
    """Put --threads and --isa into the environment before NumPy, PyTorch or Numba is imported."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--isa", default="native")
    known, _ = parser.parse_known_args(argv)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(max(1, known.threads))
    if known.isa == "avx2":
        os.environ.update(AVX2_VARIABLES)  # the memory and notebook processes inherit it
    # scratchcnn's own default, which `import scratchcnn` sets only before NumPy is loaded
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")


def limit_threads(threads: int) -> dict[str, Any]:
    """Give both libraries ``threads`` threads, also where the environment came too late."""
    import torch

    torch.set_num_threads(threads)
    info: dict[str, Any] = {"torch": torch.get_num_threads()}
    try:
        from threadpoolctl import threadpool_limits

        # kept alive for the whole run: the limit lasts as long as this object
        info["_limiter"] = threadpool_limits(limits=threads, user_api="blas")
    except ImportError:
        info["threadpoolctl"] = "not installed; BLAS limited by environment variables only"
    return info


def limit_numba_threads(threads: int) -> None:
    """Numba reads NUMBA_NUM_THREADS at import; set the active count too when it is loaded."""
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def start_burner() -> subprocess.Popen:
    """A process spinning on the last CPU until this one exits (``--busy``)."""
    last = max(os.sched_getaffinity(0))
    code = f"import os; os.sched_setaffinity(0, {{{last}}})\nwhile True: pass"
    burner = subprocess.Popen([sys.executable, "-c", code])
    atexit.register(burner.kill)
    return burner


def vector_extensions() -> str:
    """The CPU's SIMD extensions that matter for float32 kernels, from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = next((line.split(":", 1)[1].split() for line in cpuinfo
                          if line.startswith("flags")), [])
    except OSError:
        return "unknown"
    wanted = ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "amx_tile")
    found = [flag for flag in wanted if flag in flags]
    return " ".join(found) if found else "none of AVX2/AVX-512"


def kernels_in_use() -> str:
    """The vector width each library was told to use: the CPU's own, or AVX2 (``--isa avx2``)."""
    import torch

    numba_cpu = os.environ.get("NUMBA_CPU_NAME", "host")
    onednn = os.environ.get("ONEDNN_MAX_CPU_ISA", "best")
    mkl = os.environ.get("MKL_ENABLE_INSTRUCTIONS", "best")
    return (
        f"PyTorch {torch.backends.cpu.get_cpu_capability()} (oneDNN up to {onednn},"
        f" MKL up to {mkl}), Numba for {numba_cpu}"
    )


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (the platform's processor elsewhere)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import torch

    cpu = cpu_model()
    try:
        blas_config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas_config.get('name')} {blas_config.get('version')}"
    except Exception:  # show_config's layout differs between NumPy versions
        blas = "unknown"
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                blas += f" ({pool.get('internal_api')}, {pool.get('architecture')},"
                blas += f" {pool.get('num_threads')} threads)"
                break
    except ImportError:
        pass
    command = "python benchmarks/run.py" + (
        "" if not sys.argv[1:] else " " + " ".join(sys.argv[1:])
    )
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command,
        "cpu": cpu,
        "vector_extensions": vector_extensions(),
        "isa": args.isa,
        "kernels": kernels_in_use(),
        "logical_cpus": os.cpu_count(),
        "busy": bool(args.busy),
        "threads": args.threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "blas": blas,
        "batch": args.batch,
        "infer_batch": args.infer_batch,
        "rounds": args.rounds,
        "dtype": "float32",
        "optimizer": "Adam(lr=1e-3)",
        "quick": args.quick,
    }


_START = time.perf_counter()


def _load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: other work on the machine makes timings noisy."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def _log(message: str) -> None:
    print(f"[{time.perf_counter() - _START:6.1f} s] {message}", file=sys.stderr, flush=True)


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
        "per_round": values,
    }


def _time(fn: Any, calls: int) -> float:
    gc.collect()
    start = time.perf_counter()
    fn(calls)
    return time.perf_counter() - start


# -- one model ---------------------------------------------------------------------------------
def bench_model(name: str, args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import torch

    import workloads
    from flops import count_flops
    from torch_models import max_abs_logit_difference, to_torch

    n_batches = 4 if args.quick else 8
    model = workloads.build_model(name)
    limit_numba_threads(args.threads)
    X, y, X_test, _, source = workloads.load_data(name, args.batch * n_batches, args.infer_batch)
    flops = count_flops(model.layers, workloads.INPUT_SHAPES[name])
    batches = [
        (X[i * args.batch : (i + 1) * args.batch], y[i * args.batch : (i + 1) * args.batch])
        for i in range(n_batches)
    ]

    nets = {"torch_nchw": to_torch(model.layers)}
    logit_diff = max_abs_logit_difference(
        lambda data: workloads.our_logits(model, data), nets["torch_nchw"], X_test[:64]
    )
    to_tensor = {"torch_nchw": lambda a: torch.from_numpy(a)}
    if len(workloads.INPUT_SHAPES[name]) == 3:  # channels_last exists for 4-D tensors only
        nets["torch_channels_last"] = copy.deepcopy(nets["torch_nchw"]).to(
            memory_format=torch.channels_last
        )
        to_tensor["torch_channels_last"] = lambda a: torch.from_numpy(a).contiguous(
            memory_format=torch.channels_last
        )

    our_step, step_how = workloads.our_train_step(model)
    our_predict, predict_how = workloads.our_predict(model, args.infer_batch)
    train: dict[str, Any] = {"ours": (our_step, batches)}
    infer: dict[str, Any] = {"ours": (our_predict, X_test)}
    for key, net in nets.items():
        convert = to_tensor[key]
        train[key] = (
            workloads.torch_train_step(net),
            [(convert(Xb), torch.from_numpy(yb)) for Xb, yb in batches],
        )
        infer[key] = (workloads.torch_predict(net), convert(X_test))

    def set_eval(evaluating: bool) -> None:
        workloads.set_mode(model, not evaluating)
        for net in nets.values():
            net.train(not evaluating)

    def run_train(key: str) -> Any:
        step, data = train[key]

        def steps(count: int) -> None:
            for i in range(count):
                step(*data[i % len(data)])

        return steps

    def run_infer(key: str) -> Any:
        predict, data = infer[key]

        def calls(count: int) -> None:
            for _ in range(count):
                predict(data)

        return calls

    # warm-up (first-call allocations, optimizer state, thread pools) and step calibration
    warmup = 1 if args.quick else 3
    step_seconds = {}
    for key in train:
        run_train(key)(warmup)
        step_seconds[key] = _time(run_train(key), 1)
    set_eval(True)
    infer_seconds = {}
    for key in infer:
        run_infer(key)(1)
        infer_seconds[key] = _time(run_infer(key), 1)
    set_eval(False)
    round_seconds = 0.1 if args.quick else 1.0
    steps = args.steps or max(2, min(50, round(round_seconds / max(step_seconds.values()))))
    infer_calls = 1 if args.quick else max(1, min(20, round(0.5 / max(infer_seconds.values()))))

    keys = list(train)
    train_ips: dict[str, list[float]] = {key: [] for key in keys}
    infer_ips: dict[str, list[float]] = {key: [] for key in keys}
    for round_index in range(args.rounds):
        order = keys if round_index % 2 == 0 else keys[::-1]
        _log(f"[{name}] round {round_index + 1}/{args.rounds}")
        for key in order:
            seconds = _time(run_train(key), steps)
            train_ips[key].append(steps * args.batch / seconds)
        set_eval(True)
        for key in order:
            seconds = _time(run_infer(key), infer_calls)
            infer_ips[key].append(infer_calls * len(X_test) / seconds)
        set_eval(False)

    def ratios(ips: dict[str, list[float]]) -> dict[str, Any]:
        best_torch = [max(ips[k][r] for k in keys if k != "ours") for r in range(args.rounds)]
        return _stats([ours / theirs for ours, theirs in zip(ips["ours"], best_torch, strict=True)])

    def medians(ips: dict[str, list[float]]) -> dict[str, float | None]:
        out: dict[str, float | None] = {
            key: statistics.median(ips[key]) if key in ips else None
            for key in ("ours", "torch_nchw", "torch_channels_last")
        }
        out["torch_best"] = max(v for k, v in out.items() if k != "ours" and v is not None)
        return out

    train_median = medians(train_ips)
    return {
        "input_shape": list(workloads.INPUT_SHAPES[name]),
        "data": source,
        "params": int(sum(p.size for layer in model.layers for p in layer.params().values())),
        "flops_per_image": {k: flops[k] for k in ("forward", "training")},
        "flops_per_layer": flops["per_layer"],
        "steps_per_round": steps,
        "inference_calls_per_round": infer_calls,
        "our_step": step_how,
        "our_predict": predict_how,
        "logit_max_abs_diff_at_start": logit_diff,
        "train_ips": train_ips,
        "infer_ips": infer_ips,
        "train_ratio": ratios(train_ips),
        "infer_ratio": ratios(infer_ips),
        "train_ips_median": train_median,
        "infer_ips_median": medians(infer_ips),
        "finite": bool(np.isfinite(workloads.our_logits(model, X_test[:8])).all()),
    }


def measure_memory(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Peak training memory of each library, each in a fresh process (see memory.py)."""
    result = {}
    steps = 3 if args.quick else 10
    for framework in ("ours", "torch"):
        command = [
            sys.executable, str(HERE / "memory.py"), "--framework", framework, "--model", name,
            "--batch", str(args.batch), "--steps", str(steps), "--threads", str(args.threads),
        ]  # fmt: skip
        done = subprocess.run(
            command, capture_output=True, text=True, env=dict(os.environ), timeout=900, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"memory.py failed for {framework}/{name}:\n{done.stderr}")
        result[framework] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def notebook_baseline(args: argparse.Namespace, library_ips: float | None) -> dict[str, Any]:
    """The notebook-loop LeNet step, and the library's speed-up over it."""
    import workloads
    from notebook_loop import notebook_images_per_second

    X, y, _, _, _ = workloads.load_data("lenet5", args.batch, 1)
    result = notebook_images_per_second(X, y, steps=1 if args.quick else 2)
    if library_ips is None:  # lenet5 was not benchmarked: time the library's step here
        model = workloads.build_model("lenet5")
        step, _ = workloads.our_train_step(model)
        X, y, _, _, _ = workloads.load_data("lenet5", args.batch, 1)
        step(X, y)
        start = time.perf_counter()
        for _ in range(5):
            step(X, y)
        library_ips = 5 * args.batch / (time.perf_counter() - start)
    result["library_images_per_s"] = library_ips
    result["library_batch"] = args.batch
    result["speedup"] = library_ips / result["images_per_s"]
    return result


# -- targets -----------------------------------------------------------------------------------
def evaluate_targets(results: dict[str, Any]) -> list[dict[str, str]]:
    models = results["models"]
    targets = []

    def add(target: str, measured: float | None, ok: bool | None, text: str) -> None:
        status = "not run" if measured is None else ("PASS" if ok else "GAP")
        targets.append({"target": target, "measured": text if measured is not None else "-",
                        "status": status})  # fmt: skip

    # issue 7's targets: ratios against PyTorch's faster layout, medians of the rounds
    thresholds = {"lenet5": 1.0, "mnist1d_cnn": 1.0, "seed_cnn": 0.9, "vgg_block": 0.8,
                  "resblock": 0.8}  # fmt: skip
    for name, threshold in thresholds.items():
        for key, label in (("train_ratio", "training"), ("infer_ratio", "inference")):
            median = models[name][key]["median"] if name in models else None
            add(f"{name} {label} ratio >= {threshold:.1f}x", median,
                median is not None and median >= threshold, f"{median or 0:.2f}x")  # fmt: skip
    share = models["seed_cnn"]["flop_share"]["ours"] if "seed_cnn" in models else None
    add("seed_cnn training >= 60% of the matmul FLOP bound", share,
        share is not None and share >= 0.6, f"{100 * (share or 0):.0f}%")  # fmt: skip
    for name in thresholds:
        memory = models.get(name, {}).get("memory")
        ours = memory["ours"]["growth_mib"] if memory else None
        theirs = memory["torch"]["growth_mib"] if memory else None
        add(f"{name} peak training memory <= 1.2x PyTorch's", ours,
            ours is not None and ours <= 1.2 * theirs,
            f"{ours or 0:.1f} MiB vs {theirs or 0:.1f} MiB")  # fmt: skip
    loop = results.get("notebook_loop")
    speedup = loop["speedup"] if loop else None
    add("library >= 100x the notebook loop (LeNet step)", speedup,
        speedup is not None and speedup >= 100, f"{speedup or 0:.0f}x")  # fmt: skip
    return targets


def main(argv: list[str] | None = None) -> dict[str, Any]:
    set_thread_variables(argv)
    args = parse_args(argv)
    if args.busy:
        start_burner()
    threads = limit_threads(args.threads)
    from flops import matmul_gflops, torch_matmul_gflops

    results: dict[str, Any] = {"meta": machine_info(args)}
    results["meta"]["torch_threads"] = threads["torch"]
    results["meta"]["load_average_start"] = _load_average()
    size, repeats = (1024, 3) if args.quick else (2048, 5)

    def probe_matmul() -> dict[str, float]:
        _log(f"float32 matmul rate ({size} x {size}) ...")
        return {"numpy": matmul_gflops(size, repeats), "torch": torch_matmul_gflops(size, repeats)}

    rates = probe_matmul()
    rates["bound"] = max(rates["numpy"], rates["torch"])

    results["models"] = {}
    for name in args.models:
        _log(f"[{name}] benchmarking ...")
        results["models"][name] = bench_model(name, args)
        if not args.skip_memory:
            _log(f"[{name}] peak memory ...")
            results["models"][name]["memory"] = measure_memory(name, args)
    if not args.skip_notebook:
        _log("notebook-loop baseline ...")
        lenet = results["models"].get("lenet5")
        results["notebook_loop"] = notebook_baseline(
            args, lenet["train_ips_median"]["ours"] if lenet else None
        )
    # The machine's rate is the best seen: probe again at the end, when others may have stopped.
    for key, value in probe_matmul().items():
        rates[key] = max(rates[key], value)
    rates["bound"] = max(rates["numpy"], rates["torch"])
    rates["matrix_size"] = size
    results["matmul_gflops"] = rates
    for model in results["models"].values():
        model["flop_share"] = {
            who: model["flops_per_image"]["training"] * ips / (rates["bound"] * 1e9)
            for who, ips in (
                ("ours", model["train_ips_median"]["ours"]),
                ("torch", model["train_ips_median"]["torch_best"]),
            )
        }
    results["meta"]["load_average_end"] = _load_average()
    results["targets"] = evaluate_targets(results)
    print(report.console_table(results))
    paths = report.write_all(results, args.out_dir)
    print("\nwrote " + ", ".join(paths.values()))
    return results


if __name__ == "__main__":
    main()
