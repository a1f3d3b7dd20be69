"""Local randomness: library code never touches the notebook's global random stream.

``generator(seed)`` gives a private ``torch.Generator``; ``fork(seed)`` is a
context in which the global torch generator is seeded and afterwards put back
exactly as it was, for code (``nn.Linear``'s initialisation, dropout) that
only draws from the global stream. A notebook that calls
``torch.manual_seed`` and then uses the library gets the same draws whatever
the library did in between.
"""
from __future__ import annotations

import contextlib

import torch


def generator(seed: int) -> torch.Generator:
    """A private CPU generator seeded with ``seed``."""
    return torch.Generator().manual_seed(int(seed))


@contextlib.contextmanager
def fork(seed: int | None):
    """Run the body with the global torch RNG seeded by ``seed``, then restore it.

    ``seed=None`` leaves the global stream alone and does not fork.
    """
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield
