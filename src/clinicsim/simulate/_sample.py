"""Records from a model: ancestral sampling of the network, then the non-network columns.

Rows are made in fixed blocks of ``BLOCK_ROWS``; block ``i`` draws only from the ``i``-th
child of the root seed, so the same seed gives the same rows however blocks are grouped
into chunks, processes or Dask partitions. Within a block every random column has a stream
of its own, so a row's values depend on its position alone and ``sample(n)`` is the first
n rows of ``sample(m)`` for m >= n (numpy engine; pgmpy keeps whole blocks only)::

    root ─ block i ─┬─ network ─ node j            (child j, in model.nodes order)
                    └─ records ─┬─ age             (child 0)
                                ├─ visit day       (child 1)
                                └─ follow-up day   (child 2)
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from .._errors import ArgumentError, ClinicSimError
from .._random import SeedLike, as_seed_sequence, block_seed, int_seed
from .._validate import check_choice, check_int, shown
from ..model import (
    MAX_CHUNK_ROWS,
    MAX_CHUNKS,
    MAX_REJECTION_DRAWS,
    MAX_ROWS,
    MONTH_NODE,
    REQUIRED_NODES,
    ClinicModel,
    Cohort,
    as_model,
    cached_by_content,
    cohort,
    factors,
)
from ._dates import VisitDates
from ._guide import GuideTable

__all__ = ["BLOCK_ROWS", "CHUNK_ROWS", "COLUMNS", "ENGINES", "EXTENDED_COLUMNS", "Sampler",
           "check_chunk_size", "extra_nodes", "sample"]

BLOCK_ROWS = 1 << 16
CHUNK_ROWS = 16 * BLOCK_ROWS  # default chunk: 1,048,576 rows, about 100 MB at its peak
ENGINES = ("numpy", "pgmpy")
COLUMNS = ("patient_id", "visit_date", "age", "gender", "diagnosis", "treatment", "follow_up")
EXTENDED_COLUMNS = (*COLUMNS, "age_group", "diagnosis_code", "diagnosis_category", "follow_up_date")
# Nodes that a record column carries: age_group is age's band, visit_month visit_date's month.
CARRIED_NODES = (*REQUIRED_NODES, MONTH_NODE)


def extra_nodes(model: ClinicModel) -> tuple[str, ...]:
    """The nodes of ``model`` that no record column carries, in topological order: each
    is a categorical column of the records, after the brief's seven.

    >>> import clinicsim
    >>> extra_nodes(clinicsim.default_model())
    ()
    """
    return tuple(node for node in model.nodes if node not in CARRIED_NODES)


def sample(
    n: int,
    *,
    model: ClinicModel | str | os.PathLike[str] | None = None,
    seed: SeedLike = None,
    engine: str = "numpy",
    extended: bool = False,
    given: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Draw ``n`` patient visit records from ``model`` (the default model if None).

    Parameters
    ----------
    n : int
        Number of records, at least 1.
    model : ClinicModel, str or path, optional
        The model to sample: a model, a preset name or a model file;
        :func:`clinicsim.default_model` if None.
    seed : int, SeedSequence, Generator or None
        Same seed, model and engine give an identical DataFrame.
    engine : {"numpy", "pgmpy"}
        ``"numpy"``: clinicsim's vectorised ancestral sampler. ``"pgmpy"``: pgmpy's
        ``BayesianModelSampling.forward_sample``. Both sample the same distribution.
    extended : bool
        Add ``age_group``, ``diagnosis_code``, ``diagnosis_category``, ``follow_up_date``.
    given : mapping, optional
        A cohort: every row satisfies this evidence and the rows follow
        P(records | evidence) exactly, with no rejection. Keys are nodes (value: a state
        or a list of states), ``age`` (an inclusive range ``(lo, hi)``: the band is
        conditioned and the age drawn inside the range) and ``diagnosis_category`` (a
        category or a list). Unknown names or an empty range raise ArgumentError,
        evidence of probability 0 a ModelError. The ``"pgmpy"`` engine uses pgmpy's
        ``rejection_sample``.

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id, visit_date, age, gender, diagnosis, treatment, follow_up``,
        then one categorical column per further node of the model that no record column
        carries (:func:`~clinicsim.simulate.extra_nodes`, in topological order), then
        the extended columns.

    Examples
    --------
    >>> import clinicsim
    >>> clinicsim.sample(3, seed=1).shape
    (3, 7)
    >>> old = clinicsim.sample(100, seed=1, given={"age": (65, 89), "follow_up": True})
    >>> bool(old.age.between(65, 89).all() and old.follow_up.all())
    True
    """
    sampler = Sampler(model, seed=seed, engine=engine, extended=extended, n=n, given=given)
    need = sampler.n * ROW_BYTES
    if need > _memory():
        raise ClinicSimError(
            f"`n`: {sampler.n:,} records need about {need / 1e9:,.0f} GB of memory at once, "
            f"more than this machine's {_memory() / 1e9:,.0f} GB; sample fewer, or stream "
            "them to a file (clinicsim.simulate.write_sample, or clinicsim sample -o)")
    try:
        return sampler.rows(0, sampler.n)
    except MemoryError:
        raise ClinicSimError(f"`n`: out of memory making {sampler.n:,} records at once; sample "
                             "fewer, or stream them to a file (clinicsim sample -o)") from None


# Peak bytes a row of sample() takes while it is made: 36 (47 extended) in the frame,
# about as much again for the block being copied in.
ROW_BYTES = 100


def _memory() -> float:
    """This machine's physical memory in bytes (inf where the system does not say)."""
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        return float("inf")


def check_chunk_size(size: object, n: int) -> int:
    """``size`` as a chunk size for ``n`` rows: at most MAX_CHUNK_ROWS (memory), and at
    most MAX_CHUNKS chunks unless they are of the default size (each chunk's own cost).

    >>> check_chunk_size(1, 10**6)
    Traceback (most recent call last):
    ...
    clinicsim._errors.ArgumentError: `chunk_size` 1 cuts 1,000,000 rows into 1,000,000 \
chunks, each costing ~5 ms of its own; the limit is MAX_CHUNKS = 1,000 chunks: give at \
least 1,000
    """
    size = check_int(size, "chunk_size")
    if size > MAX_CHUNK_ROWS:
        raise ArgumentError(f"`chunk_size` {size:,} is above MAX_CHUNK_ROWS = "
                            f"{MAX_CHUNK_ROWS:,} (a chunk takes up to ~250 bytes a row of "
                            "memory)")
    chunks = -(-n // size)
    least = min(CHUNK_ROWS, -(-n // MAX_CHUNKS))
    if size < least:
        raise ArgumentError(f"`chunk_size` {size:,} cuts {n:,} rows into {chunks:,} chunks, "
                            f"each costing ~5 ms of its own; the limit is MAX_CHUNKS = "
                            f"{MAX_CHUNKS:,} chunks: give at least {least:,}")
    return size


def _check_rejection(n: int, evidence: Cohort) -> None:
    """Refuse a pgmpy cohort whose rejection sampling would take more than
    MAX_REJECTION_DRAWS draws: pgmpy accepts a row with probability P(evidence) divided
    by the largest weights (an age range inside one band is that band), exactly known."""
    accept = evidence.probability
    for weights in evidence.likelihoods.values():
        accept /= float(weights.max())
    draws = n / accept if accept > n / 1e300 else math.inf
    if draws > MAX_REJECTION_DRAWS:
        raise ArgumentError(
            f"given {evidence.text}: the pgmpy engine samples a cohort by rejection, "
            f"about {_count(draws)} draws for {n:,} rows (pgmpy accepts a draw with "
            f"probability {accept:.3g}); the limit is MAX_REJECTION_DRAWS = "
            f"{MAX_REJECTION_DRAWS:,}. The numpy engine (engine='numpy', --engine numpy) "
            "samples a cohort exactly, without rejection")


def _count(x: float) -> str:
    return f"{x:,.0f}" if x < 1e15 else f"{x:.3g}"


class _Table(GuideTable):
    """One node's CPD compiled for inverse-CDF sampling, one column per parent combination.

    A row's state is ``searchsorted(cdf[column], u, side="right")``, found by the guide
    table: one gather for most rows, about ten times faster than binary search.
    """

    def __init__(self, node: str, parents: tuple[int, ...], cards: tuple[int, ...],
                 values: np.ndarray) -> None:
        self.name, self.parents, self.cards = node, parents, cards
        card = values.shape[0]
        cdf = np.cumsum(values.T, axis=1)  # (parent combinations, states)
        # From the last possible state on, the CDF is exactly 1: rounding must never let
        # u in [0, 1) fall off the end or into a trailing zero-probability state.
        last = card - 1 - np.argmax(values[::-1] > 0, axis=0)
        cdf[np.arange(card) >= last[:, None]] = 1.0
        super().__init__(cdf)
        # A row's column is its parents' codes in mixed radix (the last parent varies
        # fastest); with the guide's buckets folded in: offset = sum code[p] * stride[p].
        radix = np.cumprod((1, *cards[:0:-1]))[::-1] if cards else ()
        self.strides = [np.intp(r * self.buckets) for r in radix]

    def draw(self, codes: list[np.ndarray], u: np.ndarray) -> np.ndarray:
        """int32 states for uniforms ``u``, given the codes drawn so far (node order)."""
        offset = None
        for p, stride in zip(self.parents, self.strides, strict=True):
            term = codes[p] * stride  # intp: a numpy scalar sets the type
            offset = term if offset is None else np.add(offset, term, out=offset)
        return self.find(u, offset)


class _Compiled:
    """What sampling needs from a model: CPD tables, calendar, dtypes and lookups.

    Pure in the model's content, so samplers of equal models share one (``_compiled``).
    """

    def __init__(self, m: ClinicModel) -> None:
        self.nodes = m.nodes
        self.dtypes = {node: pd.CategoricalDtype(m.states(node)) for node in self.nodes}
        self.dtypes["age_group"] = pd.CategoricalDtype(m.states("age_group"), ordered=True)
        self.tables = [self._table(m, node) for node in self.nodes]
        bands = m.age_bands
        ages = m.states("age_group")
        self.age_lo = np.array([bands[b][0] for b in ages], np.int64)
        self.age_span = np.array([bands[b][1] - bands[b][0] + 1 for b in ages], np.int64)
        self.dates = VisitDates(m)
        self.extra = extra_nodes(m)
        self.follow_up_true = np.array([s == "True" for s in m.states("follow_up")])
        categories = m.diagnosis_categories
        dx = m.states("diagnosis")
        self.dx_category = pd.Categorical([categories[d] for d in dx])
        self.dx_code = pd.Categorical([m.diagnosis_codes[d] for d in dx])

    def _table(self, m: ClinicModel, node: str) -> _Table:
        t = m.table(node)  # parents' states in their own node's order: codes index them
        return _Table(node, tuple(self.nodes.index(p) for p in t.parents),
                      tuple(map(len, t.parent_states)), t.matrix)


# Pure in the model's content: samplers of equal models share one, an edit makes another.
_compiled = cached_by_content(_Compiled)


def _conditioned(m: ClinicModel, evidence: Cohort | None) -> _Compiled:
    """The compiled model, with evidence-adjusted tables and age ranges for a cohort."""
    base = _compiled(m)
    if evidence is None:
        return base
    c = copy.copy(base)
    cpds = factors(m).cpds
    c.tables = [base.tables[j] if (table := evidence.tables[node]) is cpds[node] else
                _Table(node, tuple(base.nodes.index(p) for p in table.variables[1:]),
                       table.values.shape[1:], table.values.reshape(table.values.shape[0], -1))
                for j, node in enumerate(base.nodes)]
    if evidence.ages is not None:
        lo, hi = evidence.ages
        top = base.age_lo + base.age_span - 1
        c.age_lo = np.maximum(base.age_lo, lo)
        # Bands outside the range have probability 0 and are never drawn; keep a span >= 1.
        c.age_span = np.maximum(np.minimum(top, hi) - c.age_lo + 1, 1)
    return c


class Sampler:
    """A model compiled for sampling ``n`` rows from one root seed, block by block.

    ``Sampler(...).rows(start, stop)`` gives rows ``start..stop-1`` of the table that
    ``sample(n, ...)`` returns, drawing only the blocks that cover them.

    Examples
    --------
    >>> import clinicsim
    >>> from clinicsim.simulate import Sampler
    >>> sampler = Sampler(None, seed=42, engine="numpy", extended=False, n=100_000)
    >>> sampler.rows(70_000, 70_003).equals(
    ...     clinicsim.sample(100_000, seed=42).iloc[70_000:70_003].reset_index(drop=True))
    True
    """

    def __init__(self, model: ClinicModel | str | os.PathLike[str] | None, *, seed: SeedLike,
                 engine: str, extended: bool, n: int,
                 given: Mapping[str, object] | None = None) -> None:
        self.n = check_int(n, "n")
        if self.n > MAX_ROWS:  # streamed to a file; sample() also checks the memory
            raise ArgumentError(f"`n` must be at most {MAX_ROWS:,} records, the limit MAX_ROWS "
                                f"(a day of sampling, some 60 TB of CSV); got {shown(n)}")
        check_choice(engine, "engine", ENGINES)
        # A snapshot: later edits to the caller's model never change this sampler's rows,
        # here or on a Dask worker that unpickles it.
        self.model = as_model(model).copy()
        self.root = as_seed_sequence(seed)
        self.engine = engine
        self.extended = bool(extended)
        self.nodes = self.model.nodes
        self.cohort = cohort(self.model, given)
        if engine == "pgmpy" and self.cohort is not None:
            _check_rejection(self.n, self.cohort)
        self._c = _conditioned(self.model, self.cohort)
        self._cached: tuple[int, dict[str, np.ndarray]] = (-1, {})

    def __getstate__(self) -> dict:
        # Dask ships samplers to workers: send the model, not the tables or the cached block.
        state = self.__dict__ | {"_cached": (-1, {})}
        del state["_c"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._c = _conditioned(self.model, self.cohort)

    # -- rows -----------------------------------------------------------------------
    def rows(self, start: int, stop: int) -> pd.DataFrame:
        """Rows ``start..stop-1`` (0-based) of the full table, indexed from 0."""
        if not 0 <= start < stop <= self.n:
            raise ArgumentError(f"rows {start}..{stop} are outside 0..{self.n}")
        # Each block is copied into place as soon as it is drawn: only one block is alive
        # at a time, so its temporaries reuse the same memory, and the frame never shares
        # memory with the cached block (a caller's edits cannot leak into later rows).
        columns: dict[str, np.ndarray] = {}
        for i in range(start // BLOCK_ROWS, (stop - 1) // BLOCK_ROWS + 1):
            a, b = max(start, i * BLOCK_ROWS), min(stop, (i + 1) * BLOCK_ROWS)
            for k, v in self._block_columns(i).items():
                if k not in columns:
                    columns[k] = np.empty(stop - start, v.dtype)
                columns[k][a - start:b - start] = v[a - i * BLOCK_ROWS:b - i * BLOCK_ROWS]
        return self._frame(columns, start)

    def chunks(self, size: int) -> Iterator[pd.DataFrame]:
        """The whole table as consecutive frames of ``size`` rows (the last may be shorter).

        Memory is bounded by one chunk plus one block, whatever ``size``.

        Examples
        --------
        >>> from clinicsim.simulate import Sampler
        >>> sampler = Sampler(None, seed=1, engine="numpy", extended=False, n=250)
        >>> [len(chunk) for chunk in sampler.chunks(100)]
        [100, 100, 50]
        """
        size = check_chunk_size(size, self.n)
        for start in range(0, self.n, size):
            yield self.rows(start, min(start + size, self.n))

    def blocks(self, first: int = 0) -> Iterator[pd.DataFrame]:
        """Every block from ``first`` on, in order."""
        for i in range(first, self.n_blocks):
            yield self.block(i)

    @property
    def n_blocks(self) -> int:
        return -(-self.n // BLOCK_ROWS)

    def block(self, index: int) -> pd.DataFrame:
        """Block ``index``: rows ``index * BLOCK_ROWS`` up to the next block or ``n``."""
        return self.rows(index * BLOCK_ROWS, min((index + 1) * BLOCK_ROWS, self.n))

    def _block_columns(self, index: int) -> dict[str, np.ndarray]:
        # One block is kept: consecutive chunks that share a block draw it once.
        if self._cached[0] == index:
            return self._cached[1]
        start = index * BLOCK_ROWS
        size = min(BLOCK_ROWS, self.n - start)
        network_seed, record_seed = block_seed(self.root, index).spawn(2)
        if self.engine == "numpy":
            codes = self._draw_numpy(size, network_seed)
        else:
            codes = self._draw_pgmpy(size, int_seed(network_seed))
        columns = self._records(codes, record_seed)
        self._cached = (index, columns)
        return columns

    def _draw_numpy(self, size: int, seed: np.random.SeedSequence) -> list[np.ndarray]:
        """Node codes for a block's first ``size`` rows, node ``j`` from ``seed``'s child ``j``.

        A node's uniforms come from a stream of its own, so row ``i`` gets the same ones
        whatever the block's size: ``sample(n)`` is the first n rows of ``sample(m)``.
        """
        u = np.empty(size)  # one buffer: a node's uniforms are spent once its codes are drawn
        codes: list[np.ndarray] = []
        for table, node_seed in zip(self._c.tables, seed.spawn(len(self._c.tables)), strict=True):
            np.random.default_rng(node_seed).random(out=u)
            codes.append(table.draw(codes, u))
        return codes

    def _draw_pgmpy(self, size: int, seed: int) -> list[np.ndarray]:
        """Node codes for a block's ``size`` rows by pgmpy's ``forward_sample``.

        pgmpy draws every node from one global stream, parent combination by parent
        combination, in counts that depend on ``size``: its rows are the same for the
        same block size only, so whole blocks stay put, not a block's first rows.
        """
        if self.cohort is not None:
            from .._pgmpy import rejection_sample

            return rejection_sample(self.model, self.cohort, size, seed, self._c.dtypes)
        from .._pgmpy import forward_sample

        return forward_sample(self.model, size, seed)

    def _records(self, codes: list[np.ndarray], seed: np.random.SeedSequence
                 ) -> dict[str, np.ndarray]:
        """A block's output columns as arrays: node codes, ages, dates, follow-up flags.

        Age, visit day and follow-up day each draw from their own child of ``seed``
        (children 0, 1, 2), so a row's values depend on neither the block's size nor
        ``extended``.
        """
        size = len(codes[0])
        c = dict(zip(self.nodes, codes, strict=True))
        age_seed, visit_seed, follow_up_seed = seed.spawn(3)
        band = c["age_group"]
        u = np.random.default_rng(age_seed).random(size)
        age = self._c.age_lo[band] + (u * self._c.age_span[band]).astype(np.int64)
        u = np.random.default_rng(visit_seed).random(size)
        visit = self._c.dates.visit(c.get("visit_month"), u)
        follow_up = self._c.follow_up_true[c["follow_up"]]
        # Only what the frame shows is kept (a block is copied into each chunk it meets).
        data = {"visit_date": visit.astype("datetime64[s]"), "age": age,
                "follow_up": follow_up, "gender": c["gender"], "diagnosis": c["diagnosis"],
                "treatment": c["treatment"]}
        data |= {node: c[node] for node in self._c.extra}
        if self.extended:
            u = np.random.default_rng(follow_up_seed).random(size)
            due = self._c.dates.follow_up(visit, c["diagnosis"], u)
            data["age_group"] = band
            data["follow_up_date"] = np.where(follow_up, due, np.datetime64("NaT")).astype(
                "datetime64[s]")
        return data

    def _frame(self, c: dict[str, np.ndarray], start: int) -> pd.DataFrame:
        """The records DataFrame from the arrays of ``_records``; its first row is ``start``."""
        data = {
            "patient_id": _patient_ids(start, len(c["age"])),
            "visit_date": c["visit_date"],
            "age": c["age"],
            "gender": self._categorical("gender", c),
            "diagnosis": self._categorical("diagnosis", c),
            "treatment": self._categorical("treatment", c),
            "follow_up": c["follow_up"],
        }
        data |= {node: self._categorical(node, c) for node in self._c.extra}
        if self.extended:
            dx = c["diagnosis"]
            data |= {
                "age_group": self._categorical("age_group", c),
                "diagnosis_code": self._c.dx_code.take(dx),
                "diagnosis_category": self._c.dx_category.take(dx),
                "follow_up_date": c["follow_up_date"],
            }
        return pd.DataFrame(data, copy=False)

    def _categorical(self, node: str, codes: dict[str, np.ndarray]) -> pd.Categorical:
        # Codes come from the model's own tables, so pandas need not check them again.
        return pd.Categorical.from_codes(codes[node], dtype=self._c.dtypes[node], validate=False)


# "0000" .. "9999" as 4-byte words: a patient id's digits are laid down 4 at a time.
_DIGITS4 = (np.arange(10_000)[:, None] // np.array([1000, 100, 10, 1]) % 10
            + ord("0")).astype(np.uint8).view(np.uint32).ravel()
ID_DIGITS = 7  # P0000001; row numbers of more digits keep them all


def _patient_ids(start: int, size: int) -> pd.arrays.ArrowStringArray:
    """``P`` + the 1-based row number, zero-padded to ``ID_DIGITS`` digits.

    A row's id depends on its number alone, not on how many rows there are, so the ids
    of ``sample(n)`` are the first n of ``sample(m)``. Past ``P9999999`` ids grow a digit
    (``P10000000``).
    """
    first, last = start + 1, start + size
    parts = []
    while first <= last:
        width = max(ID_DIGITS, len(str(first)))
        stop = min(last, 10**width - 1)
        parts.append(_fixed_width_ids(first, stop, width))
        first = stop + 1
    array = parts[0] if len(parts) == 1 else pa.concat_arrays(parts)
    return pd.array(array, dtype=pd.StringDtype("pyarrow"))


def _fixed_width_ids(first: int, last: int, width: int) -> pa.LargeStringArray:
    """``P`` + row numbers ``first..last`` zero-padded to ``width`` digits, built as bytes
    without a Python loop.

    Row numbers are consecutive, so each group of 4 digits is a run of repeated words
    (``np.repeat``) rather than a division per row.
    """
    size = last - first + 1
    groups = -(-(width + 1) // 4)  # the "P" takes a byte too
    words = np.empty((size, groups), np.uint32)
    words[:, -1] = np.resize(np.roll(_DIGITS4, -(first % 10_000)), size)
    for g in range(1, groups):  # group g: digits 4g+1 .. 4g+4 from the right
        base = 10_000**g
        runs = np.arange(first // base, last // base + 1)
        counts = np.minimum((runs + 1) * base, last + 1) - np.maximum(runs * base, first)
        words[:, -1 - g] = np.repeat(_DIGITS4[runs % 10_000], counts)
    chars = words.view(np.uint8)
    if chars.shape[1] != width + 1:  # a copy only for widths other than 7, 11, 15, ...
        chars = np.ascontiguousarray(chars[:, -(width + 1):])
    chars[:, 0] = ord("P")
    offsets = np.arange(0, (size + 1) * (width + 1), width + 1, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(size, pa.py_buffer(offsets), pa.py_buffer(chars))
