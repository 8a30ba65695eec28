"""The one place where a user's ``seed`` becomes randomness.

Everything random in clinicsim starts from a root :class:`numpy.random.SeedSequence`
(CONVENTIONS.md 2). Rows are generated in fixed blocks; block ``i`` uses the root's
``i``-th child, built directly from the spawn key so that any block can be made on its
own (by a Dask worker, say) and the output never depends on how blocks are grouped.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_int

__all__ = ["SeedLike", "as_seed_sequence", "block_seed", "int_seed"]

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Normalise ``seed`` to a root SeedSequence.

    ``None`` draws fresh OS entropy; an ``int`` or a ``SeedSequence`` is used as is; a
    ``Generator`` is consumed: 128 bits are drawn from it, so passing the same
    generator twice gives two different streams, as numpy's own functions do.
    Anything else (a negative int, a float, a string, a bool) raises
    :class:`~clinicsim.ArgumentError`.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**32, size=4, dtype=np.uint64).tolist())
    if seed is None:
        return np.random.SeedSequence()
    return np.random.SeedSequence(check_int(seed, "seed", low=0))


def block_seed(root: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The ``index``-th child of ``root``, equal to ``root.spawn(index + 1)[index]``."""
    return np.random.SeedSequence(
        root.entropy, spawn_key=(*root.spawn_key, index), pool_size=root.pool_size
    )


def int_seed(ss: np.random.SeedSequence) -> int:
    """A 32-bit integer seed for libraries that only take one (pgmpy)."""
    return int(ss.generate_state(1, np.uint32)[0])
