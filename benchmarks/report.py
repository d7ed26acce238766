"""The benchmark's outputs: a console table, ``results.json``, ``RESULTS.md`` and a bar chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scratchcnn.atomic import atomic_write, atomic_write_text

METHOD = """\
## Method
- **Same work in both libraries**: the same architecture (PyTorch's `nn.Sequential` is built
  from our layer list and starts from our weights; the largest logit difference at the start is
  in the JSON), the same data batches, batch size, optimizer (Adam, lr 1e-3), loss (softmax
  cross-entropy, mean), dtype (float32) and thread count (`torch.set_num_threads(T)`, NumPy's
  BLAS limited to T with threadpoolctl, `OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS=T`).
- **Training images/s**: full steps (forward, loss, backward, optimizer update) on a cycle of
  real batches, after warm-up steps. PyTorch runs twice, NCHW and `channels_last` (2-D models
  only; inputs converted once, outside the timing, which favours PyTorch); the ratio of each
  round is ours / the faster PyTorch variant *of the same round*.
- **Interleaved rounds**: every round runs ours, PyTorch NCHW and PyTorch channels_last one
  after the other (the order reversed on odd rounds), so drift on a shared machine hits all
  three; the tables show the median ratio and its min-max over the rounds.
- **Inference images/s**: class probabilities (softmax of the logits) of 1,000 images in one
  batch, eval mode, PyTorch under `torch.inference_mode()`.
- **Peak memory**: each library trains in a fresh process (`benchmarks/memory.py`); after the
  imports, the model and the data, it resets the kernel's high-water mark of the resident set
  (`/proc/self/clear_refs`), trains, and reports the high-water mark minus the resident set
  just before the first step (MiB): activations, gradients, optimizer state, workspaces and
  allocator caches. PyTorch in NCHW.
- **FLOPs**: 2 x multiply-adds of the convolutions and dense layers per image; training = forward
  + weight gradient + input gradient (none for the first layer with parameters). The share of
  the machine's float32 matmul rate is `training FLOPs x images/s / rate`, the rate being the
  best of NumPy's and PyTorch's 2048 x 2048 float32 matmul (best of several runs, probed before
  and after the models).
- **Notebook loop**: `benchmarks/notebook_loop.py`, LeNet-5 whose convolutions loop over output
  positions and output channels and whose pooling loops over output positions, as the course
  notebooks wrote them (kept in float32 and with a vectorized pool backward, so the factor is a
  lower bound), one full training step; the factor is the library's training images/s over it.
"""


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _ratio(stats: dict[str, Any] | None) -> str:
    if not stats:
        return "-"
    return f"{stats['median']:.2f}x ({stats['min']:.2f}-{stats['max']:.2f})"


def _memory(model: dict[str, Any]) -> str:
    memory = model.get("memory")
    if not memory:
        return "-"
    return f"{memory['ours']['growth_mib']:.1f} / {memory['torch']['growth_mib']:.1f}"


def model_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, model in results["models"].items():
        train, infer = model["train_ips_median"], model["infer_ips_median"]
        share = model["flop_share"]
        rows.append([
            name,
            model["data"].split(" ")[0],
            f"{model['flops_per_image']['training'] / 1e6:.1f}",
            _fmt(train["ours"]),
            _fmt(train["torch_nchw"]),
            _fmt(train["torch_channels_last"]),
            _ratio(model["train_ratio"]),
            _fmt(infer["ours"]),
            _fmt(infer["torch_best"]),
            _ratio(model["infer_ratio"]),
            f"{100 * share['ours']:.0f}% / {100 * share['torch']:.0f}%",
            _memory(model),
        ])  # fmt: skip
    return rows


HEADER = [
    "model", "data", "train MFLOP/img", "train img/s ours", "torch NCHW", "torch CL",
    "train ratio", "infer img/s ours", "torch best", "infer ratio",
    "matmul share ours/torch", "peak MiB ours/torch",
]  # fmt: skip


def busy_warning(meta: dict[str, Any]) -> str | None:
    """A warning when other work ran on the machine, judged from the 1-minute load average.

    At the start the benchmark itself adds nothing yet; at the end its own threads count.
    """
    if meta.get("busy"):  # the burner is the point of the run
        return None
    start, end = meta.get("load_average_start"), meta.get("load_average_end")
    threads = meta.get("threads") or 1
    busy = (start and start[0] > 1.0) or (end and end[0] > threads + 1.0)
    if not busy:
        return None
    return (
        f"Warning: the machine was busy (1-minute load average {start and start[0]} at the "
        f"start, {end and end[0]} at the end, on {meta.get('logical_cpus')} logical CPUs): "
        "the timings are noisy; rerun on an idle machine."
    )


def console_table(results: dict[str, Any]) -> str:
    rows = [HEADER, *model_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    out = ["", *lines, ""]
    loop = results.get("notebook_loop")
    if loop:
        out.append(
            f"notebook loop (LeNet step, batch {loop['batch']}): {loop['images_per_s']:.0f} img/s;"
            f" the library is {loop['speedup']:.0f}x faster"
        )
    rate = results["matmul_gflops"]
    out.append(
        f"float32 matmul rate: NumPy {rate['numpy']:.1f} GFLOP/s, PyTorch {rate['torch']:.1f}"
        f" GFLOP/s (bound: {rate['bound']:.1f})"
    )
    meta = results["meta"]
    out.append(
        f"CPU: {meta['cpu']}; vector extensions: {meta.get('vector_extensions', 'unknown')};"
        f" kernels: {meta.get('kernels', 'unknown')}; BLAS: {meta['blas']}"
        + ("; BUSY mode (a burner on the last core)" if meta.get("busy") else "")
    )
    out.append(
        f"load average (1, 5, 15 min): {meta.get('load_average_start')} at the start, "
        f"{meta.get('load_average_end')} at the end, on {meta['logical_cpus']} logical CPUs"
    )
    warning = busy_warning(meta)
    if warning:
        out.append(warning)
    out.append("")
    out.extend(f"{t['status']:>7}  {t['target']}: {t['measured']}" for t in results["targets"])
    return "\n".join(out)


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    rate = results["matmul_gflops"]
    lines = [
        "# Benchmark results: scratchcnn vs PyTorch on the CPU",
        "",
        f"Generated by `{meta['command']}` on {meta['date']}; regenerate with "
        "`python benchmarks/run.py` (options: `--help`).",
    ]
    if meta.get("quick"):
        lines += ["", "**Quick smoke run: too few steps and rounds for the numbers to mean much.**"]
    warning = busy_warning(meta)
    if warning:
        lines += ["", f"**{warning}**"]
    lines += [
        "",
        "| machine | |",
        "| --- | --- |",
        f"| CPU | {meta['cpu']} ({meta['logical_cpus']} logical CPUs) |",
        f"| vector extensions | {meta.get('vector_extensions', 'unknown')} |",
        f"| kernels in use | {meta.get('kernels', 'unknown')}"
        + (" (`--isa avx2`: an AVX2-only CPU emulated)" if meta.get("isa") == "avx2" else "")
        + " |",
        f"| busy mode | {'a CPU burner held the last core' if meta.get('busy') else 'off'} |",
        f"| threads | {meta['threads']} (both libraries) |",
        f"| load average (1, 5, 15 min) | {meta.get('load_average_start')} at the start, "
        f"{meta.get('load_average_end')} at the end |",
        f"| Python / NumPy / PyTorch | {meta['python']} / {meta['numpy']} / {meta['torch']} |",
        f"| NumPy BLAS | {meta['blas']} |",
        f"| float32 matmul | NumPy {rate['numpy']:.1f} GFLOP/s, "
        f"PyTorch {rate['torch']:.1f} GFLOP/s |",
        f"| setup | batch {meta['batch']}, inference batch {meta['infer_batch']}, "
        f"{meta['rounds']} rounds, {meta['dtype']}, {meta['optimizer']} |",
        "",
        "## Throughput",
        "",
        "Ratios are ours / PyTorch's faster layout, median (min-max) over the interleaved rounds;",
        "above 1 means scratchcnn is faster. Matmul share: training FLOPs x images/s over the",
        "measured matmul rate. Peak MiB: growth of the resident set during training.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "| " + " | ".join("---" for _ in HEADER) + " |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in model_rows(results)]
    loop = results.get("notebook_loop")
    if loop:
        lines += [
            "",
            f"Notebook loop baseline (one LeNet-5 step, batch {loop['batch']}): "
            f"{loop['images_per_s']:.0f} images/s; scratchcnn trains LeNet-5 at "
            f"{loop['library_images_per_s']:,.0f} images/s, **{loop['speedup']:.0f}x** faster.",
        ]
    lines += [
        "",
        "## Targets",
        "",
        "| target | measured | status |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {t['target']} | {t['measured']} | {t['status']} |" for t in results["targets"]]
    lines += ["", METHOD]
    return "\n".join(lines)


def bar_chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["models"])
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    panels = (
        ("train_ratio", "training: ours / PyTorch", 1.0),
        ("infer_ratio", "inference (batch 1000): ours / PyTorch", 1.2),
    )
    for ax, (key, title, target) in zip(axes, panels, strict=False):
        stats = [results["models"][name][key] for name in names]
        medians = [s["median"] for s in stats]
        errors = [
            [m - s["min"] for m, s in zip(medians, stats, strict=True)],
            [s["max"] - m for m, s in zip(medians, stats, strict=True)],
        ]
        ax.bar(names, medians, yerr=errors, capsize=4, color="tab:blue")
        ax.axhline(1.0, color="black", linewidth=0.8)
        if target != 1.0:
            ax.axhline(target, color="tab:red", linestyle="--", linewidth=0.8, label="target")
            ax.legend()
        ax.set_title(title)
        ax.set_ylabel("ratio (median, min-max)")
    ax = axes[2]
    width = 0.4
    positions = range(len(names))
    for offset, who, color in (
        (-width / 2, "ours", "tab:blue"),
        (width / 2, "torch", "tab:orange"),
    ):
        shares = [100 * results["models"][name]["flop_share"][who] for name in names]
        ax.bar([p + offset for p in positions], shares, width, label=who, color=color)
    ax.axhline(60, color="tab:red", linestyle="--", linewidth=0.8, label="target (seed_cnn)")
    ax.set_xticks(list(positions), names)
    ax.set_title("training: % of measured float32 matmul rate")
    ax.set_ylabel("%")
    ax.legend()
    for ax in axes:
        ax.tick_params(axis="x", rotation=20)
    fig.suptitle(
        f"scratchcnn vs PyTorch, {results['meta']['threads']} threads, "
        f"batch {results['meta']['batch']}"
    )
    fig.tight_layout()
    atomic_write(path, lambda file: fig.savefig(file, format="png", dpi=110))
    plt.close(fig)


def write_all(results: dict[str, Any], out_dir: Path) -> dict[str, str]:
    """Write results.json, RESULTS.md and results.png into out_dir; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "results.json",
        "markdown": out_dir / "RESULTS.md",
        "chart": out_dir / "results.png",
    }
    # atomically: a run killed while writing leaves the previous results whole
    atomic_write_text(paths["json"], json.dumps(results, indent=2) + "\n")
    atomic_write_text(paths["markdown"], markdown(results) + "\n")
    bar_chart(results, paths["chart"])
    return {key: str(path) for key, path in paths.items()}
