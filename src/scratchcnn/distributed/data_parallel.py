"""Synchronous data-parallel training: what ``fit(..., distributed=...)`` does on each rank.

Every rank holds the whole model and the whole dataset and draws the same shuffle. Each
global batch of ``batch_size`` samples is split into contiguous blocks (``sharding.py``); a
rank runs forward and backward on its block, then ONE ``Allreduce`` over one flat buffer sums

* every gradient times the rank's sample count n_r (so the sum over ranks divided by the
  global count N is the gradient of the mean loss over the global batch, whatever the split),
* every buffer (BatchNorm running statistics) times n_r, averaged the same way,
* the step's loss sum, correct count, sample count and two flags (a non-finite loss on some
  rank, a Ctrl+C / SIGTERM on some rank),

and every rank then applies the same update. Ranks therefore never diverge and agree on
every decision (stop on NaN, stop on interrupt) at the same step.

BatchNorm uses per-rank batch statistics, as PyTorch's DistributedDataParallel does by
default: each rank normalizes its own block; running statistics are the n_r-weighted average
of the ranks' updated running statistics. ``reference_step`` in the tests states the
single-process equivalent exactly.
"""

from __future__ import annotations

import signal
import sys
import traceback
from typing import Any

import numpy as np

from scratchcnn.distributed.communicator import Communicator, world
from scratchcnn.distributed.flat import FlatLayout
from scratchcnn.distributed.sharding import shard_bounds, shard_index

# the scalar slots after the gradients and buffers in the step buffer
_LOSS, _CORRECT, _COUNT, _NONFINITE, _BAD_OUTPUTS, _SIGINT, _SIGTERM, _NO_ACCURACY = range(8)
_EXTRA = 8


def as_data_parallel(distributed: Any) -> DataParallel | None:
    """``fit``'s ``distributed=`` argument as a DataParallel, or None for one process.

    None/False: one process. True: every process of the job (``MPI.COMM_WORLD``). A
    :class:`Communicator`, an mpi4py communicator, or a :class:`DataParallel` also work.
    """
    if distributed is None or distributed is False:
        return None
    if distributed is True:
        return DataParallel(world())
    if isinstance(distributed, DataParallel):
        return distributed
    if isinstance(distributed, Communicator):
        return DataParallel(distributed)
    if callable(getattr(distributed, "Allreduce", None)):
        return DataParallel(Communicator(distributed))
    raise TypeError(
        "distributed must be None, True, a scratchcnn.distributed.Communicator or an mpi4py "
        f"communicator, but got {type(distributed).__name__}"
    )


class DataParallel:
    """Collectives that keep one model identical on every rank of ``comm``.

    Making one with more than one rank installs :func:`abort_on_uncaught_exception`, so a rank
    that raises ends the whole job instead of leaving the others waiting.
    """

    def __init__(self, comm: Communicator) -> None:
        self.comm = comm
        self.rank, self.size = comm.rank, comm.size
        self._step_layout: FlatLayout | None = None
        self._step_buffer: np.ndarray | None = None
        if self.size > 1:
            abort_on_uncaught_exception(comm)

    def __repr__(self) -> str:
        return f"DataParallel(rank={self.rank}, size={self.size})"

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    # -- start of fit ------------------------------------------------------------------------
    def broadcast_model(self, model: Any) -> None:
        """Rank 0's parameters, buffers, optimizer and training state on every rank.

        Arrays are overwritten in place; the training state (history, shuffle seed, layers'
        own generators: ``model/resume.py``) makes a resumed run continue alike everywhere.
        """
        arrays = _state_arrays(model)
        shapes = [a.shape for a in arrays]
        root_shapes = self.comm.broadcast_object(shapes)
        mismatch = np.array([0.0 if root_shapes == shapes else 1.0])
        if self.comm.allreduce_sum_(mismatch)[0] > 0:
            raise ValueError(
                "DataParallel.broadcast_model: the ranks hold models of different shapes "
                f"(rank 0: {len(root_shapes)} arrays, rank {self.rank}: {len(shapes)}); build "
                "the same architecture on every rank"
            )
        layout = FlatLayout(shapes)
        buffer = layout.new_buffer(model.dtype)
        if self.is_root:
            layout.pack(buffer, arrays)
        self.comm.broadcast_(buffer)
        if not self.is_root:
            for target, value in zip(arrays, layout.unpack(buffer), strict=True):
                target[...] = value
        optimizer = model.optimizer
        if callable(getattr(optimizer, "state_dict", None)):
            state = self.comm.broadcast_object(
                optimizer.state_dict(model.layers) if self.is_root else None
            )
            if not self.is_root:
                optimizer.load_state_dict(model.layers, state)
        if hasattr(model, "history"):
            from scratchcnn.model.resume import restore_training_state, training_state

            state = self.comm.broadcast_object(training_state(model) if self.is_root else None)
            if not self.is_root:
                restore_training_state(model, state, "DataParallel.broadcast_model")

    def broadcast_object(self, obj: Any) -> Any:
        return self.comm.broadcast_object(obj)

    def check_batches(self, batch_size: int, n_samples: int, owner: str) -> None:
        """Every rank needs samples in the first batch; the same error on every rank if not."""
        if batch_size < self.size or n_samples < self.size:
            raise ValueError(
                f"{owner}: distributed training over {self.size} ranks needs batch_size and "
                f"the number of samples to be at least {self.size}, but got "
                f"batch_size={batch_size} and {n_samples} samples"
            )

    # -- one step ------------------------------------------------------------------------------
    def shard(self, index: slice | np.ndarray) -> slice | np.ndarray:
        """This rank's block of a global batch ``index``."""
        return shard_index(index, self.size, self.rank)

    def step(self, model: Any, Xb: np.ndarray, yb: np.ndarray, guard: Any) -> tuple[float, Any]:
        """Local forward/backward on this rank's block, then the one Allreduce.

        Leaves the global mean gradients in every layer's ``d<name>`` and the averaged
        buffers in place; returns the global ``(mean loss, correct count or None)``. Raises
        the model's non-finite error on every rank when the loss is NaN/infinite on any.
        """
        from scratchcnn.model.training import NonFiniteError, NonFiniteOutputsError

        trainable = _trainable_params(model)
        buffers = _buffers(model)
        layout, buffer = self._buffers_for(model, trainable, buffers)
        n_local = int(Xb.shape[0])
        loss, correct, reason, bad_outputs = 0.0, None, None, False
        if n_local:
            try:
                loss, correct = model._local_gradients(Xb, yb)
            except NonFiniteError as error:
                reason, bad_outputs = str(error), isinstance(error, NonFiniteOutputsError)
        ok = n_local > 0 and reason is None
        scale = n_local if ok else 0
        layout.pack(
            buffer,
            [*(layer.grads()[name] for layer, name in trainable), *(b for _, _, b in buffers)],
            scale=scale,
        )
        extras = layout.extras(buffer)
        extras[_LOSS] = loss * n_local if ok else 0.0
        extras[_CORRECT] = (correct or 0) if ok else 0
        extras[_COUNT] = n_local
        extras[_NONFINITE] = 1.0 if reason is not None else 0.0
        extras[_BAD_OUTPUTS] = 1.0 if bad_outputs else 0.0
        pending = getattr(guard, "pending", None)
        extras[_SIGINT] = 1.0 if pending == signal.SIGINT else 0.0
        extras[_SIGTERM] = 1.0 if pending == getattr(signal, "SIGTERM", None) else 0.0
        extras[_NO_ACCURACY] = 1.0 if ok and correct is None else 0.0
        self.comm.allreduce_sum_(buffer)
        if hasattr(guard, "agree"):  # SIGTERM on any rank wins over Ctrl+C
            guard.agree(
                signal.SIGTERM
                if extras[_SIGTERM] > 0
                else signal.SIGINT
                if extras[_SIGINT]
                else None
            )
        if extras[_NONFINITE] > 0:
            where = f"on rank {self.rank}: {reason}" if reason else "on another rank"
            kind = NonFiniteOutputsError if extras[_BAD_OUTPUTS] > 0 else NonFiniteError
            raise kind(
                f"the model's outputs or loss became NaN or infinite on "
                f"{int(extras[_NONFINITE])} of {self.size} ranks ({where})"
            )
        n_total = float(extras[_COUNT])
        values = layout.unpack(buffer, scale=1.0 / n_total)
        for (layer, name), value in zip(trainable, values, strict=False):
            grad = layer.grads()[name]
            if grad is None:  # a plain layer that has not run backward on this rank yet
                setattr(layer, "d" + name, value)
            else:  # in place: blocks (Residual) hand out their inner layers' arrays
                grad[...] = value
        for (_, _, target), value in zip(buffers, values[len(trainable) :], strict=True):
            target[...] = value
        no_accuracy = extras[_NO_ACCURACY] > 0
        return float(extras[_LOSS]) / n_total, None if no_accuracy else int(extras[_CORRECT])

    def _buffers_for(
        self, model: Any, trainable: list[tuple[Any, str]], buffers: list[tuple[Any, str, Any]]
    ) -> tuple[FlatLayout, np.ndarray]:
        shapes = [
            *(layer.params()[name].shape for layer, name in trainable),
            *(b.shape for _, _, b in buffers),
        ]
        layout = self._step_layout
        if (
            layout is None
            or layout.shapes != [tuple(s) for s in shapes]
            or self._step_buffer is None
            or self._step_buffer.dtype != model.dtype
        ):
            layout = self._step_layout = FlatLayout(shapes, extra=_EXTRA)
            self._step_buffer = layout.new_buffer(model.dtype)
        return layout, self._step_buffer

    # -- evaluation ----------------------------------------------------------------------------
    def evaluate(
        self, model: Any, X: np.ndarray, y: np.ndarray, batch_size: int
    ) -> tuple[float, float | None]:
        """``model._evaluate_checked`` over this rank's block of (X, y), summed over ranks."""
        lo, hi = shard_bounds(X.shape[0], self.size, self.rank)
        totals = np.zeros(4)  # loss sum, correct, count, "accuracy undefined" flag
        if hi > lo:
            loss, accuracy = model._evaluate_checked(X[lo:hi], y[lo:hi], batch_size)
            totals[:] = loss * (hi - lo), (accuracy or 0.0) * (hi - lo), hi - lo, accuracy is None
        self.comm.allreduce_sum_(totals)
        n = totals[2]
        accuracy = None if totals[3] > 0 else float(round(totals[1]) / n)
        return float(totals[0] / n), accuracy

    def interrupt_guard(self) -> Any:
        from scratchcnn.distributed.interrupts import AgreedInterruptGuard

        return AgreedInterruptGuard()


def _trainable_params(model: Any) -> list[tuple[Any, str]]:
    return [
        (layer, name)
        for layer in model.layers[model._first_trainable :]
        for name in layer.param_names
    ]


def _buffers(model: Any) -> list[tuple[Any, str, np.ndarray]]:
    return [(layer, name, b) for layer in model.layers for name, b in layer.buffers().items()]


def _state_arrays(model: Any) -> list[np.ndarray]:
    return [
        a for layer in model.layers for a in (*layer.params().values(), *layer.buffers().values())
    ]


# -- faults ------------------------------------------------------------------------------------
_installed_for: Communicator | None = None


def abort_on_uncaught_exception(comm: Communicator) -> None:
    """Make an uncaught exception on this rank print its rank and end the whole job.

    Without it the other ranks would wait forever in their next collective. Chains to the
    previous ``sys.excepthook`` for the traceback, then calls ``MPI_Abort``.
    """
    global _installed_for
    if _installed_for is not None:
        return
    _installed_for = comm
    previous = sys.excepthook

    def hook(kind: type[BaseException], error: BaseException, tb: Any) -> None:
        report_failure(comm, error, tb, previous)
        comm.abort(1)

    sys.excepthook = hook


def report_failure(
    comm: Communicator, error: BaseException, tb: Any = None, hook: Any = None
) -> None:
    """Print ``rank R of K failed: ...`` and the traceback to stderr, flushed."""
    sys.stderr.write(
        f"scratchcnn.distributed: rank {comm.rank} of {comm.size} failed "
        f"({type(error).__name__}: {error}); ending the job\n"
    )
    if hook is not None and hook is not sys.__excepthook__:
        hook(type(error), error, tb)
    else:
        traceback.print_exception(type(error), error, tb, file=sys.stderr)
    sys.stderr.flush()
