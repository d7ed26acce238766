"""The library's default random generator, like ``torch.manual_seed``.

Initializers and Dropout draw from :func:`default_rng` unless given a seed or generator of
their own, so ``scratchcnn.manual_seed(0)`` makes a whole model reproducible.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the default generator."""
    global _generator
    _generator = np.random.default_rng(seed)


def default_rng() -> np.random.Generator:
    """The generator used when no seed or generator is given."""
    return _generator


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A generator from a seed, an existing generator, or the default generator for None."""
    if seed is None:
        return _generator
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
