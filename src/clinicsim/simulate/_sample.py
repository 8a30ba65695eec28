"""Records from a model: ancestral sampling of the network, then the non-network columns.

Rows are made in fixed blocks of ``BLOCK_ROWS``; block ``i`` draws only from the ``i``-th
child of the root seed, so the same seed gives the same rows however blocks are grouped
into chunks, processes or Dask partitions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .._errors import ClinicSimError
from .._random import SeedLike, as_seed_sequence, block_seed, int_seed
from ..model import ClinicModel, default_model
from ._dates import VisitDates

__all__ = ["BLOCK_ROWS", "COLUMNS", "ENGINES", "EXTENDED_COLUMNS", "Sampler", "sample"]

BLOCK_ROWS = 1 << 16
ENGINES = ("numpy", "pgmpy")
COLUMNS = ("patient_id", "visit_date", "age", "gender", "diagnosis", "treatment", "follow_up")
EXTENDED_COLUMNS = (*COLUMNS, "age_group", "diagnosis_code", "diagnosis_category", "follow_up_date")


def check_n(n: object) -> int:
    """``n`` as a positive int, or a ClinicSimError naming the bad value."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ClinicSimError(f"`n` must be a positive integer; got {n!r}")
    return int(n)


def sample(
    n: int,
    *,
    model: ClinicModel | None = None,
    seed: SeedLike = None,
    engine: str = "numpy",
    extended: bool = False,
) -> pd.DataFrame:
    """Draw ``n`` patient visit records from ``model`` (the default model if None).

    Parameters
    ----------
    n : int
        Number of records, at least 1.
    model : ClinicModel, optional
        The model to sample; :func:`clinicsim.default_model` if None.
    seed : int, SeedSequence, Generator or None
        Same seed, model and engine give an identical DataFrame.
    engine : {"numpy", "pgmpy"}
        ``"numpy"``: clinicsim's vectorised ancestral sampler. ``"pgmpy"``: pgmpy's
        ``BayesianModelSampling.forward_sample``. Both sample the same distribution.
    extended : bool
        Add ``age_group``, ``diagnosis_code``, ``diagnosis_category``, ``follow_up_date``.

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id, visit_date, age, gender, diagnosis, treatment, follow_up``.

    Examples
    --------
    >>> import clinicsim
    >>> clinicsim.sample(3, seed=1).shape
    (3, 7)
    """
    sampler = Sampler(model, seed=seed, engine=engine, extended=extended, n=n)
    return sampler.rows(0, sampler.n)


@dataclass(frozen=True)
class _Node:
    name: str
    parents: tuple[int, ...]  # positions in Sampler.nodes
    cards: tuple[int, ...]  # parents' cardinalities
    card: int
    flat_cdf: np.ndarray  # column-major cumulative table, column j shifted by +j


class Sampler:
    """A model compiled for sampling ``n`` rows from one root seed, block by block.

    ``Sampler(...).rows(start, stop)`` gives rows ``start..stop-1`` of the table that
    ``sample(n, ...)`` returns, drawing only the blocks that cover them.
    """

    def __init__(self, model: ClinicModel | None, *, seed: SeedLike, engine: str,
                 extended: bool, n: int) -> None:
        self.n = check_n(n)
        if engine not in ENGINES:
            raise ClinicSimError(f"`engine` must be one of {', '.join(ENGINES)}; got {engine!r}")
        self.model = default_model() if model is None else model
        self.root = as_seed_sequence(seed)
        self.engine = engine
        self.extended = bool(extended)
        m = self.model
        self.nodes = m.nodes
        self.dtypes = {node: pd.CategoricalDtype(m.states(node)) for node in self.nodes}
        self._compiled = [self._compile(node) for node in self.nodes]
        bands = m.age_bands
        ages = m.states("age_group")
        self._age_lo = np.array([bands[b][0] for b in ages], np.int64)
        self._age_span = np.array([bands[b][1] - bands[b][0] + 1 for b in ages], np.int64)
        self._dates = VisitDates(m)
        self._follow_up_true = np.array([s == "True" for s in m.states("follow_up")])
        self._id_width = max(7, len(str(self.n)))
        categories = m.diagnosis_categories
        dx = m.states("diagnosis")
        self._dx_category = pd.Categorical([categories[d] for d in dx])
        self._dx_code = pd.Categorical([m.diagnosis_codes[d] for d in dx])

    def _compile(self, node: str) -> _Node:
        cpd = self.model.network.get_cpds(node)
        parents = tuple(cpd.variables[1:])
        values = cpd.get_values()  # (card, n_columns), parent combinations in C order
        cdf = np.cumsum(values, axis=0)
        cdf[-1] = 1.0  # rounding must never let u in [0, 1) fall off the end
        flat = (cdf + np.arange(cdf.shape[1])).T.ravel()
        return _Node(node, tuple(self.nodes.index(p) for p in parents),
                     tuple(len(cpd.state_names[p]) for p in parents), cdf.shape[0], flat)

    # -- rows -----------------------------------------------------------------------
    def rows(self, start: int, stop: int) -> pd.DataFrame:
        """Rows ``start..stop-1`` (0-based) of the full table."""
        first, last = start // BLOCK_ROWS, (stop - 1) // BLOCK_ROWS
        parts = [self.block(i) for i in range(first, last + 1)]
        frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        offset = first * BLOCK_ROWS
        frame = frame.iloc[start - offset: stop - offset]
        return frame.reset_index(drop=True)

    def blocks(self, first: int = 0) -> Iterator[pd.DataFrame]:
        """Every block from ``first`` on, in order."""
        for i in range(first, self.n_blocks):
            yield self.block(i)

    @property
    def n_blocks(self) -> int:
        return -(-self.n // BLOCK_ROWS)

    def block(self, index: int) -> pd.DataFrame:
        """Block ``index``: rows ``index * BLOCK_ROWS`` up to the next block or ``n``."""
        start = index * BLOCK_ROWS
        size = min(BLOCK_ROWS, self.n - start)
        network_seed, record_seed = block_seed(self.root, index).spawn(2)
        if self.engine == "numpy":
            codes = self._draw_numpy(size, np.random.default_rng(network_seed))
        else:
            codes = self._draw_pgmpy(size, int_seed(network_seed))
        return self._records(codes, start, np.random.default_rng(record_seed))

    def _draw_numpy(self, size: int, rng: np.random.Generator) -> list[np.ndarray]:
        u = rng.random((len(self.nodes), size))
        codes: list[np.ndarray] = []
        for j, node in enumerate(self._compiled):
            column = np.zeros(size, np.int64)
            for p, card in zip(node.parents, node.cards):
                column = column * card + codes[p]
            # Column j's cumulative probabilities live in (j, j + 1]: one searchsorted
            # over the flattened table finds every row's state at once.
            u[j] += column
            found = np.searchsorted(node.flat_cdf, u[j], side="right")
            codes.append(found - column * node.card)
        return codes

    def _draw_pgmpy(self, size: int, seed: int) -> list[np.ndarray]:
        from pgmpy.sampling import BayesianModelSampling

        # pgmpy seeds numpy's global generator; put the caller's global state back.
        saved = np.random.get_state()
        try:
            frame = BayesianModelSampling(self.model.network).forward_sample(
                size=size, seed=seed, show_progress=False)
        finally:
            np.random.set_state(saved)
        return [pd.Categorical(frame[n].astype(str), dtype=self.dtypes[n]).codes.astype(np.int64)
                for n in self.nodes]

    def _records(self, codes: list[np.ndarray], start: int, rng: np.random.Generator) -> pd.DataFrame:
        size = len(codes[0])
        c = dict(zip(self.nodes, codes))
        u = rng.random((3, size))
        band = c["age_group"]
        age = self._age_lo[band] + (u[0] * self._age_span[band]).astype(np.int64)
        visit = self._dates.visit(c.get("visit_month"), u[1])
        follow_up = self._follow_up_true[c["follow_up"]]
        data = {
            "patient_id": _patient_ids(start, size, self._id_width),
            "visit_date": visit.astype("datetime64[s]"),
            "age": age,
            "gender": self._categorical("gender", c),
            "diagnosis": self._categorical("diagnosis", c),
            "treatment": self._categorical("treatment", c),
            "follow_up": follow_up,
        }
        if self.extended:
            dx = c["diagnosis"]
            due = self._dates.follow_up(visit, dx, u[2])
            data |= {
                "age_group": pd.Categorical.from_codes(
                    band, dtype=pd.CategoricalDtype(self.model.states("age_group"), ordered=True)),
                "diagnosis_code": self._dx_code.take(dx),
                "diagnosis_category": self._dx_category.take(dx),
                "follow_up_date": np.where(follow_up, due, np.datetime64("NaT")).astype("datetime64[s]"),
            }
        frame = pd.DataFrame(data)
        return frame

    def _categorical(self, node: str, codes: dict[str, np.ndarray]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes[node], dtype=self.dtypes[node])


def _patient_ids(start: int, size: int, width: int) -> pd.arrays.ArrowStringArray:
    """``P`` + zero-padded 1-based row number, built as bytes without a Python loop."""
    numbers = np.arange(start + 1, start + size + 1, dtype=np.int64)
    chars = np.empty((size, width + 1), np.uint8)
    chars[:, 0] = ord("P")
    for k in range(width):
        chars[:, width - k] = ord("0") + (numbers // 10**k) % 10
    offsets = np.arange(0, (size + 1) * (width + 1), width + 1, dtype=np.int32)
    array = pa.StringArray.from_buffers(size, pa.py_buffer(offsets), pa.py_buffer(chars))
    return pd.array(array, dtype=pd.StringDtype("pyarrow"))
