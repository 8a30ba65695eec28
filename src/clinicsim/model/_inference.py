"""Exact inference over the model's CPDs: variable elimination with numpy's einsum.

A *factor* is a labelled array: a tuple of variable names and an ndarray with one axis
per variable, in that order, each axis as long as the variable's number of states.
Evidence is a *likelihood* per node (one non-negative weight per state): a hard state
or list of states is a 0/1 vector, and record-level evidence (an age range) a fractional
one, so one code path serves queries, probabilities of evidence and cohort sampling.

Variable elimination sums out the variables that are neither queried nor given, one at
a time, in a greedy order: next the variable whose elimination makes the smallest factor,
ties broken by the fewest new edges in the interaction graph (min-fill), then by name so
the order is deterministic. Nodes that are no ancestor of a queried or given node are
dropped first (their CPDs sum to 1 over them).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._cache import cached_by_content
from .._errors import ArgumentError, ModelError
from .._validate import shown

if TYPE_CHECKING:
    from ._model import ClinicModel

__all__ = ["Factor", "Network", "as_likelihoods", "eliminate", "factors", "joint", "product",
           "query"]


@dataclass(frozen=True)
class Factor:
    """A non-negative table over ``variables``: ``values`` has one axis per variable."""

    variables: tuple[str, ...]
    values: np.ndarray


@dataclass(frozen=True)
class Network:
    """A model's CPDs as factors, read once through the public label-based API.

    ``cpds[node]`` is the factor over ``(node, *parents[node])``: axis 0 the node's
    states, then one axis per parent, each in :meth:`ClinicModel.states` order.
    """

    nodes: tuple[str, ...]  # topological order
    states: Mapping[str, tuple[str, ...]]
    parents: Mapping[str, tuple[str, ...]]
    cpds: Mapping[str, Factor]

    def ancestors(self, nodes: Iterable[str]) -> set[str]:
        """``nodes`` and all their ancestors."""
        seen: set[str] = set()
        stack = list(nodes)
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(self.parents[node])
        return seen


def _build(model: ClinicModel) -> Network:
    states = {n: tuple(model.states(n)) for n in model.nodes}
    parents = {n: tuple(model.parents(n)) for n in model.nodes}
    # model.table: axes (node, *parents), each in its node's own state order
    cpds = {n: Factor((n, *parents[n]), model.table(n).values) for n in model.nodes}
    return Network(tuple(model.nodes), states, parents, cpds)


factors = cached_by_content(_build)
"""``factors(model)``: the model's CPDs as a :class:`Network`, once per model content."""


# -- evidence ------------------------------------------------------------------------


def _describe(evidence: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in evidence.items())


def as_likelihoods(net: Network, evidence: Mapping[str, object] | None) -> dict[str, np.ndarray]:
    """Evidence ``node -> state | list of states | weight vector`` as a weight vector per node.

    A state or list of states gives weight 1 to those states and 0 to the others; an
    ndarray is taken as the weights themselves (one per state, non-negative). Unknown
    nodes or states raise an error naming them and what is known.
    """
    result: dict[str, np.ndarray] = {}
    errors: list[str] = []
    if evidence is not None and not isinstance(evidence, Mapping):
        raise ArgumentError(f"`evidence` must be a mapping node -> state(s); got "
                            f"{shown(evidence)}")
    for node, value in (evidence or {}).items():
        if node not in net.states:
            errors.append(f"evidence names unknown node {shown(node)}; the model's nodes are "
                          f"{list(net.nodes)}")
            continue
        states = net.states[node]
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            if value.shape != (len(states),) or not (value >= 0).all() \
                    or not np.isfinite(value).all():
                errors.append(f"evidence on {node!r}: weights must be {len(states)} "
                              f"finite non-negative numbers; got {value!r}")
                continue
            result[node] = value.astype(float)
            continue
        wanted = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        names = [str(v) for v in wanted]  # True -> "True": follow_up's states are strings
        unknown = [v for v, s in zip(wanted, names, strict=True) if s not in states]
        if unknown or not names:
            errors.append(f"evidence {node}={shown(value)}: "
                          + (f"unknown state(s) {shown(unknown)}" if unknown
                             else "no state given")
                          + f"; {node!r} has states {list(states)}")
            continue
        result[node] = np.isin(np.array(states, dtype=object), names).astype(float)
    if errors:
        raise ArgumentError(errors)
    return result


# -- elimination ---------------------------------------------------------------------


def product(factors: Sequence[Factor], keep: Sequence[str]) -> np.ndarray:
    """``sum`` over every variable not in ``keep`` of the product of ``factors``, axes in
    ``keep`` order (einsum, integer subscripts local to this call)."""
    ids: dict[str, int] = {}
    operands: list[Any] = []
    for f in factors:
        operands += [f.values, [ids.setdefault(v, len(ids)) for v in f.variables]]
    for v in keep:
        ids.setdefault(v, len(ids))
    operands.append([ids[v] for v in keep])
    return np.asarray(np.einsum(*operands, optimize=len(factors) > 2))


def _cost(v: str, scopes: list[set[str]], card: Mapping[str, int]) -> tuple[int, int, str]:
    """Size of the factor that summing ``v`` out makes, then the edges it adds (fill)."""
    touching = [s for s in scopes if v in s]
    union = set().union(*touching) - {v}
    size = math.prod(card[u] for u in union)
    neighbours = {u: set().union(*(s for s in scopes if u in s)) for u in union}
    fill = sum(1 for a, b in itertools.combinations(sorted(union), 2) if b not in neighbours[a])
    return size, fill, v


def _order(scopes: list[set[str]], eliminate: set[str], card: Mapping[str, int]) -> list[str]:
    """Greedy elimination order: smallest new factor first, then min-fill, then name."""
    scopes = [set(s) for s in scopes]
    order = []
    todo = set(eliminate)
    while todo:
        v = min(todo, key=lambda u: _cost(u, scopes, card))
        touching = [s for s in scopes if v in s]
        scopes = [s for s in scopes if v not in s] + [set().union(*touching) - {v}]
        order.append(v)
        todo.remove(v)
    return order


def eliminate(fs: Sequence[Factor], keep: Sequence[str], card: Mapping[str, int]) -> np.ndarray:
    """The product of ``fs`` with every variable not in ``keep`` summed out, as an array
    with axes in ``keep`` order, up to a positive constant (every caller normalises).

    Each factor made on the way is rescaled to a largest value of 1, so evidence of tiny
    but positive probability (40 rare nodes: 1e-400) does not underflow to 0."""
    fs = list(fs)
    hidden = set().union(*(f.variables for f in fs)) - set(keep) if fs else set()
    for v in _order([set(f.variables) for f in fs], hidden, card):
        touching = [f for f in fs if v in f.variables]
        rest = [f for f in fs if v not in f.variables]
        scope = tuple(dict.fromkeys(u for f in touching for u in f.variables if u != v))
        values = product(touching, scope)
        top = values.max() if values.size else 0.0
        fs = [*rest, Factor(scope, values / top if top > 0 else values)]
    return product(fs, keep) if fs else np.ones(())


def joint(net: Network, variables: Sequence[str], likelihoods: Mapping[str, np.ndarray]
          ) -> np.ndarray:
    """P(variables, evidence) up to a positive constant, axes in ``variables`` order."""
    relevant = net.ancestors([*variables, *likelihoods])
    fs = [net.cpds[n] for n in net.nodes if n in relevant]
    fs += [Factor((n,), w) for n, w in likelihoods.items()]
    card = {n: len(s) for n, s in net.states.items()}
    return eliminate(fs, list(variables), card)


def query(model: ClinicModel, variables: str | Sequence[str],
          evidence: Mapping[str, object] | None = None) -> pd.Series:
    """The exact table P(variables | evidence); see :meth:`ClinicModel.query`."""
    net = factors(model)
    if not isinstance(variables, (str, Iterable)):
        raise ArgumentError(f"`variables` must be a node or a list of nodes; got "
                            f"{shown(variables)}")
    names = [variables] if isinstance(variables, str) else list(variables)
    unknown = [v for v in names if not isinstance(v, str) or v not in net.states]
    if unknown or not names or len(set(names)) != len(names):
        raise ArgumentError(
            f"`variables` must name distinct nodes of the model {list(net.nodes)}; got "
            f"{shown(names)}" + (f" (unknown: {shown(unknown)})" if unknown else ""))
    likelihoods = as_likelihoods(net, evidence)
    table = joint(net, names, likelihoods)
    total = float(table.sum())
    if not total > 0:
        raise ModelError(f"evidence {_describe(evidence or {})} has probability 0 under the model")
    if len(names) == 1:
        index = pd.Index(net.states[names[0]], name=names[0])
    else:  # from_product, without its factorising: the levels are already unique
        shape = table.shape
        index = pd.MultiIndex(levels=[list(net.states[v]) for v in names],
                              codes=[c.reshape(-1).tolist() for c in np.indices(shape)],
                              names=names, verify_integrity=False)
    return pd.Series((table / total).reshape(-1), index=index, name="p")
