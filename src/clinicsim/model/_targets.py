"""Targets as statements: each stated figure a small frozen object.

A model file's ``targets:`` is a list of statements, one mapping each, of five kinds::

    - {share: gender, values: {male: 0.45, female: 0.43, other: 0.12}, margin: 0.02}
    - {rate: {follow_up: 'True'}, value: 0.30, margin: 0.02}
    - {difference: {follow_up: 'True'}, where: {diagnosis_category: [chronic]}, at_least: 0.15}
    - {trend: {follow_up: 'True'}, over: age_group, where: {...}, direction: rising}
    - {even: age, range: [0, 89], margin: 0.02}

``where:`` (optional) maps node names, or ``diagnosis_category``, to the states kept.
:func:`parse_statements` refuses every malformed statement naming its index and field.
The fixed mapping of schema 1's first files (``gender:``, ``follow_up:``,
``follow_up_priority:``, ``follow_up_age_trend:``, ``age:``) still loads: it is read as
the five statements that mean the same (:func:`parse_targets`).

:func:`exact_value` and :func:`is_met` evaluate a statement on a model's exact
distribution (clinicsim's own variable elimination, :meth:`ClinicModel.query`).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ModelError
from .._text import model_text_errors
from .._validate import shown
from ._limits import MAX_CPD_CELLS, MAX_TARGETS
from ._metadata import CATEGORIES, FrozenMap
from ._table import SUM_TOLERANCE, as_probability

if TYPE_CHECKING:
    from ._model import ClinicModel

__all__ = ["DIAGNOSIS_CATEGORY", "Difference", "Even", "Rate", "Share", "Statement", "Targets",
           "Trend", "describe_value", "evidence_of", "exact_value", "is_met", "node_of",
           "parse_statements", "parse_targets", "statements_to_list", "trend_scale",
           "trend_scores"]

ROUNDING = 1e-12  # float error of exact inference, far below any margin
# A trend's default minimum, per decade of age (per step of another node): a quarter of the
# default model's 0.037, and 0.15 from the youngest to the oldest band (judgement).
TREND_MIN_SLOPE = 0.02
# "Ages evenly spread" also holds each single year within this fraction of an even year's
# share (judgement: a missing or doubled year is not "even"; the margin bounds the
# distribution function, which one missing year moves by only 1/90).
YEAR_MARGIN = 0.5
DIAGNOSIS_CATEGORY = "diagnosis_category"

Where = tuple[tuple[str, tuple[str, ...]], ...]  # sorted by column: hashable, comparable


def _where_text(where: Where) -> str:
    return "".join(f" where {col}={','.join(states)}" for col, states in where)


@dataclass(frozen=True)
class Share:
    """The distribution of ``node`` (or ``diagnosis_category``) within ``where``.

    Examples
    --------
    >>> import clinicsim
    >>> share = clinicsim.default_model().targets[0]
    >>> type(share).__name__, str(share), share.margin
    ('Share', 'share gender', 0.02)
    """

    node: str
    values: tuple[tuple[str, float], ...]
    margin: float
    where: Where = ()

    def __str__(self) -> str:
        return f"share {self.node}{_where_text(self.where)}"


@dataclass(frozen=True)
class Rate:
    """The share of ``node == state`` within ``where``.

    Examples
    --------
    >>> import clinicsim
    >>> rate = clinicsim.default_model().targets[1]
    >>> type(rate).__name__, rate.node, rate.state, rate.value, rate.margin
    ('Rate', 'follow_up', 'True', 0.3, 0.02)
    """

    node: str
    state: str
    value: float
    margin: float
    where: Where = ()

    def __str__(self) -> str:
        return f"rate {self.node}={self.state}{_where_text(self.where)}"


@dataclass(frozen=True)
class Difference:
    """The rate of ``node == state`` in ``where`` minus the rest's is at least ``at_least``.

    Examples
    --------
    >>> import clinicsim
    >>> difference = clinicsim.default_model().targets[2]
    >>> type(difference).__name__, difference.at_least
    ('Difference', 0.15)
    """

    node: str
    state: str
    at_least: float
    where: Where

    def __str__(self) -> str:
        return f"difference {self.node}={self.state}{_where_text(self.where)}"


@dataclass(frozen=True)
class Trend:
    """The rate of ``node == state`` rises (or falls) over the ordered node ``over``.

    Examples
    --------
    >>> import clinicsim
    >>> trend = clinicsim.default_model().targets[3]
    >>> type(trend).__name__, trend.over, trend.direction, trend.min_slope
    ('Trend', 'age_group', 'rising', 0.02)
    """

    node: str
    state: str
    over: str
    direction: str = "rising"
    min_slope: float = TREND_MIN_SLOPE
    where: Where = ()

    def __str__(self) -> str:
        falling = " falling" if self.direction == "falling" else ""
        return (f"trend {self.node}={self.state}{falling} over {self.over}"
                f"{_where_text(self.where)}")


@dataclass(frozen=True)
class Even:
    """Ages (``column``) evenly spread over ``low..high``, within ``margin`` per age.

    Examples
    --------
    >>> import clinicsim
    >>> even = clinicsim.default_model().targets[4]
    >>> type(even).__name__, even.column, even.low, even.high, even.margin
    ('Even', 'age', 0, 89, 0.02)
    """

    column: str
    low: int
    high: int
    margin: float
    year_margin: float = YEAR_MARGIN

    def __str__(self) -> str:
        return f"even {self.column} {self.low}..{self.high}"


Statement = Share | Rate | Difference | Trend | Even
KINDS = ("share", "rate", "difference", "trend", "even")


class Targets(tuple[Statement, ...]):
    """A model's stated targets: an immutable, hashable sequence of statements.

    ``str()`` lists one statement a line, each named as the report names its check.

    >>> t = Targets([Rate("follow_up", "True", 0.3, 0.02)])
    >>> t[0].value, str(t)
    (0.3, 'rate follow_up=True')
    """

    __slots__ = ()

    def __new__(cls, statements: Iterable[Statement] = ()) -> Targets:
        items = tuple(statements)
        bad = [s for s in items if not isinstance(s, STATEMENT_TYPES)]
        if bad:
            raise ModelError(f"targets must be statements ({', '.join(KINDS)}); got {bad[0]!r}")
        return super().__new__(cls, items)

    def __repr__(self) -> str:
        return f"Targets({list(self)!r})"

    # The fields of the fixed targets of earlier versions, read from the statements (for
    # code written against them); AttributeError when the model states no such target.
    def _first(self, kind: type, what: str, node: str = "follow_up",
               where: str | None = None) -> Any:
        for s in self:
            columns = [c for c, _ in getattr(s, "where", ())]
            if isinstance(s, kind) and getattr(s, "node", node) == node \
                    and columns == ([] if where is None else [where]):
                return s
        raise AttributeError(f"the targets state no {what}")

    @property
    def gender_shares(self) -> FrozenMap:
        return FrozenMap(dict(self._first(Share, "gender shares", "gender").values))

    @property
    def gender_margin(self) -> float:
        return float(self._first(Share, "gender shares", "gender").margin)

    @property
    def follow_up_rate(self) -> float:
        return float(self._first(Rate, "follow-up rate").value)

    @property
    def follow_up_margin(self) -> float:
        return float(self._first(Rate, "follow-up rate").margin)

    @property
    def priority_categories(self) -> tuple[str, ...]:
        s = self._first(Difference, "follow-up difference", where=DIAGNOSIS_CATEGORY)
        return tuple(s.where[0][1])

    @property
    def priority_min_difference(self) -> float:
        s = self._first(Difference, "follow-up difference", where=DIAGNOSIS_CATEGORY)
        return float(s.at_least)

    @property
    def trend_category(self) -> str:
        s = self._first(Trend, "follow-up trend", where=DIAGNOSIS_CATEGORY)
        return str(s.where[0][1][0])

    @property
    def even_ages(self) -> bool:
        return any(isinstance(s, Even) for s in self)

    def __str__(self) -> str:
        return "\n".join(map(str, self))


STATEMENT_TYPES = (Share, Rate, Difference, Trend, Even)


def parse_statements(spec: Any, states: Mapping[str, Sequence[str]],
                     columns: Sequence[str] = ("age",)) -> Targets:
    """The statements of a ``targets:`` list, or a :class:`ModelError` naming each fault.

    ``states`` maps each node to its states; ``columns`` are record columns that are not
    nodes (the ages). Every problem is named ``targets[i].field``.

    >>> parse_statements([{"rate": {"f": "True"}, "value": 0.3, "margin": 0.02}],
    ...                  {"f": ["True", "False"]})
    Targets([Rate(node='f', state='True', value=0.3, margin=0.02, where=())])
    >>> parse_statements([{"rate": {"f": "yes"}, "value": 0.3}], {"f": ["True", "False"]})
    Traceback (most recent call last):
    ...
    clinicsim._errors.ModelError: targets[0].rate: 'yes' is not a state of f (True, False); \
targets[0].margin must be a number in (0, 1); got None
    """
    errors = model_text_errors({"targets": spec})  # first: messages quote the text
    if errors:
        raise ModelError(errors)
    targets = parse_targets(spec, states, errors, columns)
    if errors or targets is None:
        raise ModelError(errors)
    return targets


def parse_targets(spec: Any, states: Mapping[str, Sequence[str]], errors: list[str],
                  columns: Sequence[str] = ("age",)) -> Targets | None:
    """A file's ``targets``: a list of statements, or the older fixed mapping (read as
    the statements that mean the same). Problems are appended to ``errors``."""
    if isinstance(spec, dict):
        return _legacy_targets(spec, states, errors)
    if not isinstance(spec, list):
        errors.append(f"'targets' must be a list of statements ({', '.join(KINDS)}); "
                      f"got {type(spec).__name__}")
        return None
    if len(spec) > MAX_TARGETS:
        errors.append(f"'targets' has {len(spec):,} statements; the limit is "
                      f"MAX_TARGETS = {MAX_TARGETS:,}")
        return None
    n_errors = len(errors)
    out = []
    for i, item in enumerate(spec):
        statement = _parse_one(item, f"targets[{i}]", states, columns, errors)
        if statement is not None:
            too_big = _joint_cells_error(statement, states)
            if too_big:
                errors.append(f"targets[{i}]: {too_big}")
            out.append(statement)
    return Targets(out) if len(errors) == n_errors else None


def _joint_cells_error(s: Statement, states: Mapping[str, Sequence[str]]) -> str | None:
    """Why the joint of the nodes ``s`` names is too big to evaluate, or None: its exact
    value is read off that joint, as a CPD is read off its table (MAX_CPD_CELLS)."""
    if isinstance(s, Even):
        return None
    nodes = list(dict.fromkeys([node_of(s.node), *(node_of(c) for c, _ in s.where),
                                *([s.over] if isinstance(s, Trend) else [])]))
    cells = 1
    for n in nodes:
        cells *= len(states.get(n, ()))
    if cells <= MAX_CPD_CELLS:
        return None
    return (f"its nodes ({', '.join(nodes)}) have {cells:,} combinations of states; the "
            f"limit is MAX_CPD_CELLS = {MAX_CPD_CELLS:,}")


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
        x = as_probability(value)  # any real number; not a bool, not text
        ok = x is not None and math.isfinite(x) and (lo < x < hi if open_ else lo <= x <= hi)
        if not ok:
            span = f"({lo}, {hi})" if open_ else f"[{lo}, {hi}]"
            errors.append(f"{at}.{key} must be a number in {span}; got {shown(value)}")
            return math.nan
        return float(x)  # type: ignore[arg-type]

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
        shares: dict[str, float] = {}
        if known is None:
            errors.append(f"{at}.share: {node!r} is not a node nor {DIAGNOSIS_CATEGORY}")
        elif not isinstance(values, dict) or set(map(str, values)) != set(known) \
                or len(values) != len(known):
            # keys are read as text: YAML's unquoted true/false are the states 'True'/'False'
            twice = " (a state given twice, as text and as a YAML bool?)" \
                if isinstance(values, dict) and len(values) > len(set(map(str, values))) else ""
            errors.append(f"{at}.values must map each state of {node} ({', '.join(known)}) "
                          f"to its share; got {shown(values)}{twice}")
        else:
            for k, v in values.items():
                x = as_probability(v)
                if x is None or not 0 <= x <= 1:
                    errors.append(f"{at}.values.{k} must be a number in [0, 1]; "
                                  f"got {shown(v)}")
                else:
                    shares[str(k)] = x
            if len(shares) == len(known) and abs(sum(shares.values()) - 1) > 1e-9:
                errors.append(f"{at}.values sum to {sum(shares.values()):.12g}, not 1")
        margin = number("margin", 0, 1, open_=True)
        w = where()
        pairs = tuple((str(s), shares[s]) for s in known) \
            if known is not None and len(shares) == len(known) else ()
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
        if not isinstance(over, str) or over not in states or over == node_of(node):
            errors.append(f"{at}.over must be an ordered node other than the trend's own; "
                          f"got {over!r}")
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


def _legacy_targets(spec: dict, states: Mapping[str, Sequence[str]], errors: list[str]
                    ) -> Targets | None:
    """The fixed mapping of the first model files, as statements; each malformed entry is
    named by its path, e.g. ``targets.age.min``."""
    n_before = len(errors)

    def entry(path: str) -> Any:
        value: Any = spec
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def number(path: str, lo: float, hi: float, *, open_: bool = False,
               integer: bool = False) -> Any:
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
        errors.append("targets.gender.shares must map each gender state to its share; "
                      f"got {shares!r}")
        shares = {}
    for k in shares:
        number(f"gender.shares.{k}", 0, 1)
    gender = list(states.get("gender", list(shares)))
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
    gender_margin = number("gender.margin", 0, 1, open_=True)
    rate = number("follow_up.rate", 0, 1)
    rate_margin = number("follow_up.margin", 0, 1, open_=True)
    difference = number("follow_up_priority.min_difference", 0, 1)
    ages = None
    if "age" in spec:  # optional: a model with real-world ages states no even spread
        ages = (number("age.min", 0, 130, integer=True), number("age.max", 0, 130, integer=True),
                number("age.margin", 0, 1, open_=True))
    if len(errors) > n_before:
        return None
    if ages is not None and ages[0] > ages[1]:
        errors.append(f"targets.age: min {ages[0]} is above max {ages[1]}")
        return None
    out: list[Statement] = [
        Share("gender", tuple((g, float(shares[g])) for g in gender), float(gender_margin)),
        Rate("follow_up", "True", float(rate), float(rate_margin)),
        Difference("follow_up", "True", float(difference),
                   ((DIAGNOSIS_CATEGORY, tuple(categories)),)),
        Trend("follow_up", "True", "age_group", where=((DIAGNOSIS_CATEGORY, (trend,)),)),
    ]
    if ages is not None:
        out.append(Even("age", ages[0], ages[1], float(ages[2])))
    return Targets(out)


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


# -- statements on a model's exact distribution ------------------------------------------

def evidence_of(model: ClinicModel, where: Where) -> dict[str, list[str]]:
    """``where`` as query evidence: ``diagnosis_category`` becomes its diagnoses.

    A ``where`` that names both ``diagnosis`` and ``diagnosis_category`` keeps the
    diagnoses in both.
    """
    out: dict[str, list[str]] = {}
    for col, states in where:
        if col == DIAGNOSIS_CATEGORY:
            cats = model.diagnosis_categories
            chosen = [d for d in model.states("diagnosis") if cats[d] in states]
            col = "diagnosis"
        else:
            chosen = list(states)
        out[col] = [s for s in out[col] if s in chosen] if col in out else chosen
    return out


def node_of(column: str) -> str:
    """The node a statement's column is about: ``diagnosis`` for ``diagnosis_category``.

    Examples
    --------
    >>> from clinicsim.model import node_of
    >>> node_of("diagnosis_category"), node_of("follow_up")
    ('diagnosis', 'follow_up')
    """
    return "diagnosis" if column == DIAGNOSIS_CATEGORY else column


def _labels(model: ClinicModel, column: str) -> list[str]:
    """The label of each state of ``column``'s node: its category for diagnosis_category."""
    if column == DIAGNOSIS_CATEGORY:
        cats = model.diagnosis_categories
        return [cats[d] for d in model.states("diagnosis")]
    return model.states(column)


_JOINTS: OrderedDict[tuple[str, tuple[str, ...]], np.ndarray] = OrderedDict()
# Joints kept, the most recent first, up to this many cells in all (32 MB): the
# statements of a model share a few sets of nodes, each joint at most MAX_CPD_CELLS.
JOINT_CACHE_CELLS = 4_000_000
_cached_cells = [0]  # cells held in _JOINTS


def _joint(model: ClinicModel, nodes: list[str]) -> np.ndarray:
    """P(nodes) as a read-only array with one axis per node, states in the node's order.

    Kept per model content and set of nodes, so evaluating every statement (``model show
    --targets``, the check after each edit) costs one query per distinct set, not one per
    statement and state.
    """
    key = (model.content_key(), tuple(nodes))
    if key in _JOINTS:
        _JOINTS.move_to_end(key)
        return _JOINTS[key]
    table = model.query(nodes).to_numpy().reshape([len(model.states(n)) for n in nodes])
    table.flags.writeable = False
    _JOINTS[key] = table
    _cached_cells[0] += table.size
    while len(_JOINTS) > 1 and _cached_cells[0] > JOINT_CACHE_CELLS:
        _cached_cells[0] -= _JOINTS.popitem(last=False)[1].size
    return table


def _axis_mask(model: ClinicModel, nodes: list[str], column: str,
               chosen: Sequence[str]) -> np.ndarray:
    """Indicator of ``column`` in ``chosen``, broadcastable over the axes of ``nodes``."""
    node = node_of(column)
    shape = [1] * len(nodes)
    shape[nodes.index(node)] = -1
    return np.isin(_labels(model, column), list(chosen)).reshape(shape)


def _rates(model: ClinicModel, s: Rate | Difference | Trend, extra: Sequence[str] = ()
           ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """The nodes, P(nodes), the hit indicator and the group indicator of ``s``."""
    nodes = list(dict.fromkeys([node_of(s.node), *(node_of(c) for c, _ in s.where),
                                *extra]))
    p = _joint(model, nodes)
    hit = _axis_mask(model, nodes, s.node, [s.state])
    group = np.ones([1] * len(nodes), bool)
    for col, chosen in s.where:
        group = group & _axis_mask(model, nodes, col, chosen)
    return nodes, p, hit, group


def _mean(p: np.ndarray, hit: np.ndarray, group: np.ndarray, what: str) -> float:
    total = float((p * group).sum())
    if total <= 0:
        raise ModelError(f"{what}: its group has probability 0 in this model")
    return float((p * hit * group).sum()) / total


def _trend_slope(model: ClinicModel, s: Trend) -> float:
    """The exact pooled within-stratum least-squares slope of the rate over ``s.over``
    (per decade of age for ``age_group``, per step otherwise), as the report estimates it:
    strata are the states of the nodes ``where`` names (``over`` excepted)."""
    nodes, p, hit, group = _rates(model, s, [s.over])
    # after summing out the node (axis 0), the axes are the strata and over
    w = np.moveaxis((p * group).sum(axis=0), nodes.index(s.over) - 1, -1)
    h = np.moveaxis((p * group * hit).sum(axis=0), nodes.index(s.over) - 1, -1)
    n_over = len(model.states(s.over))
    w, h = w.reshape(-1, n_over), h.reshape(-1, n_over)
    score = trend_scores(s.over, model.states(s.over), model.age_bands)
    rows = w.sum(axis=1, keepdims=True)
    centre = np.divide(w @ score, rows[:, 0], out=np.zeros(len(w)), where=rows[:, 0] > 0)
    dev = score - centre[:, None]
    spread = float((w * dev**2).sum())
    if spread <= 0:
        raise ModelError(f"{s}: within its strata, {s.over} has one state of positive "
                         "probability")
    return float((h * dev).sum()) / spread * trend_scale(s.over)


def trend_scores(over: str, states: Sequence[str],
                 bands: Mapping[str, tuple[int, int]]) -> np.ndarray:
    """The score of each of ``over``'s ``states``: an age band's midpoint, else its
    position. The exact slope and the report's trend test score alike.

    Examples
    --------
    >>> import clinicsim
    >>> from clinicsim.model import trend_scores
    >>> model = clinicsim.default_model()
    >>> trend_scores("age_group", model.states("age_group"), model.age_bands).tolist()
    [7.0, 19.5, 34.5, 54.5, 69.5, 82.0]
    """
    if over == "age_group":
        return np.array([sum(bands[b]) / 2 for b in states])
    return np.arange(len(states), dtype=float)


def trend_scale(over: str) -> float:
    """Score units per reported unit: a decade of age, or one step.

    Examples
    --------
    >>> from clinicsim.model import trend_scale
    >>> trend_scale("age_group"), trend_scale("visit_month")
    (10.0, 1.0)
    """
    return 10.0 if over == "age_group" else 1.0


def _even(model: ClinicModel, s: Even) -> tuple[float, float]:
    """The largest gap between the exact age distribution function over ``low..high`` and
    an even one, and the largest single-year deviation as a fraction of an even year."""
    bands = model.age_bands
    band_p = model.marginal("age_group")
    ages = np.arange(s.low, s.high + 1)
    p = np.zeros(len(ages))
    for band, (lo, hi) in bands.items():
        inside = (ages >= lo) & (ages <= hi)
        p[inside] = band_p[band] / (hi - lo + 1)
    if p.sum() <= 0:
        raise ModelError(f"{s}: no age band overlaps {s.low}..{s.high}")
    p /= p.sum()
    even = 1 / len(ages)
    distance = float(np.abs(np.cumsum(p) - np.arange(1, len(ages) + 1) * even).max())
    return distance, float(np.abs(p - even).max() / even)


def even_shares(model: ClinicModel, s: Even) -> tuple[tuple[str, float], ...]:
    """The age_group shares that make ages exactly even over ``low..high``: each band's
    share of the years in the range (0 for a band outside it)."""
    years = {b: max(0, min(hi, s.high) - max(lo, s.low) + 1)
             for b, (lo, hi) in model.age_bands.items()}
    span = s.high - s.low + 1
    return tuple((b, years[b] / span) for b in model.states("age_group"))


def exact_value(model: ClinicModel, s: Statement) -> Any:
    """The model's exact value of what ``s`` states.

    A share: ``{state: P}``; a rate: P; a difference: the rate in the group minus the
    rest's; a trend: the slope (per decade of age over ``age_group``); even: ``(largest
    gap of the distribution function, largest single-year deviation)``.

    >>> import clinicsim
    >>> model = clinicsim.default_model()
    >>> round(exact_value(model, model.targets[1]), 4)
    0.3
    """
    if isinstance(s, Even):
        return _even(model, s)
    if isinstance(s, Trend):
        return _trend_slope(model, s)
    if isinstance(s, Share):
        out = {}
        for state, _ in s.values:
            rate = Rate(s.node, state, 0.0, 1.0, s.where)
            out[state] = _mean(*_rates(model, rate)[1:], str(s))
        return out
    nodes, p, hit, group = _rates(model, s)
    inside = _mean(p, hit, group, str(s))
    if isinstance(s, Rate):
        return inside
    return inside - _mean(p, hit, ~group, f"{s} (the rest)")


def unreachable(model: ClinicModel) -> list[str]:
    """The statements of ``model`` that its exact distribution cannot evaluate: a group of
    probability 0, a trend whose strata have one ``over`` state, an age range no band
    holds. They are refused where a model is made, as every later use would refuse them.
    Statements about everyone always evaluate and are not computed here; the others share
    one exact joint per set of nodes (:func:`exact_value`'s cache).
    """
    errors = []
    for i, s in enumerate(model.targets):
        if isinstance(s, (Trend, Even)) or s.where:
            try:
                exact_value(model, s)
            except ModelError as exc:
                errors += [f"targets[{i}]: {e}" for e in exc.errors]
    return errors


def is_met(model: ClinicModel, s: Statement, value: Any = None) -> bool:
    """Whether the model's exact value (``value`` if given) meets ``s``: within the margin
    for an equality statement, at least the minimum for a difference or trend, up to
    ``ROUNDING`` (a rate of exactly 0.32 computes as 0.32000000000000001).

    Examples
    --------
    >>> import clinicsim
    >>> from clinicsim.model import is_met
    >>> model = clinicsim.default_model()
    >>> rate = model.targets[1]
    >>> is_met(model, rate), is_met(model, rate, value=0.33)
    (True, False)
    """
    value = exact_value(model, s) if value is None else value
    if isinstance(s, Share):
        return all(abs(value[k] - t) <= s.margin + ROUNDING for k, t in s.values)
    if isinstance(s, Rate):
        return bool(abs(value - s.value) <= s.margin + ROUNDING)
    if isinstance(s, Difference):
        return bool(value >= s.at_least - ROUNDING)
    if isinstance(s, Trend):
        return bool((value if s.direction == "rising" else -value) >= s.min_slope - ROUNDING)
    return bool(value[0] <= s.margin + ROUNDING and value[1] <= s.year_margin + ROUNDING)


def describe_value(s: Statement, value: Any) -> str:
    """The exact value beside its target, as ``model show --targets`` prints it.

    Examples
    --------
    >>> import clinicsim
    >>> from clinicsim.model import describe_value, exact_value
    >>> model = clinicsim.default_model()
    >>> rate = model.targets[1]
    >>> describe_value(rate, exact_value(model, rate))
    '0.3000 (target 0.3 ± 0.02)'
    """
    if isinstance(s, Share):
        parts = ", ".join(f"{k} {value[k]:.4f} (target {t:g})" for k, t in s.values)
        return f"{parts}; margin {s.margin:g}"
    if isinstance(s, Rate):
        return f"{value:.4f} (target {s.value:g} ± {s.margin:g})"
    if isinstance(s, Difference):
        return f"{value:+.4f} (target: at least {s.at_least:g})"
    if isinstance(s, Trend):
        unit = "decade" if s.over == "age_group" else "step"
        return f"{value:+.4f} per {unit} (target: {s.direction} by at least {s.min_slope:g})"
    return (f"distribution function within {value[0]:.4f} of even (margin {s.margin:g}); "
            f"largest single-year deviation {value[1]:.1%} (margin {s.year_margin:.0%})")
