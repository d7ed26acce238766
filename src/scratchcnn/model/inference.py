"""Inference: ``predict``, ``predict_proba``, ``evaluate``, one batch at a time in eval mode.

Only one batch of activations is alive at a time. X is an array, a memory map (read one
batch at a time, checked per batch) or an iterable of batches; a transform's non-random part
(``Normalize``) runs on each batch. ``InferenceMixin`` needs the container's ``forward``,
``loss``, ``dtype``, train/eval modes, input checks and ``_shape_error``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from scratchcnn import losses as _losses
from scratchcnn.grad_mode import no_grad
from scratchcnn.kernels.finite import all_finite
from scratchcnn.kernels.row_softmax import softmax_rows
from scratchcnn.model.data import BatchSource, gather, input_batches, is_batch_source, is_memmap
from scratchcnn.model.training import n_correct
from scratchcnn.transforms import deterministic_part
from scratchcnn.validation import check_positive_int


class InferenceMixin:
    """Batch-by-batch inference for a container of layers (see the module docstring)."""

    def _batch(self, X: np.ndarray, index: slice | np.ndarray) -> np.ndarray:
        batch = gather(X, index)
        if batch.dtype.kind == "f" and is_memmap(X) and not all_finite(batch):
            bad = "NaN" if np.isnan(batch).any() else "infinity"
            raise ValueError(
                f"Sequential: the memory-mapped X contains {bad} (in the batch of rows "
                f"{_rows(index)}); expected finite values"
            )
        return batch.astype(self.dtype, copy=False)

    def _input_batches(
        self, X: Any, batch_size: int, owner: str, transform: Any
    ) -> tuple[Iterator[np.ndarray], int | None]:
        """Eval batches of X (an array, a memory map or an iterable): the iterator and N.

        The samples' shape is not traced through the layers here: ``_inference`` does that
        only when a forward pass fails, for the model-level message (a 40 us trace saved on
        each call of a 2 ms MNIST-1D batch).
        """
        part = deterministic_part(transform)

        def prepared(batch: np.ndarray) -> np.ndarray:
            return batch if part is None else np.asarray(part(batch, None), dtype=self.dtype)

        if _is_inference_source(X):

            def checked() -> Iterator[np.ndarray]:
                for i, batch in enumerate(input_batches(X, owner)):
                    batch, _ = self._check_X(batch, f"{owner} (batch {i})", trace=False)
                    yield prepared(batch.astype(self.dtype, copy=False))

            return checked(), None
        X, _ = self._check_X(X, owner, trace=False)

        def sliced() -> Iterator[np.ndarray]:
            for lo in range(0, X.shape[0], batch_size):
                yield prepared(self._batch(X, slice(lo, min(lo + batch_size, X.shape[0]))))

        return sliced(), X.shape[0]

    # -- inference ---------------------------------------------------------------------------
    def _outputs_to_proba(self, outputs: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities for cross-entropy models (into ``out`` when given), else the
        outputs themselves."""
        if isinstance(self.loss, _losses.SoftmaxCrossEntropy) and outputs.ndim == 2:
            return softmax_rows(outputs, out)
        if out is not None:
            out[...] = outputs
        return outputs

    def _inference(
        self,
        batches: Iterable[np.ndarray],
        each: Callable[[slice, np.ndarray], None],
        owner: str = "Sequential",
    ) -> None:
        """Run eval-mode forward passes under ``no_grad`` batch by batch, giving each output
        (and its rows' slice) to ``each``. A forward pass that fails on the batch's shape
        raises the model-level message: which layer the samples do not fit."""
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                lo = 0
                for batch in batches:
                    try:
                        outputs = self.forward(batch)
                    except (ValueError, TypeError) as error:
                        shape_error = self._shape_error(batch.shape[1:], owner)
                        if shape_error is None:
                            raise
                        raise shape_error from error
                    each(slice(lo, lo + outputs.shape[0]), outputs)
                    lo += outputs.shape[0]
        finally:
            self._clear_caches()
            self.train(was_training)

    def predict_proba(
        self, X: Any, batch_size: int = 256, transform: Any = None
    ) -> np.ndarray:
        """Class probabilities (N, K): the softmax of the outputs for cross-entropy models.

        For other losses the raw outputs. Runs in eval mode, ``batch_size`` samples at a time.
        X may be a memory map (read per batch) or an iterable of X batches (or of (X, y)
        tuples). ``transform``'s non-random part (``Normalize``) runs on each batch.
        """
        owner = "Sequential.predict_proba"
        batch_size = check_positive_int(batch_size, "batch_size", owner)
        batches, n = self._input_batches(X, batch_size, owner, transform)
        if n is None:
            parts: list[np.ndarray] = []

            def keep_proba(_: slice, outputs: np.ndarray) -> None:
                parts.append(self._outputs_to_proba(outputs))

            self._inference(batches, keep_proba, owner)
            return _joined(parts, owner)
        results: list[np.ndarray] = []  # (N, *output_shape), made at the first batch

        def store(index: slice, outputs: np.ndarray) -> None:
            if not results:
                results.append(np.empty((n, *outputs.shape[1:]), dtype=self.dtype))
            self._outputs_to_proba(outputs, out=results[0][index])

        self._inference(batches, store, owner)
        return results[0]

    def predict(self, X: Any, batch_size: int = 256, transform: Any = None) -> np.ndarray:
        """Predicted class labels (N,): the argmax of the outputs (X as for predict_proba)."""
        owner = "Sequential.predict"
        batch_size = check_positive_int(batch_size, "batch_size", owner)
        batches, n = self._input_batches(X, batch_size, owner, transform)

        def check(shape: tuple[int, ...]) -> None:
            if len(shape) != 1 or shape[0] < 2:
                raise ValueError(
                    f"{owner}: class labels need outputs of shape (N, K) with K >= 2, but this "
                    f"model's outputs have shape (N, {', '.join(map(str, shape))}); use "
                    "predict_proba for the raw outputs"
                )

        if n is None:
            parts: list[np.ndarray] = []

            def keep(_: slice, outputs: np.ndarray) -> None:
                check(outputs.shape[1:])
                parts.append(outputs.argmax(axis=1))

            self._inference(batches, keep, owner)
            return _joined(parts, owner).astype(np.int64, copy=False)
        labels = np.empty(n, dtype=np.int64)

        def store(index: slice, outputs: np.ndarray) -> None:
            if index.start == 0:
                check(outputs.shape[1:])
            labels[index] = outputs.argmax(axis=1)

        self._inference(batches, store, owner)
        return labels

    def evaluate(
        self,
        X: Any,
        y: Any,
        batch_size: int = 256,
        transform: Any = None,
        distributed: Any = None,
    ) -> tuple[float, float | None]:
        """``(mean loss, accuracy)`` over X and y in eval mode (accuracy None if undefined).

        X may be a memory map, or (with ``y=None``) an iterable of (X, y) batches.
        ``transform``'s non-random part runs on each batch. A model whose outputs are NaN or
        infinite for some samples (weights ruined by a diverging run) gets a loss of NaN or
        infinity and those samples count as wrong. ``distributed=True`` (under ``mpirun``):
        each rank evaluates its block of X and the sums are reduced, so every rank returns the
        result over all of X (arrays only, no transform).
        """
        owner = "Sequential.evaluate"
        batch_size = check_positive_int(batch_size, "batch_size", owner)
        if is_batch_source(X, y):
            return self._evaluate_checked(BatchSource(X, owner), None, batch_size, transform)
        X, out_shape = self._check_X(X, owner)
        y = self._check_y(y, X.shape[0], out_shape, owner)
        if distributed is not None and distributed is not False:
            if transform is not None:
                raise ValueError(f"{owner}: distributed=True takes no transform yet")
            from scratchcnn.distributed import as_data_parallel

            return as_data_parallel(distributed).evaluate(self, X, y, batch_size)
        return self._evaluate_checked(X, y, batch_size, transform)

    def _evaluate_checked(
        self, X: Any, y: np.ndarray | None, batch_size: int, transform: Any = None
    ) -> tuple[float, float | None]:
        """Loss and accuracy over checked arrays, or over a ``BatchSource`` (y None)."""
        totals: dict[str, Any] = {"loss": 0.0, "correct": 0, "nan": False, "infinite": False}
        labels: list[np.ndarray] = []
        part = deterministic_part(transform)

        def prepared(batch: np.ndarray) -> np.ndarray:
            return batch if part is None else np.asarray(part(batch, None), dtype=self.dtype)

        if isinstance(X, BatchSource):

            def batches() -> Iterator[np.ndarray]:
                for i, (Xb, yb) in enumerate(X):
                    where = f"{X.owner} (batch {i})"
                    Xb, out_shape = self._check_X(Xb, where)
                    labels.append(self._check_y(yb, Xb.shape[0], out_shape, where))
                    yield prepared(Xb.astype(self.dtype, copy=False))

            source: Iterable[np.ndarray] = batches()
        else:
            source = (
                prepared(self._batch(X, slice(lo, min(lo + batch_size, X.shape[0]))))
                for lo in range(0, X.shape[0], batch_size)
            )

        def accumulate(index: slice, outputs: np.ndarray) -> None:
            yb = labels[-1] if y is None else y[index]
            if not all_finite(outputs):
                finite = np.isfinite(outputs).reshape(outputs.shape[0], -1).all(axis=1)
                totals["nan"] = totals["nan"] or bool(np.isnan(outputs).any())
                totals["infinite"] = True
                outputs, yb = outputs[finite], yb[finite]  # the others count as wrong
            if outputs.shape[0]:
                totals["loss"] += _losses.batch_total(
                    self.loss, self.loss.forward(outputs, yb), outputs.shape[0]
                )
            c = n_correct(outputs, yb)
            totals["correct"] = (
                None if c is None or totals["correct"] is None else (totals["correct"] + c)
            )
            totals["n"] = index.stop

        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self._inference(source, accumulate)
        n = totals["n"]
        correct = totals["correct"]
        if totals["nan"]:
            loss = math.nan
        elif totals["infinite"]:
            loss = math.inf
        else:
            loss = totals["loss"] / n
        return loss, None if correct is None else correct / n

def _is_inference_source(X: Any) -> bool:
    """An iterable of batches for predict: not an array, list or tuple (those are samples)."""
    return not isinstance(X, (np.ndarray, list, tuple)) and (
        callable(X) or isinstance(X, Iterable)
    )


def _joined(parts: list[np.ndarray], owner: str) -> np.ndarray:
    if not parts:
        raise ValueError(f"{owner}: the iterable of batches yielded no batch")
    return np.concatenate(parts, axis=0)


def _rows(index: slice | np.ndarray) -> str:
    if isinstance(index, slice):
        return f"{index.start}..{index.stop - 1}"
    bad = np.sort(index)
    return ", ".join(map(str, bad[:5])) + (", ..." if len(bad) > 5 else "")
