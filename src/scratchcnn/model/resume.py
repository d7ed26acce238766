"""What a checkpoint needs beyond the weights so that a resumed run is the run never stopped.

Each epoch's random numbers come from the pair (seed, epoch): the shuffle order and the masks
of Dropout layers without a generator of their own (``EpochStreams``). Epoch k thus draws the
same numbers whether the run went straight through or was stopped and resumed before it.
A checkpoint keeps the seed, the history (so the epoch count) and the state of the layers'
own generators (a Dropout built with ``seed=``); the optimizer state is in the archive.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchcnn.model.history import History
from scratchcnn.random import default_rng

# Bit generators a checkpoint may name (a name is looked up here only, never evaluated).
_BIT_GENERATORS = {
    name: getattr(np.random, name) for name in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
}
_SEED_LIMIT = 2**63


def check_seed(seed: Any, owner: str) -> int | np.random.Generator | None:
    """``seed`` if it is None, a Generator or a non-negative int; TypeError/ValueError if not."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{owner}: seed must be an int, a Generator or None, but got {seed!r}")
    if seed < 0:
        raise ValueError(f"{owner}: seed must be a non-negative int, but got {seed}")
    return int(seed)


def resolve_seed(model: Any, seed: int | np.random.Generator | None) -> int:
    """The shuffle seed of a ``fit``: ``seed``, or the model's own (drawn once if it has none).

    A Generator gives a seed drawn from it. The model keeps the result (``shuffle_seed``), so
    a later ``fit`` without a seed, or a model loaded from a checkpoint, goes on with it.
    """
    if isinstance(seed, np.random.Generator):
        model.shuffle_seed = int(seed.integers(_SEED_LIMIT))
    elif seed is not None:
        model.shuffle_seed = int(seed)
    elif model.shuffle_seed is None:
        model.shuffle_seed = int(default_rng().integers(_SEED_LIMIT))
    return int(model.shuffle_seed)


def _draws_random_numbers(layer: Any) -> bool:
    return hasattr(layer, "_rng")  # Dropout: its own Generator, or None for the default one


class EpochStreams:
    """Hands out each epoch's generators; lends one to every Dropout without its own."""

    def __init__(self, model: Any, seed: int) -> None:
        self.model = model
        self.seed = seed
        self.lent = [
            (i, layer)
            for i, layer in enumerate(model.layers)
            if _draws_random_numbers(layer) and layer._rng is None
        ]

    def __enter__(self) -> EpochStreams:
        self.model._lent_rngs = frozenset(i for i, _ in self.lent)
        return self

    def __exit__(self, *exc: object) -> None:
        for _, layer in self.lent:
            layer._rng = None
        self.model._lent_rngs = frozenset()

    def shuffle(self, epoch: int) -> np.random.Generator:
        """The generator of epoch ``epoch``'s shuffle; lends the layers theirs for it."""
        for i, layer in self.lent:
            layer._rng = np.random.default_rng([self.seed, epoch, i + 1])
        return np.random.default_rng([self.seed, epoch, 0])


def training_state(model: Any) -> dict[str, Any]:
    """The JSON-able state of ``model``'s training (see the module docstring)."""
    lent = getattr(model, "_lent_rngs", frozenset())
    layer_rngs = {
        str(i): layer._rng.bit_generator.state
        for i, layer in enumerate(model.layers)
        if i not in lent
        and _draws_random_numbers(layer)
        and isinstance(layer._rng, np.random.Generator)
    }
    return {
        "history": model.history.state(),
        "shuffle_seed": model.shuffle_seed,
        "layer_rngs": layer_rngs,
    }


def restore_training_state(model: Any, state: Any, where: str) -> None:
    """Give ``model`` the history, seed and generator states of ``training_state``'s output."""
    if not isinstance(state, dict):
        raise ValueError(f"{where}: the training state is not a dict")
    try:
        history = History.from_state(state["history"])
    except KeyError as error:
        raise ValueError(
            f"{where}: the training history is damaged: missing entry {error}"
        ) from None
    except (TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"{where}: the training history is damaged: {error}") from error
    seed = state.get("shuffle_seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"{where}: the shuffle seed {seed!r} is not a non-negative int")
    rngs = state.get("layer_rngs", {})
    if not isinstance(rngs, dict):
        raise ValueError(f"{where}: the layers' generator states are not a dict")
    generators = {}
    for key, rng_state in rngs.items():
        index = int(key) if str(key).isdigit() else -1
        if not 0 <= index < len(model.layers) or not _draws_random_numbers(model.layers[index]):
            raise ValueError(f"{where}: a generator state for layer {key!r}, which draws none")
        name = rng_state.get("bit_generator") if isinstance(rng_state, dict) else None
        if name not in _BIT_GENERATORS:
            raise ValueError(f"{where}: layer {key}'s generator {name!r} is not supported")
        bit_generator = _BIT_GENERATORS[name]()
        try:
            bit_generator.state = rng_state
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(f"{where}: layer {key}'s generator state is damaged") from error
        generators[index] = np.random.Generator(bit_generator)
    model.history = history
    model.shuffle_seed = seed
    for index, generator in generators.items():
        model.layers[index]._rng = generator
