"""Where a training step and an inference batch spend their time, layer by layer:
``python benchmarks/profile_layers.py``.

For each workload of ``run.py`` (same models, data, batch, Adam, threads), times every layer's
forward and backward pass inside real training steps, the time of the step outside the
layers (loss, optimizer update, input checks), each layer's forward pass inside
``predict_proba`` and PyTorch's whole step and inference batch in the same process. The
timers wrap the layer *classes'* methods, so a model still fuses what it fuses unprofiled
(a hook on a layer object would stop its fusion). Medians over the steps.

The script only needs ``model.layers``, ``forward`` and ``backward``: run with
``PYTHONPATH=<other checkout>/src`` it profiles that commit the same way (the before/after
profiles in ``benchmarks/README.md``). ``--json FILE`` writes the numbers.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import run  # sets nothing on import; its helpers set threads before NumPy loads

METHODS = ("forward", "backward", "backward_applied")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from workloads import MODELS

    parser = argparse.ArgumentParser(
        prog="python benchmarks/profile_layers.py",
        description="Per-layer profile of each workload.",
    )
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (about 3 s each)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--infer-batch", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=None, help="as run.py (all CPUs)")
    parser.add_argument("--isa", choices=("native", "avx2"), default="native")
    parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
    args = parser.parse_args(argv)
    args.models = [name.strip() for name in args.models.split(",") if name.strip()]
    return args


# -- timers on the layer classes -----------------------------------------------------------------
class LayerTimer:
    """Seconds per (layer object, method) since the last ``reset``, by wrapping classes."""

    def __init__(self) -> None:
        self.seconds: dict[tuple[int, str], float] = defaultdict(float)
        self._restore: list[tuple[type, str, Any]] = []

    def wrap_classes_of(self, layers: list[Any]) -> None:
        for _, layer in rows_of(layers):
            for name in METHODS:
                cls = type(layer)
                method = getattr(cls, name, None)
                if method is None or getattr(method, "_profiled", False):
                    continue
                self._restore.append((cls, name, cls.__dict__.get(name)))
                setattr(cls, name, self._timed(method, name))

    def _timed(self, method: Callable, name: str) -> Callable:
        seconds = self.seconds

        @functools.wraps(method)
        def timed(layer: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(layer, *args, **kwargs)
            finally:
                seconds[id(layer), name] += time.perf_counter() - start

        timed._profiled = True  # type: ignore[attr-defined]
        return timed

    def reset(self) -> dict[tuple[int, str], float]:
        taken = dict(self.seconds)
        self.seconds.clear()
        return taken

    def unwrap(self) -> None:
        for cls, name, original in reversed(self._restore):
            if original is None:
                delattr(cls, name)
            else:
                setattr(cls, name, original)
        self._restore.clear()


def children(layer: Any) -> list[Any]:
    """The layers a container layer holds (Residual's body and shortcut, a branch's paths)."""
    from scratchcnn.layers.base import Layer

    def layers_in(value: Any) -> Iterator[Any]:
        if isinstance(value, Layer):
            yield value
        elif isinstance(value, (list, tuple)):
            for item in value:
                yield from layers_in(item)
        elif isinstance(value, dict):  # Residual keeps its paths by name
            for item in value.values():
                yield from layers_in(item)

    return [item for item in layers_in(list(vars(layer).values())) if item is not layer]


def rows_of(layers: list[Any], depth: int = 0) -> Iterator[tuple[int, Any]]:
    """(nesting depth, layer) for every layer, each container followed by what it holds."""
    for layer in layers:
        yield depth, layer
        yield from rows_of(children(layer), depth + 1)


def label(layer: Any) -> str:
    """The layer's repr on one line, cut to 60 characters (a container's repr spans lines)."""
    text = " ".join(repr(layer).split())
    return text if len(text) <= 60 else text[:57] + "..."


# -- one workload ---------------------------------------------------------------------------------
def seconds_per_call(call: Callable[[int], Any], count: int) -> list[float]:
    """The seconds of each of ``count`` calls ``call(i)``."""
    seconds = []
    for i in range(count):
        start = time.perf_counter()
        call(i)
        seconds.append(time.perf_counter() - start)
    return seconds


def median_ms(values: list[float]) -> float:
    return 1e3 * statistics.median(values) if values else 0.0


def profile_model(name: str, args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import torch

    import workloads
    from torch_models import to_torch

    model = workloads.build_model(name)
    run.limit_numba_threads(args.threads)
    X, y, X_test, _, source = workloads.load_data(name, args.batch * 4, args.infer_batch)
    batches = [(X[i * args.batch : (i + 1) * args.batch], y[i * args.batch : (i + 1) * args.batch])
               for i in range(4)]  # fmt: skip
    net = to_torch(model.layers)
    images = len(workloads.INPUT_SHAPES[name]) == 3  # PyTorch's faster layout: channels_last
    if images:
        net = net.to(memory_format=torch.channels_last)

    def convert(a: np.ndarray) -> Any:
        tensor = torch.from_numpy(a)
        return tensor.contiguous(memory_format=torch.channels_last) if images else tensor
    torch_batches = [(convert(Xb), torch.from_numpy(yb)) for Xb, yb in batches]
    torch_X_test = convert(X_test)
    our_step, _ = workloads.our_train_step(model)
    our_predict, _ = workloads.our_predict(model, args.infer_batch)
    torch_step = workloads.torch_train_step(net)
    torch_predict = workloads.torch_predict(net)

    timer = LayerTimer()
    timer.wrap_classes_of(model.layers)
    try:
        for i in range(3):  # warm-up: compilation, buffers, optimizer state
            our_step(*batches[i % 4])
            torch_step(*torch_batches[i % 4])
        start = time.perf_counter()
        our_step(*batches[0])
        step_seconds = time.perf_counter() - start
        steps = args.steps or max(5, min(50, int(3.0 / max(step_seconds, 1e-4))))
        # one library after the other, not step by step: PyTorch's OpenMP threads spin for a
        # while after each of its steps, which would slow the next step of ours
        per_step: list[dict] = []
        totals = []
        for i in range(steps):
            timer.reset()
            start = time.perf_counter()
            our_step(*batches[i % 4])
            totals.append(time.perf_counter() - start)
            per_step.append(timer.reset())
        torch_totals = seconds_per_call(lambda i: torch_step(*torch_batches[i % 4]), steps)

        workloads.set_mode(model, False)
        net.eval()
        for _ in range(2):
            our_predict(X_test)
            torch_predict(torch_X_test)
        calls = max(3, min(30, steps))
        per_call: list[dict] = []
        infer_totals = []
        for _ in range(calls):
            timer.reset()
            start = time.perf_counter()
            our_predict(X_test)
            infer_totals.append(time.perf_counter() - start)
            per_call.append(timer.reset())
        torch_infer = seconds_per_call(lambda _: torch_predict(torch_X_test), calls)
        workloads.set_mode(model, True)
    finally:
        timer.unwrap()

    def layer_ms(samples: list[dict], layer: Any, method: str) -> float:
        return median_ms([sample.get((id(layer), method), 0.0) for sample in samples])

    rows = []
    top_level = {id(layer) for layer in model.layers}
    for depth, layer in rows_of(model.layers):
        backward = layer_ms(per_step, layer, "backward") + layer_ms(
            per_step, layer, "backward_applied"
        )
        rows.append({
            "depth": depth,
            "layer": label(layer),
            "forward_ms": layer_ms(per_step, layer, "forward"),
            "backward_ms": backward,
            "inference_ms": layer_ms(per_call, layer, "forward"),
        })  # fmt: skip

    def outside(samples: list[dict], total: list[float], methods: tuple[str, ...]) -> float:
        inside = [sum(v for (key, method), v in sample.items()
                      if key in top_level and method in methods) for sample in samples]  # fmt: skip
        return median_ms([t - s for t, s in zip(total, inside, strict=True)])

    return {
        "source": source,
        "steps": steps,
        "inference_calls": calls,
        "numpy": np.__version__,
        "layers": rows,
        "step_ms": median_ms(totals),
        "outside_layers_ms": outside(per_step, totals, METHODS),
        "torch_step_ms": median_ms(torch_totals),
        "inference_ms": median_ms(infer_totals),
        "inference_outside_layers_ms": outside(per_call, infer_totals, ("forward",)),
        "torch_inference_ms": median_ms(torch_infer),
    }


def table(name: str, result: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        f"### {name} (training batch {args.batch}, inference batch {args.infer_batch}, "
        f"medians of {result['steps']} steps / {result['inference_calls']} batches, ms)",
        "",
        "| layer | forward | backward | inference forward |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in result["layers"]:
        indent = "&nbsp;&nbsp;" * 2 * row["depth"]
        lines.append(
            f"| {indent}{row['layer']} | {row['forward_ms']:.2f} | {row['backward_ms']:.2f} |"
            f" {row['inference_ms']:.2f} |"
        )
    lines += [
        f"| outside the layers (loss, optimizer, checks; softmax) | "
        f"{result['outside_layers_ms']:.2f} | | {result['inference_outside_layers_ms']:.2f} |",
        f"| **whole step / batch** | **{result['step_ms']:.2f}** | | "
        f"**{result['inference_ms']:.2f}** |",
        f"| PyTorch's whole step / batch (channels_last where 4-D) | {result['torch_step_ms']:.2f}"
        f" | | {result['torch_inference_ms']:.2f} |",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    run.set_thread_variables(argv)
    args = parse_args(argv)
    args.threads = args.threads or os.cpu_count() or 1
    run.limit_threads(args.threads)
    import scratchcnn

    results: dict[str, Any] = {"scratchcnn": str(Path(scratchcnn.__file__).parent), "models": {}}
    print(f"scratchcnn from {results['scratchcnn']}; {args.threads} threads; "
          f"CPU: {run.cpu_model()} ({run.vector_extensions()})\n")  # fmt: skip
    for name in args.models:
        try:
            result = profile_model(name, args)
        except Exception as error:  # an older checkout may lack a workload's layers
            print(f"### {name}: not profiled ({type(error).__name__}: {error})\n")
            continue
        results["models"][name] = result
        print(table(name, result, args), flush=True)
    if args.json:
        from scratchcnn.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
