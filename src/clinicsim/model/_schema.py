"""The model-file schema <-> :class:`ClinicModel`: validation of plain data, and back.

Every problem in the data is gathered into one :class:`ModelError` whose ``errors`` name
node, column and value. Files list a node's parents in any order; the model holds them
in its topological order, aligned by label.
"""

from __future__ import annotations

import collections
import copy
import itertools
from typing import Any

import numpy as np

from .._errors import ModelError
from .._reference import MONTHS
from .._text import model_text_errors
from .._validate import shown
from ._calendar import MONTH_NODE, visit_groups
from ._codings import check_node_codings
from ._history import check_history
from ._limits import MAX_NAME_CHARS, check_cells, check_counts, check_shape, column_clashes
from ._metadata import check_metadata
from ._model import REQUIRED_NODES, ClinicModel, topological_order
from ._table import Table, check_column, column_label
from ._targets import parse_targets, statements_to_list, unreachable

__all__ = ["SCHEMA_VERSION", "model_from_dict", "model_to_dict"]

SCHEMA_VERSION = 1
TOP_KEYS = ("schema_version", "name", "description", "metadata", "targets", "history", "nodes")
NODE_KEYS = ("states", "parents", "cpd")


def model_to_dict(model: ClinicModel) -> dict[str, Any]:
    """The model as plain data (the schema of the YAML/JSON files).

    Examples
    --------
    >>> import clinicsim
    >>> from clinicsim.model import model_to_dict
    >>> data = model_to_dict(clinicsim.default_model())
    >>> data["schema_version"], list(data["nodes"])[:3]
    (1, ['gender', 'age_group', 'diagnosis'])
    """
    nodes: dict[str, Any] = {}
    for node in model.nodes:
        t = model.table(node)
        entry: dict[str, Any] = {"states": list(t.states), "parents": list(t.parents)}
        if not t.parents:
            entry["cpd"] = {s: float(p) for s, p in zip(t.states, t.values, strict=True)}
        else:
            matrix = t.matrix
            entry["cpd"] = [
                {"given": dict(zip(t.parents, combo, strict=True)),
                 "p": {s: float(p) for s, p in zip(t.states, matrix[:, j], strict=True)}}
                for j, combo in enumerate(itertools.product(*t.parent_states))
            ]
        nodes[node] = entry
    metadata = model.metadata
    # The model keeps its history section with its metadata (copies, edits and the
    # content key carry it); in the file it is a section of its own, written only when
    # the model has one (a model without it takes the defaults).
    history = metadata.pop("history", None)
    return {
        "schema_version": SCHEMA_VERSION,
        "name": model.name,
        "description": model.description,
        "metadata": metadata,
        "targets": statements_to_list(model.targets),
        **({"history": history} if history is not None else {}),
        "nodes": nodes,
    }


def model_from_dict(data: Any, source: str = "model", *, evaluate: bool = True) -> ClinicModel:
    """Validate plain data (the file schema) and build a :class:`ClinicModel`.

    ``evaluate=False`` skips evaluating the statements on the model (for the presets,
    whose statements the tests evaluate, so each start of the command is quicker).

    Examples
    --------
    >>> import clinicsim
    >>> from clinicsim.model import model_from_dict, model_to_dict
    >>> data = model_to_dict(clinicsim.default_model())
    >>> model_from_dict(data).nodes == clinicsim.default_model().nodes
    True
    """
    errors: list[str] = []
    if not isinstance(data, dict):
        raise ModelError(f"{source}: expected a mapping at the top level; "
                         f"got {type(data).__name__}")
    check_shape(data, source)
    text = model_text_errors(data)  # first: other messages would quote the text as it is
    if text:
        raise ModelError([f"{source}: {e}" for e in text])
    version = data.get("schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:  # not 1.0, True or "1"
        raise ModelError(f"{source}: unsupported schema_version {version!r}; "
                         f"this clinicsim reads {SCHEMA_VERSION}")
    nodes = data.get("nodes")
    if not isinstance(nodes, dict) or not nodes:
        raise ModelError(f"{source}: 'nodes' must be a mapping of node name -> definition")
    check_counts(nodes, source)
    errors += column_clashes(nodes)
    unknown = [k for k in data if k not in TOP_KEYS]
    if unknown:
        errors.append(f"unknown top-level entries {unknown}; a model file has {list(TOP_KEYS)}")
    for key in ("name", "description"):
        if not isinstance(data.get(key, ""), str):
            errors.append(f"{key!r} must be a string; got {data[key]!r}")
    errors += [f"required node {n!r} is missing" for n in REQUIRED_NODES if n not in nodes]
    states = _node_states(nodes, errors)

    graph: dict[str, list[str]] = {n: [] for n in nodes if isinstance(n, str) and n}
    for node in states:
        parents = nodes[node].get("parents") or []
        if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents) \
                or any(p not in nodes for p in parents) \
                or len(set(parents)) != len(parents) or node in parents:
            errors.append(f"node {node!r}: 'parents' must list other nodes once each; "
                          f"got {parents!r}")
            continue
        graph[node] = parents
    order, cyclic = topological_order(graph)
    if cyclic:
        errors.append(f"the network has a cycle through {', '.join(sorted(cyclic))}")
    tables: dict[str, Table] = {}
    for node in (n for n in order if n in states):
        parents = graph[node]
        if any(p not in states for p in parents):
            continue  # the parent's own error is reported
        too_big = check_cells(node, len(states[node]), [len(states[p]) for p in parents])
        if too_big:
            errors.append(too_big)
            continue
        values = _parse_cpd(node, nodes[node].get("cpd"), states[node], parents, states, errors)
        if values is not None:
            canonical = tuple(sorted(parents, key=order.index))
            axes = [0, *(1 + parents.index(p) for p in canonical)]
            tables[node] = Table(node, tuple(states[node]), canonical,
                                 tuple(tuple(states[p]) for p in canonical),
                                 values.transpose(axes))

    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        errors.append("'metadata' must be a mapping (age_bands, diagnoses, visit_window)")
        metadata = {}
    if "history" in metadata:
        errors.append("metadata.history: the history model is a section of its own at the top "
                      "level (history:), not part of metadata")
    metadata = check_metadata(copy.deepcopy(metadata), states, errors)  # the caller keeps theirs
    further = [n for n in states if n not in REQUIRED_NODES and n != MONTH_NODE]
    check_node_codings(metadata.get("nodes"), states, further, errors)
    if data.get("history") is not None:
        bands = metadata.get("age_bands")
        metadata["history"] = check_history(
            data["history"], bands if isinstance(bands, dict) else {}, errors)
    targets = parse_targets(data.get("targets"), states, errors)
    if errors:
        raise ModelError([f"{source}: {e}" for e in errors])
    assert targets is not None
    model = ClinicModel(tables, metadata=metadata, targets=targets,
                        name=str(data.get("name", "")),
                        description=str(data.get("description", "")))
    try:  # the calendar needs the whole valid model: window, holidays, month CPD
        visit_groups(model)
    except ModelError as exc:
        raise ModelError([f"{source}: {e}" for e in exc.errors]) from None
    errors = unreachable(model) if evaluate else []  # they need the CPDs: checked last
    if errors:
        raise ModelError([f"{source}: {e}" for e in errors])
    return model


def _node_states(nodes: dict, errors: list[str]) -> dict[str, list[str]]:
    """Each well-formed node's states; the problems of the others are appended."""
    states: dict[str, list[str]] = {}
    for node, spec in nodes.items():
        if not isinstance(node, str) or not node:
            errors.append(f"node names must be non-empty strings; got {shown(node)}")
            continue
        if len(node) > MAX_NAME_CHARS:
            errors.append(f"node {shown(node)}: the name has {len(node):,} characters; the "
                          f"limit is MAX_NAME_CHARS = {MAX_NAME_CHARS}")
            continue
        if not isinstance(spec, dict):
            errors.append(f"node {node!r}: expected a mapping with states, parents, cpd")
            continue
        unknown = [k for k in spec if k not in NODE_KEYS]
        if unknown:
            errors.append(f"node {node!r}: unknown entries {unknown}; a node has {list(NODE_KEYS)}")
        st = spec.get("states")
        if not isinstance(st, list) or not st:
            errors.append(f"node {node!r}: 'states' must be a non-empty list")
            continue
        bad = [s for s in st if not isinstance(s, str) or not s]
        if bad:
            errors.append(f"node {node!r}: states must be non-empty strings; got "
                          f"{shown(bad)} (quote them in YAML, e.g. 'True')")
            continue
        long = [s for s in st if len(s) > MAX_NAME_CHARS]
        if long:
            errors.append(f"node {node!r}: state {shown(long[0])} has {len(long[0]):,} "
                          f"characters; the limit is MAX_NAME_CHARS = {MAX_NAME_CHARS}")
            continue
        dup = sorted({s for s, k in collections.Counter(st).items() if k > 1})
        if dup:
            errors.append(f"node {node!r}: duplicate states {dup}")
            continue
        if node == MONTH_NODE and sorted(st) != sorted(MONTHS):
            errors.append(f"node {node!r}: states must be the twelve months {list(MONTHS)} "
                          f"(in any order); got {st}")
            continue
        if node == "follow_up" and sorted(st) != ["False", "True"]:
            errors.append(f"node 'follow_up': states must be 'True' and 'False'; got {st}")
            continue
        states[node] = st
    return states


def _parse_cpd(node, spec, st, parents, states, errors) -> np.ndarray | None:
    """The CPD as an array of shape ``(len(st), *cards of parents)`` in the file's parent
    order, aligned by label; or None with every problem appended."""
    n_before = len(errors)
    if not parents:
        if not isinstance(spec, dict):
            errors.append(f"CPD for {node!r}: a root node's cpd is a mapping state -> probability")
            return None
        return _probabilities(node, "", spec, st, errors)
    if not isinstance(spec, list):
        errors.append(f"CPD for {node!r}: cpd must be a list of {{given: ..., p: ...}} columns")
        return None
    combos = list(itertools.product(*(states[p] for p in parents)))
    index = {c: j for j, c in enumerate(combos)}
    table = np.full((len(st), len(combos)), np.nan)
    seen: set[tuple[str, ...]] = set()
    for k, column in enumerate(spec):
        given = column.get("given") if isinstance(column, dict) else None
        if not isinstance(given, dict) or set(given) != set(parents):
            errors.append(f"CPD for {node!r} column #{k + 1}: 'given' must name exactly "
                          f"the parents {parents}; got {given!r}")
            continue
        combo = tuple(given[p] for p in parents)
        label = column_label(tuple(parents), tuple(map(str, combo)))
        if not all(isinstance(c, str) for c in combo) or combo not in index:
            unknown = [f"{p}={given[p]!r}" for p in parents if given[p] not in states[p]]
            errors.append(f"CPD for {node!r} column {label}: "
                          f"unknown parent state {', '.join(unknown)}")
            continue
        if combo in seen:
            errors.append(f"CPD for {node!r} column {label} appears twice")
            continue
        seen.add(combo)
        values = _probabilities(node, label, column.get("p"), st, errors)
        if values is not None:
            table[:, index[combo]] = values
    missing = [column_label(tuple(parents), c) for c in combos if c not in seen]
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        errors.append(f"CPD for {node!r} is missing columns {', '.join(missing[:3])}{more}")
    if len(errors) > n_before:
        return None
    return table.reshape(len(st), *(len(states[p]) for p in parents))


def _probabilities(node, label, spec, st, errors) -> np.ndarray | None:
    """One column ``{state: p}`` as an array in ``st``'s order, or None with errors added."""
    where = f"CPD for {node!r}" + (f" column {label}" if label else "")
    if not isinstance(spec, dict):
        errors.append(f"{where}: expected a mapping state -> probability")
        return None
    missing = [s for s in st if s not in spec]
    unknown = [s for s in spec if s not in st]
    if missing or unknown:
        errors.append(f"{where}: missing states {missing}, unknown states {unknown}")
        return None
    values, problems = check_column(node, label, st, [spec[s] for s in st])
    errors += problems
    return values
