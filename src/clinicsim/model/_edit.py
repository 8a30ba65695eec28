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
from collections.abc import Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .._errors import InvalidCPDError, ModelError, TargetWarning
from .._validate import shown
from ._limits import MAX_DEPTH, MAX_STATES, check_cells
from ._model import REQUIRED_NODES, cpd_matrix, topological_order
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

__all__ = ["NODE_METADATA", "STATE_METADATA", "Figure", "statement_nodes", "summed_out",
           "target_figures", "warn_moved_targets", "with_edge_added", "with_edge_removed",
           "with_node_added", "with_node_removed", "with_state_added", "with_state_removed"]

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


def _validated(data: dict, where: str, errors: list[str],
               cpd_errors: Sequence[str] = ()) -> ClinicModel:
    """The model of ``data`` (validated as a model file is), or one error with ``errors``,
    ``cpd_errors`` and every problem that validation finds: an :class:`InvalidCPDError`
    when a given CPD is at fault, else a :class:`ModelError`."""
    errors = [*errors, *cpd_errors]
    try:
        new = model_from_dict(data, source=where)
    except ModelError as exc:
        errors += exc.errors
    if errors:
        raise (InvalidCPDError if cpd_errors else ModelError)(errors)
    return new


# -- adding and removing nodes and edges --------------------------------------------------

NODE_METADATA = "nodes"  # metadata.nodes[NAME]: the entry add_node(metadata=...) gives a node
_UNREADABLE = object()  # a CPD that cannot be read: its problem is already named


def with_node_added(model: ClinicModel, name: str, states: Sequence[str], *,
                    parents: Sequence[str], cpd: object, metadata: object) -> ClinicModel:
    """A new model: ``model`` with the node ``name`` (see ``ClinicModel.add_node``)."""
    where = f"add_node({shown(name)})"
    if not isinstance(name, str) or not name:
        raise ModelError(f"{where}: the node's name must be a non-empty string")
    if name in model.nodes:
        raise ModelError(f"{where}: the model already has a node {name!r}; its nodes are "
                         f"{list(model.nodes)}")
    errors: list[str] = []
    cpd_errors: list[str] = []
    if isinstance(states, str) or not isinstance(states, Iterable):
        raise ModelError(f"{where}: states must be a list of state names; got {shown(states)}")
    if isinstance(states, Sized) and len(states) > MAX_STATES:  # before it is copied
        raise ModelError(f"{where}: {len(states):,} states; the limit is MAX_STATES = "
                         f"{MAX_STATES:,}")
    states = list(states)
    parents, readable = _parent_list(model, where, parents, errors)
    if metadata is not None and not isinstance(metadata, Mapping):
        errors.append(f"{where}: metadata must be a mapping (the node's entry in "
                      f"metadata.{NODE_METADATA}) or None; got {shown(metadata)}")
    elif metadata is not None:
        try:
            metadata = _plain(metadata, f"metadata.{NODE_METADATA}[{name!r}]")
        except ModelError as exc:
            errors += [f"{where}: {e}" for e in exc.errors]
            metadata = None
    data = model_to_dict(model)
    ordered = [n for n in model.nodes if n in parents]  # as model.cpd(name) will list them
    spec: dict[str, object] = {"states": states, "parents": ordered}
    data["nodes"][name] = spec
    if _well_formed(states):  # (validation names what is wrong with other states)
        spec["cpd"] = _cpd_spec(model, where, name, states, ordered,
                                cpd if readable else _UNREADABLE, cpd_errors)
    if isinstance(metadata, dict):  # a plain copy
        data["metadata"].setdefault(NODE_METADATA, {})[name] = metadata
    return _validated(data, where, errors, cpd_errors)


def with_node_removed(model: ClinicModel, name: str, cpds: object) -> ClinicModel:
    """A new model: ``model`` without the node ``name`` (see ``ClinicModel.remove_node``)."""
    where = f"remove_node({shown(name)})"
    _known(model, where, name)
    if name in REQUIRED_NODES:
        raise ModelError(f"{where}: {name!r} is a required node ({', '.join(REQUIRED_NODES)})")
    naming = [i for i, s in enumerate(model.targets) if name in statement_nodes(s)]
    errors = [f"{where}: the target {str(model.targets[i])!r} names {name!r}; restate the "
              "targets without it first (model = model.with_targets(...))" for i in naming]
    cpd_errors: list[str] = []
    cpds = {} if cpds is None else cpds
    if not isinstance(cpds, Mapping):
        raise ModelError(f"{where}: cpds must be a mapping child -> its new CPD; got "
                         f"{shown(cpds)}")
    children = _children(model, name)
    missing = [c for c in children if c not in cpds]
    if missing:
        errors.append(f"{where}: {name!r} is a parent of {missing}; give the new CPD of "
                      f"each, without {name!r} among its parents (cpds={{child: table}}), or "
                      f"first remove_edge({name!r}, child), which sums {name!r} out exactly")
    unknown = [c for c in cpds if c not in children]
    if unknown:
        errors.append(f"{where}: cpds= names {shown(unknown)}, which are not children of "
                      f"{name!r} {children}")
    data = model_to_dict(model)
    del data["nodes"][name]
    data["targets"] = [t for i, t in enumerate(data["targets"]) if i not in naming]
    for child in children:
        rest = [p for p in model.parents(child) if p != name]
        if child in cpds:
            _replace_cpd(model, data, where, child, rest, cpds[child], cpd_errors)
        else:  # refused above; summed out, so that validation finds every other problem
            matrix = summed_out(model, child, name).reshape(len(model.states(child)), -1)
            data["nodes"][child].update(parents=rest, cpd=_columns_spec(
                model, model.states(child), rest, matrix))
    extra = data["metadata"].get(NODE_METADATA)
    if isinstance(extra, dict) and name in extra:
        del extra[name]
        if not extra:
            del data["metadata"][NODE_METADATA]
    return _validated(data, where, errors, cpd_errors)


def with_edge_added(model: ClinicModel, parent: str, child: str, cpd: object) -> ClinicModel:
    """A new model: ``model`` with the edge ``parent -> child`` (see ``ClinicModel.add_edge``)."""
    where = f"add_edge({shown(parent)}, {shown(child)})"
    _known(model, where, parent, child)
    if parent in model.parents(child):
        raise ModelError(f"{where}: {parent!r} is already a parent of {child!r}")
    path = [parent] if parent == child else _path(model, child, parent)
    if path:
        raise ModelError(f"{where}: the edge would make the cycle "
                         f"{' -> '.join([parent, *path])}")
    cpd_errors: list[str] = []
    data = model_to_dict(model)
    _replace_cpd(model, data, where, child, [*model.parents(child), parent], cpd, cpd_errors)
    return _validated(data, where, [], cpd_errors)


def with_edge_removed(model: ClinicModel, parent: str, child: str,
                      cpd: object) -> ClinicModel:
    """A new model: ``model`` without the edge ``parent -> child`` (see
    ``ClinicModel.remove_edge``); without ``cpd``, the child's CPD is
    :func:`summed_out`."""
    where = f"remove_edge({shown(parent)}, {shown(child)})"
    _known(model, where, parent, child)
    if parent not in model.parents(child):
        raise ModelError(f"{where}: {parent!r} is not a parent of {child!r} "
                         f"{list(model.parents(child))}")
    cpd_errors: list[str] = []
    data = model_to_dict(model)
    if cpd is None:
        t = model.table(child)
        rest = [p for p in t.parents if p != parent]
        matrix = summed_out(model, child, parent).reshape(len(t.states), -1)
        data["nodes"][child].update(parents=rest, cpd=_columns_spec(model, t.states, rest,
                                                                      matrix))
    else:
        rest = [p for p in model.parents(child) if p != parent]
        _replace_cpd(model, data, where, child, rest, cpd, cpd_errors)
    return _validated(data, where, [], cpd_errors)


def summed_out(model: ClinicModel, child: str, parent: str) -> np.ndarray:
    """The CPD of ``child`` without ``parent``: P(child | others) = Σ_p P(child | p, others)
    P(p | others), ``others`` being the child's other parents, with P(p | others) from the
    model's exact inference (:meth:`~ClinicModel.query`). Where the others' combination has
    probability 0, P(p) stands in for P(p | others) (no record ever reads that column).
    An array ``(child's states, *the other parents' states)``, parents in model order."""
    t = model.table(child)
    k = t.parents.index(parent)
    others = [p for p in t.parents if p != parent]
    joint = model.query([parent, *others]).to_numpy().reshape(
        len(t.parent_states[k]), *(len(s) for p, s in zip(t.parents, t.parent_states,
                                                          strict=True) if p != parent))
    total = joint.sum(axis=0, keepdims=True)
    marginal = joint.reshape(len(joint), -1).sum(axis=1).reshape(
        (len(joint),) + (1,) * len(others))
    given = np.where(total > 0, joint / np.where(total > 0, total, 1), marginal)
    values = np.moveaxis(t.values, 1 + k, 1)  # (child, parent, *others)
    return np.einsum("cp...,p...->c...", values, given)


def statement_nodes(s: object) -> set[str]:
    """The nodes a target statement names: its node, its ``where`` columns, its ``over``
    (``diagnosis_category`` is the ``diagnosis`` node, ``even``'s ages ``age_group``)."""
    names = [getattr(s, "node", "age_group"), getattr(s, "over", None),
             *(c for c, _ in getattr(s, "where", ()))]
    return {node_of(n) for n in names if n is not None}


def _plain(value: object, path: str, depth: int = 0) -> object:
    """A copy of ``value`` as plain model-file data (mappings with string keys, lists,
    strings, finite numbers, booleans, None; numpy scalars as Python's), or a
    :class:`ModelError` naming the first place where it is not."""
    if depth > MAX_DEPTH:
        raise ModelError(f"{path} is nested more than {MAX_DEPTH} levels deep; the limit "
                         f"is MAX_DEPTH = {MAX_DEPTH}")
    if isinstance(value, np.generic) and not isinstance(value, (np.str_, np.bytes_)):
        value = value.item()
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not np.isfinite(value):
            raise ModelError(f"{path} is {value!r}, not a finite number")
        return value
    if isinstance(value, Mapping):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise ModelError(f"{path} has the key {shown(bad[0])}; keys must be strings")
        return {k: _plain(v, f"{path}[{k!r}]", depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    raise ModelError(f"{path} is a {type(value).__name__}; a model file holds mappings, "
                     "lists, strings, numbers and booleans")


def _known(model: ClinicModel, where: str, *nodes: object) -> None:
    unknown = [n for n in nodes if not isinstance(n, str) or n not in model.nodes]
    if unknown:
        raise ModelError(f"{where}: unknown node{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(map(shown, unknown))}; the model's nodes are "
                         f"{list(model.nodes)}")


def _parent_list(model: ClinicModel, where: str, parents: object,
                 errors: list[str]) -> tuple[list[str], bool]:
    """``parents`` as a list of the model's nodes, and whether a CPD can be read against
    them (none is unknown); problems appended to ``errors``."""
    if isinstance(parents, str) or not isinstance(parents, Iterable):
        errors.append(f"{where}: parents must be a list of the model's nodes; got "
                      f"{shown(parents)}")
        return [], False
    given = list(parents)
    unknown = [p for p in given if not isinstance(p, str) or p not in model.nodes]
    if unknown:
        errors.append(f"{where}: unknown parents {shown(unknown)}; the model's nodes are "
                      f"{list(model.nodes)}")
    twice = sorted({p for p in given if isinstance(p, str) and given.count(p) > 1})
    if twice:
        errors.append(f"{where}: parents {twice} are listed twice")
    known = [p for p in dict.fromkeys(p for p in given if isinstance(p, str))
             if p in model.nodes]
    return known, not unknown


def _well_formed(states: list) -> bool:
    """States that a CPD can be read against (validation names the faults of the others)."""
    return bool(states) and all(isinstance(s, str) and s for s in states) \
        and len(set(states)) == len(states)


def _replace_cpd(model: ClinicModel, data: dict, where: str, child: str,
                 parents: Sequence[str], cpd: object, errors: list[str]) -> None:
    """Set ``child``'s parents in ``data`` to ``parents`` and its CPD to ``cpd``, read
    against them in the order ``model.cpd(child)`` will have after the edit."""
    nodes = data["nodes"]
    graph = {n: [p for p in spec["parents"] if p in nodes] for n, spec in nodes.items()}
    graph[child] = list(parents)
    order, _ = topological_order(graph)
    ordered = sorted(parents, key=order.index)
    nodes[child].update(parents=ordered, cpd=_cpd_spec(model, where, child,
                                                       model.states(child), ordered, cpd,
                                                       errors))


def _cpd_spec(model: ClinicModel, where: str, node: str, states: Sequence[str],
              parents: Sequence[str], cpd: object, errors: list[str]) -> object:
    """``cpd`` (as ``set_cpd`` takes it) in model-file form, checked against ``states`` and
    ``parents``' states; its problems are appended to ``errors`` and an even stand-in is
    returned, so that validating the whole model still finds every other problem. ``cpd``
    ``_UNREADABLE``: the stand-in, no error."""
    parent_states = [model.states(p) for p in parents]
    too_big = check_cells(node, len(states), [len(s) for s in parent_states])
    if too_big:  # refused before any column is listed
        raise ModelError(f"{where}: {too_big}")
    size = int(np.prod([len(s) for s in parent_states]))
    matrix = np.full((len(states), size), 1 / len(states))
    if cpd is not _UNREADABLE:  # no table can be read (unknown parents, named already)
        try:
            matrix = cpd_matrix(node, cpd, states, parents, parent_states)
        except InvalidCPDError as exc:
            errors += [f"{where}: {e}" for e in exc.errors]
    return _columns_spec(model, states, parents, matrix)


def _columns_spec(model: ClinicModel, states: Sequence[str], parents: Sequence[str],
                  matrix: np.ndarray) -> object:
    """A CPD matrix ``(states, parent combinations)`` in model-file form."""
    if not parents:
        return {s: float(p) for s, p in zip(states, matrix[:, 0], strict=True)}
    combos = itertools.product(*(model.states(p) for p in parents))
    return [{"given": dict(zip(parents, combo, strict=True)),
             "p": {s: float(p) for s, p in zip(states, matrix[:, j], strict=True)}}
            for j, combo in enumerate(combos)]


def _path(model: ClinicModel, start: str, end: str) -> list[str]:
    """The nodes of a shortest directed path ``start -> ... -> end`` in the model, or []."""
    came: dict[str, str] = {start: start}
    frontier = [start]
    while frontier:
        node = frontier.pop(0)
        if node == end:
            path = [node]
            while path[-1] != start:
                path.append(came[path[-1]])
            return path[::-1]
        for child in _children(model, node):
            if child not in came:
                came[child] = node
                frontier.append(child)
    return []
