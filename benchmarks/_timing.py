"""The one timer of the benchmark scripts: the best CPU time of a few runs.

CPU time of this process (``time.process_time``), not the wall clock, so that another
program on the machine does not move the numbers; the best of ``repeat`` runs, after one
untimed run when ``warm_up`` (caches, imports, compiled tables).
"""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time(fn: Callable[[], object], repeat: int = 5, *, warm_up: bool = False) -> float:
    """Best CPU seconds of ``repeat`` calls of ``fn``."""
    if warm_up:
        fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best
