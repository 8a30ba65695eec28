"""Explicit limits on a model's size, so every file under 4 MiB is judged in bounded work.

Each limit is far above any hand-made clinic model (the default has 6 nodes, at most 16
states and 2,400 CPD cells) and far below what would take minutes or gigabytes. Beyond a
limit the model is refused with a message naming the limit; every check here is linear in
the data it looks at and stops as soon as a limit is passed.

The same holds for work a model's users ask for: the statements evaluated and fitted, the
draws of the pgmpy engine's rejection sampling, the posteriors of ``sample_remaining``,
and the chunks and workers of streaming (``MAX_...`` below, each named where it refuses).
"""

from __future__ import annotations

import os
from typing import Any

from .._errors import ModelError

__all__ = ["MAX_CALENDAR_DAYS", "MAX_CHUNKS", "MAX_CHUNK_ROWS", "MAX_CPD_CELLS",
           "MAX_DEPTH", "MAX_FIT_CELLS", "MAX_FIT_CONDITIONS", "MAX_ITEMS", "MAX_NAME_CHARS",
           "MAX_NODES", "MAX_PARTITIONS", "MAX_PATTERNS", "MAX_REJECTION_DRAWS", "MAX_ROWS",
           "MAX_STATES", "MAX_TARGETS", "RECORD_ONLY_COLUMNS", "WORKERS_PER_CORE",
           "check_cells", "check_counts", "check_shape", "column_clashes", "max_workers"]

MAX_NODES = 1_000
MAX_STATES = 1_000  # of one node
MAX_CPD_CELLS = 1_000_000  # of one node: its states times its parent combinations
MAX_DEPTH = 64  # nesting of mappings and lists
MAX_ITEMS = 2_000_000  # values in the file, a YAML alias counted each time it is used
# Target statements of one model. Evaluating all of them (model show --targets, the check
# after every edit, the report) costs one exact query per distinct set of nodes: 10,000
# take about 2 s to show (measured on the default model, which states 5); before the
# queries were shared, 10,000 took 133 s. Fitting is bounded per node, below.
MAX_TARGETS = 10_000
# Fitting one node solves its conditions together (a rate is one, a share one per state
# but the last): a Newton step solves a dense system of that many unknowns and holds two
# arrays of conditions x CPD columns. 500 conditions: a 2 MB system, ~4 s to fit on the
# shared 2-core machine; 2,000 took 1.1 GB and minutes.
MAX_FIT_CONDITIONS = 500  # of one node
MAX_FIT_CELLS = 10_000_000  # of one node: conditions x CPD columns (80 MB per array)
# The pgmpy engine samples a cohort by rejection: about rows x max weights / P(evidence)
# forward draws, 50,000-100,000 a second (measured, default model, shared 2-core machine):
# 500,000 take 5-10 s. The numpy engine samples any cohort exactly, with no rejection.
MAX_REJECTION_DRAWS = 500_000
# sample_remaining computes the exact posterior once per distinct pattern of known values,
# ~1 ms each on a 200-diagnosis model (measured): 10,000 patterns take about 10 s.
MAX_PATTERNS = 10_000
# Streaming: a chunk costs ~5 ms of its own (a frame, an Arrow table, a write) besides its
# rows' ~2 us each (measured: 200,000 rows in chunks of 100, 9.6 s; of 1,000, 1.7 s), so a
# run makes at most MAX_CHUNKS chunks (unless they are of the default size). A chunk's
# peak memory is 60-250 bytes a row (CSV to JSON Lines; chunks of 3e7 rows ran out of
# memory): MAX_CHUNK_ROWS, 64 blocks, stays near 1 GB.
MAX_CHUNKS = 1_000
MAX_CHUNK_ROWS = 1 << 22  # 4,194,304
MAX_PARTITIONS = 10_000  # Dask tasks of one sample: the scheduler holds each one's state
# Sampling is CPU-bound with one thread a worker: processes beyond the cores only add
# ~100 MB each and start-up time (--workers 100 on 2 cores: gigabytes, leaked semaphores).
# Twice the cores leaves room for the writer and I/O.
WORKERS_PER_CORE = 2
# Days from the first visit to the last possible follow-up: a century. Sampling and the
# holidays are per day of this calendar, and it must end by 9999-12-31 (Python's last date).
MAX_CALENDAR_DAYS = 36_525
# Characters of a node or state name. A name is written into every CPD column that
# mentions it, so one 10 MB name made a 340 MB file that load_model (4 MiB) refuses;
# names of clinics are words, and 200 characters is room for any of them.
MAX_NAME_CHARS = 200
# Records of one run: a trillion. That is about a day of sampling at the fastest and some
# 60 TB of CSV, far beyond any disk, and below 2**53, so row counts stay exact wherever
# they become floats (progress, size estimates); 1e308 rows is refused here, not by an
# overflow deep in the sampler.
MAX_ROWS = 10**12
# Record columns that are made, not sampled as nodes: a node of that name would write a
# second column of the name, which no records reader can tell apart.
RECORD_ONLY_COLUMNS = ("patient_id", "visit_date", "age", "diagnosis_code",
                       "diagnosis_category", "follow_up_date")


def max_workers() -> int:
    """The most local worker processes: WORKERS_PER_CORE x the cores this process may use."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    return WORKERS_PER_CORE * max(1, cores)


def column_clashes(nodes: dict) -> list[str]:
    """Errors for node names that are record columns made by the sampler.

    >>> print(*column_clashes({"age": {}, "smoker": {}}))  # doctest: +NORMALIZE_WHITESPACE
    node 'age': the name is a records column (patient_id, visit_date, age, diagnosis_code,
    diagnosis_category, follow_up_date); rename the node
    """
    return [f"node {name!r}: the name is a records column ({', '.join(RECORD_ONLY_COLUMNS)}); "
            "rename the node" for name in nodes if name in RECORD_ONLY_COLUMNS]


def check_shape(data: Any, source: str) -> None:
    """Refuse ``data`` nested deeper than MAX_DEPTH or holding more than MAX_ITEMS values.

    The walk counts a shared (YAML alias) value once per use, so a 400-byte alias bomb
    that would expand to gigabytes is refused after MAX_ITEMS steps.

    >>> check_shape({"a": [[[1]]]}, "m")
    >>> bomb = [1]
    >>> for _ in range(30):
    ...     bomb = [bomb, bomb]
    >>> try:
    ...     check_shape(bomb, "m")
    ... except ModelError as exc:
    ...     print(exc)  # doctest: +NORMALIZE_WHITESPACE
    m: more than 2,000,000 values (YAML aliases counted at each use);
    the limit is MAX_ITEMS = 2,000,000
    """
    stack: list[tuple[Any, int]] = [(data, 0)]
    items = 1
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, (dict, list, tuple)):
            continue
        if depth >= MAX_DEPTH:
            raise ModelError(f"{source}: nested more than {MAX_DEPTH} levels deep; "
                             f"the limit is MAX_DEPTH = {MAX_DEPTH}")
        items += len(value) * (2 if isinstance(value, dict) else 1)  # counted before pushed
        if items > MAX_ITEMS:
            raise ModelError(f"{source}: more than {MAX_ITEMS:,} values (YAML aliases counted "
                             f"at each use); the limit is MAX_ITEMS = {MAX_ITEMS:,}")
        children = ([x for pair in value.items() for x in pair] if isinstance(value, dict)
                    else value)
        stack.extend((child, depth + 1) for child in children)

def check_counts(nodes: dict, source: str) -> None:
    """Refuse more than MAX_NODES nodes or a node with more than MAX_STATES states."""
    if len(nodes) > MAX_NODES:
        raise ModelError(f"{source}: {len(nodes):,} nodes; the limit is MAX_NODES = {MAX_NODES:,}")
    for node, spec in nodes.items():
        states = spec.get("states") if isinstance(spec, dict) else None
        if isinstance(states, list) and len(states) > MAX_STATES:
            raise ModelError(f"{source}: node {str(node)!r} has {len(states):,} states; "
                             f"the limit is MAX_STATES = {MAX_STATES:,}")


def check_cells(node: str, n_states: int, parent_sizes: list[int]) -> str | None:
    """The error for a CPD of more than MAX_CPD_CELLS cells, counted before any is listed.

    >>> print(check_cells("x", 2, [100] * 5))  # doctest: +NORMALIZE_WHITESPACE
    node 'x': its CPD would have more than 1,000,000 cells (2 states times
    100 x 100 x 100 x 100 x 100 parent combinations); the limit is MAX_CPD_CELLS = 1,000,000
    """
    cells = n_states
    for size in parent_sizes:
        cells *= size
        if cells > MAX_CPD_CELLS:
            sizes = " x ".join(map(str, parent_sizes))
            return (f"node {node!r}: its CPD would have more than {MAX_CPD_CELLS:,} cells "
                    f"({n_states} states times {sizes} parent combinations); "
                    f"the limit is MAX_CPD_CELLS = {MAX_CPD_CELLS:,}")
    return None
