"""Peak memory of a training run, measured the same way for both libraries in a fresh process.

Run as ``python benchmarks/memory.py --framework ours|torch --model NAME`` (``run.py`` does
this for each model): the process imports its library, builds the model and the data, then
takes one training step on a 2-sample batch (loading kernel code and JIT caches, not data),
resets the kernel's high-water mark of its resident set (``/proc/self/clear_refs``), reads its
resident set size, trains ``--steps`` full steps and reads the high-water mark again. The
growth is what training needs on top of the model and the data: activations, gradients,
optimizer state, workspaces and allocator caches. It prints one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def measure(framework: str, model_name: str, batch: int, steps: int, threads: int) -> dict:
    import numpy as np
    import torch

    import workloads

    torch.set_num_threads(threads)
    model = workloads.build_model(model_name)
    # random data of the model's shape: memory does not depend on the values
    X, y, _, _, source = workloads.load_data(model_name, batch * 2, 1, real=False)
    batches = [(X[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch]) for i in range(2)]
    if framework == "ours":
        step, how = workloads.our_train_step(model)
    else:
        from torch_models import to_torch

        net = to_torch(model.layers)
        del model
        step, how = workloads.torch_train_step(net), "torch NCHW, Adam"
        batches = [(torch.from_numpy(Xb), torch.from_numpy(yb)) for Xb, yb in batches]
    # One step on a 2-sample batch first, for both libraries: it loads code, not data (our
    # Numba kernels compile, PyTorch fills its dispatch caches), so the growth measured below
    # is what full batches need: activations, workspaces, gradients.
    step(*(part[:2] for part in batches[0]))
    gc.collect()
    reset = _reset_peak()
    before = _status_kib("VmRSS")
    for i in range(steps):
        step(*batches[i % 2])
    peak = _status_kib("VmHWM") if reset else None
    if peak is None:  # fall back to the lifetime peak (KiB on Linux), an overestimate
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "framework": framework,
        "model": model_name,
        "batch": batch,
        "steps": steps,
        "data": source,
        "step": how,
        "rss_before_mib": (before or 0) / 1024,
        "peak_mib": peak / 1024,
        "growth_mib": (peak - (before or 0)) / 1024,
        "method": "VmHWM after reset" if reset else "ru_maxrss (lifetime peak)",
        "numpy": np.__version__,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=("ours", "torch"), required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    result = measure(args.framework, args.model, args.batch, args.steps, args.threads)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
