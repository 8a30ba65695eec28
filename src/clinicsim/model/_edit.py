"""Model edits beyond one CPD: the exact figures that stated targets name (warned about when
an edit moves one outside its margin), and adding or removing a state of a node.

An edit is checked against the targets by the model's own exact inference: each target's
figure (a share, a rate, a difference of rates, a slope, the spread of ages) is computed
before and after the edit, and a :class:`~clinicsim.TargetWarning` names every figure that
the edit changed and that now lies outside its target's margin.
"""

from __future__ import annotations

import copy
import itertools
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .._errors import ModelError, TargetWarning
from .._validate import shown
from ._schema import model_from_dict, model_to_dict
from ._table import as_probability, column_label
from ._targets import (
    Difference,
    Rate,
    Share,
    Trend,
    describe_value,
    exact_value,
    is_met,
    node_of,
)

if TYPE_CHECKING:
    from ._model import ClinicModel

__all__ = ["STATE_METADATA", "Figure", "target_figures", "warn_moved_targets",
           "with_state_added", "with_state_removed"]

_SAME = 1e-12  # a figure that moved by less has not been moved by the edit


@dataclass(frozen=True)
class Figure:
    """A stated target's exact value in a model.

    ``target`` names it as the report does (``share gender``, ``rate follow_up=True``);
    ``node`` is the node whose CPD ``fit_targets`` tilts to meet it (None: fitting does
    not meet this kind of target).
    """

    target: str
    values: tuple[float, ...]
    inside: bool
    text: str
    node: str | None


def target_figures(model: ClinicModel) -> list[Figure]:
    """The exact value of each stated target in ``model``, by the model's exact inference
    (:func:`~clinicsim.model._targets.exact_value`); a statement whose group never occurs
    has no value and is left out."""
    out = []
    for s in model.targets:
        try:
            value = exact_value(model, s)
        except ModelError:
            continue
        if isinstance(s, Share):
            shares = [value[k] for k, _ in s.values]
            text = (f"the exact shares are now {_pairs(value, shares)} (target "
                    f"{_pairs(value, (t for _, t in s.values))}, each ± {s.margin:g})")
            figures, node = tuple(shares), s.node
        elif isinstance(s, Rate):
            text = f"the exact rate is now {value:.4g} (target {s.value:g} ± {s.margin:g})"
            figures, node = (value,), s.node
        elif isinstance(s, Difference):
            text = "the exact difference is now " + describe_value(s, value)
            figures, node = (value,), None
        elif isinstance(s, Trend):
            text = "the exact slope is now " + describe_value(s, value)
            figures, node = (value,), None
        else:
            text = (f"the exact distribution of ages is now {value[0]:.4f} from an even "
                    f"spread at its furthest (margin {s.margin:g}), {value[1]:.1%} at its "
                    f"largest single-year deviation (margin {s.year_margin:.0%})")
            figures, node = tuple(value), "age_group"
        out.append(Figure(str(s), tuple(map(float, figures)), is_met(model, s, value), text,
                          None if node is None else node_of(node)))
    return out


def _pairs(states: Iterable[str], values: Iterable[float]) -> str:
    return ", ".join(f"{s} {v:.4g}" for s, v in zip(states, values, strict=True))


def warn_moved_targets(before: list[Figure], model: ClinicModel, edit: str,
                       keep: Sequence[tuple[str, dict[str, str]]], stacklevel: int) -> None:
    """Warn (:class:`TargetWarning`) about every target that ``edit`` moved outside its margin.

    ``before`` are the figures before the edit; ``keep`` the CPD columns the edit set,
    as ``fit_targets(keep=...)`` names them (``(node, {})``: every column of a node).
    ``stacklevel`` is what the public method would pass to ``warnings.warn`` to point
    at its caller.
    """
    old = {f.target: f.values for f in before}
    moved = [f for f in target_figures(model) if not f.inside and (
        f.target not in old or len(old[f.target]) != len(f.values)
        or max(abs(a - b) for a, b in zip(old[f.target], f.values, strict=True)) > _SAME)]
    if not moved:
        return
    whole = {node for node, combo in keep if not combo}
    fits = [f for f in moved if f.node is not None and f.node not in whole]
    what, it = ("a stated target outside its margin", "it") if len(moved) == 1 else \
        (f"{len(moved)} stated targets outside their margins", "them")
    lines = [f"{edit} moved {what}, so records sampled from this model are expected to "
             f"fail {it} in the conformance report:",
             *(f"  {f.target}: {f.text}" for f in moved)]
    fix = "To keep the edit, state the new figures in the targets: model = model.with_targets(...)"
    if fits:
        named = repr(list(keep)) if len(keep) <= 3 else \
            f"{repr(list(keep[:2]))[:-1]}, ...] (the {len(keep)} edited columns)"
        fix += (f"; or, for {', '.join(f.target for f in fits)}, keep the edited columns and "
                f"refit the other CPDs: model = model.fit_targets(keep={named})")
    warnings.warn("\n".join([*lines, fix + "."]), TargetWarning, stacklevel=stacklevel + 1)


# -- adding and removing states -----------------------------------------------------------

# Nodes whose states each need an entry in the metadata: node -> (metadata key, its form).
STATE_METADATA = {
    "diagnosis": ("diagnoses", "{code, category}"),
    "treatment": ("treatments", "{resource, system, code, display}"),
    "age_group": ("age_bands", "[min, max]"),
}


def with_state_added(model: ClinicModel, node: str, state: str, *, like: str | None,
                     p: float, metadata: object) -> ClinicModel:
    """A new model: ``model`` with ``state`` added to ``node`` (see ``ClinicModel.add_state``).

    Every problem -- with the arguments, and then whatever the whole new model fails in
    validation (metadata, targets, node rules) -- is reported in one :class:`ModelError`.
    """
    states = model.states(node)  # an unknown node: InvalidCPDError, a ModelError
    where = f"add_state({node!r}, {shown(state)})"
    children = _children(model, node)
    errors = []
    if not isinstance(state, str) or not state:
        raise ModelError(f"{where}: the new state must be a non-empty string")
    if state in states:
        raise ModelError(f"{where}: {node!r} already has a state {shown(state)}")
    if like is None and children:
        errors.append(f"{where}: like= is required: the CPDs of {children} need columns for "
                      f"{shown(state)}, copied from those of a similar state of {node!r} {states}")
    elif like is not None and not (isinstance(like, str) and like in states):
        errors.append(f"{where}: like={shown(like)} is not a state of {node!r} {states}")
    prob = as_probability(p)
    if prob is None or not 0 <= prob < 1:
        errors.append(f"{where}: p must be a number in [0, 1), the new state's probability in "
                      f"every column of {node!r}'s CPD; got {p!r}")
        prob = 0.0
    key, form = STATE_METADATA.get(node, (None, None))
    if key is None and metadata is not None:
        errors.append(f"{where}: {node!r} has no metadata for its states; got "
                      f"metadata={metadata!r}")
    elif key is not None and metadata is None:
        errors.append(f"{where}: metadata= is required: each state of {node!r} has "
                      f"metadata.{key} {form}")
    source = like if isinstance(like, str) and like in states else states[0]  # a stand-in

    data = model_to_dict(model)
    spec = data["nodes"][node]
    spec["states"].append(state)
    for column in _cpd_columns(spec):
        column.update({s: v * (1 - prob) for s, v in column.items()}, **{state: prob})
    for child in children:
        columns = data["nodes"][child]["cpd"]
        columns += [{"given": {**c["given"], node: state}, "p": dict(c["p"])}
                    for c in columns if c["given"][node] == source]
    if key is not None:
        meta = data["metadata"][key]
        meta[state] = copy.deepcopy(metadata) if metadata is not None else meta[source]
    return _validated(data, where, errors)


def with_state_removed(model: ClinicModel, node: str, state: str) -> ClinicModel:
    """A new model: ``model`` without ``state`` of ``node`` (see ``ClinicModel.remove_state``)."""
    states = model.states(node)
    where = f"remove_state({node!r}, {shown(state)})"
    if not (isinstance(state, str) and state in states):
        raise ModelError(f"{where}: {shown(state)} is not a state of {node!r} {states}")
    if len(states) <= 2:
        raise ModelError(f"{where}: {node!r} would be left with one state")
    t = model.table(node)
    i = states.index(state)
    combos = list(itertools.product(*t.parent_states))
    # "probability 1": every other state 0 (the state itself may read 1 - 1e-10)
    rest = np.delete(t.matrix, i, axis=0).sum(axis=0)
    errors = [f"{where}: the CPD of {node!r}"
              + (f" column {column_label(t.parents, combos[j])}" if t.parents else "")
              + f" gives {state!r} probability 1; without it the column would be all zero "
              "(set that column first with set_cpd)"
              for j in np.flatnonzero(rest <= 0)]
    if errors:
        raise ModelError(errors)

    data = model_to_dict(model)
    spec = data["nodes"][node]
    spec["states"].remove(state)
    for column in _cpd_columns(spec):
        column.pop(state)
        total = sum(column.values())
        column.update({s: v / total for s, v in column.items()})
    for child in _children(model, node):
        columns = data["nodes"][child]["cpd"]
        columns[:] = [c for c in columns if c["given"][node] != state]
    key, _ = STATE_METADATA.get(node, (None, None))
    if key is not None:
        del data["metadata"][key][state]
    return _validated(data, where, [])


def _children(model: ClinicModel, node: str) -> list[str]:
    return [n for n in model.nodes if node in model.parents(n)]


def _cpd_columns(spec: dict) -> list[dict]:
    """A node's CPD columns in model-file data: ``{state: p}`` mappings to edit in place."""
    return [spec["cpd"]] if not spec["parents"] else [c["p"] for c in spec["cpd"]]


def _validated(data: dict, where: str, errors: list[str]) -> ClinicModel:
    """The model of ``data`` (validated as a model file is), or one error with ``errors``
    and every problem that validation finds."""
    try:
        new = model_from_dict(data, source=where)
    except ModelError as exc:
        errors += exc.errors
    if errors:
        raise ModelError(errors)
    return new
