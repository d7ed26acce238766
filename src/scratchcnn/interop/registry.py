"""A table of per-layer converter functions: supporting a new layer is one registered function.

Each converter direction (our layer -> torch module, torch module -> our layer, our layer ->
ONNX nodes, our layer -> torch state-dict names) keeps one ``Registry``. Lookups are by exact
class: a subclass may compute something else, so it needs its own converter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Registry:
    """Converter functions keyed by a class (our layers) or a class name (torch modules)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._functions: dict[Any, Callable[..., Any]] = {}

    def register(self, *keys: Any) -> Callable[[F], F]:
        """Decorator: ``@registry.register(Conv1d, Conv2d)`` on the converter function."""

        def decorate(function: F) -> F:
            for key in keys:
                self._functions[key] = function
            return function

        return decorate

    def get(self, key: Any) -> Callable[..., Any] | None:
        return self._functions.get(key)

    def __contains__(self, key: Any) -> bool:
        return key in self._functions

    def keys(self) -> list[Any]:
        return list(self._functions)

    def names(self) -> str:
        """The supported class names, sorted and comma-separated, for error messages."""
        return ", ".join(sorted(k if isinstance(k, str) else k.__name__ for k in self._functions))
