"""The base class every layer derives from: the contract optimizers, models and tests rely on."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from scratchcnn.validation import name_constructor_errors

LAYER_REGISTRY: dict[str, type[Layer]] = {}


def _register(cls: type[Layer]) -> None:
    """Add ``cls`` to ``LAYER_REGISTRY`` under its name, refusing to replace another class.

    ``load()`` builds layers by name from the registry, so a second class under a taken name
    (``class ReLU(Layer)`` in user code) would silently change what every saved model means.
    The same class defined again (a module reloaded, a notebook cell run twice) replaces it.
    """
    name = cls.__name__
    known = LAYER_REGISTRY.get(name)
    if known is not None and (known.__module__, known.__qualname__) != (
        cls.__module__,
        cls.__qualname__,
    ):
        raise TypeError(
            f"Layer subclass {cls.__module__}.{cls.__qualname__}: the name {name!r} is taken by "
            f"{known.__module__}.{known.__qualname__} in LAYER_REGISTRY, which load() uses to "
            "rebuild saved models; give the class another name"
        )
    LAYER_REGISTRY[name] = cls


# The flags a model (or a block, for its inner layers) sets on a layer while it runs it.
FLAG_NAMES = ("compute_input_grad", "reuse_output", "overwrite_dA", "grad_in_output_buffer")


class Layer:
    """A stateful layer: ``forward(X) -> A`` caches what ``backward(dA) -> dX`` needs.

    Parameters are the attributes named in ``param_names`` (e.g. ``W``, ``b``); after
    ``backward`` their gradients sit in ``d`` + name (``dW``, ``db``), each the gradient of
    ``sum(A * dA)``, summed over the batch like PyTorch. ``params()`` and ``grads()`` share
    keys and are the only way optimizers, summaries, save/load and gradient checks reach
    parameters. Optimizers update parameters in place, so the arrays keep their identity.

    A layer built with an ``optimizer`` applies it at the end of ``backward`` (the notebooks'
    style); without one it only stores gradients for a model or caller to apply.

    Parameters follow the input's floating dtype: float32 input keeps float32 parameters,
    float64 input converts them to float64 on first use (as ``module.double()`` would).

    ``trainable = False`` freezes a layer (``requires_grad_(False)`` on its parameters):
    ``backward`` still returns dX but computes no parameter gradients (they read None) and
    optimizers leave its parameters alone. A saved model keeps the flag.
    """

    param_names: ClassVar[tuple[str, ...]] = ()
    buffer_names: ClassVar[tuple[str, ...]] = ()
    _trainable: bool = True  # a class default, so layers pickled before the flag existed load
    # Set by a model for a pass (training or inference) when the next layer is an in-place
    # ReLU that this layer applies in its own last pass over the output
    # (``can_rectify_output``); that ReLU then gets ``input_rectified`` and passes its input
    # through.
    rectify_output: bool = False
    # Whether forward's result is memory of the layer's own (a new array or its output
    # buffer) that it never reads again: whoever consumes it may write over it (Residual
    # adds its shortcut into the body's last output).
    owns_output: ClassVar[bool] = False
    grad_in_output_buffer: bool = False  # a class default for layers pickled before the flag

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):  # private bases (_ConvNd) are not buildable
            _register(cls)
            name_constructor_errors(cls)

    def __init__(self, optimizer: Any = None) -> None:
        self.optimizer = optimizer
        self.training = True
        # A model sets this False on its first layer: nobody needs the gradient of the data,
        # and skipping it saves a col2im. backward then returns None.
        self.compute_input_grad = True
        # A model sets this True on every layer but its last: the output is consumed before
        # the next forward, so a layer may write it into a buffer it reuses (convolutions do).
        self.reuse_output = False
        # Likewise set by a model: the dA handed to backward is a temporary that nobody reads
        # again, so a layer may compute dX in place over it (ReLU does).
        self.overwrite_dA = False
        # Set by a model with reuse_output where the layer's dX is consumed before its next
        # forward: its output buffer is dead once its backward runs (the layers that read the
        # output ran backward first), so dX may go there (BatchNorm, Winograd convolutions).
        self.grad_in_output_buffer = False
        self._cache: Any = None
        for name in self.param_names:
            setattr(self, "d" + name, None)

    # -- the computation -------------------------------------------------------------------
    def forward(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dA: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.forward(X)

    def _output_buffer_for_grad(
        self, shape: tuple[int, ...], dtype: np.dtype, dA: np.ndarray
    ) -> np.ndarray | None:
        """The training output buffer (workspace ``"output"``) as an array of ``shape`` to hold
        dX, when ``grad_in_output_buffer`` allows it and it fits; else None."""
        if not self.grad_in_output_buffer:
            return None
        buffer = getattr(self, "_workspace", {}).get("output")
        if (
            buffer is None
            or buffer.size != math.prod(shape)
            or buffer.dtype != dtype
            or not buffer.flags.c_contiguous
            or np.may_share_memory(buffer, dA)
        ):
            return None
        return buffer.reshape(shape)

    def can_rectify_output(self) -> bool:
        """Whether forward can apply max(output, 0) itself when ``rectify_output`` is set."""
        return False

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one sample's output from one sample's input shape (no batch axis)."""
        return tuple(input_shape)

    # -- parameters ------------------------------------------------------------------------
    def params(self) -> dict[str, np.ndarray]:
        """Trainable parameters by name, e.g. ``{"W": W, "b": b}``."""
        return {name: getattr(self, name) for name in self.param_names}

    def grads(self) -> dict[str, np.ndarray | None]:
        """Gradients with the same keys as ``params()``; None before the first backward."""
        return {name: getattr(self, "d" + name) for name in self.param_names}

    def buffers(self) -> dict[str, np.ndarray]:
        """Non-trainable state that is saved with the model (e.g. BatchNorm running stats)."""
        return {name: getattr(self, name) for name in self.buffer_names}

    def _get_array(self, name: str) -> Any:
        """The parameter or buffer ``name`` (as named in ``params()``/``buffers()``)."""
        return getattr(self, name)

    def _set_array(self, name: str, value: Any) -> None:
        """Rebind the parameter or buffer ``name`` (a model being loaded); containers route
        nested names such as ``"body.0.W"`` to their inner layers."""
        setattr(self, name, value)

    def num_params(self) -> int:
        return int(sum(p.size for p in self.params().values()))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments as JSON-able values, so a model can be rebuilt from a file."""
        return {}

    # -- pickling and copies ---------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """Pickle and deepcopy without the forward cache or scratch buffers (``_workspace``).

        They are large, belong to one forward pass, and would come back read-only when joblib
        memory-maps a pickled model.
        """
        state = self.__dict__.copy()
        state["_cache"] = None
        if "_workspace" in state:
            state["_workspace"] = {}
        return state

    # -- modes -----------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Layer:
        self.training = bool(mode)
        return self

    def eval(self) -> Layer:
        return self.train(False)

    # -- helpers for subclasses ------------------------------------------------------------
    def _cached(self) -> Any:
        """The forward cache, or a clear error when backward comes before forward."""
        if self._cache is None:
            raise ValueError(
                f"{self!r}: backward() called before forward() (a forward pass inside "
                "scratchcnn.no_grad() keeps nothing for backward, and a convolution's backward "
                "uses up what its forward kept)"
            )
        return self._cache

    def _clear_cache(self) -> None:
        """Drop what the last forward kept (containers clear their inner layers too)."""
        self._cache = None

    def _adopt_dtype(self, dtype: np.dtype) -> None:
        """Convert parameters and buffers to ``dtype`` when the input's dtype differs."""
        for name in (*self.param_names, *self.buffer_names):
            value = getattr(self, name)
            if isinstance(value, np.ndarray) and value.dtype != dtype:
                setattr(self, name, value.astype(dtype))

    @property
    def trainable(self) -> bool:
        """False freezes the parameters: no gradients computed, no optimizer updates."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{self!r}: trainable must be True or False, but got {value!r}")
        self._trainable = bool(value)
        if not value:
            self._wants_param_grads()  # drop gradients of an earlier backward

    def _wants_param_grads(self) -> bool:
        """Whether backward should compute parameter gradients; clears stale ones when not."""
        if self.trainable:
            return True
        for name in self.param_names:
            setattr(self, "d" + name, None)
        return False

    def _apply_optimizer(self) -> None:
        if self.optimizer is not None:
            self.optimizer.update(self)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"
