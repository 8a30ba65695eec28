"""Visit and follow-up dates: a model's calendar, built once, applied to whole columns.

Every calendar day ``d`` has a weight ``w(d)``: the visit window's weekday weight, times
``holiday_weight`` on one of the public holidays saved in the model (see
``clinicsim/model/_calendar.py``, which also validates the calendar).

- Visit dates. With a ``visit_month`` node, the network has already drawn each row's
  month ``m``; the day is drawn from the window's days in month ``m`` (of any year) with
  probability ``w(d) / sum of w over those days``. So the months of the visit dates follow
  the ``visit_month`` CPD exactly, and months with different numbers of working days
  change only which day is chosen, never how many visits a month gets. Without the node
  (an older file, a BIF), the whole window is one group: flat months, weighted days.
- Follow-up dates. A row of diagnosis category ``c`` with ``follow_up_days[c] = [lo, hi]``
  returns on a day of ``visit + lo .. visit + hi``, chosen with the same weights (a
  follow-up is not booked on a Sunday or on Christmas), or uniformly if all of those
  days weigh 0.

Each choice is one inverse-CDF lookup of uniforms over cumulative weights (a guide table,
see ``_guide.py``, giving exactly ``searchsorted``'s answers): no Python loop over rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..model import calendar_span, day_weights, visit_groups
from ._guide import GuideTable

if TYPE_CHECKING:
    from ..model import ClinicModel

__all__ = ["VisitDates"]


class VisitDates:
    """A model's calendar: month codes and uniforms to visit dates, and on to follow-ups.

    Raises :class:`~clinicsim.ModelError` if a month that the ``visit_month`` CPD can
    give has no day of positive weight in the visit window.
    """

    def __init__(self, model: ClinicModel) -> None:
        window = model.visit_window
        spans = model.follow_up_days
        categories = model.diagnosis_categories
        dx = model.states("diagnosis")
        self._fu_lo = np.array([spans[categories[d]][0] for d in dx], np.int64)
        self._fu_hi = np.array([spans[categories[d]][1] for d in dx], np.int64)
        # One calendar from the window's first day to its last possible follow-up.
        first, last = calendar_span(window.start, window.end, max(hi for _, hi in spans.values()))
        days, weights = day_weights(window, first, last)
        self._start = days[0]
        self._cum = np.concatenate([[0.0], np.cumsum(weights)])
        days, weights, groups = visit_groups(model)
        # Group k's cumulative weights, normalised, live in (k, k + 1]: one lookup of
        # u + k finds every row's day. _last[k] guards against u + k rounding to k + 1.
        cdfs, order, last_index = [], [], []
        for k, g in enumerate(groups):
            w = weights[g]
            total = w.sum()
            cdfs.append(k + (np.cumsum(w) / total if total > 0 else np.zeros(len(g))))
            order.append(g)
            last_index.append(sum(map(len, order)) - 1)
        self._visit_day = GuideTable(np.concatenate(cdfs), top=_power_of_two_above(len(groups)))
        self._flat_days = days[np.concatenate(order)]
        self._last = np.array(last_index, np.int64)
        # Keys lo + u * total stay below _cum[-1] but for a few ulps of rounding.
        self._follow_up_day = GuideTable(self._cum, top=_power_of_two_above(self._cum[-1] * 1.001))

    def visit(self, month: np.ndarray | None, u: np.ndarray) -> np.ndarray:
        """Visit dates (``datetime64[D]``) for month codes (None: no month node) and uniforms."""
        if month is None:
            return self._flat_days[np.minimum(self._visit_day.find(u), self._last[0])]
        found = self._visit_day.find(u + month)  # as searchsorted(flat cdf, u + month, 'right')
        return self._flat_days[np.minimum(found, self._last[month])]

    def follow_up(self, visit: np.ndarray, diagnosis: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Follow-up dates (``datetime64[D]``) for visit dates, diagnosis codes and uniforms."""
        offset = (visit - self._start).astype(np.int64)
        a = offset + self._fu_lo[diagnosis]  # first and last candidate day, inclusive
        b = offset + self._fu_hi[diagnosis]
        lo, total = self._cum[a], self._cum[b + 1] - self._cum[a]
        weighted = self._follow_up_day.find(lo + u * total) - 1
        uniform = a + (u * (b - a + 1)).astype(np.int64)
        day = np.clip(np.where(total > 0, weighted, uniform), a, b)
        return self._start + day.astype("timedelta64[D]")


def _power_of_two_above(x: float) -> float:
    """The least power of two greater than ``x >= 0``."""
    return float(np.ldexp(1.0, int(np.frexp(x)[1])))
