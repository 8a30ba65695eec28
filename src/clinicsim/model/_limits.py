"""Explicit limits on a model's size, so every file under 4 MiB is judged in bounded work.

Each limit is far above any hand-made clinic model (the default has 6 nodes, at most 16
states and 2,400 CPD cells) and far below what would take minutes or gigabytes. Beyond a
limit the model is refused with a message naming the limit; every check here is linear in
the data it looks at and stops as soon as a limit is passed.
"""

from __future__ import annotations

from typing import Any

from .._errors import ModelError

__all__ = ["MAX_CALENDAR_DAYS", "MAX_CPD_CELLS", "MAX_DEPTH", "MAX_ITEMS", "MAX_NAME_CHARS",
           "MAX_NODES", "MAX_ROWS", "MAX_STATES",
           "RECORD_ONLY_COLUMNS", "check_cells", "check_counts", "check_shape", "column_clashes"]

MAX_NODES = 1_000
MAX_STATES = 1_000  # of one node
MAX_CPD_CELLS = 1_000_000  # of one node: its states times its parent combinations
MAX_DEPTH = 64  # nesting of mappings and lists
MAX_ITEMS = 2_000_000  # values in the file, a YAML alias counted each time it is used
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
