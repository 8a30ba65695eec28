"""Model files: YAML/JSON (ours, with metadata and targets) and BIF/XMLBIF (pgmpy).

Loading never executes anything from a file (``yaml.safe_load``) and every problem in a
file is gathered into one :class:`ModelError` whose ``errors`` name node, column and value.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import holidays
import networkx as nx
import numpy as np
import yaml
from pgmpy.factors.discrete import TabularCPD
from pgmpy.models import DiscreteBayesianNetwork

from .._errors import ModelError
from .._io import atomic_path
from ._model import (
    CATEGORIES,
    DEFAULT_COUNTRY,
    MONTH_NODE,
    MONTHS,
    REQUIRED_NODES,
    SUM_TOLERANCE,
    ClinicModel,
    Targets,
    check_column,
    column_label,
)

__all__ = ["PRESETS", "default_model", "load_model", "model_from_dict", "model_to_dict", "save_model"]

SCHEMA_VERSION = 1
PRESETS = {"default": "default.yaml", "us-office-visits": "us_office_visits.yaml"}
MAX_FILE_BYTES = 20 * 2**20  # a model is a few kB; refuse to parse anything enormous
SUFFIXES = (".yaml", ".yml", ".json", ".bif", ".xmlbif")


def default_model() -> ClinicModel:
    """The brief's clinic: the model shipped in ``clinicsim/model/data/default.yaml``."""
    return load_model("default")


def load_model(source: str | os.PathLike[str]) -> ClinicModel:
    """Load a model from a file (by suffix) or a preset name.

    ``.yaml``/``.yml``/``.json`` are clinicsim model files; ``.bif``/``.xmlbif`` are read
    through pgmpy and take the default model's metadata and targets. A name without a
    suffix that is not a file is a preset: ``"default"`` (the brief's clinic) or
    ``"us-office-visits"`` (the same clinic with NAMCS 2019 primary-care ages and sexes).
    """
    path = Path(source)
    if str(source) in PRESETS and not path.exists():
        text = resources.files(__package__).joinpath("data", PRESETS[str(source)]).read_text()
        return model_from_dict(yaml.safe_load(text), source=f"preset {str(source)!r}")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ModelError(f"{str(path)!r}: unknown model format {suffix or '(no suffix)'!r}; "
                         f"use one of {', '.join(SUFFIXES)} or a preset {sorted(PRESETS)}")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ModelError(f"cannot read model file {str(path)!r}: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise ModelError(f"model file {str(path)!r} is {size / 2**20:.0f} MiB; "
                         f"the limit is {MAX_FILE_BYTES // 2**20} MiB")
    if suffix in (".bif", ".xmlbif"):
        return _load_pgmpy(path, suffix)
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot parse model file {str(path)!r}: {first}") from None
    return model_from_dict(data, source=str(path))


def save_model(model: ClinicModel, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` by suffix, atomically."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ModelError(f"{str(path)!r}: unknown model format {suffix or '(no suffix)'!r}; "
                         f"use one of {', '.join(SUFFIXES)}")
    with atomic_path(path) as tmp:
        if suffix == ".bif":
            from pgmpy.readwrite import BIFWriter

            BIFWriter(model.network).write(str(tmp))
        elif suffix == ".xmlbif":
            from pgmpy.readwrite import XMLBIFWriter

            XMLBIFWriter(model.network).write(str(tmp))
        elif suffix == ".json":
            tmp.write_text(json.dumps(model_to_dict(model), indent=1) + "\n")
        else:
            tmp.write_text(yaml.safe_dump(model_to_dict(model), sort_keys=False, width=100))


def model_to_dict(model: ClinicModel) -> dict[str, Any]:
    """The model as plain data (the schema of the YAML/JSON files)."""
    t = model.targets
    nodes: dict[str, Any] = {}
    for node in model.nodes:
        table = model.cpd(node)
        parents = list(model.parents(node))
        entry: dict[str, Any] = {"states": model.states(node), "parents": parents}
        if not parents:
            entry["cpd"] = {s: float(p) for s, p in table["p"].items()}
        else:
            entry["cpd"] = [
                {"given": dict(zip(parents, combo if isinstance(combo, tuple) else (combo,))),
                 "p": {s: float(p) for s, p in table[combo].items()}}
                for combo in table.columns
            ]
        nodes[node] = entry
    return {
        "schema_version": SCHEMA_VERSION,
        "name": model.name,
        "description": model.description,
        "metadata": model.metadata,
        "targets": {
            "gender": {"shares": dict(t.gender_shares), "margin": t.gender_margin},
            "follow_up": {"rate": t.follow_up_rate, "margin": t.follow_up_margin},
            "follow_up_priority": {"categories": list(t.priority_categories),
                                   "min_difference": t.priority_min_difference},
            "follow_up_age_trend": {"category": t.trend_category},
            "age": {"min": t.age_min, "max": t.age_max, "margin": t.age_margin},
        },
        "nodes": nodes,
    }


# ---------------------------------------------------------------------------------------
# Validation: gather every problem, then raise once.


def model_from_dict(data: Any, source: str = "model") -> ClinicModel:
    """Validate plain data (the file schema) and build a :class:`ClinicModel`."""
    errors: list[str] = []
    if not isinstance(data, dict):
        raise ModelError(f"{source}: expected a mapping at the top level; got {type(data).__name__}")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ModelError(f"{source}: unsupported schema_version {version!r}; "
                         f"this clinicsim reads {SCHEMA_VERSION}")
    nodes = data.get("nodes")
    if not isinstance(nodes, dict) or not nodes:
        raise ModelError(f"{source}: 'nodes' must be a mapping of node name -> definition")
    errors += [f"required node {n!r} is missing" for n in REQUIRED_NODES if n not in nodes]

    states: dict[str, list[str]] = {}
    for node, spec in nodes.items():
        if not isinstance(spec, dict):
            errors.append(f"node {node!r}: expected a mapping with states, parents, cpd")
            continue
        st = spec.get("states")
        if not isinstance(st, list) or not st:
            errors.append(f"node {node!r}: 'states' must be a non-empty list")
            continue
        bad = [s for s in st if not isinstance(s, str) or not s]
        if bad:
            errors.append(f"node {node!r}: states must be non-empty strings; got {bad!r} "
                          "(quote them in YAML, e.g. 'True')")
            continue
        dup = sorted({s for s in st if st.count(s) > 1})
        if dup:
            errors.append(f"node {node!r}: duplicate states {dup}")
            continue
        if node == MONTH_NODE and sorted(st) != sorted(MONTHS):
            errors.append(f"node {node!r}: states must be the twelve months {list(MONTHS)} "
                          f"(in any order); got {st}")
            continue
        states[node] = st

    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    cpds: list[TabularCPD] = []
    for node, st in states.items():
        parents = nodes[node].get("parents") or []
        if not isinstance(parents, list) or any(p not in nodes for p in parents) \
                or len(set(parents)) != len(parents) or node in parents:
            errors.append(f"node {node!r}: 'parents' must list other nodes once each; got {parents!r}")
            continue
        graph.add_edges_from((p, node) for p in parents)
        if any(p not in states for p in parents):
            continue  # the parent's own error is reported
        values = _parse_cpd(node, nodes[node].get("cpd"), st, parents, states, errors)
        if values is not None:
            cpds.append(TabularCPD(
                node, len(st), values, evidence=parents or None,
                evidence_card=[len(states[p]) for p in parents] or None,
                state_names={node: st, **{p: states[p] for p in parents}},
            ))
    if not nx.is_directed_acyclic_graph(graph):
        cycle = " -> ".join(e[0] for e in nx.find_cycle(graph)) 
        errors.append(f"the network has a cycle: {cycle}")

    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        errors.append("'metadata' must be a mapping (age_bands, diagnoses, visit_window)")
        metadata = {}
    metadata = _check_metadata(metadata, states, errors)
    targets = _parse_targets(data.get("targets"), states, errors)
    if errors:
        raise ModelError([f"{source}: {e}" for e in errors])

    network = DiscreteBayesianNetwork()
    network.add_nodes_from(nodes)
    network.add_edges_from(graph.edges)
    network.add_cpds(*cpds)
    model = ClinicModel(network, metadata=metadata, targets=targets,
                        name=str(data.get("name", "")), description=str(data.get("description", "")))
    # The calendar needs the whole valid model (window, holidays, month CPD); simulate
    # imports model, so the import is deferred to here.
    from ..simulate._dates import VisitDates

    try:
        VisitDates(model)
    except ModelError as exc:
        raise ModelError([f"{source}: {e}" for e in exc.errors]) from None
    return model


def _parse_cpd(node, spec, st, parents, states, errors) -> np.ndarray | None:
    n_before = len(errors)
    if not parents:
        if not isinstance(spec, dict):
            errors.append(f"CPD for {node!r}: a root node's cpd is a mapping state -> probability")
            return None
        values = _probabilities(node, "", spec, st, errors)
        if values is None:
            return None
        errors += check_column(node, "", values)
        return values.reshape(-1, 1) if len(errors) == n_before else None
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
        if combo not in index:
            unknown = [f"{p}={given[p]!r}" for p in parents if given[p] not in states[p]]
            errors.append(f"CPD for {node!r} column {label}: unknown parent state {', '.join(unknown)}")
            continue
        if combo in seen:
            errors.append(f"CPD for {node!r} column {label} appears twice")
            continue
        seen.add(combo)
        values = _probabilities(node, f" column {label}", column.get("p"), st, errors)
        if values is not None:
            errors += check_column(node, label, values)
            table[:, index[combo]] = values
    missing = [column_label(tuple(parents), c) for c in combos if c not in seen]
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        errors.append(f"CPD for {node!r} is missing columns {', '.join(missing[:3])}{more}")
    return table if len(errors) == n_before else None


def _probabilities(node, where, spec, st, errors) -> np.ndarray | None:
    if not isinstance(spec, dict):
        errors.append(f"CPD for {node!r}{where}: expected a mapping state -> probability")
        return None
    missing = [s for s in st if s not in spec]
    unknown = [s for s in spec if s not in st]
    if missing or unknown:
        errors.append(f"CPD for {node!r}{where}: missing states {missing}, unknown states {unknown}")
        return None
    bad = {s: v for s, v in spec.items() if isinstance(v, bool) or not isinstance(v, (int, float))}
    if bad:
        s, v = next(iter(bad.items()))
        errors.append(f"CPD for {node!r}{where}: probability of {s!r} must be a number; got {v!r}")
        return None
    return np.array([float(spec[s]) for s in st])


def _check_metadata(meta: dict, states: dict[str, list[str]], errors: list[str]) -> dict:
    bands = meta.get("age_bands")
    ages = states.get("age_group", [])
    if not isinstance(bands, dict) or sorted(map(str, bands)) != sorted(ages):
        errors.append(f"metadata.age_bands must give [min, max] for each age_group state {ages}; "
                      f"got {sorted(map(str, bands)) if isinstance(bands, dict) else bands!r}")
    else:
        spans = []
        for band in ages:
            span = bands[band]
            if (not isinstance(span, list) or len(span) != 2
                    or not all(isinstance(x, int) and not isinstance(x, bool) for x in span)):
                errors.append(f"metadata.age_bands[{band!r}] must be [min, max] integers; got {span!r}")
            elif not 0 <= span[0] <= span[1] <= 130:
                errors.append(f"metadata.age_bands[{band!r}] = {span} is reversed or outside 0-130")
            else:
                spans.append((span[0], span[1], band))
        spans.sort()
        for (lo1, hi1, b1), (lo2, _, b2) in zip(spans, spans[1:]):
            if lo2 <= hi1:
                errors.append(f"metadata.age_bands {b1!r} and {b2!r} overlap")
            elif lo2 > hi1 + 1:
                errors.append(f"metadata.age_bands leave a gap between {b1!r} and {b2!r} "
                              f"(ages {hi1 + 1}-{lo2 - 1})")
    dx = meta.get("diagnoses")
    dx_states = states.get("diagnosis", [])
    if not isinstance(dx, dict) or sorted(dx) != sorted(dx_states):
        errors.append("metadata.diagnoses must give {code, category} for each diagnosis state")
    else:
        for d in dx_states:
            m = dx[d]
            if not isinstance(m, dict) or m.get("category") not in CATEGORIES or not m.get("code"):
                errors.append(f"metadata.diagnoses[{d!r}] needs a code and a category in "
                              f"{list(CATEGORIES)}; got {m!r}")
    window = meta.get("visit_window")
    try:
        start = date.fromisoformat(str(window["start"]))
        end = date.fromisoformat(str(window["end"]))
        weights = [float(w) for w in window.get("weekday_weights", [1.0] * 7)]
    except (TypeError, KeyError, ValueError) as exc:
        errors.append(f"metadata.visit_window needs ISO dates start and end and optional "
                      f"weekday_weights; {exc}")
    else:
        if end < start:
            errors.append(f"metadata.visit_window ends ({end}) before it starts ({start})")
        if len(weights) != 7 or min(weights) < 0 or sum(weights) <= 0 \
                or not all(map(math.isfinite, weights)):
            errors.append(f"metadata.visit_window.weekday_weights must be 7 non-negative numbers "
                          f"(Mon..Sun), not all zero; got {weights}")
        holiday = window.get("holiday_weight", 0.0)
        if isinstance(holiday, bool) or not isinstance(holiday, (int, float)) \
                or not 0 <= holiday < math.inf:
            errors.append(f"metadata.visit_window.holiday_weight must be a non-negative number "
                          f"(it multiplies a public holiday's weekday weight); got {holiday!r}")
    country = meta.get("country", DEFAULT_COUNTRY)
    if not isinstance(country, str) or country not in holidays.list_supported_countries():
        errors.append(f"metadata.country must be a country code that the holidays package "
                      f"knows (ISO 3166-1 alpha-2, e.g. US, GB, DE); got {country!r}")
    days = meta.get("follow_up_days")
    for cat in CATEGORIES:
        span = days.get(cat) if isinstance(days, dict) else None
        if not (isinstance(span, list) and len(span) == 2 and all(isinstance(x, int) for x in span)
                and 1 <= span[0] <= span[1]):
            errors.append(f"metadata.follow_up_days[{cat!r}] must be [min, max] days >= 1; got {span!r}")
    return meta


def _parse_targets(spec: Any, states: dict[str, list[str]], errors: list[str]) -> Targets | None:
    try:
        shares = {str(k): float(v) for k, v in spec["gender"]["shares"].items()}
        targets = Targets(
            gender_shares=shares,
            gender_margin=float(spec["gender"]["margin"]),
            follow_up_rate=float(spec["follow_up"]["rate"]),
            follow_up_margin=float(spec["follow_up"]["margin"]),
            priority_categories=tuple(spec["follow_up_priority"]["categories"]),
            priority_min_difference=float(spec["follow_up_priority"]["min_difference"]),
            trend_category=str(spec["follow_up_age_trend"]["category"]),
            age_min=int(spec["age"]["min"]),
            age_max=int(spec["age"]["max"]),
            age_margin=float(spec["age"]["margin"]),
        )
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        errors.append(f"targets: missing or malformed entry {exc}; see the default model's targets")
        return None
    if "gender" in states and sorted(shares) != sorted(states["gender"]):
        errors.append(f"targets.gender.shares must name the gender states {states['gender']}")
    if abs(sum(shares.values()) - 1) > SUM_TOLERANCE or min(shares.values()) < 0:
        errors.append(f"targets.gender.shares sum to {sum(shares.values()):.12g}, not 1")
    if not 0 <= targets.follow_up_rate <= 1:
        errors.append(f"targets.follow_up.rate must be in [0, 1]; got {targets.follow_up_rate}")
    for name in ("gender_margin", "follow_up_margin", "age_margin"):
        if not 0 < getattr(targets, name) < 1:
            errors.append(f"targets: {name} must be in (0, 1); got {getattr(targets, name)}")
    unknown = [c for c in (*targets.priority_categories, targets.trend_category) if c not in CATEGORIES]
    if unknown:
        errors.append(f"targets: unknown diagnosis categories {unknown}; use {list(CATEGORIES)}")
    return targets


# ---------------------------------------------------------------------------------------
# BIF / XMLBIF: the network from pgmpy, metadata and targets from the default model.

_BAND = re.compile(r"^(\d+)\D+(\d+)$")


def _load_pgmpy(path: Path, suffix: str) -> ClinicModel:
    from pgmpy.readwrite import BIFReader, XMLBIFReader

    try:
        reader = BIFReader(str(path)) if suffix == ".bif" else XMLBIFReader(str(path))
        network = reader.get_model()
    except Exception as exc:  # pgmpy raises anything from pyparsing/ElementTree errors to KeyError
        raise ModelError(f"cannot parse {suffix[1:].upper()} file {str(path)!r}: "
                         f"{type(exc).__name__}: {exc}") from None
    defaults = model_to_dict(default_model())
    nodes = {}
    for node in network.nodes():
        cpd = network.get_cpds(node)
        if cpd is None:
            nodes[node] = {"states": [], "parents": []}
            continue
        parents = list(cpd.variables[1:])
        st = [str(s) for s in cpd.state_names[node]]
        values = cpd.get_values()
        if parents:
            combos = itertools.product(*(map(str, cpd.state_names[p]) for p in parents))
            spec: Any = [{"given": dict(zip(parents, c)), "p": dict(zip(st, map(float, values[:, j])))}
                         for j, c in enumerate(combos)]
        else:
            spec = dict(zip(st, map(float, values[:, 0])))
        nodes[node] = {"states": st, "parents": parents, "cpd": spec}
    meta = defaults["metadata"]
    bands = {}
    for band in nodes.get("age_group", {}).get("states", []):
        match = _BAND.match(band)
        bands[band] = [int(match[1]), int(match[2])] if match else band
    meta["age_bands"] = bands
    other = {"code": "R69", "category": "other"}  # R69: illness, unspecified
    meta["diagnoses"] = {d: meta["diagnoses"].get(d, other)
                         for d in nodes.get("diagnosis", {}).get("states", [])}
    return model_from_dict(
        {**defaults, "name": path.stem, "description": f"read from {path.name}", "nodes": nodes},
        source=str(path),
    )
