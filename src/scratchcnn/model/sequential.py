"""``Sequential``: a list of layers with a loss and an optimizer; fit, predict, evaluate, save.

Inference runs batch by batch in eval mode, so only one batch of activations is alive at a
time. Training comes from ``TrainingMixin`` (training.py); ``save`` writes the archive of
archive.py, which ``load`` (loading.py) reads back.
"""

from __future__ import annotations

import operator
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scratchcnn import losses as _losses
from scratchcnn import optimizers as _optimizers
from scratchcnn.grad_mode import is_grad_enabled
from scratchcnn.kernels.finite import all_finite
from scratchcnn.layers.activations import ReLU
from scratchcnn.layers.base import FLAG_NAMES, Layer
from scratchcnn.layers.pooling import MaxPool1d, MaxPool2d
from scratchcnn.model import archive
from scratchcnn.model.data import is_memmap
from scratchcnn.model.inference import InferenceMixin
from scratchcnn.model.training import TrainingMixin
from scratchcnn.summary import format_shape, format_summary, layer_names


def _with_inner_layers(layer: Layer) -> list[Layer]:
    """``layer`` and, for a block (Residual, Concat), every layer inside it."""
    inner = getattr(layer, "named_layers", None)
    nested = [] if inner is None else [x for _, sub in inner() for x in _with_inner_layers(sub)]
    return [layer, *nested]


_read_flags = operator.attrgetter(*FLAG_NAMES)  # a layer's flags, as a tuple


class Sequential(InferenceMixin, TrainingMixin):
    """Layers applied in order, trained with ``loss`` and ``optimizer``.

    ``loss`` is a name for ``losses.make_loss`` (``"cross_entropy"``, ``"mse"``) or a loss
    object; ``optimizer`` a name for ``optimizers.make_optimizer`` or an optimizer object,
    which updates every layer (layers must not carry optimizers of their own). ``dtype``
    (float32 or float64) is the dtype of the parameters and of each batch: inputs of shape
    (N, *sample_shape) in any numeric dtype are cast one batch at a time.
    """

    # ReLUs whose gradient the max pool after them applied in the last training forward's
    # backward (``_relu_pool_pairs``); set by every forward pass.
    _relus_before_pools: tuple[int, ...] = ()

    def __init__(
        self,
        layers: Sequence[Layer],
        loss: str | Any = "cross_entropy",
        optimizer: str | Any = "adam",
        dtype: Any = np.float32,
    ) -> None:
        if isinstance(layers, Layer) or not isinstance(layers, Iterable):
            raise TypeError(
                f"Sequential: layers must be a list of layers, but got {type(layers).__name__}"
            )
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential: expected at least one layer, but got an empty list")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential: layer {i} must be a scratchcnn Layer, but got "
                    f"{type(layer).__name__}"
                )
            if layer.optimizer is not None:
                raise ValueError(
                    f"Sequential: layer {i} {layer!r} carries its own optimizer; build layers "
                    "without one and pass the optimizer to Sequential(optimizer=...)"
                )
        every = [inner for layer in layers for inner in _with_inner_layers(layer)]
        if len({id(layer) for layer in every}) != len(every):
            raise ValueError(
                "Sequential: the same layer object appears twice; its parameters would be "
                "updated twice per step (build a new layer instead)"
            )
        try:
            self.dtype = np.dtype(dtype)
        except TypeError as error:
            raise TypeError(
                f"Sequential: dtype must be float32 or float64, got {dtype!r}"
            ) from error
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"Sequential: dtype must be float32 or float64, but got {self.dtype}")

        self.layers: list[Layer] = layers
        self.loss = _losses.make_loss(loss) if isinstance(loss, str) else loss
        self.optimizer = (
            _optimizers.make_optimizer(optimizer) if isinstance(optimizer, str) else optimizer
        )
        for name, obj, needed in (
            ("loss", self.loss, ("forward", "backward")),
            ("optimizer", self.optimizer, ("update",)),
        ):
            if not all(callable(getattr(obj, attr, None)) for attr in needed):
                raise TypeError(
                    f"Sequential: {name} must be a name or an object with "
                    f"{' and '.join(needed)}(), but got {obj!r}"
                )
        if getattr(self.loss, "reduction", "mean") == "none":
            raise ValueError(
                f"Sequential: the loss {self.loss!r} returns one value per sample, but training "
                "and evaluation need one number per batch; use reduction='mean' or 'sum'"
            )
        if type(layers[-1]).__name__ == "Softmax" and isinstance(
            self.loss, _losses.SoftmaxCrossEntropy
        ):
            warnings.warn(
                "Sequential: the last layer is Softmax, but SoftmaxCrossEntropy applies softmax "
                "itself; remove the Softmax layer (predict_proba returns probabilities)",
                UserWarning,
                stacklevel=2,
            )
        for layer in layers:
            layer._adopt_dtype(self.dtype)
        self._init_training()
        self.training = True  # like a fresh torch.nn.Module; fit and predict set their own modes

    # -- plumbing ----------------------------------------------------------------------------
    @property
    def _first_trainable(self) -> int:
        """Where backward stops: the first layer with parameters to train.

        Nothing before it needs a gradient, and it may skip its own input gradient (a col2im
        for a convolution). Read at each pass, so freezing a backbone (``trainable = False``)
        also skips its backward.
        """
        return next(
            (i for i, layer in enumerate(self.layers) if layer.param_names and layer.trainable),
            len(self.layers),
        )

    @property
    def _layer_flags(self) -> list[tuple[bool, ...]]:
        """The values of ``FLAG_NAMES`` per layer, set during passes.

        Every output but the last is consumed by the next layer before the next forward, so
        those layers may reuse their output buffers (the model's output stays fresh). Likewise
        every gradient a layer receives comes from the next layer's backward and is read by
        nobody else, so it may be overwritten; and a layer's output buffer is dead once its
        own backward runs, whose dX the layer before consumes at once, so dX may go there.
        The model sets these flags only while it runs its layers (``forward``,
        ``backward``), so a layer used alone or in another model afterwards behaves as a
        layer of its own.
        """
        first, last = self._first_trainable, len(self.layers) - 1
        return [(i != first, i < last, i < last, i < last) for i in range(len(self.layers))]

    def __repr__(self) -> str:
        lines = [
            f"  ({i}): " + repr(layer).replace("\n", "\n  ") for i, layer in enumerate(self.layers)
        ]
        return "Sequential(\n" + "\n".join(lines) + "\n)"

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def train(self, mode: bool = True) -> Sequential:
        """Training mode for every layer (Dropout drops, BatchNorm uses batch statistics)."""
        self.training = bool(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def eval(self) -> Sequential:
        return self.train(False)

    def params(self) -> dict[str, np.ndarray]:
        """All parameters keyed ``"<layer index>.<name>"``, e.g. ``"0.W"``."""
        return {
            f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params().items()
        }

    def grads(self) -> dict[str, np.ndarray | None]:
        """Gradients with the keys of ``params()``."""
        return {
            f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads().items()
        }

    def buffers(self) -> dict[str, np.ndarray]:
        return {
            f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.buffers().items()
        }

    def num_params(self) -> int:
        return sum(layer.num_params() for layer in self.layers)

    @property
    def layer_flags(self) -> list[dict[str, bool]]:
        """The performance flags the model gives each layer while it runs it (see design.md)."""
        return [dict(zip(FLAG_NAMES, values, strict=True)) for values in self._layer_flags]

    def _set_flags(self, flags: list[tuple[bool, ...]]) -> list[tuple[bool, ...]]:
        """Give the layers ``flags``; returns the flags they had (four calls a training step,
        so only the flags that change are written)."""
        previous = []
        for layer, values in zip(self.layers, flags, strict=True):
            had = _read_flags(layer)
            previous.append(had)
            if had != values:
                for name, value, old in zip(FLAG_NAMES, values, had, strict=True):
                    if value != old:
                        setattr(layer, name, value)
        return previous

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Run every layer in its current mode: (N, *sample_shape) -> (N, *output_shape)."""
        A = np.asarray(X).astype(self.dtype, copy=False)
        previous = self._set_flags(self._layer_flags)
        training = is_grad_enabled()
        fused = self._relu_fusions()
        self._relus_before_pools = tuple(self._relu_pool_pairs()) if training else ()
        self._fuse_relus(fused, True)
        self._mark_pools(self._relus_before_pools, True)
        try:
            for layer in self.layers:
                A = layer.forward(A)
        finally:
            self._mark_pools(self._relus_before_pools, False)
            self._fuse_relus(fused, False)
            self._set_flags(previous)
        return self._detached(A)

    def _relu_pool_pairs(self) -> list[int]:
        """Indices of ReLUs followed by a max pool, whose backward then applies the ReLU's
        gradient in its own pass (training; outputs do not change, only who computes dX)."""
        pairs = zip(self.layers, self.layers[1:], strict=False)
        return [
            i
            for i, (layer, after) in enumerate(pairs)
            if isinstance(layer, ReLU) and isinstance(after, (MaxPool1d, MaxPool2d))
        ]

    def _mark_pools(self, relus: Sequence[int], on: bool) -> None:
        for i in relus:
            self.layers[i + 1].rectified_input = on  # type: ignore[attr-defined]

    def _relu_fusions(self) -> list[int]:
        """Indices of layers followed by an in-place ReLU that they can apply themselves.

        An in-place ReLU writes over the layer's output anyway, so nothing else reads it
        (the layer's backward needs its input, never its output). Not where a layer's
        ``forward`` is replaced on the object (a hook, as ``lab.Diagnostics`` installs to
        see each layer's own output). A layer object never appears twice in a model, so a
        flag holds for one place.
        """
        pairs = zip(self.layers, self.layers[1:], strict=False)
        return [
            i
            for i, (layer, after) in enumerate(pairs)
            if isinstance(after, ReLU)
            and after.inplace
            and layer.can_rectify_output()
            and "forward" not in vars(layer)
            and "forward" not in vars(after)
        ]

    def _fuse_relus(self, indices: list[int], on: bool) -> None:
        """Tell each fused pair its part (``Layer.rectify_output``, ``ReLU.input_rectified``)."""
        for i in indices:
            self.layers[i].rectify_output = on
            self.layers[i + 1].input_rectified = on  # type: ignore[attr-defined]

    def _detached(self, A: np.ndarray) -> np.ndarray:
        """A itself, or a copy when it may be (a view of) a layer's reused buffer.

        Layers reuse output buffers inside a model (``reuse_output``); the model's own output
        must survive the next forward. It normally comes fresh from the last layer; one that
        passes its input through (Flatten, in-place ReLU, Dropout in eval mode) gets copied.
        """
        buffers = [b for layer in self.layers for b in getattr(layer, "_workspace", {}).values()]
        if A.base is not None or any(np.may_share_memory(A, b) for b in buffers):
            return A.copy()
        return A

    __call__ = forward

    def backward(self, dA: np.ndarray) -> np.ndarray | None:
        """Backpropagate the loss gradient, storing every parameter gradient.

        Stops at the first layer with parameters, which skips its input gradient, so the
        return value is None for a model with parameters (nothing needs dX to train).
        """
        previous = self._set_flags(self._layer_flags)
        applied = set(self._relus_before_pools)
        try:
            for i in reversed(range(self._first_trainable, len(self.layers))):
                layer = self.layers[i]
                if i in applied and self.layers[i + 1].applied_relu_grad():  # type: ignore[attr-defined]
                    dA = layer.backward_applied(dA)  # type: ignore[attr-defined]
                else:
                    dA = layer.backward(dA)
        finally:
            self._set_flags(previous)
        return dA if self._first_trainable == 0 else None

    def _clear_caches(self) -> None:
        for layer in self.layers:
            layer._clear_cache()

    def output_shape(
        self, input_shape: Sequence[int], owner: str = "Sequential"
    ) -> tuple[int, ...]:
        """The per-sample output shape for a per-sample input shape (no batch axis)."""
        return self._trace_shapes(input_shape, owner)[-1]

    def _trace_shapes(self, input_shape: Sequence[int], owner: str) -> list[tuple[int, ...]]:
        shape = tuple(int(n) for n in input_shape)
        shapes = []
        for i, layer in enumerate(self.layers):
            try:
                shape = tuple(layer.output_shape(shape))
            except (ValueError, TypeError) as error:
                raise type(error)(
                    f"{owner}: samples of shape {tuple(input_shape)} do not fit layer {i}: {error}"
                ) from error
            shapes.append(shape)
        return shapes

    # -- input checks ------------------------------------------------------------------------
    def _shape_error(self, sample_shape: Sequence[int], owner: str) -> Exception | None:
        """The model-level error for samples of this shape (which layer they do not fit), or
        None when they fit every layer."""
        try:
            self._trace_shapes(sample_shape, owner)
        except (ValueError, TypeError) as error:
            return error
        return None

    def _check_X(
        self, X: Any, owner: str, trace: bool = True
    ) -> tuple[np.ndarray, tuple[int, ...] | None]:
        """``X`` as an array (not cast: that happens per batch) and the model's output shape
        (None with ``trace=False``: the caller checks the shapes on failure instead)."""
        if not isinstance(X, np.ndarray):
            X = np.asarray(X)
        if X.dtype.kind not in "fiub":
            raise TypeError(f"{owner}: X must be an array of numbers, but got dtype {X.dtype}")
        if X.ndim < 2:
            raise ValueError(
                f"{owner}: X must be a batch of shape (N, *sample_shape), but got shape {X.shape}"
            )
        if X.shape[0] == 0:
            raise ValueError(f"{owner}: X is empty (shape {X.shape})")
        out_shape = self.output_shape(X.shape[1:], owner) if trace else None
        # a memory map is checked batch by batch (_batch), not read whole here
        if X.dtype.kind == "f" and not is_memmap(X) and not all_finite(X):
            bad = "NaN" if np.isnan(X).any() else "infinity"
            raise ValueError(f"{owner}: X contains {bad}; expected finite values")
        return X, out_shape

    def _check_y(self, y: Any, n: int, out_shape: tuple[int, ...], owner: str) -> np.ndarray:
        y = y if isinstance(y, np.ndarray) else np.asarray(y)
        if y.dtype.kind not in "fiub":
            raise TypeError(f"{owner}: y must be an array of numbers, but got dtype {y.dtype}")
        if y.ndim == 0 or y.shape[0] != n:
            raise ValueError(
                f"{owner}: X and y must have the same length, but got {n} samples and y of "
                f"shape {y.shape}"
            )
        if y.dtype.kind == "f" and not all_finite(y):
            raise ValueError(f"{owner}: y contains NaN or infinity; expected finite values")
        if y.ndim == 1 and (
            y.dtype.kind == "b" or (y.dtype.kind == "f" and np.array_equal(y, np.round(y)))
        ):
            y = y.astype(np.int64)  # class labels read as floats (e.g. from a CSV) or bools
        if y.ndim == 1 and y.dtype.kind in "iub" and len(out_shape) == 1 and out_shape[0] > 1:
            K = out_shape[0]
            if y.min() < 0 or y.max() >= K:
                bad = y[(y < 0) | (y >= K)][0]
                raise ValueError(
                    f"{owner}: class labels must be in [0, {K}) for a model with {K} outputs, "
                    f"but got {bad}"
                )
        elif y.shape[1:] != out_shape:
            raise ValueError(
                f"{owner}: y must be class labels of shape (N,) or targets of shape "
                f"(N, {', '.join(map(str, out_shape))}) to match the model's output, but got "
                f"shape {y.shape}"
            )
        return y

    # -- summary -----------------------------------------------------------------------------
    def summary(self, input_shape: Sequence[int]) -> str:
        """The Keras-style table for samples of ``input_shape`` (no batch axis), as text.

        Output shapes come from each layer's ``output_shape``; no data runs.
        """
        shapes = self._trace_shapes(input_shape, "Sequential.summary")
        names = layer_names([type(layer).__name__ for layer in self.layers])
        rows = []
        inputs = [tuple(int(n) for n in input_shape), *shapes[:-1]]
        for name, layer, shape, layer_input in zip(names, self.layers, shapes, inputs, strict=True):
            label = f"{name} ({type(layer).__name__})"
            rows.append((label, format_shape(shape), layer.num_params()))
            # blocks (Residual, Concat) list their inner layers below their own row, indented
            for inner in getattr(layer, "summary_rows", lambda _: [])(layer_input):
                rows.append((inner[0], format_shape(inner[1]), inner[2]))
        # frozen layers' parameters count as non-trainable, as in Keras
        trainable = sum(layer.num_params() for layer in self.layers if layer.trainable)
        non_trainable = self.num_params() - trainable
        non_trainable += sum(int(b.size) for b in self.buffers().values())
        return format_summary(rows, trainable, non_trainable)

    def print_summary(self, input_shape: Sequence[int]) -> None:
        """Print ``summary(input_shape)``."""
        print(self.summary(input_shape))

    # -- the learner's lab (scratchcnn/lab) --------------------------------------------------
    def explain(self, input_shape: Sequence[int], show: bool = True) -> Any:
        """Per-layer size formulas, parameter formulas, FLOPs, memory and receptive fields.

        Prints the worked arithmetic (unless ``show=False``) and returns an ``Explanation``
        whose ``records`` list one ``LayerRecord`` per layer; see ``scratchcnn.lab.explain``.
        """
        from scratchcnn.lab.explain import explain

        self._trace_shapes(input_shape, "Sequential.explain")
        result = explain(self.layers, input_shape, self.dtype)
        if show:
            print(result)
        return result

    def estimate(
        self,
        input_shape: Sequence[int],
        batch_size: int = 32,
        n_samples: int = 60_000,
        epochs: int = 1,
        calibrate: bool = True,
    ) -> Any:
        """What training will cost: FLOPs per step, peak memory, seconds per epoch.

        Seconds come from timing three training steps on a copy of the model (``calibrate``);
        the model itself is not changed. Returns an ``Estimate`` (``print`` it for a report);
        see ``scratchcnn.lab.estimate``.
        """
        from scratchcnn.lab.estimate import estimate

        return estimate(self, input_shape, batch_size, n_samples, epochs, calibrate)

    # -- saving ------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The architecture as JSON-able data: layers, loss, optimizer, dtype, format version."""
        return {
            "format": archive.FORMAT_NAME,
            "format_version": archive.FORMAT_VERSION,
            "layers": [archive.layer_spec(layer) for layer in self.layers],
            "loss": archive.loss_name(self.loss),
            "loss_config": self.loss.get_config() if hasattr(self.loss, "get_config") else {},
            "optimizer": {
                "name": archive.optimizer_name(self.optimizer),
                "config": self.optimizer.get_config(),
            },
            "dtype": self.dtype.name,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write weights, buffers, optimizer state and architecture to one ``.npz`` at ``path``.

        The path is used as given. The file is written to a temporary file in the same folder,
        synced and renamed over ``path``, so a crash never leaves a half-written model there.
        """
        archive.atomic_savez(Path(path), archive.model_arrays(self))

    def export_onnx(
        self, path: str | os.PathLike[str], input_shape: Sequence[int] | None = None,
        opset: int | None = None,
    ) -> Path:
        """Write the model as an ONNX file; see ``scratchcnn.interop.export_onnx`` (needs onnx)."""
        from scratchcnn.interop import onnx_export

        opset = onnx_export.DEFAULT_OPSET if opset is None else opset
        return onnx_export.export_onnx(self, path, input_shape, opset=opset)
