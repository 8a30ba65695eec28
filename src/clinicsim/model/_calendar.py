"""A model's calendar: which days visits and follow-ups fall on, and how much each weighs.

Every calendar day ``d`` from the visit window's first day to its last possible follow-up
has a weight ``w(d)``: the window's weekday weight, times ``holiday_weight`` on one of the
model's public holidays. The holidays are dates saved in the model file
(``metadata.holidays``); a file without them gets them from the ``holidays`` package once,
at load (:func:`resolve_holidays`), and saving the model writes them. So the calendar, and
with it every visit date, depends on the model file only, not on the installed
``holidays`` version.

The model validates its calendar here (:func:`visit_groups`); the sampler
(``simulate``) builds its date lookups from the same functions.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np

from .._errors import ModelError
from .._reference import MONTHS

if TYPE_CHECKING:
    from ._metadata import VisitWindow
    from ._model import ClinicModel

__all__ = ["MONTH_NODE", "calendar_span", "day_weights", "resolve_holidays", "visit_groups"]

MONTH_NODE = "visit_month"  # optional node: states are MONTHS, its CPD gives the seasonality


def calendar_span(start: date, end: date, longest_follow_up: int) -> tuple[date, date]:
    """The first and last day a visit or a follow-up can fall on.

    Examples
    --------
    >>> import datetime
    >>> from clinicsim.model import calendar_span
    >>> calendar_span(datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), 365)
    (datetime.date(2024, 1, 1), datetime.date(2025, 12, 31))
    """
    return start, end + timedelta(days=int(longest_follow_up))


def resolve_holidays(country: str, first: date, last: date) -> tuple[date, ...]:
    """Public holidays of ``country`` from ``first`` to ``last``, from the ``holidays`` package.

    Raises :class:`~clinicsim.ModelError` for a country code the package does not know.
    """
    import holidays  # ~0.1 s: only for a model file that does not list its holidays

    if country not in holidays.list_supported_countries():
        raise ModelError(f"metadata.country must be a country code that the holidays package "
                         f"knows (ISO 3166-1 alpha-2, e.g. US, GB, DE); got {country!r}")
    public = holidays.country_holidays(country, years=range(first.year, last.year + 1))
    return tuple(sorted(d for d in public if first <= d <= last))


def day_weights(window: VisitWindow, first: date, last: date) -> tuple[np.ndarray, np.ndarray]:
    """Days ``first..last`` (``datetime64[D]``) and their weights ``w(d)``."""
    days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    weights = np.asarray(window.weekday_weights, float)[weekday]
    on_holiday = np.isin(days, np.array(window.holidays, dtype="datetime64[D]"))
    return days, np.where(on_holiday, weights * window.holiday_weight, weights)


def visit_groups(model: ClinicModel) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The visit window's days, their weights, and the day indices a visit's month picks from.

    With a ``visit_month`` node, group ``k`` holds the window's days in the node's ``k``-th
    state (month); without one, the whole window is one group. Raises
    :class:`~clinicsim.ModelError` if a group that the month CPD can give has no day of
    positive weight.
    """
    window = model.visit_window
    days, weights = day_weights(window, window.start, window.end)
    if MONTH_NODE not in model.nodes:
        if weights.sum() <= 0:
            raise ModelError(f"metadata.visit_window {window.start}..{window.end} has no "
                             "day of positive weight")
        return days, weights, [np.arange(len(days))]
    month = model.table(MONTH_NODE)
    month_of_day = days.astype("datetime64[M]").astype(np.int64) % 12
    groups = [np.flatnonzero(month_of_day == MONTHS.index(s)) for s in month.states]
    reachable = month.matrix.max(axis=1) > 0
    empty = [s for s, g, r in zip(month.states, groups, reachable, strict=True)
             if r and weights[g].sum() <= 0]
    if empty:
        raise ModelError(
            f"metadata.visit_window {window.start}..{window.end} has no visit day "
            f"(of positive weight) in {', '.join(empty)}, which the CPD for "
            f"{MONTH_NODE!r} can give; widen the window (whole years always work) "
            "or give those months probability 0")
    return days, weights, groups
