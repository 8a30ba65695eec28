"""pgmpy at the edge: the one module that imports pgmpy, always on first use.

It converts a :class:`~clinicsim.ClinicModel` to a pgmpy ``DiscreteBayesianNetwork``
(``model.network``, the pgmpy engine, BIF/XMLBIF writing) and a pgmpy network read from
a BIF/XMLBIF file to the plain model schema, by label: a pgmpy CPD may list a node's or
a parent's states, and its parents, in any order. Nothing else in clinicsim reads a
pgmpy object, and pgmpy's exceptions become :class:`~clinicsim.ModelError`.

Importing pgmpy quietly: only two messages are silenced, only around imports, so any
other warning (a new deprecation, say) still reaches the user and fails the tests.

- pgmpy 1.1's ``inference`` and ``sampling`` modules import its deprecated
  ``pgmpy.estimators.StructureScore``, which emits a FutureWarning; clinicsim never uses it.
- ``pgmpy.models`` imports ``tqdm.auto``, which in a Jupyter kernel without ipywidgets
  warns "IProgress not found" (TqdmWarning); clinicsim never shows pgmpy's progress bars.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._errors import ModelError
from ._random import int_seed

if TYPE_CHECKING:
    from pgmpy.models import DiscreteBayesianNetwork

    from .model import ClinicModel, Cohort

__all__ = ["forward_sample", "quiet_import", "read_nodes", "rejection_sample", "to_network",
           "write_text"]

# pgmpy's XMLBIF writer silently rewrites other characters to "_" (and BIF cannot hold
# commas or quotes), so names outside this set would not survive a round trip.
_PGMPY_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@contextlib.contextmanager
def quiet_import() -> Iterator[None]:
    """A context in which importing pgmpy modules does not print the warnings above."""
    from tqdm import TqdmWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"`pgmpy\.estimators\.\w+` is deprecated",
                                FutureWarning)
        warnings.filterwarnings("ignore", r"IProgress not found", TqdmWarning)
        yield


def to_network(model: ClinicModel) -> DiscreteBayesianNetwork:
    """A new pgmpy network holding copies of the model's CPDs: editing it never changes
    the model."""
    with quiet_import():
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.models import DiscreteBayesianNetwork

    network = DiscreteBayesianNetwork()
    network.add_nodes_from(model.nodes)
    network.add_edges_from((p, n) for n in model.nodes for p in model.parents(n))
    for node in model.nodes:
        t = model.table(node)
        network.add_cpds(TabularCPD(
            node, len(t.states), t.matrix.copy(),
            evidence=list(t.parents) or None,
            evidence_card=[len(s) for s in t.parent_states] or None,
            state_names={node: list(t.states),
                         **{p: list(s) for p, s in zip(t.parents, t.parent_states, strict=True)}},
        ))
    return network


def _cpd_values(cpd: Any, node: str, parents: Sequence[str],
                states: dict[str, list[str]]) -> np.ndarray:
    """A pgmpy CPD's values with axes (node, *parents) and every axis in ``states`` order."""
    variables = list(cpd.variables)
    values = cpd.values.transpose([variables.index(v) for v in (node, *parents)])
    for axis, v in enumerate((node, *parents)):
        names = [str(s) for s in cpd.state_names[v]]
        values = np.take(values, [names.index(s) for s in states[v]], axis=axis)
    return values


def read_nodes(path: Path, suffix: str) -> dict[str, Any]:
    """The ``nodes`` entry of the model schema from a BIF/XMLBIF file, aligned by label."""
    kind = suffix[1:].upper()
    with quiet_import():
        from pgmpy.readwrite import BIFReader, XMLBIFReader

    try:
        reader = BIFReader(str(path)) if suffix == ".bif" else XMLBIFReader(str(path))
        network = reader.get_model()
    except Exception as exc:  # pgmpy raises anything from pyparsing/ElementTree errors to KeyError
        raise ModelError(f"cannot parse {kind} file {str(path)!r}: "
                         f"{type(exc).__name__}: {exc}") from None
    if not network.nodes():
        raise ModelError(f"{str(path)}: no variables found; is it a {kind} file?")
    no_table = sorted(n for n in network.nodes() if network.get_cpds(n) is None)
    if no_table:
        raise ModelError(f"{str(path)}: no probability table for {no_table}")
    # Each node's states in the order of its own CPD; parents' states follow them.
    states = {n: [str(s) for s in network.get_cpds(n).state_names[n]] for n in network.nodes()}
    nodes = {}
    for node in network.nodes():
        cpd = network.get_cpds(node)
        parents = [str(p) for p in cpd.variables[1:]]
        try:
            values = _cpd_values(cpd, node, parents, states)
        except (ValueError, KeyError) as exc:
            raise ModelError(f"{str(path)}: the CPD of {node!r} names other states for a "
                             f"parent than that parent's own CPD ({exc})") from None
        st = states[node]
        if parents:
            matrix = values.reshape(len(st), -1)
            combos = itertools.product(*(states[p] for p in parents))
            spec: Any = [{"given": dict(zip(parents, c, strict=True)),
                          "p": dict(zip(st, map(float, matrix[:, j]), strict=True))}
                         for j, c in enumerate(combos)]
        else:
            spec = dict(zip(st, map(float, values), strict=True))
        nodes[str(node)] = {"states": st, "parents": parents, "cpd": spec}
    return nodes


def write_text(model: ClinicModel, suffix: str, where: str) -> str:
    """The model's network as BIF or XMLBIF text; refuses names pgmpy would rewrite."""
    bad = [f"node {n!r}" for n in model.nodes if not _PGMPY_NAME.match(n)]
    bad += [f"state {s!r} of {n!r}" for n in model.nodes for s in model.states(n)
            if not _PGMPY_NAME.match(s)]
    if bad:
        raise ModelError(f"cannot write {where!r}: {suffix[1:].upper()} names must be "
                         f"letters, digits and '_' to survive a round trip; "
                         f"{', '.join(bad[:5])}" + (" and more" if len(bad) > 5 else "")
                         + "; save as .yaml or .json instead")
    with quiet_import():
        from pgmpy.readwrite import BIFWriter, XMLBIFWriter

    writer = BIFWriter if suffix == ".bif" else XMLBIFWriter
    return str(writer(to_network(model)))


def forward_sample(model: ClinicModel, size: int, seed: int) -> list[np.ndarray]:
    """pgmpy's ``BayesianModelSampling.forward_sample``: int64 state codes per node, in
    ``model.nodes`` order, each code indexing ``model.states(node)``."""
    with quiet_import():
        from pgmpy import logger as pgmpy_logger
        from pgmpy.sampling import BayesianModelSampling

    # pgmpy seeds numpy's global generator; put the caller's global state back.
    # forward_sample also logs, at WARNING, "Probability values don't exactly sum to
    # 1. Differ by: 2.2e-16. Adjusting values." for every CPD column whose float sum
    # is off by rounding, several times a block. clinicsim checks CPDs to 1e-9 when
    # they are loaded or set (pgmpy raises, not logs, beyond 1e-3), so the note tells
    # the user nothing: pgmpy's logger is raised to ERROR for this call only, then
    # restored. (pgmpy warnings from other threads during the call are lost too;
    # pgmpy offers no narrower switch.)
    saved, level = np.random.get_state(), pgmpy_logger.level
    pgmpy_logger.setLevel(logging.ERROR)
    try:
        frame = BayesianModelSampling(to_network(model)).forward_sample(
            size=size, seed=seed, show_progress=False)
    except ValueError as exc:
        raise ModelError(f"pgmpy cannot sample the model: {exc}") from None
    finally:
        pgmpy_logger.setLevel(level)
        np.random.set_state(saved)
    return [pd.Categorical(frame[n].astype(str), categories=model.states(n)).codes.astype(np.int64)
            for n in model.nodes]


def rejection_sample(model: ClinicModel, evidence: Cohort, size: int, seed: int,
                    dtypes: dict[str, pd.CategoricalDtype]) -> list[np.ndarray]:
    """pgmpy's ``rejection_sample`` for a cohort: ``size`` rows of node codes (model node
    order) drawn from P(nodes | evidence), an independent check of clinicsim's exact cohorts.

    pgmpy takes one state per given node. Evidence that is a single state (a node, or an
    age range inside one band) goes to pgmpy; the rest (lists of states, categories, an age
    range across bands) is applied by accepting each of pgmpy's rows with probability
    ``weight(state) / max(weight)``, rejection again, until ``size`` rows are kept.
    """
    with quiet_import():
        from pgmpy import logger as pgmpy_logger
        from pgmpy.factors.discrete import State
        from pgmpy.sampling import BayesianModelSampling

    single, weighted = [], {}
    for node, weights in evidence.likelihoods.items():
        positive = np.flatnonzero(weights)
        if len(positive) == 1:
            single.append(State(node, model.states(node)[positive[0]]))
        else:
            weighted[node] = weights / weights.max()
    root = np.random.SeedSequence(seed)
    sampler = BayesianModelSampling(to_network(model))
    kept: list[pd.DataFrame] = []
    have = 0
    # As in forward_sample: pgmpy seeds numpy's global generator and logs rounding
    # notes at WARNING; both are put back after the call.
    saved, level = np.random.get_state(), pgmpy_logger.level
    pgmpy_logger.setLevel(logging.ERROR)
    try:
        while have < size:
            draw_seed, accept_seed = root.spawn(2)
            # include_latents=True: clinicsim's networks have none, and the other branch
            # calls DataFrame.drop(inplace=True), which pandas 3.1 deprecates (a warning).
            frame = sampler.rejection_sample(evidence=single, size=size, seed=int_seed(draw_seed),
                                             include_latents=True, show_progress=False)
            codes = {n: pd.Categorical(frame[n].astype(str), dtype=dtypes[n]).codes
                     for n in model.nodes}
            u = np.random.default_rng(accept_seed).random(len(frame))
            weight = np.ones(len(frame))
            for node, w in weighted.items():
                weight *= w[codes[node]]
            chosen = pd.DataFrame(codes)[u < weight]
            kept.append(chosen)
            have += len(chosen)
    finally:
        pgmpy_logger.setLevel(level)
        np.random.set_state(saved)
    rows = pd.concat(kept).iloc[:size]
    return [rows[n].to_numpy(np.int64) for n in model.nodes]
