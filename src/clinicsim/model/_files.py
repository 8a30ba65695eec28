"""Model files: YAML/JSON (ours, with metadata and targets) and BIF/XMLBIF (pgmpy).

Loading never executes anything from a file (``yaml.safe_load``) and every problem in a
file is gathered into one :class:`ModelError` whose ``errors`` name node, column and value.
"""

from __future__ import annotations

import copy
import functools
import dataclasses
import itertools
import json
import math
import os
import re
from collections.abc import Hashable
from datetime import date, datetime
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
from .._io import atomic_path, input_file
from ._model import (
    CATEGORIES,
    DEFAULT_COUNTRY,
    MONTH_NODE,
    MONTHS,
    REQUIRED_NODES,
    SUM_TOLERANCE,
    ClinicModel,
    Targets,
    as_probability,
    check_column,
    column_label,
)
from ._treatments import UNCODED, check_treatments

__all__ = ["PRESETS", "default_model", "load_model", "model_from_dict", "model_to_dict", "save_model"]

SCHEMA_VERSION = 1
PRESETS = {"default": "default.yaml", "us-office-visits": "us_office_visits.yaml"}
# The default model is 70 kB; PyYAML needs about 1 s and 40 MB per MiB, so 4 MiB leaves
# room for big hand-made models while a stray 100 MB file is refused before it is read.
MAX_FILE_BYTES = 4 * 2**20
SUFFIXES = (".yaml", ".yml", ".json", ".bif", ".xmlbif")
TOP_KEYS = ("schema_version", "name", "description", "metadata", "targets", "nodes")
NODE_KEYS = ("states", "parents", "cpd")
# pgmpy's XMLBIF writer silently rewrites other characters to "_" (and BIF cannot hold
# commas or quotes), so names outside this set would not survive a round trip.
_PGMPY_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def default_model() -> ClinicModel:
    """The brief's clinic: the model shipped in ``clinicsim/model/data/default.yaml``."""
    return load_model("default")


@functools.cache
def shared_default_model() -> ClinicModel:
    """The default model, parsed once, for code that only reads it (samplers copy it)."""
    return default_model()


def load_model(source: str | os.PathLike[str]) -> ClinicModel:
    """Load a model from a file (by suffix) or a preset name.

    ``.yaml``/``.yml``/``.json`` are clinicsim model files; ``.bif``/``.xmlbif`` are read
    through pgmpy and take the default model's metadata and targets. A name without a
    suffix that is not a file is a preset: ``"default"`` (the brief's clinic) or
    ``"us-office-visits"`` (the same clinic with NAMCS 2019 primary-care ages and sexes).
    """
    if not isinstance(source, (str, os.PathLike)):
        raise ModelError(f"model file path must be a str or os.PathLike; got {source!r}")
    path = Path(source)
    if str(source) in PRESETS and not path.exists():
        text = resources.files(__package__).joinpath("data", PRESETS[str(source)]).read_text()
        return model_from_dict(yaml.load(text, Loader=_YamlLoader), source=f"preset {str(source)!r}")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ModelError(f"{str(path)!r}: unknown model format {suffix or '(no suffix)'!r}; "
                         f"use one of {', '.join(SUFFIXES)} or a preset {sorted(PRESETS)}")
    input_file(path, "model file", MAX_FILE_BYTES, ModelError)
    if suffix in (".bif", ".xmlbif"):
        return _load_pgmpy(path, suffix)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ModelError(f"cannot read model file {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ModelError(f"cannot parse model file {str(path)!r}: not UTF-8 text "
                         f"(byte {exc.start})") from None
    try:
        data = (json.loads(text, object_pairs_hook=_json_object) if suffix == ".json"
                else yaml.load(text, Loader=_YamlLoader))  # noqa: S506 -- a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ModelError(f"cannot parse model file {str(path)!r}: "
                         f"{exc.problem or exc.context}{where}") from None
    except (ValueError, yaml.YAMLError) as exc:
        raise ModelError(f"cannot parse model file {str(path)!r}: {exc}") from None
    return model_from_dict(data, source=str(path))


class _YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """``yaml.safe_load``'s loader (libyaml's when available) that refuses duplicate keys.

    PyYAML keeps the last of two equal keys, so a hand-edited file with ``male:`` twice
    would silently lose a value. Like ``SafeLoader`` it constructs no Python objects.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<: *anchor" merges may be overridden on purpose
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_YamlDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's, when available: 10x faster


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValueError(f"duplicate key {twice[0]!r}")
    return dict(pairs)


def save_model(model: ClinicModel, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` by suffix, atomically.

    The whole file is rendered in memory first, so a model that cannot be written in the
    format is refused before anything touches the disk.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ModelError(f"model file path must be a str or os.PathLike; got {path!r}")
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        raise ModelError(f"{str(path)!r}: unknown model format {suffix or '(no suffix)'!r}; "
                         f"use one of {', '.join(SUFFIXES)}")
    if target.is_dir():
        raise ModelError(f"cannot write model file {str(path)!r}: it is a folder")
    if suffix in (".bif", ".xmlbif"):
        from pgmpy.readwrite import BIFWriter, XMLBIFWriter

        bad = [f"node {n!r}" for n in model.nodes if not _PGMPY_NAME.match(n)]
        bad += [f"state {s!r} of {n!r}" for n in model.nodes for s in model.states(n)
                if not _PGMPY_NAME.match(s)]
        if bad:
            raise ModelError(f"cannot write {str(path)!r}: {suffix[1:].upper()} names must be "
                             f"letters, digits and '_' to survive a round trip; "
                             f"{', '.join(bad[:5])}" + (" and more" if len(bad) > 5 else "")
                             + "; save as .yaml or .json instead")
        writer = BIFWriter if suffix == ".bif" else XMLBIFWriter
        text = str(writer(model.network))
    elif suffix == ".json":
        try:
            text = json.dumps(model_to_dict(model), indent=1, allow_nan=False) + "\n"
        except (TypeError, ValueError) as exc:
            raise ModelError(f"cannot write {str(path)!r} as JSON: {exc}") from None
    else:
        try:
            text = yaml.dump(model_to_dict(model), Dumper=_YamlDumper, sort_keys=False, width=100)
        except yaml.YAMLError as exc:
            raise ModelError(f"cannot write {str(path)!r} as YAML: {exc}") from None
    with atomic_path(path, what="model file", error=ModelError) as tmp:
        tmp.write_text(text, encoding="utf-8")


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
            **({"age": {"min": t.age_min, "max": t.age_max, "margin": t.age_margin}}
               if t.even_ages else {}),
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
    if type(version) is not int or version != SCHEMA_VERSION:  # not 1.0, True or "1"
        raise ModelError(f"{source}: unsupported schema_version {version!r}; "
                         f"this clinicsim reads {SCHEMA_VERSION}")
    nodes = data.get("nodes")
    if not isinstance(nodes, dict) or not nodes:
        raise ModelError(f"{source}: 'nodes' must be a mapping of node name -> definition")
    unknown = [k for k in data if k not in TOP_KEYS]
    if unknown:
        errors.append(f"unknown top-level entries {unknown}; a model file has {list(TOP_KEYS)}")
    for key in ("name", "description"):
        if not isinstance(data.get(key, ""), str):
            errors.append(f"{key!r} must be a string; got {data[key]!r}")
    errors += [f"required node {n!r} is missing" for n in REQUIRED_NODES if n not in nodes]

    states: dict[str, list[str]] = {}
    for node, spec in nodes.items():
        if not isinstance(node, str) or not node:
            errors.append(f"node names must be non-empty strings; got {node!r}")
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
        if node == "follow_up" and sorted(st) != ["False", "True"]:
            errors.append(f"node 'follow_up': states must be 'True' and 'False'; got {st}")
            continue
        states[node] = st

    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    cpds: list[TabularCPD] = []
    for node, st in states.items():
        parents = nodes[node].get("parents") or []
        if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents) \
                or any(p not in nodes for p in parents) \
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
    metadata = _check_metadata(copy.deepcopy(metadata), states, errors)  # the caller keeps theirs
    targets = _parse_targets(data.get("targets"), states, errors)
    if errors:
        raise ModelError([f"{source}: {e}" for e in errors])
    if not targets.even_ages:
        spans = metadata["age_bands"].values()
        targets = dataclasses.replace(targets, age_min=min(lo for lo, _ in spans),
                                      age_max=max(hi for _, hi in spans))

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
        return None if values is None else values.reshape(-1, 1)
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
            errors.append(f"CPD for {node!r} column {label}: unknown parent state {', '.join(unknown)}")
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
    return table if len(errors) == n_before else None


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


def _check_metadata(meta: dict, states: dict[str, list[str]], errors: list[str]) -> dict:
    bands = meta.get("age_bands")
    ages = states.get("age_group", [])
    if not isinstance(bands, dict) or set(bands) != set(ages):
        errors.append(f"metadata.age_bands must give [min, max] for each age_group state {ages}; "
                      f"got {list(bands) if isinstance(bands, dict) else bands!r}")
    else:
        spans = []
        for band in ages:
            span = bands[band]
            if not _int_pair(span):
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
    if not isinstance(dx, dict) or set(dx) != set(dx_states):
        given = list(dx) if isinstance(dx, dict) else []
        errors.append("metadata.diagnoses must give {code, category} for each diagnosis state; "
                      f"missing {[d for d in dx_states if d not in given]}, "
                      f"unknown {[d for d in given if d not in dx_states]}")
    else:
        for d in dx_states:
            m = dx[d]
            if not isinstance(m, dict) or m.get("category") not in CATEGORIES \
                    or not isinstance(m.get("code"), str) or not m["code"]:
                errors.append(f"metadata.diagnoses[{d!r}] needs a code and a category in "
                              f"{list(CATEGORIES)}; got {m!r}")
    window = meta.get("visit_window")
    if not isinstance(window, dict):
        errors.append("metadata.visit_window must be a mapping {start, end, weekday_weights}; "
                      f"got {window!r}")
    else:
        start, end = (_iso_date(window.get(k), f"metadata.visit_window.{k}", errors)
                      for k in ("start", "end"))
        if start and end:
            if end < start:
                errors.append(f"metadata.visit_window ends ({end}) before it starts ({start})")
            # YAML reads an unquoted 2024-01-01 as a date; keep the file's form, a string.
            window.update(start=start.isoformat(), end=end.isoformat())
        weights = window.get("weekday_weights", [1.0] * 7)
        floats = [as_probability(w) for w in weights] if isinstance(weights, list) else []
        if len(floats) != 7 or None in floats or not all(map(math.isfinite, floats)) \
                or min(floats) < 0 or sum(floats) <= 0:
            errors.append(f"metadata.visit_window.weekday_weights must be 7 non-negative numbers "
                          f"(Mon..Sun), not all zero; got {weights!r}")
        holiday = window.get("holiday_weight", 0.0)
        if isinstance(holiday, bool) or not isinstance(holiday, (int, float)) \
                or not 0 <= holiday < math.inf:
            errors.append(f"metadata.visit_window.holiday_weight must be a non-negative number "
                          f"(it multiplies a public holiday's weekday weight); got {holiday!r}")
    country = meta.get("country", DEFAULT_COUNTRY)
    if not isinstance(country, str) or country not in holidays.list_supported_countries():
        errors.append(f"metadata.country must be a country code that the holidays package "
                      f"knows (ISO 3166-1 alpha-2, e.g. US, GB, DE); got {country!r}")
    check_treatments(meta.get("treatments"), states.get("treatment", []), errors)
    days = meta.get("follow_up_days")
    for cat in CATEGORIES:
        span = days.get(cat) if isinstance(days, dict) else None
        if not (_int_pair(span) and 1 <= span[0] <= span[1]):
            errors.append(f"metadata.follow_up_days[{cat!r}] must be [min, max] days >= 1; got {span!r}")
    return meta


def _int_pair(span: Any) -> bool:
    """``[min, max]``: a list of two ints (not bools: YAML reads ``yes`` as True)."""
    return isinstance(span, list) and len(span) == 2 and all(type(x) is int for x in span)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any, where: str, errors: list[str]) -> date | None:
    """A ``YYYY-MM-DD`` string (or a YAML date) as a date, or None with an error added."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass  # 2024-02-30
    errors.append(f"{where} must be a date YYYY-MM-DD; got {value!r}")
    return None


def _parse_targets(spec: Any, states: dict[str, list[str]], errors: list[str]) -> Targets | None:
    """The stated targets; each malformed entry is named by its path, e.g. targets.age.min."""
    if not isinstance(spec, dict):
        errors.append(f"'targets' must be a mapping (see the default model's targets); got {spec!r}")
        return None
    n_before = len(errors)

    def entry(path: str) -> Any:
        value = spec
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def number(path: str, lo: float, hi: float, *, open_: bool = False, integer: bool = False):
        value = entry(path)
        x = as_probability(value)
        if x is None or not (lo < x < hi if open_ else lo <= x <= hi) \
                or (integer and type(value) is not int):
            kind = "an integer" if integer else "a number"
            span = f"({lo}, {hi})" if open_ else f"[{lo}, {hi}]"
            errors.append(f"targets.{path} must be {kind} in {span}; got {value!r}")
        return value

    shares = entry("gender.shares")
    if not isinstance(shares, dict) or not shares:
        errors.append(f"targets.gender.shares must map each gender state to its share; got {shares!r}")
        shares = {}
    for k in shares:
        number(f"gender.shares.{k}", 0, 1)
    gender = states.get("gender", list(shares))
    if shares and set(shares) != set(gender):
        errors.append(f"targets.gender.shares must name the gender states {gender}; "
                      f"missing {[g for g in gender if g not in shares]}, "
                      f"unknown {[g for g in shares if g not in gender]}")
    elif len(errors) == n_before and abs(sum(shares.values()) - 1) > SUM_TOLERANCE:
        errors.append(f"targets.gender.shares sum to {sum(shares.values()):.12g}, not 1")
    categories = entry("follow_up_priority.categories")
    if not isinstance(categories, list) or not categories \
            or not all(isinstance(c, str) and c in CATEGORIES for c in categories):
        errors.append(f"targets.follow_up_priority.categories must be a list of categories "
                      f"from {list(CATEGORIES)}; got {categories!r}")
    trend = entry("follow_up_age_trend.category")
    if not isinstance(trend, str) or trend not in CATEGORIES:
        errors.append(f"targets.follow_up_age_trend.category must be one of {list(CATEGORIES)}; "
                      f"got {trend!r}")
    values = {
        "gender_margin": number("gender.margin", 0, 1, open_=True),
        "follow_up_rate": number("follow_up.rate", 0, 1),
        "follow_up_margin": number("follow_up.margin", 0, 1, open_=True),
        "priority_min_difference": number("follow_up_priority.min_difference", 0, 1),
    }
    if "age" in spec:  # optional: a model with real-world ages states no even spread
        values |= {"age_min": number("age.min", 0, 130, integer=True),
                   "age_max": number("age.max", 0, 130, integer=True),
                   "age_margin": number("age.margin", 0, 1, open_=True)}
    else:  # model_from_dict puts in the age bands' range
        values |= {"age_min": 0, "age_max": 0, "age_margin": None}
    if len(errors) > n_before:
        return None
    if values["age_min"] > values["age_max"]:
        errors.append(f"targets.age: min {values['age_min']} is above max {values['age_max']}")
        return None
    return Targets(
        gender_shares={k: float(v) for k, v in shares.items()},
        priority_categories=tuple(categories), trend_category=trend,
        age_min=values.pop("age_min"), age_max=values.pop("age_max"),
        **{k: None if v is None else float(v) for k, v in values.items()},
    )


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
    kind = suffix[1:].upper()
    if not network.nodes():
        raise ModelError(f"{str(path)}: no variables found; is it a {kind} file?")
    no_table = sorted(n for n in network.nodes() if network.get_cpds(n) is None)
    if no_table:
        raise ModelError(f"{str(path)}: no probability table for {no_table}")
    defaults = model_to_dict(default_model())
    nodes = {}
    for node in network.nodes():
        cpd = network.get_cpds(node)
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
    meta["treatments"] = {t: meta["treatments"].get(t, UNCODED)
                          for t in nodes.get("treatment", {}).get("states", [])}
    try:
        return model_from_dict(
            {**defaults, "name": path.stem, "description": f"read from {path.name}", "nodes": nodes},
            source=str(path),
        )
    except ModelError as exc:
        if any("metadata" in e or "targets" in e for e in exc.errors):
            exc.errors.append(f"{str(path)}: a {kind} file holds the network only; metadata and "
                              "targets come from the default model, so its states must match "
                              "(or save the model as .yaml)")
            raise ModelError(exc.errors) from None
        raise
