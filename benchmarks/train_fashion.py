"""LeNet-5 on Fashion-MNIST with one recipe in scratchcnn and in PyTorch, in the same run.

The recipe: 10 epochs, Adam (lr 1e-3), batch 128, float32, the training set reshuffled every
epoch, both libraries starting from the same weights (ours, copied into ``torch.nn``). Prints
the test accuracy and the seconds per epoch of each, and writes ``train_fashion.json``.

    python benchmarks/train_fashion.py [--epochs 10] [--threads 2] [--out benchmarks]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np


def train_ours(data: tuple, epochs: int, batch: int, seed: int) -> dict:
    from scratchcnn import zoo
    from scratchcnn.optimizers import Adam

    (X, y), (X_test, y_test) = data
    model = zoo.lenet5(seed=seed, optimizer=Adam(lr=1e-3))
    history = model.fit(X, y, epochs=epochs, batch_size=batch, shuffle=True, seed=seed, verbose=0)
    _, accuracy = model.evaluate(X_test, y_test, batch_size=1000)
    return {"test_accuracy": accuracy, "seconds_per_epoch": history.history["seconds"]}


def train_torch(data: tuple, epochs: int, batch: int, seed: int) -> dict:
    import torch

    from scratchcnn import zoo
    from torch_models import to_torch

    (X, y), (X_test, y_test) = data
    net = to_torch(zoo.lenet5(seed=seed).layers)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    criterion = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    rng = np.random.default_rng(seed)
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        net.train()
        order = torch.from_numpy(rng.permutation(len(X)))
        for lo in range(0, len(X), batch):
            index = order[lo : lo + batch]
            optimizer.zero_grad(set_to_none=True)
            criterion(net(X_t[index]), y_t[index]).backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    net.eval()
    with torch.inference_mode():
        predicted = torch.cat([net(torch.from_numpy(X_test[i : i + 1000])).argmax(1)
                               for i in range(0, len(X_test), 1000)])
    accuracy = float((predicted.numpy() == y_test).mean())
    return {"test_accuracy": accuracy, "seconds_per_epoch": seconds}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    from scratchcnn.datasets import load_fashion_mnist

    torch.set_num_threads(args.threads)
    data = load_fashion_mnist(download=False)
    results = {}
    with threadpool_limits(args.threads):
        results["scratchcnn"] = train_ours(data, args.epochs, args.batch, args.seed)
        results["pytorch"] = train_torch(data, args.epochs, args.batch, args.seed)
    print(f"LeNet-5, Fashion-MNIST, {args.epochs} epochs, Adam 1e-3, batch {args.batch}, "
          f"{args.threads} threads")
    for name, result in results.items():
        per_epoch = statistics.median(result["seconds_per_epoch"])
        print(f"  {name:10s} test accuracy {result['test_accuracy']:.2%}, "
              f"{per_epoch:.2f} s/epoch (median)")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train_fashion.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
