"""Cohorts: evidence on nodes and records, and the network rewritten to sample given it.

Evidence (``given=``) becomes one *likelihood* per node, a weight per state: a state or a
list of states is 0/1; ``diagnosis_category`` is 0/1 on the diagnoses of those
categories; an age range ``(lo, hi)`` weighs each age band by the share of its ages
inside the range (a record's age is uniform within its band), and the age is then drawn
uniformly inside the band's part of the range.

The network is then rewritten as an equivalent one for P(nodes | evidence). Nodes are
eliminated in reverse topological order; eliminating node X multiplies its CPD, its
likelihood and the messages of its eliminated descendants that mention it into
``psi(X, S)``, where ``S`` holds only nodes before X. Normalised over X, ``psi`` is
P(X | S, evidence): X's *evidence-adjusted table*, whose "parents" S are earlier nodes, so
the ancestral sampler draws it as it draws a CPD, one uniform per node per row. The sum
over X is the backward message P(evidence below X | S) passed up. Nodes with no evidence
on themselves or below keep their CPD. The product of the adjusted tables is exactly
P(nodes | evidence) (the chain rule along the topological order).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .._errors import ArgumentError, ClinicSimError, ModelError
from .._validate import shown
from ._inference import Factor, Network, as_likelihoods, factors, product

if TYPE_CHECKING:
    from ._model import ClinicModel

__all__ = ["AGE", "CATEGORY", "Cohort", "adjusted_tables", "cohort"]

AGE = "age"
CATEGORY = "diagnosis_category"


@dataclass(frozen=True)
class Cohort:
    """Evidence checked against a model: what to condition on and how to draw ages.

    ``likelihoods`` maps node -> weight per state (model node order); ``ages`` is the
    inclusive range or None; ``text`` names the evidence for messages.
    """

    likelihoods: Mapping[str, np.ndarray]
    ages: tuple[int, int] | None
    text: str
    tables: Mapping[str, Factor]  # adjusted_tables(): P(node | S, evidence) per node
    probability: float  # P(evidence); 0.0 when it is positive but below 1e-308


def _age_range(value: object) -> tuple[int, int]:
    """``(lo, hi)`` from an int, a pair, or text ``"65-89"``; else ArgumentError."""
    if isinstance(value, str):
        parts = value.split("-")
        try:
            pair = tuple(int(p) for p in parts) if len(parts) in (1, 2) else ()
        except ValueError:
            pair = ()
        value = pair if len(pair) == 2 else (pair[0], pair[0]) if len(pair) == 1 else value
    elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        value = (value, value)
    ok = (isinstance(value, (tuple, list)) and len(value) == 2
          and all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                  for v in value))
    if not ok:
        raise ArgumentError(f"given age={value!r}: must be an inclusive range (lo, hi) of "
                            "whole years, e.g. (65, 89) or '65-89', or one age")
    lo, hi = int(value[0]), int(value[1])  # type: ignore[index]
    if lo > hi:
        raise ArgumentError(f"given age={value!r}: the range is empty ({lo} > {hi})")
    return lo, hi


def _as_states(value: object) -> list[str]:
    items = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
    return [str(v) for v in items]


def cohort(model: ClinicModel, given: Mapping[str, object] | None) -> Cohort | None:
    """``given`` checked against ``model`` as a :class:`Cohort`; None for no evidence.

    Every unknown node, state or category and an empty age range is named in one
    ArgumentError; evidence of probability 0 raises ModelError saying so.

    Examples
    --------
    >>> import clinicsim
    >>> from clinicsim.model import cohort
    >>> evidence = cohort(clinicsim.default_model(), {"diagnosis": "asthma", "age": (65, 89)})
    >>> evidence.text, round(evidence.probability, 6)
    ('diagnosis=asthma, age=65-89', 0.013313)
    """
    if given is None:
        return None
    if not isinstance(given, Mapping):
        raise ArgumentError(
            f"`given` must be a mapping node -> state(s); got {type(given).__name__}")
    if not given:
        return None
    net = factors(model)
    bands = model.age_bands
    errors: list[str] = []
    hard: dict[str, object] = {}
    extra: dict[str, np.ndarray] = {}
    ages = None
    named: dict[str, object] = {}
    for name, value in given.items():
        if not isinstance(name, str):
            errors.append(f"given names {shown(name)}: a node, {AGE} or {CATEGORY} is text")
            continue
        if name == AGE:
            try:
                ages = _age_range(value)
            except ClinicSimError as error:
                errors += error.errors
                continue
            lo, hi = ages
            states = net.states["age_group"]
            weights = np.array([max(0, min(hi, bands[b][1]) - max(lo, bands[b][0]) + 1)
                                / (bands[b][1] - bands[b][0] + 1) for b in states])
            if not weights.any():
                span = (min(b[0] for b in bands.values()), max(b[1] for b in bands.values()))
                errors.append(f"given age={value!r}: no age band holds an age in {lo}..{hi} "
                              f"(the bands cover {span[0]}..{span[1]})")
                continue
            extra["age_group"] = extra.get("age_group", 1.0) * weights
            named[AGE] = ages
            # only the bands' ages can be drawn: 0-10**30 is 0-89 (and fits an int64)
            ages = (max(lo, min(b[0] for b in bands.values())),
                    min(hi, max(b[1] for b in bands.values())))
        elif name == CATEGORY:
            wanted = _as_states(value)
            categories = model.diagnosis_categories
            known = sorted(set(categories.values()))
            unknown = [c for c in wanted if c not in known]
            if unknown or not wanted:
                errors.append(f"given {CATEGORY}={value!r}: "
                              + (f"unknown categories {unknown}" if unknown
                                 else "no category given")
                              + f"; the model's are {known}")
                continue
            mask = np.array([categories[d] in wanted for d in net.states["diagnosis"]], float)
            extra["diagnosis"] = extra.get("diagnosis", 1.0) * mask
            named[CATEGORY] = wanted if len(wanted) > 1 else wanted[0]
        else:
            names = _as_states(value)
            hard[name] = value
            named[name] = names[0] if len(names) == 1 else names  # [] is named as refused
    try:
        likelihoods = as_likelihoods(net, hard)
    except ClinicSimError as error:
        errors += error.errors
        likelihoods = {}
    if errors:
        raise ArgumentError([e.replace("evidence ", "given ", 1) for e in errors])
    for node, weights in extra.items():
        likelihoods[node] = likelihoods.get(node, 1.0) * weights
    ordered = {n: likelihoods[n] for n in net.nodes if n in likelihoods}
    text = ", ".join(f"{k}={_show(v)}" for k, v in named.items())
    tables, p = adjusted_tables(net, ordered)
    if p is None:
        raise ModelError(f"given {text}: this evidence has probability 0 under the model, "
                         "so no record can satisfy it")
    return Cohort(ordered, ages, text, tables, p)


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return f"{value[0]}-{value[1]}"
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


def adjusted_tables(net: Network, likelihoods: Mapping[str, np.ndarray]
                    ) -> tuple[dict[str, Factor], float | None]:
    """Each node's evidence-adjusted table P(node | S, evidence), and P(evidence): None
    when it is 0, and 0.0 when it is positive but below floating point's range (40 rare
    nodes give 1e-400, which the rescaled messages sample exactly all the same).

    A table is a factor over ``(node, *S)`` with S before node in ``net.nodes``; nodes with
    no evidence on them or below keep their CPD (the same Factor object).
    """
    below: set[str] = set()  # nodes with evidence on themselves or on a descendant
    for node in reversed(net.nodes):
        if node in likelihoods or any(node in net.parents[c] for c in below):
            below.add(node)
    order = {n: i for i, n in enumerate(net.nodes)}
    messages: list[Factor] = []
    tables: dict[str, Factor] = {}
    log_scale = 0.0  # messages are rescaled to max 1 (no underflow); this keeps the scale
    for node in reversed(net.nodes):
        if node not in below:
            tables[node] = net.cpds[node]
            continue
        parts = [net.cpds[node]] + ([Factor((node,), likelihoods[node])]
                                    if node in likelihoods else [])
        parts += [m for m in messages if node in m.variables]
        messages = [m for m in messages if node not in m.variables]
        scope = sorted({v for p in parts for v in p.variables} - {node}, key=order.__getitem__)
        psi = product(parts, [node, *scope])
        message = psi.sum(axis=0)
        top = float(message.max()) if message.size else 0.0
        if top == 0:
            return tables, None
        log_scale += math.log(top)
        with np.errstate(invalid="ignore", divide="ignore"):
            table = np.where(message > 0, psi / np.where(message > 0, message, 1), 0.0)
        # Parent combinations of probability 0 are never reached; give them a valid column.
        if scope:
            table[0][message == 0] = 1.0
        tables[node] = Factor((node, *scope), table)
        messages.append(Factor(tuple(scope), message / top))
    rest = float(np.prod([m.values for m in messages])) if messages else 1.0
    if rest == 0:  # messages of scalars, each rescaled to 1: only exactly 0 is 0
        return tables, None
    return tables, math.exp(log_scale) * rest
