"""Targets as statements: each stated figure a small frozen object (issue 11, step 1).

A model file's ``targets:`` becomes a list of statements, one mapping each, of five kinds::

    - {share: gender, values: {male: 0.45, female: 0.43, other: 0.12}, margin: 0.02}
    - {rate: {follow_up: 'True'}, value: 0.30, margin: 0.02}
    - {difference: {follow_up: 'True'}, where: {diagnosis_category: [chronic]}, at_least: 0.15}
    - {trend: {follow_up: 'True'}, over: age_group, where: {...}, direction: rising}
    - {even: age, range: [0, 89], margin: 0.01}

``where:`` (optional) maps node names, or ``diagnosis_category``, to the states kept.
:func:`parse_statements` refuses every malformed statement naming its index and field;
:func:`statements_from_targets` converts the old fixed mapping (:class:`Targets`) so old
files keep their meaning. Not yet wired into ``ClinicModel`` (see the branch report).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._errors import ModelError
from ._metadata import CATEGORIES, Targets

__all__ = ["Difference", "Even", "Rate", "Share", "Statement", "Trend",
           "parse_statements", "statements_from_targets", "statements_to_list"]

TREND_MIN_SLOPE = 0.02  # the report's defaults (analysis/_checks.py), now statement fields
YEAR_MARGIN = 0.5
DIAGNOSIS_CATEGORY = "diagnosis_category"

Where = tuple[tuple[str, tuple[str, ...]], ...]  # sorted by column: hashable, comparable


def _where_text(where: Where) -> str:
    return "".join(f" where {col}={','.join(states)}" for col, states in where)


@dataclass(frozen=True)
class Share:
    """The distribution of ``node`` (or ``diagnosis_category``) within ``where``."""

    node: str
    values: tuple[tuple[str, float], ...]
    margin: float
    where: Where = ()

    def __str__(self) -> str:
        return f"share {self.node}{_where_text(self.where)}"


@dataclass(frozen=True)
class Rate:
    """The share of ``node == state`` within ``where``."""

    node: str
    state: str
    value: float
    margin: float
    where: Where = ()

    def __str__(self) -> str:
        return f"rate {self.node}={self.state}{_where_text(self.where)}"


@dataclass(frozen=True)
class Difference:
    """The rate of ``node == state`` in ``where`` minus the rest's is at least ``at_least``."""

    node: str
    state: str
    at_least: float
    where: Where

    def __str__(self) -> str:
        return f"difference {self.node}={self.state}{_where_text(self.where)}"


@dataclass(frozen=True)
class Trend:
    """The rate of ``node == state`` rises (or falls) over the ordered node ``over``."""

    node: str
    state: str
    over: str
    direction: str = "rising"
    min_slope: float = TREND_MIN_SLOPE
    where: Where = ()

    def __str__(self) -> str:
        return f"trend {self.node}={self.state} over {self.over}{_where_text(self.where)}"


@dataclass(frozen=True)
class Even:
    """Ages (``column``) evenly spread over ``low..high``, within ``margin`` per age."""

    column: str
    low: int
    high: int
    margin: float
    year_margin: float = YEAR_MARGIN

    def __str__(self) -> str:
        return f"even {self.column} {self.low}..{self.high}"


Statement = Share | Rate | Difference | Trend | Even
KINDS = ("share", "rate", "difference", "trend", "even")


def parse_statements(spec: Any, states: Mapping[str, Sequence[str]],
                     columns: Sequence[str] = ("age",)) -> tuple[Statement, ...]:
    """The statements of a ``targets:`` list, or a :class:`ModelError` naming each fault.

    ``states`` maps each node to its states; ``columns`` are record columns that are not
    nodes (the ages). Every problem is named ``targets[i].field``.

    >>> parse_statements([{"rate": {"f": "True"}, "value": 0.3, "margin": 0.02}],
    ...                  {"f": ["True", "False"]})
    (Rate(node='f', state='True', value=0.3, margin=0.02, where=()),)
    >>> parse_statements([{"rate": {"f": "yes"}, "value": 0.3}], {"f": ["True", "False"]})
    Traceback (most recent call last):
    ...
    clinicsim._errors.ModelError: targets[0].rate: 'yes' is not a state of f (True, False); \
targets[0].margin must be a number in (0, 1); got None
    """
    if not isinstance(spec, list):
        raise ModelError(f"'targets' must be a list of statements; got {type(spec).__name__}")
    errors: list[str] = []
    out = []
    for i, item in enumerate(spec):
        n_before = len(errors)
        statement = _parse_one(item, f"targets[{i}]", states, columns, errors)
        if len(errors) == n_before and statement is not None:
            out.append(statement)
    if errors:
        raise ModelError("; ".join(errors))
    return tuple(out)


def _parse_one(item: Any, at: str, states: Mapping[str, Sequence[str]],
               columns: Sequence[str], errors: list[str]) -> Statement | None:
    if not isinstance(item, dict):
        errors.append(f"{at} must be a mapping with one of the keys {list(KINDS)}; got {item!r}")
        return None
    kinds = [k for k in KINDS if k in item]
    if len(kinds) != 1:
        errors.append(f"{at} must have exactly one of the keys {list(KINDS)}; got {kinds}")
        return None
    kind = kinds[0]
    allowed = {"share": {"values", "margin", "where"}, "rate": {"value", "margin", "where"},
               "difference": {"at_least", "where"},
               "trend": {"over", "direction", "min_slope", "where"},
               "even": {"range", "margin", "year_margin"}}[kind] | {kind}
    for key in item:
        if key not in allowed:
            errors.append(f"{at}.{key}: unknown field for a {kind} statement "
                          f"(allowed: {sorted(allowed)})")

    def number(key: str, lo: float, hi: float, *, open_: bool = False,
               default: float | None = None) -> float:
        value: Any = item.get(key, default)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value) and (lo < value < hi if open_ else lo <= value <= hi)
        if not ok:
            span = f"({lo}, {hi})" if open_ else f"[{lo}, {hi}]"
            errors.append(f"{at}.{key} must be a number in {span}; got {value!r}")
            return math.nan
        return float(value)

    def node_states(col: str) -> Sequence[str] | None:
        return CATEGORIES if col == DIAGNOSIS_CATEGORY else states.get(col)

    def where() -> Where:
        spec = item.get("where", {})
        if not isinstance(spec, dict):
            errors.append(f"{at}.where must map nodes to lists of states; got {spec!r}")
            return ()
        out = []
        for col, chosen in spec.items():
            known = node_states(str(col))
            if known is None:
                errors.append(f"{at}.where.{col}: not a node nor {DIAGNOSIS_CATEGORY}")
                continue
            chosen = chosen if isinstance(chosen, list) else [chosen]
            bad = [s for s in chosen if str(s) not in known]
            if bad or not chosen:
                errors.append(f"{at}.where.{col}: {bad or chosen!r} not states of {col} "
                              f"({', '.join(known)})")
                continue
            out.append((str(col), tuple(str(s) for s in chosen)))
        return tuple(sorted(out))

    def node_state(key: str) -> tuple[str, str]:
        value = item[key]
        if not (isinstance(value, dict) and len(value) == 1):
            errors.append(f"{at}.{key} must be one node and its state, e.g. "
                          f"{{follow_up: 'True'}}; got {value!r}")
            return "", ""
        (node, state), = value.items()
        node, state = str(node), str(state)
        known = node_states(node)
        if known is None:
            errors.append(f"{at}.{key}: {node!r} is not a node")
        elif state not in known:
            errors.append(f"{at}.{key}: {state!r} is not a state of {node} ({', '.join(known)})")
        return node, state

    if kind == "share":
        node = str(item["share"])
        known = node_states(node)
        values = item.get("values")
        if known is None:
            errors.append(f"{at}.share: {node!r} is not a node nor {DIAGNOSIS_CATEGORY}")
        elif not isinstance(values, dict) or set(map(str, values)) != set(known):
            errors.append(f"{at}.values must map each state of {node} ({', '.join(known)}) "
                          f"to its share; got {values!r}")
        else:
            for k in values:
                number_ok = isinstance(values[k], (int, float)) and 0 <= values[k] <= 1
                if not number_ok:
                    errors.append(f"{at}.values.{k} must be a number in [0, 1]; "
                                  f"got {values[k]!r}")
            if all(isinstance(v, (int, float)) for v in values.values()) \
                    and abs(sum(values.values()) - 1) > 1e-9:
                errors.append(f"{at}.values sum to {sum(values.values()):.12g}, not 1")
        margin = number("margin", 0, 1, open_=True)
        w = where()
        pairs = tuple((str(s), float(values[s])) for s in known) \
            if known is not None and isinstance(values, dict) and set(map(str, values)) \
            == set(known) and all(isinstance(v, (int, float)) for v in values.values()) else ()
        return Share(node, pairs, margin, w)
    if kind == "rate":
        node, state = node_state("rate")
        value = number("value", 0, 1)
        return Rate(node, state, value, number("margin", 0, 1, open_=True), where())
    if kind == "difference":
        node, state = node_state("difference")
        w = where()
        if "where" not in item:
            errors.append(f"{at}.where is required: the group compared with the rest")
        return Difference(node, state, number("at_least", -1, 1), w)
    if kind == "trend":
        node, state = node_state("trend")
        over = item.get("over")
        if not isinstance(over, str) or over not in states:
            errors.append(f"{at}.over must be an ordered node; got {over!r}")
        direction = item.get("direction", "rising")
        if direction not in ("rising", "falling"):
            errors.append(f"{at}.direction must be rising or falling; got {direction!r}")
        slope = number("min_slope", 0, 1, default=TREND_MIN_SLOPE)
        return Trend(node, state, str(over), str(direction), slope, where())
    column = str(item["even"])
    if column not in columns:
        errors.append(f"{at}.even: {column!r} is not one of {list(columns)}")
    span: Any = item.get("range")
    ok = isinstance(span, list) and len(span) == 2 \
        and all(type(v) is int and 0 <= v <= 130 for v in span) and span[0] <= span[1]
    if not ok:
        errors.append(f"{at}.range must be [low, high], integers in 0..130, low <= high; "
                      f"got {span!r}")
        span = [0, 0]
    return Even(column, span[0], span[1], number("margin", 0, 1, open_=True),
                number("year_margin", 0, 100, open_=True, default=YEAR_MARGIN))


def statements_from_targets(t: Targets) -> tuple[Statement, ...]:
    """The old fixed targets mapping as the statements that mean the same."""
    out: list[Statement] = [
        Share("gender", tuple(t.gender_shares.items()), t.gender_margin),
        Rate("follow_up", "True", t.follow_up_rate, t.follow_up_margin),
        Difference("follow_up", "True", t.priority_min_difference,
                   ((DIAGNOSIS_CATEGORY, tuple(t.priority_categories)),)),
        Trend("follow_up", "True", "age_group",
              where=((DIAGNOSIS_CATEGORY, (t.trend_category,)),)),
    ]
    if t.even_ages:
        assert t.age_margin is not None
        out.append(Even("age", t.age_min, t.age_max, t.age_margin))
    return tuple(out)


def statements_to_list(statements: Sequence[Statement]) -> list[dict[str, Any]]:
    """The ``targets:`` list of a model file; :func:`parse_statements` reads it back."""
    out: list[dict[str, Any]] = []
    for s in statements:
        where = {"where": {c: list(v) for c, v in s.where}} \
            if not isinstance(s, Even) and s.where else {}
        if isinstance(s, Share):
            out.append({"share": s.node, "values": dict(s.values), "margin": s.margin} | where)
        elif isinstance(s, Rate):
            out.append({"rate": {s.node: s.state}, "value": s.value, "margin": s.margin}
                       | where)
        elif isinstance(s, Difference):
            out.append({"difference": {s.node: s.state}, "at_least": s.at_least} | where)
        elif isinstance(s, Trend):
            out.append({"trend": {s.node: s.state}, "over": s.over, "direction": s.direction}
                       | ({"min_slope": s.min_slope} if s.min_slope != TREND_MIN_SLOPE else {})
                       | where)
        else:
            out.append({"even": s.column, "range": [s.low, s.high], "margin": s.margin}
                       | ({"year_margin": s.year_margin} if s.year_margin != YEAR_MARGIN
                          else {}))
    return out
