"""A model's metadata, parsed once into small frozen objects.

The model file's ``metadata`` mapping (age bands, diagnoses with code and category, visit
window, follow-up days, country, public holidays) is validated here with every problem
named by its path, then parsed into :class:`Metadata` (the stated targets are parsed in
``_targets.py``). It is frozen and hashable: what the sampler and the report read can
never drift from what was validated.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeGuard

from .._errors import ModelError
from ._calendar import calendar_span, resolve_holidays
from ._history import HistoryModel, parse_history
from ._limits import MAX_CALENDAR_DAYS
from ._table import as_probability
from ._treatments import check_treatments

__all__ = ["CATEGORIES", "DEFAULT_COUNTRY", "Diagnosis", "FrozenMap", "Metadata",
           "VisitWindow", "check_metadata", "parse_metadata"]

DEFAULT_COUNTRY = "US"
DEFAULT_HOLIDAY_WEIGHT = 0.05
CATEGORIES = ("chronic", "surgical", "viral", "bacterial", "injury", "preventive", "other")


class FrozenMap(Mapping[str, float]):
    """A read-only, hashable mapping kept as a tuple of ``(key, value)`` pairs in order."""

    __slots__ = ("_items",)
    _items: tuple[tuple[str, float], ...]

    def __init__(self, items: Mapping[str, float] | tuple[tuple[str, float], ...] = ()) -> None:
        pairs = tuple(items.items()) if isinstance(items, Mapping) else tuple(items)
        object.__setattr__(self, "_items", pairs)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("FrozenMap is immutable")

    def __getitem__(self, key: str) -> float:
        for k, v in self._items:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __reduce__(self) -> tuple:
        return (FrozenMap, (self._items,))

    def __eq__(self, other: object) -> bool:
        return dict(self._items) == dict(other) if isinstance(other, Mapping) else NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({dict(self._items)!r})"


@dataclass(frozen=True)
class VisitWindow:
    """Visits fall on days ``start..end`` (inclusive), weighted by day of the week (Mon..Sun).

    A public holiday (one of ``holidays``, the dates saved in the model file for
    ``country``) has its weekday weight multiplied by ``holiday_weight``. With a
    ``visit_month`` node, the month comes from its CPD and these weights choose the day
    within the month.
    """

    start: date
    end: date
    weekday_weights: tuple[float, ...] = (1.0,) * 7
    holiday_weight: float = DEFAULT_HOLIDAY_WEIGHT
    country: str = DEFAULT_COUNTRY
    holidays: tuple[date, ...] = ()


@dataclass(frozen=True)
class Diagnosis:
    """A diagnosis state's ICD-10-CM ``code`` and ``category`` (one of ``CATEGORIES``)."""

    name: str
    code: str
    category: str


@dataclass(frozen=True)
class Metadata:
    """The model file's ``metadata``, validated and parsed once.

    ``age_bands`` and ``follow_up_days`` are ``(name, min, max)`` triples (inclusive), in
    the age_group node's state order and in ``CATEGORIES`` order respectively;
    ``diagnoses`` follows the diagnosis node's state order.
    """

    age_bands: tuple[tuple[str, int, int], ...]
    diagnoses: tuple[Diagnosis, ...]
    window: VisitWindow
    follow_up_days: tuple[tuple[str, int, int], ...]
    history: HistoryModel | None = None  # the model file's history section, defaults filled in

    @property
    def country(self) -> str:
        return self.window.country

    @property
    def holidays(self) -> tuple[date, ...]:
        return self.window.holidays


# ---------------------------------------------------------------------------------------
# Validation of the file's plain data: gather every problem, the caller raises once.


def check_metadata(meta: dict, states: dict[str, list[str]], errors: list[str]) -> dict:
    """``meta`` (a private copy) normalised: dates as strings, holidays filled in.

    Problems are appended to ``errors``; the returned mapping is only meaningful when
    none were found.
    """
    n_before = len(errors)
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
                errors.append(f"metadata.age_bands[{band!r}] must be [min, max] integers; "
                              f"got {span!r}")
            elif not 0 <= span[0] <= span[1] <= 130:
                errors.append(f"metadata.age_bands[{band!r}] = {span} is reversed or outside 0-130")
            else:
                spans.append((span[0], span[1], band))
        spans.sort()
        for (_, hi1, b1), (lo2, _, b2) in itertools.pairwise(spans):
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
    start = end = None
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
        nums = [f for f in floats if f is not None]
        if len(floats) != 7 or len(nums) != 7 or not all(map(math.isfinite, nums)) \
                or min(nums) < 0 or sum(nums) <= 0:
            errors.append(f"metadata.visit_window.weekday_weights must be 7 non-negative numbers "
                          f"(Mon..Sun), not all zero; got {weights!r}")
        holiday = window.get("holiday_weight", 0.0)
        if isinstance(holiday, bool) or not isinstance(holiday, (int, float)) \
                or not 0 <= holiday < math.inf:
            errors.append(f"metadata.visit_window.holiday_weight must be a non-negative number "
                          f"(it multiplies a public holiday's weekday weight); got {holiday!r}")
    country = meta.get("country", DEFAULT_COUNTRY)
    if not isinstance(country, str) or not country:
        errors.append(f"metadata.country must be a country code that the holidays package "
                      f"knows (ISO 3166-1 alpha-2, e.g. US, GB, DE); got {country!r}")
    check_treatments(meta.get("treatments"), states.get("treatment", []), errors)
    days = meta.get("follow_up_days")
    for cat in CATEGORIES:
        span = days.get(cat) if isinstance(days, dict) else None
        if not (_int_pair(span) and 1 <= span[0] <= span[1]):
            errors.append(f"metadata.follow_up_days[{cat!r}] must be [min, max] days >= 1; "
                          f"got {span!r}")
    if len(errors) == n_before:
        assert start is not None and end is not None and isinstance(days, dict)
        longest = max(days[c][1] for c in CATEGORIES)
        slowest = next(c for c in CATEGORIES if days[c][1] == longest)
        _check_calendar(start, end, longest, errors, slowest)
        if len(errors) == n_before:
            meta["holidays"] = _holidays(meta.get("holidays"), country,
                                         calendar_span(start, end, longest), errors)
    return meta


def _check_calendar(start: date, end: date, longest: int, errors: list[str],
                    category: str = "") -> None:
    """The calendar (first visit to last follow-up) within MAX_CALENDAR_DAYS and year 9999.

    ``category`` is the one whose follow-up interval is ``longest``, to name it. Counted in
    day numbers: a date past 9999-12-31, or a timedelta of a billion days, would be an
    OverflowError.
    """
    last = end.toordinal() + longest
    days = last - start.toordinal() + 1
    where = (f"metadata.visit_window ({start}..{end}) with metadata.follow_up_days"
             f"[{category!r}] (up to {longest:,} days)")
    if last > date.max.toordinal():
        errors.append(f"{where}: visits end on {end} and a follow-up may come {longest:,} "
                      f"days later, after {date.max} (the last date clinicsim can write)")
    elif days > MAX_CALENDAR_DAYS:
        errors.append(f"{where}: the calendar from the first visit ({start}) to the last "
                      f"follow-up (visit_window.end + {longest:,} follow_up_days) spans "
                      f"{days:,} days; the limit is MAX_CALENDAR_DAYS = {MAX_CALENDAR_DAYS:,} "
                      "(a century)")


def _holidays(saved: Any, country: str, span: tuple[date, date], errors: list[str]) -> dict:
    """``metadata.holidays``: the saved dates if they are for ``country`` and cover ``span``.

    Otherwise (a file without them, or one whose country or visit window was edited since
    they were saved) they are resolved again from the ``holidays`` package.
    """
    first, last = span
    if saved is not None:
        where = "metadata.holidays"
        if not isinstance(saved, dict) or set(saved) != {"country", "first", "last", "dates"} \
                or not isinstance(saved["dates"], list):
            errors.append(f"{where} must be a mapping {{country, first, last, dates: [YYYY-MM-DD, "
                          f"...]}} (delete it to have it filled in); got {saved!r}")
            return {}
        n_before = len(errors)
        dates = [_iso_date(d, f"{where}.dates[{k}]", errors) for k, d in enumerate(saved["dates"])]
        lo, hi = (_iso_date(saved[k], f"{where}.{k}", errors) for k in ("first", "last"))
        if len(errors) > n_before:
            return {}
        assert lo is not None and hi is not None  # _iso_date added an error for None
        if saved["country"] == country and lo <= first and last <= hi:
            return _holiday_entry(country, first, last,
                                  [d for d in dates if d is not None and first <= d <= last])
    try:
        return _holiday_entry(country, first, last, resolve_holidays(country, first, last))
    except ModelError as exc:
        errors += exc.errors
        return {}


def _holiday_entry(country: str, first: date, last: date, dates: Any) -> dict:
    return {"country": country, "first": first.isoformat(), "last": last.isoformat(),
            "dates": [d.isoformat() for d in sorted(set(dates))]}


def parse_metadata(meta: dict, states: dict[str, list[str]]) -> Metadata:
    """The :class:`Metadata` of a mapping that :func:`check_metadata` accepted."""
    w = meta["visit_window"]
    window = VisitWindow(
        date.fromisoformat(w["start"]), date.fromisoformat(w["end"]),
        tuple(float(x) for x in w.get("weekday_weights", (1.0,) * 7)),
        float(w.get("holiday_weight", DEFAULT_HOLIDAY_WEIGHT)),
        str(meta.get("country", DEFAULT_COUNTRY)),
        tuple(date.fromisoformat(d) for d in meta["holidays"]["dates"]),
    )
    dx = meta["diagnoses"]
    bands = tuple((b, int(meta["age_bands"][b][0]), int(meta["age_bands"][b][1]))
                  for b in states["age_group"])
    return Metadata(
        age_bands=bands,
        diagnoses=tuple(Diagnosis(d, str(dx[d]["code"]), dx[d]["category"])
                        for d in states["diagnosis"]),
        window=window,
        follow_up_days=tuple((c, int(meta["follow_up_days"][c][0]),
                              int(meta["follow_up_days"][c][1])) for c in CATEGORIES),
        history=parse_history(meta.get("history"), {b: (lo, hi) for b, lo, hi in bands}),
    )


def _int_pair(span: Any) -> TypeGuard[list[int]]:
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
