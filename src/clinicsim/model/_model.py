"""``ClinicModel``: the pgmpy network, its CPDs as labelled tables, metadata and targets."""

from __future__ import annotations

import copy
import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from .._pgmpy import quiet_import

with quiet_import():
    # pgmpy.inference (and with it statsmodels, ~0.4 s) is imported only by marginal().
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

from .._errors import InvalidCPDError
from .._reference import MONTHS

if TYPE_CHECKING:
    import os

    from .._random import SeedLike

__all__ = ["CATEGORIES", "MONTHS", "REQUIRED_NODES", "ClinicModel", "Targets", "VisitWindow"]

REQUIRED_NODES = ("gender", "age_group", "diagnosis", "treatment", "follow_up")
MONTH_NODE = "visit_month"  # optional node: states are MONTHS, its CPD gives the seasonality
DEFAULT_COUNTRY = "US"
DEFAULT_HOLIDAY_WEIGHT = 0.05
CATEGORIES = ("chronic", "surgical", "viral", "bacterial", "injury", "preventive", "other")
SUM_TOLERANCE = 1e-9  # pgmpy's check_model accepts 0.01: too loose for hand-set tables


@dataclass(frozen=True)
class VisitWindow:
    """Visits fall on days ``start..end`` (inclusive), weighted by day of the week (Mon..Sun).

    A public holiday of ``country`` (ISO 3166 code, as the ``holidays`` package knows it)
    has its weekday weight multiplied by ``holiday_weight``. With a ``visit_month`` node,
    the month comes from its CPD and these weights choose the day within the month.
    """

    start: date
    end: date
    weekday_weights: tuple[float, ...] = (1.0,) * 7
    holiday_weight: float = DEFAULT_HOLIDAY_WEIGHT
    country: str = DEFAULT_COUNTRY


@dataclass(frozen=True)
class Targets:
    """The brief's stated targets, each with its equivalence margin.

    A share "matches" when its confidence interval lies inside ``target ± margin``.
    """

    gender_shares: Mapping[str, float]
    gender_margin: float
    follow_up_rate: float
    follow_up_margin: float
    priority_categories: tuple[str, ...]
    priority_min_difference: float
    trend_category: str
    age_min: int  # the ages' valid range: the target's, or the age bands' without one
    age_max: int
    age_margin: float | None  # None: no "ages evenly spread" target (e.g. real-world ages)

    @property
    def even_ages(self) -> bool:
        """Whether ages should be evenly spread over ``age_min..age_max``."""
        return self.age_margin is not None


def column_label(parents: tuple[str, ...], combo: tuple[str, ...]) -> str:
    """``(gender=male, age_group=0_14)``: how errors name a CPD column."""
    return "(" + ", ".join(f"{p}={s}" for p, s in zip(parents, combo)) + ")"


def as_probability(value: object) -> float | None:
    """``value`` as a float if it is a real number, else None.

    Strings (even ``"0.5"``), bools, None and ``pd.NA`` are not numbers: a hand-edited
    ``"0.5"`` or ``True`` is more likely a mistake than a probability.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        return None
    try:
        return float(value)
    except OverflowError:  # an int beyond float range (JSON allows 10**400): not finite
        return math.inf


def check_column(
    node: str, label: str, states: Sequence[str], values: Sequence[object]
) -> tuple[np.ndarray | None, list[str]]:
    """One CPD column as floats, and every problem with it.

    Each value must be a real number, finite and non-negative, and the column must sum
    to 1 within ``SUM_TOLERANCE``. ``label`` names the column (empty for a root node).
    Shared by :meth:`ClinicModel.set_cpd` and the model-file parser, so both refuse the
    same things with the same words.
    """
    where = f"CPD for {node!r}" + (f" column {label}" if label else "")
    probs = [as_probability(v) for v in values]
    errors = [f"{where}: probability of {s!r} must be a number; got {v!r}"
              for s, v, p in zip(states, values, probs) if p is None]
    if errors:
        return None, errors
    array = np.array(probs, dtype=float)
    errors = [f"{where} has a non-finite probability {p:g} for {s!r}"
              for s, p in zip(states, array) if not math.isfinite(p)]
    errors += [f"{where} has a negative probability {p:g} for {s!r}"
               for s, p in zip(states, array) if -math.inf < p < 0]
    if not errors and abs(array.sum() - 1.0) > SUM_TOLERANCE:
        errors.append(f"{where} sums to {array.sum():.12g}, not 1")
    return (None, errors) if errors else (array, [])


class ClinicModel:
    """A clinic's Bayesian network with hand-set CPDs, metadata and stated targets.

    Build one with :func:`clinicsim.default_model` or :func:`clinicsim.load_model`.

    Examples
    --------
    >>> import clinicsim
    >>> model = clinicsim.default_model()
    >>> model.nodes
    ('gender', 'age_group', 'diagnosis', 'treatment', 'follow_up', 'visit_month')
    >>> round(float(model.marginal("follow_up")["True"]), 3)
    0.3
    """

    def __init__(
        self,
        network: DiscreteBayesianNetwork,
        *,
        metadata: dict[str, Any],
        targets: Targets,
        name: str = "",
        description: str = "",
    ) -> None:
        # Validated by clinicsim.model._files.model_from_dict, the only caller.
        self._network = network
        self._metadata = metadata
        self.targets = targets
        self.name = name
        self.description = description
        self._order = tuple(_topological_order(network))

    # -- structure ------------------------------------------------------------------
    @property
    def network(self) -> DiscreteBayesianNetwork:
        """The pgmpy ``DiscreteBayesianNetwork`` (edit CPDs through :meth:`set_cpd`)."""
        return self._network

    @property
    def nodes(self) -> tuple[str, ...]:
        """Node names in topological order (required nodes first where the order allows)."""
        return self._order

    def parents(self, node: str) -> tuple[str, ...]:
        """The node's parents, in the order of its CPD's columns."""
        return tuple(self._get_cpd(node).variables[1:])

    def states(self, node: str) -> list[str]:
        """The node's state names, in CPD row order."""
        return list(self._get_cpd(node).state_names[node])

    # -- metadata -------------------------------------------------------------------
    @property
    def metadata(self) -> dict[str, Any]:
        """Age bands, diagnoses (code, category), visit window and any extra entries."""
        return copy.deepcopy(self._metadata)

    @property
    def age_bands(self) -> dict[str, tuple[int, int]]:
        """Age band state -> ``(min, max)`` years, inclusive."""
        return {k: (int(v[0]), int(v[1])) for k, v in self._metadata["age_bands"].items()}

    @property
    def diagnosis_categories(self) -> dict[str, str]:
        """Diagnosis -> category (``chronic``, ``surgical``, ``viral``, ...)."""
        return {d: m["category"] for d, m in self._metadata["diagnoses"].items()}

    @property
    def diagnosis_codes(self) -> dict[str, str]:
        """Diagnosis -> ICD-10-CM code."""
        return {d: str(m["code"]) for d, m in self._metadata["diagnoses"].items()}

    @property
    def visit_window(self) -> VisitWindow:
        """The days on which visits fall."""
        w = self._metadata["visit_window"]
        return VisitWindow(
            date.fromisoformat(str(w["start"])),
            date.fromisoformat(str(w["end"])),
            tuple(float(x) for x in w.get("weekday_weights", (1.0,) * 7)),
            float(w.get("holiday_weight", DEFAULT_HOLIDAY_WEIGHT)),
            str(self._metadata.get("country", DEFAULT_COUNTRY)),
        )

    @property
    def follow_up_days(self) -> dict[str, tuple[int, int]]:
        """Category -> ``(min, max)`` days from a visit to its follow-up."""
        return {k: (int(v[0]), int(v[1])) for k, v in self._metadata["follow_up_days"].items()}

    # -- CPDs -----------------------------------------------------------------------
    def _get_cpd(self, node: str) -> TabularCPD:
        if not isinstance(node, str) or node not in self._network.nodes():
            raise InvalidCPDError(f"unknown node {node!r}; the model's nodes are {list(self.nodes)}")
        return self._network.get_cpds(node)

    def _columns(self, node: str) -> pd.Index:
        cpd = self._get_cpd(node)
        parents = cpd.variables[1:]
        if not parents:
            return pd.Index(["p"])
        if len(parents) == 1:
            return pd.Index(cpd.state_names[parents[0]], name=parents[0])
        return pd.MultiIndex.from_product([cpd.state_names[p] for p in parents], names=parents)

    def cpd(self, node: str) -> pd.DataFrame:
        """The CPD of ``node`` as a labelled table.

        The index holds the node's states, the columns its parents' state combinations
        (a MultiIndex when there are several parents; a single column ``p`` for a root).
        Each column sums to 1.
        """
        cpd = self._get_cpd(node)
        values = cpd.get_values()
        frame = pd.DataFrame(values, index=pd.Index(self.states(node), name=node),
                             columns=self._columns(node))
        return frame

    def set_cpd(self, node: str, table: pd.DataFrame | pd.Series | Mapping[str, float]) -> None:
        """Replace the CPD of ``node``.

        ``table`` is a DataFrame shaped like :meth:`cpd` (rows and columns are aligned by
        label, not position), or for a root node a Series or mapping ``state -> p``.
        Every problem is reported in one :class:`InvalidCPDError`; on error the model is
        unchanged.
        """
        cpd = self._get_cpd(node)
        states = self.states(node)
        parents = tuple(cpd.variables[1:])
        expected = self._columns(node)
        frame = _as_frame(node, table, expected)
        errors = []
        rows = [str(s) for s in frame.index]
        if sorted(rows) != sorted(states):
            missing = [s for s in states if s not in rows]
            extra = [r for r in dict.fromkeys(rows) if r not in states]
            twice = [s for s in states if rows.count(s) > 1]
            errors.append(f"CPD for {node!r}: rows must be its states {states} once each; "
                          f"missing {missing}, unknown {extra}"
                          + (f", duplicated {twice}" if twice else ""))
        columns = _align_columns(node, frame, parents, expected, errors)
        if errors:
            raise InvalidCPDError(errors)
        frame = frame.set_axis(rows, axis=0).loc[states]
        frame.columns = columns
        values = frame[expected].to_numpy(dtype=object)
        probs = np.empty(values.shape)
        for j, combo in enumerate(expected):
            combo = combo if isinstance(combo, tuple) else (combo,)
            label = column_label(parents, combo) if parents else ""
            column, problems = check_column(node, label, states, values[:, j])
            errors += problems
            if column is not None:
                probs[:, j] = column
        if errors:
            raise InvalidCPDError(errors)
        new = TabularCPD(
            node, len(states), probs,
            evidence=list(parents) or None,
            evidence_card=[len(cpd.state_names[p]) for p in parents] or None,
            state_names={v: list(cpd.state_names[v]) for v in cpd.variables},
        )
        self._network.remove_cpds(cpd)
        self._network.add_cpds(new)

    # -- inference, copies, files, sampling -----------------------------------------
    def marginal(self, node: str) -> pd.Series:
        """The exact marginal distribution of ``node``, a Series indexed by its states.

        Computed by clinicsim's own variable elimination (:meth:`query`).
        """
        return self.query([node])

    def query(self, variables: str | Sequence[str],
              evidence: Mapping[str, object] | None = None) -> pd.Series:
        """The exact table P(variables | evidence), by clinicsim's variable elimination.

        Parameters
        ----------
        variables : str or sequence of str
            One node, or several distinct nodes.
        evidence : mapping, optional
            ``node -> state`` or ``node -> list of states`` (the node is in one of them).

        Returns
        -------
        pandas.Series
            Named ``p``, summing to 1. One node: indexed by its states (an Index named
            after the node). Several: a MultiIndex over every combination of their states
            in the order given. A given node that is also queried keeps all its states
            (those outside the evidence have probability 0).

        Raises
        ------
        ModelError
            Unknown nodes or states, or evidence of probability 0 (the message names it).

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> table = model.query(["follow_up"], evidence={"diagnosis": "hypertension"})
        >>> round(float(table["True"]), 3)
        0.529
        """
        from ._inference import query

        return query(self, variables, evidence)

    def content_key(self) -> str:
        """A digest of everything that defines the model: nodes, states, parents, CPD
        values, metadata, targets and name. Equal models have equal keys; any edit
        (``set_cpd``) changes it."""
        digest = hashlib.sha256()
        for node in self.nodes:
            cpd = self._network.get_cpds(node)
            digest.update(repr((node, cpd.variables, cpd.state_names)).encode())
            digest.update(np.ascontiguousarray(cpd.get_values()).tobytes())
        digest.update(repr((self.name, self._metadata, self.targets)).encode())
        return digest.hexdigest()

    def copy(self) -> ClinicModel:
        """A deep copy: edits to it do not touch this model."""
        return copy.deepcopy(self)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path``; the format follows the suffix.

        ``.yaml``/``.yml``/``.json`` keep everything; ``.bif``/``.xmlbif`` (pgmpy) keep
        the network only. The file is written atomically.
        """
        from ._files import save_model

        save_model(self, path)

    def sample(
        self, n: int, seed: SeedLike = None, engine: str = "numpy", extended: bool = False,
        given: Mapping[str, object] | None = None,
    ) -> pd.DataFrame:
        """Draw ``n`` records (a cohort with ``given``); see :func:`clinicsim.sample`."""
        from ..simulate import sample

        return sample(n, model=self, seed=seed, engine=engine, extended=extended, given=given)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n}[{len(self.states(n))}]" for n in self.nodes)
        return f"<ClinicModel {self.name!r}: {sizes}>"

    def _repr_html_(self) -> str:  # a notebook's display: network drawing, nodes, states
        from ._display import model_html

        return model_html(self)


def _topological_order(network: DiscreteBayesianNetwork) -> list[str]:
    """Kahn's order, breaking ties by the required order, then by name: deterministic."""
    rank = {n: (REQUIRED_NODES.index(n) if n in REQUIRED_NODES else len(REQUIRED_NODES), n)
            for n in network.nodes()}
    indegree = {n: network.in_degree(n) for n in network.nodes()}
    order: list[str] = []
    ready = sorted((n for n, d in indegree.items() if d == 0), key=rank.get)
    while ready:
        node = ready.pop(0)
        order.append(node)
        for child in network.successors(node):
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
        ready.sort(key=rank.get)
    return order


def _as_frame(node: str, table: object, expected: pd.Index) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, (pd.Series, Mapping)) and expected.equals(pd.Index(["p"])):
        return pd.DataFrame({"p": pd.Series(table, dtype=object)})
    kind = "a DataFrame like model.cpd(node)"
    if expected.equals(pd.Index(["p"])):
        kind += ", a Series or a mapping state -> probability"
    raise InvalidCPDError(f"CPD for {node!r} must be {kind}; got {type(table).__name__}")


def _align_columns(
    node: str, frame: pd.DataFrame, parents: tuple[str, ...], expected: pd.Index, errors: list[str]
) -> pd.Index:
    """``frame``'s columns relabelled in ``expected``'s level order, or errors appended."""
    if not parents:
        if frame.shape[1] != 1:
            errors.append(f"CPD for root node {node!r} must have one column; got {frame.shape[1]}")
        return expected
    columns = frame.columns
    names = [n for n in columns.names if n is not None]
    if names and sorted(names) != sorted(parents):
        errors.append(f"CPD for {node!r}: column levels must be its parents {list(parents)}; "
                      f"got {list(columns.names)}")
        return expected
    if names and tuple(names) != parents and isinstance(columns, pd.MultiIndex):
        columns = columns.reorder_levels(list(parents))
    if columns.nlevels != len(parents):
        errors.append(f"CPD for {node!r} needs {len(parents)} column level(s) for parents "
                      f"{list(parents)}; got {columns.nlevels}")
        return expected
    got = [tuple(map(str, c)) if isinstance(c, tuple) else (str(c),) for c in columns]
    want = [c if isinstance(c, tuple) else (c,) for c in expected]
    if len(set(got)) != len(got) or set(got) != set(want):
        missing = [column_label(parents, c) for c in want if c not in set(got)][:5]
        extra = [column_label(parents, c) for c in got if c not in set(want)][:5]
        twice = [column_label(parents, c) for c in dict.fromkeys(got) if got.count(c) > 1][:5]
        hint = (f" (the column levels are unnamed, so they are read in parent order "
                f"{list(parents)}; name them to align by label)" if not names else "")
        errors.append(f"CPD for {node!r}: columns must be every combination of "
                      f"{list(parents)} once; missing {missing}, unknown {extra}"
                      + (f", duplicated {twice}" if twice else "") + hint)
        return expected
    if len(parents) == 1:
        return pd.Index([c[0] for c in got], name=parents[0])
    return pd.MultiIndex.from_tuples(got, names=list(parents))


_T = TypeVar("_T")


def cached_by_content(build: Callable[[ClinicModel], _T], size: int = 8) -> Callable[[ClinicModel], _T]:
    """``build(model)``, computed once per model content (:meth:`ClinicModel.content_key`)
    and kept for the ``size`` most recent models. ``build`` must only read the model."""
    cache: OrderedDict[str, _T] = OrderedDict()

    def get(model: ClinicModel) -> _T:
        key = model.content_key()
        if key in cache:
            cache.move_to_end(key)
        else:
            cache[key] = build(model)
            if len(cache) > size:
                cache.popitem(last=False)
        return cache[key]

    return get
