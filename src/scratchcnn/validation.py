"""Checks that layers and functions run at the door, with messages modelled on PyTorch's.

Every helper takes ``owner``: what names who is complaining (a function name, a layer's
repr, or the layer itself, whose repr is then built only when a message is), so a message
always says which layer, what was expected and what came.
Kernels never call these; layers and public functions do.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np


def name_constructor_errors(cls: type) -> None:
    """Make wrong constructor arguments name ``cls``, not the base whose ``__init__`` it uses.

    Python words ``MaxPool2d(2, foo=1)`` as ``_Pool.__init__() got an unexpected keyword
    argument 'foo'`` when MaxPool2d inherits ``__init__``; after this it says
    ``MaxPool2d.__init__() got ...``. Classes that define their own ``__init__`` are left alone.
    Called from ``__init_subclass__`` of the layer, loss and optimizer bases.
    """
    if "__init__" in cls.__dict__:
        return
    inherited = cls.__init__
    signature = inspect.signature(inherited)

    @functools.wraps(inherited)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{cls.__name__}.__init__() {error}") from None
        inherited(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = __init__  # type: ignore[misc]


def to_int_tuple(value: Any, n: int, name: str, owner: str, minimum: int = 1) -> tuple[int, ...]:
    """Normalize an int or a sequence of ``n`` ints to a tuple, each at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be an int or a tuple of {n} ints, but got {value!r}")
    if isinstance(value, (int, np.integer)):
        values = (int(value),) * n
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != n or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
        ):
            raise TypeError(
                f"{owner}: {name} must be an int or a tuple of {n} ints, but got {value!r}"
            )
        values = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{owner}: {name} must be an int or a tuple of {n} ints, but got {value!r}")
    if any(v < minimum for v in values):
        bound = "positive" if minimum == 1 else f"at least {minimum}"
        shown = values[0] if n == 1 or isinstance(value, (int, np.integer)) else values
        raise ValueError(f"{owner}: {name} must be {bound}, but got {name}={shown}")
    return values


def check_positive_int(value: Any, name: str, owner: str) -> int:
    """Return ``value`` as an int after checking it is a positive integer."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: {name} must be a positive int, but got {value!r}")
    if value <= 0:
        raise ValueError(f"{owner}: {name} must be positive, but got {name}={value}")
    return int(value)


def check_probability(value: Any, name: str, owner: str) -> float:
    """Return ``value`` as a float in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{owner}: {name} must be a number in [0, 1], but got {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(
            f"{owner}: {name} has to be between 0 and 1, but got {name}={value}"
        )
    return float(value)


def as_float_array(X: Any, owner: object, name: str = "input") -> np.ndarray:
    """Return ``X`` as a floating ndarray without copying when it already is one.

    Floating arrays keep their dtype (float16 is widened to float32); integers and bools
    become float64, NumPy's default float. Anything else is a ``TypeError``.
    """
    if isinstance(X, np.ndarray):
        array = X
    else:
        try:
            array = np.asarray(X)
        except (ValueError, TypeError) as error:
            raise TypeError(
                f"{owner}: expected {name} to be an array of numbers, but got {type(X).__name__}"
            ) from error
    kind = array.dtype.kind
    if kind == "f":
        return array.astype(np.float32) if array.dtype == np.float16 else array
    if kind in "iub":
        return array.astype(np.float64)
    raise TypeError(
        f"{owner}: expected {name} to be an array of numbers, but got an array of dtype "
        f"{array.dtype}"
    )


def check_ndim(X: np.ndarray, allowed: Sequence[int], owner: object, what: str) -> None:
    """Raise unless ``X.ndim`` is one of ``allowed``.

    ``what`` describes the allowed ranks, e.g. ``"3D (unbatched) or 4D (batched)"``.
    """
    if X.ndim not in allowed:
        raise ValueError(
            f"{owner}: expected {what} input, but got input of shape {tuple(X.shape)}"
        )


def check_grad_shape(dA: np.ndarray, expected: tuple[int, ...], owner: object) -> None:
    """Raise unless the incoming gradient has the shape of the forward output."""
    if tuple(dA.shape) != tuple(expected):
        raise ValueError(
            f"{owner}: backward expected a gradient dA of shape {tuple(expected)} "
            f"(the shape of the forward output), but got {tuple(dA.shape)}"
        )


def check_finite(X: np.ndarray, owner: str, name: str = "input") -> None:
    """Raise if ``X`` holds NaN or infinity."""
    if not np.all(np.isfinite(X)):
        bad = "NaN" if np.isnan(X).any() else "infinity"
        raise ValueError(f"{owner}: {name} contains {bad}; expected finite values")


def check_initializer(initializer: Any, owner: str, uses_bias: bool = True) -> Any:
    """Return ``initializer`` after checking it is None or has callable ``W`` (and ``B``)."""
    needed = ("W", "B") if uses_bias else ("W",)
    if isinstance(initializer, type):
        raise TypeError(
            f"{owner}: initializer must be an initializer object, but got the class "
            f"{initializer.__name__}; pass an instance such as {initializer.__name__}()"
        )
    if initializer is not None and not all(
        callable(getattr(initializer, name, None)) for name in needed
    ):
        methods = " and ".join(f"{name}()" for name in needed)
        raise TypeError(
            f"{owner}: initializer must be None or an object with {methods} methods (such as "
            f"scratchcnn.initializers.HeInitializer()), but got {initializer!r}"
        )
    return initializer
