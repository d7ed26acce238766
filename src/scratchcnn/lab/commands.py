"""The lab's command-line parts: ``explain``, ``gradcheck``, ``visualize`` and train's extras.

``scratchcnn.cli`` calls ``add_commands`` and ``add_train_options`` while it builds its
parser, and the helpers below from ``train`` (``--dry-run``, ``--diagnose``, the pictures of
a run folder). User errors raise ``CLIError`` (one line on stderr, exit status 2).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _cli() -> Any:
    from scratchcnn import cli

    return cli


def resolve_model(args: argparse.Namespace, dtype: Any = None) -> tuple[Any, tuple[int, ...]]:
    """A zoo model by name (or ``small_cnn``), or a saved run's model, and its input shape."""
    cli = _cli()
    if args.model.endswith(".npz") or "/" in args.model or Path(args.model).is_dir():
        model, config = cli._load_run(args.model)
        shape = cli._input_shape(config, args.input_shape, args.model)
        return model, shape
    key = cli._model_key(args.model)
    num_classes = args.num_classes or 10
    if key == "small_cnn":
        shape = tuple(args.input_shape or (1, 8, 8))
        model = cli.build_model(key, shape, num_classes, seed=args.seed)
    else:
        from scratchcnn import zoo

        factory = zoo.MODELS[key]
        shape = tuple(args.input_shape) if args.input_shape else cli._default_input_shape(factory)
        kwargs = {"input_shape": shape, "num_classes": num_classes, "seed": args.seed}
        if dtype is not None:
            kwargs["dtype"] = dtype
        model = zoo.get_model(key, **kwargs)
    return model, shape


def cmd_explain(args: argparse.Namespace) -> int:
    """Print the worked size, parameter, FLOP and receptive-field arithmetic per layer."""
    model, shape = resolve_model(args)
    model.explain(shape)
    return 0


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """Check a model's gradients against finite differences; exit status 1 when wrong."""
    from scratchcnn.gradcheck import check_gradients

    model, shape = resolve_model(args, dtype=np.float64)
    rng = np.random.default_rng(args.seed)
    X = rng.random((args.samples, *shape))
    out_shape = model.output_shape(shape)
    if len(out_shape) == 1 and out_shape[0] > 1:
        y = rng.integers(0, out_shape[0], size=args.samples)
    else:
        y = rng.standard_normal((args.samples, *out_shape))
    report = check_gradients(model, X, y, entries=args.entries, seed=args.seed)
    print(report)
    return 0 if report.passed else 1


def add_commands(sub: Any, positive_int: Any) -> None:
    """Add ``explain``, ``gradcheck`` and ``visualize`` to the ``scratchcnn`` subparsers."""

    def model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--model", required=True, help="a model name, run folder or .npz")
        p.add_argument(
            "--input-shape",
            type=positive_int,
            nargs="+",
            default=None,
            metavar="N",
            help="C H W (or C L); default: the model's",
        )
        p.add_argument("--num-classes", type=positive_int, default=None,
                       help="outputs of a zoo model (default: 10)")
        p.add_argument("--seed", type=int, default=0,
                       help="seed of the weights and the random data (default: 0)")

    explain = sub.add_parser(
        "explain",
        help="work out each layer's sizes, parameters, FLOPs and receptive field",
        description="Print, per layer, the output-size and parameter-count formulas with the "
        "numbers filled in, forward FLOPs, activation memory and the receptive field, with "
        "warnings about unread pixels, asymmetric padding and oversized Dense layers.",
    )
    model_options(explain)
    explain.set_defaults(handler=cmd_explain, threads=None)

    gradcheck = sub.add_parser(
        "gradcheck",
        help="check a model's gradients against finite differences",
        description="Compare every parameter gradient and the input gradient of the model "
        "(a float64 copy) with central finite differences on random data; exit status 1 "
        "when a gradient is wrong.",
    )
    model_options(gradcheck)
    gradcheck.add_argument(
        "--samples", type=positive_int, default=2, help="batch size of the random data (default: 2)"
    )
    gradcheck.add_argument(
        "--entries",
        type=positive_int,
        default=30,
        help="entries checked per tensor, all when fewer (default: 30)",
    )
    gradcheck.set_defaults(handler=cmd_gradcheck, threads=None)
    add_visualize(sub, positive_int)


def add_train_options(train: argparse.ArgumentParser) -> None:
    """``train --dry-run`` and ``train --diagnose``."""
    train.add_argument(
        "--dry-run",
        action="store_true",
        help="print the FLOPs, peak memory and time estimate, then stop",
    )
    train.add_argument(
        "--diagnose",
        action="store_true",
        help="record per-layer health while training; writes diagnostics.png",
    )


def dry_run(model: Any, input_shape: tuple[int, ...], n_train: int, settings: dict) -> int:
    """Print ``model.estimate`` for the run the command line describes."""
    estimate = model.estimate(
        input_shape,
        batch_size=int(settings["batch_size"]),
        n_samples=n_train,
        epochs=int(settings["epochs"]),
    )
    print(estimate)
    print("Dry run: nothing was trained or written.")
    return 0


def train_callbacks(args: argparse.Namespace) -> list[Any]:
    """The callbacks ``train`` adds: ``Diagnostics`` with ``--diagnose``."""
    if not getattr(args, "diagnose", False):
        return []
    from scratchcnn.lab.diagnostics import Diagnostics

    return [Diagnostics()]


def write_run_pictures(
    model: Any,
    out: Path,
    X_test: np.ndarray,
    y_test: np.ndarray,
    class_names: list[str],
    callbacks: Sequence[Any] = (),
) -> list[str]:
    """``filters.png`` (for a model with convolutions), ``misclassified.png``, and with
    ``--diagnose`` ``diagnostics.png`` and ``diagnostics.json``, in ``out``."""
    import json

    from scratchcnn.atomic import atomic_write_text
    from scratchcnn.lab.diagnostics import Diagnostics
    from scratchcnn.layers.conv import _ConvNd
    from scratchcnn.plots import plot_filters, plot_misclassified

    written = []
    for callback in callbacks:
        if isinstance(callback, Diagnostics) and callback.records:
            callback.plot(out / "diagnostics.png")
            text = json.dumps(callback.to_dict(), indent=2) + "\n"
            atomic_write_text(out / "diagnostics.json", text)
            written += ["diagnostics.png", "diagnostics.json"]
    if any(isinstance(layer, _ConvNd) for layer in model.layers):
        plot_filters(model, out / "filters.png")
        written.append("filters.png")
    if X_test.ndim == 4:
        plot_misclassified(model, X_test, y_test, out / "misclassified.png", class_names)
        written.append("misclassified.png")
    return written


def cmd_visualize(args: argparse.Namespace) -> int:
    """Write the pictures of a trained model looking at one image into the run folder."""
    from scratchcnn import plots

    cli = _cli()
    model, config = cli._load_run(args.run)
    input_shape = cli._input_shape(config, args.input_shape, args.run)
    light_on_dark = bool(config.get("preprocessing", {}).get("light_on_dark", False))
    from scratchcnn.images import ImageError, prepare_image
    from scratchcnn.predict import framing_for

    try:  # the same preprocessing as `scratchcnn predict --preprocess auto`
        image = prepare_image(
            args.image, input_shape, args.invert, light_on_dark,
            framing_for(config.get("dataset")),
        )  # fmt: skip
    except ImageError as error:
        raise cli.CLIError(str(error)) from error
    out = Path(args.out) if args.out else cli._model_paths(args.run)[0].parent
    out.mkdir(parents=True, exist_ok=True)
    names = config.get("class_names")
    num_classes = model.output_shape(input_shape)[0]
    if args.target is not None and not 0 <= args.target < num_classes:
        raise cli.CLIError(f"--target must be a class in [0, {num_classes}), got {args.target}")
    written = [
        plots.plot_filters(model, out / "filters.png"),
        plots.plot_feature_maps(model, image, out / "feature_maps.png"),
        plots.plot_saliency(model, image, out / "saliency.png", args.target, names),
        plots.plot_class_activation(model, image, out / "class_activation.png", args.target, names),
    ]
    if args.misclassified:
        dataset = cli._dataset_key(config.get("dataset", ""))
        _, (X, y) = cli._load_data(dataset, args.data_root)
        X, y = cli._limit(X, y, args.limit)
        written.append(plots.plot_misclassified(model, X, y, out / "misclassified.png", names))
    proba = model.predict_proba(image[None])[0]
    k = int(np.argmax(proba))
    label = names[k] if names and k < len(names) else str(k)
    print(f"{args.image}: predicted {label} ({float(proba[k]):.4f})")
    print(f"Wrote {out}/: " + ", ".join(path.name for path in written))
    return 0


def add_visualize(sub: Any, positive_int: Any) -> None:
    """The ``visualize`` subcommand."""
    visualize = sub.add_parser(
        "visualize",
        help="pictures of what a trained model sees in an image",
        description="Write filters.png, feature_maps.png, saliency.png and "
        "class_activation.png (Grad-CAM) for IMAGE into the run folder (or --out).",
    )
    visualize.add_argument("run", metavar="RUN_DIR", help="run folder or model.npz")
    visualize.add_argument("image", metavar="IMAGE", help="an image file (PNG, JPEG)")
    visualize.add_argument("--out", default=None, help="folder for the PNGs (default: RUN_DIR)")
    visualize.add_argument(
        "--target", type=int, default=None, help="explain this class (default: the predicted one)"
    )
    visualize.add_argument(
        "--invert",
        choices=("auto", "yes", "no"),
        default="auto",
        help="auto: invert dark-on-light pictures for MNIST-style models",
    )
    visualize.add_argument(
        "--input-shape",
        type=positive_int,
        nargs="+",
        default=None,
        metavar="N",
        help="C H W, when there is no config.json",
    )
    visualize.add_argument(
        "--misclassified",
        action="store_true",
        help="also write misclassified.png from the run's test split",
    )
    visualize.add_argument(
        "--limit",
        type=positive_int,
        default=None,
        help="with --misclassified: the first N test samples",
    )
    visualize.add_argument(
        "--data-root", default=None, help="folder with MNIST-format files (mnist, fashion-mnist)"
    )
    visualize.set_defaults(handler=cmd_visualize, threads=None)
