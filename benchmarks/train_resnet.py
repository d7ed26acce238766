"""A CIFAR-style ResNet on Fashion-MNIST, one recipe in scratchcnn and in PyTorch, same run.

The recipe (He et al. 2016's, at 28x28x1): ResNet-20 (option A shortcuts), SGD with momentum
0.9 and weight decay 1e-4, lr 0.1 annealed to 0 by a per-step cosine after a one-epoch linear
warm-up, batch 128, float32; augmentation: random crop after padding by 2 and horizontal
flips, then normalization (Fashion-MNIST's mean and std). Both libraries start from the same
weights (ours, copied into ``torch.nn``); the augmentation is scratchcnn.transforms for both,
drawn from each run's own generator. For each seed it prints the test accuracy and the seconds
per epoch of each, then the means over the seeds, and writes ``train_resnet.json``.

    python benchmarks/train_resnet.py [--epochs 10] [--subset 10000] [--seeds 0 1]
                                      [--depth 20] [--threads 2] [--out benchmarks]

Cost: ResNet-20 trains at roughly 30 images/s in scratchcnn on one busy core (PyTorch about
6x faster), so the default (10,000 images, 10 epochs, 2 seeds) takes a few hours on an idle
2-core machine; ``--subset 60000`` is the whole training set. A smoke run:
``--synthetic --subset 64 --epochs 1 --depth 8 --seeds 0``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST's training pixels


def recipe(args: argparse.Namespace, n_train: int) -> dict[str, Any]:
    steps = math.ceil(n_train / args.batch)
    return {
        "depth": args.depth,
        "epochs": args.epochs,
        "batch": args.batch,
        "lr": args.lr,
        "momentum": 0.9,
        "weight_decay": args.weight_decay,
        "warmup_steps": min(steps, args.epochs * steps - 1),
        "total_steps": args.epochs * steps,
        "crop_padding": 2,
    }


def augmentation(padding: int) -> Any:
    from scratchcnn.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip

    return Compose([RandomCrop(28, padding=padding), RandomHorizontalFlip(), Normalize(MEAN, STD)])


def build_ours(r: dict[str, Any], seed: int) -> Any:
    from scratchcnn.optimizers import SGD
    from scratchcnn.zoo import cifar_resnet

    optimizer = SGD(lr=r["lr"], momentum=r["momentum"], weight_decay=r["weight_decay"])
    return cifar_resnet(r["depth"], input_shape=(1, 28, 28), num_classes=10, seed=seed,
                        optimizer=optimizer)  # fmt: skip


def warmup_cosine(schedules: Any, optimizer: Any, r: dict[str, Any]) -> Any:
    """LinearLR warm-up then cosine to 0; ``schedules`` is scratchcnn's or torch's module.

    A run of one step has no room for a warm-up (LinearLR needs total_iters >= 1): cosine only.
    """
    if r["warmup_steps"] < 1:
        return schedules.CosineAnnealingLR(optimizer, T_max=r["total_steps"])
    warm = schedules.LinearLR(optimizer, start_factor=0.01, total_iters=r["warmup_steps"])
    cosine = schedules.CosineAnnealingLR(optimizer, T_max=r["total_steps"] - r["warmup_steps"])
    return schedules.SequentialLR(optimizer, [warm, cosine], milestones=[r["warmup_steps"]])


# -- PyTorch's twin ---------------------------------------------------------------------------
def torch_twin(model: Any) -> Any:
    """Our ResNet as a float32 ``torch.nn`` module with the same weights."""
    import torch
    from torch import nn

    from torch_models import to_torch

    class Residual(nn.Module):
        def __init__(self, body: nn.Module, shortcut: nn.Module | None) -> None:
            super().__init__()
            self.body, self.shortcut = body, shortcut

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            identity = x if self.shortcut is None else self.shortcut(x)
            return self.body(x) + identity

    class PadChannels(nn.Module):
        def __init__(self, layer: Any) -> None:
            super().__init__()
            self.stride, self.before = layer.stride, layer.pad_before
            self.after = layer.out_channels - layer.in_channels - layer.pad_before

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            s = self.stride
            return nn.functional.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, self.before, self.after))

    def convert(layers: list[Any]) -> nn.Sequential:
        modules: list[nn.Module] = []
        for layer in layers:
            name = type(layer).__name__
            if name == "Residual":
                shortcut = None if layer.shortcut is None else convert(layer.shortcut)
                modules.append(Residual(convert(layer.body), shortcut))
            elif name == "PadChannelsShortcut":
                modules.append(PadChannels(layer))
            else:
                modules.extend(to_torch([layer]))
        return nn.Sequential(*modules)

    return convert(list(model.layers)).float()


# -- the two trainings ------------------------------------------------------------------------
def train_ours(data: tuple, r: dict[str, Any], seed: int) -> dict[str, Any]:
    from scratchcnn import schedules

    (X, y), (X_test, y_test) = data
    model = build_ours(r, seed)
    transform = augmentation(r["crop_padding"])
    history = model.fit(
        X, y, epochs=r["epochs"], batch_size=r["batch"], seed=seed, verbose=0,
        transform=transform, lr_schedule=warmup_cosine(schedules, model.optimizer, r),
        lr_schedule_interval="step",
    )  # fmt: skip
    _, accuracy = model.evaluate(X_test, y_test, batch_size=500, transform=transform)
    return {
        "test_accuracy": accuracy,
        "seconds_per_epoch": history.history["seconds"],
        "train_loss": history.history["loss"],
    }


def train_torch(data: tuple, r: dict[str, Any], seed: int) -> dict[str, Any]:
    import torch

    (X, y), (X_test, y_test) = data
    net = torch_twin(build_ours(r, seed))  # the same initial weights as ours
    optimizer = torch.optim.SGD(net.parameters(), lr=r["lr"], momentum=r["momentum"],
                                weight_decay=r["weight_decay"])  # fmt: skip
    schedule = warmup_cosine(torch.optim.lr_scheduler, optimizer, r)
    criterion = torch.nn.CrossEntropyLoss()
    transform = augmentation(r["crop_padding"])
    rng = np.random.default_rng([seed, 1])
    y_t = torch.from_numpy(y)
    seconds, losses = [], []
    for _ in range(r["epochs"]):
        start = time.perf_counter()
        net.train()
        order = rng.permutation(len(X))
        total = 0.0
        for lo in range(0, len(X), r["batch"]):
            index = order[lo : lo + r["batch"]]
            batch = torch.from_numpy(np.ascontiguousarray(transform(X[index], rng), np.float32))
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(net(batch), y_t[index])
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(index)
        seconds.append(time.perf_counter() - start)
        losses.append(total / len(X))
    net.eval()
    normalize = transform.deterministic()
    with torch.inference_mode():
        predicted = torch.cat([
            net(torch.from_numpy(normalize(X_test[i : i + 500]).astype(np.float32))).argmax(1)
            for i in range(0, len(X_test), 500)
        ])  # fmt: skip
    accuracy = float((predicted.numpy() == y_test).mean())
    return {"test_accuracy": accuracy, "seconds_per_epoch": seconds, "train_loss": losses}


def wiring_check(r: dict[str, Any], X: np.ndarray) -> float:
    """Largest |our logits - torch's| in eval mode on a few images (float32: about 1e-5)."""
    from torch_models import max_abs_logit_difference

    model = build_ours(r, 0)
    net = torch_twin(model)

    def logits(images: np.ndarray) -> np.ndarray:
        model.eval()
        try:
            return model.forward(images)
        finally:
            model.train()

    return max_abs_logit_difference(logits, net, X)


# -- command line -----------------------------------------------------------------------------
def subset(data: tuple, n: int | None, n_test: int | None, seed: int) -> tuple:
    """``n`` training images chosen at random (seeded), and the first ``n_test`` test images."""
    (X, y), (X_test, y_test) = data
    if n is not None and n < len(X):
        keep = np.sort(np.random.default_rng(seed).choice(len(X), n, replace=False))
        X, y = X[keep], y[keep]
    if n_test is not None and n_test < len(X_test):
        X_test, y_test = X_test[:n_test], y_test[:n_test]
    return (X, y), (X_test, y_test)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--subset", type=int, default=10_000, metavar="N",
                        help="train on N of the 60,000 images, chosen at random (10,000)")
    parser.add_argument("--test-subset", type=int, default=None, metavar="N",
                        help="test on the first N of the 10,000 test images (default: all)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--depth", type=int, default=20, help="6n + 2: 8, 14, 20, 32, ...")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frameworks", nargs="+", default=["scratchcnn", "pytorch"],
                        choices=["scratchcnn", "pytorch"])
    parser.add_argument("--synthetic", action="store_true",
                        help="random images instead of Fashion-MNIST (a smoke test)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    return parser.parse_args(argv)


def load_data(args: argparse.Namespace) -> tuple:
    if args.synthetic:
        rng = np.random.default_rng(0)
        n, n_test = args.subset or 256, args.test_subset or 128
        make = lambda m: (rng.random((m, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, m))  # noqa: E731
        return make(n), make(n_test)
    from scratchcnn.datasets import load_fashion_mnist

    return subset(load_fashion_mnist(download=False), args.subset, args.test_subset, 0)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    data = load_data(args)
    r = recipe(args, len(data[0][0]))
    trainers = {"scratchcnn": train_ours, "pytorch": train_torch}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in args.frameworks}
    with threadpool_limits(args.threads):
        wiring = wiring_check(r, data[1][0][:8])
        for seed in args.seeds:
            for name in args.frameworks:
                result = trainers[name](data, r, seed)
                result["seed"] = seed
                runs[name].append(result)
                print(f"seed {seed} {name:10s} test accuracy {result['test_accuracy']:.2%}, "
                      f"{statistics.median(result['seconds_per_epoch']):.1f} s/epoch", flush=True)
    summary = {
        name: {
            "mean_test_accuracy": statistics.mean(r_["test_accuracy"] for r_ in results),
            "median_seconds_per_epoch": statistics.median(
                s for r_ in results for s in r_["seconds_per_epoch"]
            ),
        }
        for name, results in runs.items()
    }
    print(f"ResNet-{args.depth}, {len(data[0][0])} training images, {args.epochs} epochs, "
          f"seeds {args.seeds}, {args.threads} threads (logit wiring check {wiring:.1e})")
    for name, s in summary.items():
        print(f"  {name:10s} mean test accuracy {s['mean_test_accuracy']:.2%}, "
              f"{s['median_seconds_per_epoch']:.1f} s/epoch (median)")
    if len(summary) == 2:
        gap = summary["scratchcnn"]["mean_test_accuracy"] - summary["pytorch"]["mean_test_accuracy"]
        print(f"  accuracy gap (scratchcnn - pytorch): {100 * gap:+.2f} points")
    record = {"recipe": r, "seeds": args.seeds, "train_samples": len(data[0][0]),
              "test_samples": len(data[1][0]), "threads": args.threads,
              "synthetic": args.synthetic, "logit_wiring_check": wiring,
              "summary": summary, "runs": runs}  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train_resnet.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


if __name__ == "__main__":
    main()
