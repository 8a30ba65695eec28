"""The history model: follow-up attendance and chains, return visits (a model file's
``history:`` section).

A patient's first visit is a record of the network. Then:

- a visit with ``follow_up = True`` is followed up on its ``follow_up_date`` with
  probability ``attendance[category]`` (the rest are no-shows); a due date after the
  visit window is censored. A follow-up visit has the same diagnosis, and orders another
  follow-up with probability ``repeat[category][k - 1]`` where ``k`` is its follow-up
  number (1 for the first follow-up of a chain); the list's last value holds for every
  later number. A last value of 1 would let a chain go on for ever and is refused;
- return visits for new problems come at ``return_rates[band]`` visits per patient-year,
  by the age band of the patient's first visit.

A file without the section (or with some entries left out) gets :data:`DEFAULTS`, from
these sources (the judgements are named as such):

- ``attendance.chronic = 0.70``: Synthea's hypertension module
  (synthetichealth/synthea, ``src/main/resources/modules/hypertension.json``) drops
  26.7% (not severe) or 32.2% (severe) of patients between follow-ups; 0.70 is about
  the middle. The other categories' attendance is a judgement.
- ``repeat.chronic = [0.8, 0.8, 0]``: the same module schedules follow-ups 1, 2 and 2
  months apart and then ends the pathway: three follow-ups. That most are scheduled
  (0.8) is a judgement; so are the other categories' chains (one follow-up after
  surgery, injury or "other" problems now and then; none after a check-up).
- ``return_rates``: NAMCS 2019 office visits per 100 persons per year by age (under 15:
  195, 15-24: 156, 25-44: 199, 45-64: 375, 65-74: 662, 75+: 776), times 0.5 — a
  judgement: NAMCS counts every office visit, follow-ups and visits to other offices
  included, and about half of them are taken to be new problems at the same clinic.
  For other age bands the rate is the mean of these figures over the band's years.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._table import as_probability

__all__ = ["DEFAULTS", "MAX_FOLLOW_UP_NUMBERS", "MAX_RETURN_RATE", "HistoryModel",
           "check_history", "parse_history"]

CATEGORIES = ("chronic", "surgical", "viral", "bacterial", "injury", "preventive", "other")
# A chain's numbers listed one by one: past 20 the last value repeats anyway.
MAX_FOLLOW_UP_NUMBERS = 20
# Weekly visits all year: a higher rate is a units mistake (visits per day, per 100).
MAX_RETURN_RATE = 52.0
# NAMCS 2019, office visits per person per year, by age (lo, hi inclusive).
NAMCS_2019 = ((0, 14, 1.95), (15, 24, 1.56), (25, 44, 1.99), (45, 64, 3.75),
              (65, 74, 6.62), (75, 130, 7.76))
NEW_PROBLEM_SHARE = 0.5  # judgement, see the module docstring

DEFAULTS: dict[str, Any] = {
    "attendance": {"chronic": 0.70, "surgical": 0.85, "viral": 0.60, "bacterial": 0.65,
                   "injury": 0.75, "preventive": 0.70, "other": 0.70},
    "repeat": {"chronic": [0.8, 0.8, 0.0], "surgical": [0.2, 0.0], "viral": [0.0],
               "bacterial": [0.0], "injury": [0.3, 0.0], "preventive": [0.0],
               "other": [0.3, 0.0]},
}
KEYS = ("attendance", "repeat", "return_rates")


def default_return_rate(lo: int, hi: int) -> float:
    """The default return rate of the band ``lo..hi``: NAMCS 2019's visits per person-year
    averaged over its years, times NEW_PROBLEM_SHARE.

    >>> default_return_rate(65, 74), round(default_return_rate(60, 69), 4)
    (3.31, 2.5925)
    """
    years = [next(r for a, b, r in NAMCS_2019 if a <= age <= b) for age in range(lo, hi + 1)]
    return round(sum(years) / len(years) * NEW_PROBLEM_SHARE, 10)


@dataclass(frozen=True)
class HistoryModel:
    """A model's history section, validated, with every default filled in.

    ``attendance`` and ``repeat`` are in category order, ``return_rates`` in the
    age_group node's state order.
    """

    attendance: tuple[tuple[str, float], ...]
    repeat: tuple[tuple[str, tuple[float, ...]], ...]
    return_rates: tuple[tuple[str, float], ...]

    def attend(self, category: str) -> float:
        return dict(self.attendance)[category]

    def repeat_p(self, category: str, number: int) -> float:
        """P(follow-up number ``number`` (1-based) orders another), for ``category``."""
        table = dict(self.repeat)[category]
        return table[min(number, len(table)) - 1]

    def rate(self, band: str) -> float:
        return dict(self.return_rates)[band]


def check_history(spec: Any, bands: Mapping[str, tuple[int, int]], errors: list[str]) -> dict:
    """The file's ``history`` mapping normalised (floats, lists), every problem appended
    to ``errors`` naming its field; the result is meaningful only when none were added."""
    if not isinstance(spec, dict):
        errors.append("history must be a mapping with attendance, repeat, return_rates; "
                      f"got {spec!r}")
        return {}
    out: dict[str, Any] = {}
    unknown = [k for k in spec if k not in KEYS]
    if unknown:
        errors.append(f"history: unknown entries {unknown}; the section has {list(KEYS)}")
    for key, names, what in (("attendance", CATEGORIES, "category"),
                             ("repeat", CATEGORIES, "category"),
                             ("return_rates", tuple(bands), "age band")):
        table = spec.get(key)
        if table is None:
            continue
        if not isinstance(table, dict):
            errors.append(f"history.{key} must be a mapping {what} -> value; got {table!r}")
            continue
        strange = [k for k in table if k not in names]
        if strange:
            errors.append(f"history.{key}: unknown {what} {strange[0]!r}; the model's are "
                          f"{list(names)}")
        out[key] = {}
        for name in (k for k in names if k in table):
            where = f"history.{key}[{name!r}]"
            if key == "attendance":
                out[key][name] = _probability(table[name], where, errors)
            elif key == "return_rates":
                out[key][name] = _rate(table[name], where, errors)
            else:
                out[key][name] = _chain(table[name], where, errors)
    return out


def _probability(value: Any, where: str, errors: list[str]) -> float:
    p = as_probability(value)
    if p is None or not 0 <= p <= 1:
        errors.append(f"{where} must be a probability in [0, 1]; got {value!r}")
        return math.nan
    return p


def _rate(value: Any, where: str, errors: list[str]) -> float:
    r = as_probability(value)  # a real number, not a bool or a string
    if r is None or not 0 <= r <= MAX_RETURN_RATE:
        errors.append(f"{where} must be a rate of visits per patient-year in "
                      f"[0, {MAX_RETURN_RATE:g}] (MAX_RETURN_RATE); got {value!r}")
        return math.nan
    return r


def _chain(value: Any, where: str, errors: list[str]) -> list[float]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_FOLLOW_UP_NUMBERS:
        errors.append(f"{where} must be a list of 1 to {MAX_FOLLOW_UP_NUMBERS} "
                      "(MAX_FOLLOW_UP_NUMBERS) probabilities, for follow-up 1, 2, ...; "
                      f"got {value!r}")
        return []
    n_before = len(errors)
    probs = [_probability(v, f"{where}[{k}]", errors) for k, v in enumerate(value)]
    if len(errors) == n_before and probs[-1] >= 1:
        errors.append(f"{where}: the last value ({value[-1]!r}) holds for every later "
                      "follow-up, so a chain would never end (its expected length is "
                      "unbounded); make it less than 1")
    return probs


def parse_history(spec: Mapping[str, Any] | None,
                  bands: Mapping[str, tuple[int, int]]) -> HistoryModel:
    """The :class:`HistoryModel` of a section :func:`check_history` accepted (or None),
    with the defaults where it says nothing."""
    spec = spec or {}
    attendance = {**DEFAULTS["attendance"], **spec.get("attendance", {})}
    repeat = {**DEFAULTS["repeat"], **spec.get("repeat", {})}
    rates = spec.get("return_rates", {})
    return HistoryModel(
        tuple((c, float(attendance[c])) for c in CATEGORIES),
        tuple((c, tuple(float(p) for p in repeat[c])) for c in CATEGORIES),
        tuple((b, float(rates[b]) if b in rates else default_return_rate(lo, hi))
              for b, (lo, hi) in bands.items()),
    )
