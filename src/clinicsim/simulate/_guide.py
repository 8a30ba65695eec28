"""Inverse-CDF lookups by guide table: ``searchsorted`` with one gather per row.

Binary search over random keys costs a branch misprediction per level. A guide table
splits ``[0, top)`` into ``M`` equal buckets (``M`` and ``top`` powers of two, so a key's
bucket ``floor(x * M / top)`` is exact) and stores, per bucket, the answer when no CDF
entry falls inside it, else where to start: the few keys that land in such a bucket
(about 1 in 32) walk forward to their answer. The answers are exactly
``searchsorted``'s, so swapping one for the other changes no output.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GuideTable"]


class GuideTable:
    """``searchsorted(cdf[j], x, side="right")`` for many rows ``(j, x)`` at once.

    ``cdf`` is one non-decreasing row per column ``j`` (a 1-D array is one column), with
    entries in ``[0, top]``; keys ``x`` lie in ``[0, top)``. ``top`` must be a power of
    two. The answer may be ``len(cdf[j])`` (``x`` at or past the last entry).
    """

    def __init__(self, cdf: np.ndarray, top: float = 1.0) -> None:
        cdf = np.atleast_2d(np.asarray(cdf, float))
        columns, states = cdf.shape
        if np.frexp(top)[0] != 0.5:
            raise ValueError(f"`top` must be a power of two; got {top}")
        self.shift = int(np.ceil(np.log2(32 * states)))
        self.buckets = 1 << self.shift
        self.scale = self.buckets / top  # a power of two: x * scale is exact
        edges = np.arange(self.buckets + 1) / self.scale
        # steps[j, b]: entries of column j at or below edge b (counted, as searchsorted
        # 'right' would on the sorted row)
        steps = np.array([np.searchsorted(np.sort(row), edges, side="right") for row in cdf])
        lo, hi = steps[:, :-1], steps[:, 1:]
        self.guide = np.where(lo == hi, lo, ~lo).astype(np.int32).ravel()  # ~lo: walk from lo
        # Each column ends with +inf, which stops every walk.
        self.width = states + 1
        self.cdf = np.column_stack([cdf, np.full(columns, np.inf)]).ravel()

    def find(self, x: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
        """int32 answers for keys ``x``; row ``i`` looks in column ``offset[i] // buckets``.

        ``offset`` is the column times ``buckets`` (None: column 0 for every row), so a
        caller can build it from codes and strides without an index array of its own.
        """
        key = (x * self.scale).astype(np.intp)
        if offset is not None:
            key += offset
        answer = self.guide[key]  # int32: half the memory traffic of intp
        walk = np.flatnonzero(answer < 0)
        if walk.size:
            at, xw = ~answer[walk], x[walk]
            base = 0 if offset is None else (key[walk] >> self.shift) * self.width
            step = self.cdf[base + at] <= xw
            while step.any():
                at += step
                step = self.cdf[base + at] <= xw
            answer[walk] = at
        return answer
