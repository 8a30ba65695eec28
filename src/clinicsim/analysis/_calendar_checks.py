"""Model checks of what the network does not draw: ages within a band, the day of a visit
within its month, and the day of a follow-up within its interval.

The sampler draws a record's age uniformly within its band (within the band's part of a
cohort's age range), a visit's day within the visit's month with the calendar's weights
``w(d)`` (weekday weight, times ``holiday_weight`` on a public holiday), and a follow-up's
day within ``visit + lo .. visit + hi`` (its diagnosis category's ``follow_up_days``) with
the same weights, uniformly if they are all 0 (``simulate/_dates.py``). Each check
compares the records with these exact conditional distributions:

* :func:`age_within_band_check`: per band, the single ages against uniform (Cressie-Read,
  lambda 2/3), the statistics summed over the bands with enough rows;
* :func:`visit_day_check`: visit days classed by weekday (a holiday its own class) and
  third of the month, against the classes' exact probabilities given each visit's
  calendar month;
* :func:`follow_up_day_check`: follow-up days classed by weekday (holiday) and quarter of
  the interval, against their exact probabilities given each row's visit day and
  category.

The last two add up rows whose expected distributions differ (months, visit days): the
cell counts ``O`` have mean ``E = sum_g n_g p_g`` and covariance
``V = diag(E) - sum_g n_g p_g p_g^T``, and the statistic ``(O - E)' V^-1 (O - E)`` over
all cells but one is chi-square with (cells - 1) degrees of freedom for large counts
(Pearson's statistic when every group has the same ``p``). A day class (weekday or
holiday) whose parts are expected to hold fewer than :data:`GROUPED_MIN_EXPECTED` rows
is one cell, and classes still below that are pooled; with fewer than two cells left the
check reads ``not tested``. A row on a day (or an age) the model
gives probability 0 fails its check outright.
"""

from __future__ import annotations

import numpy as np

from ..model import day_weights
from ._checks import MIN_EXPECTED, MODEL_LAMBDA, _chi2_tail, _divergence, _not_tested
from ._model_info import ModelInfo
from ._result import CheckResult

__all__ = ["age_within_band_check", "calendar_checks", "follow_up_day_check",
           "visit_day_check"]

HOLIDAY = 7  # day class of a public holiday; 0..6 are Monday..Sunday
DAY_CLASSES = 8
MONTH_PARTS = 3  # days 1-10, 11-20, 21-31
INTERVAL_PARTS = 4  # quarters of a follow-up interval's days
# Pearson's statistic over-rejects in the far tail (p ~ 1e-4, where Holm tests a model
# check) when cells hold about 5 rows; 10 keeps it honest (benchmarks/calendar_calibration.py).
GROUPED_MIN_EXPECTED = 10.0
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
             "holiday")


def calendar_checks(coded_age: np.ndarray, band: np.ndarray, visit: np.ndarray | None,
                    follow_up: np.ndarray | None, diagnosis: np.ndarray | None,
                    info: ModelInfo, ages: tuple[int, int] | None = None
                    ) -> list[CheckResult]:
    """The checks of this module that the records' columns allow, in a fixed order."""
    results = [age_within_band_check(coded_age, band, info, ages)]
    if visit is not None:
        results.append(visit_day_check(visit, info))
        if follow_up is not None and diagnosis is not None:
            results.append(follow_up_day_check(visit, follow_up, diagnosis, info))
    return results


def age_within_band_check(age: np.ndarray, band: np.ndarray, info: ModelInfo,
                          ages: tuple[int, int] | None = None) -> CheckResult:
    """Single ages within each band against uniform (within ``ages`` for a cohort).

    A band is tested when each of its ages is expected to hold
    :data:`~clinicsim.analysis._checks.MIN_EXPECTED` rows; the bands' Cressie-Read
    statistics (independent given the bands' row counts) are summed.
    """
    name = "model: age within band"
    states = info.states["age_group"]
    statistic, df, tested, skipped, worst = 0.0, 0, 0, [], (0.0, "")
    impossible = []
    for code, state in enumerate(states):
        lo, hi = info.bands[state]
        if ages is not None:
            lo, hi = max(lo, ages[0]), min(hi, ages[1])
        inside = age[band == code]
        if not inside.size:
            continue
        outside = int(((inside < lo) | (inside > hi)).sum())
        if outside:
            impossible.append(f"{outside:,} in band {state} outside {lo}..{hi}")
            continue
        width = hi - lo + 1
        if width < 2:
            continue
        if inside.size / width < MIN_EXPECTED:
            skipped.append(state)
            continue
        counts = np.bincount(inside - lo, minlength=width).astype(float)
        expected = np.full(width, inside.size / width)
        statistic += _divergence(counts, expected, MODEL_LAMBDA)
        df += width - 1
        tested += int(inside.size)
        tv = float(0.5 * np.abs(counts / inside.size - 1 / width).sum())
        if tv >= worst[0]:
            worst = (tv, state)
    n = len(age)
    if impossible:
        return CheckResult(name, "impossible values", None, 0.0, None, None, True,
                           f"{n:,} rows: {'; '.join(impossible)}, where the model draws "
                           "ages within the band" + (f" and {ages[0]}..{ages[1]}"
                                                     if ages else ""),
                           kind="model", node="age", rows=n)
    if df == 0:
        return _not_tested(name, "model", "age", n,
                           f"{n:,} rows: no band has {MIN_EXPECTED:g} rows expected at each "
                           "of its ages")
    statistic, df, pvalue = _chi2_tail(statistic, df)
    note = f"; bands with too few rows, not tested: {', '.join(skipped)}" if skipped else ""
    detail = (f"{tested:,} rows in {len(states) - len(skipped)} bands vs ages uniform within "
              f"each band{' and the cohort range' if ages else ''}; largest total variation "
              f"{worst[0]:.3f} (band {worst[1]}){note}")
    return CheckResult(name, f"Cressie-Read power divergence (lambda 2/3) per band, summed, "
                       f"df={df}", statistic, pvalue, worst[0], None, True, detail,
                       kind="model", node="age", rows=tested)


def _calendar(info: ModelInfo, first: np.datetime64, last: np.datetime64
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days ``first..last``, their weights and their class (weekday, or HOLIDAY)."""
    days, weights = day_weights(info.window, first.astype(object), last.astype(object))
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    holiday = np.isin(days, np.array(info.window.holidays, dtype="datetime64[D]"))
    return days, weights, np.where(holiday, HOLIDAY, weekday)


def visit_day_check(visit: np.ndarray, info: ModelInfo) -> CheckResult:
    """Visit days against the calendar's weights within each visit's calendar month."""
    name = "model: visit_date day within month"
    n = len(visit)
    window = info.window
    days, weights, day_class = _calendar(info, np.datetime64(window.start, "D"),
                                         np.datetime64(window.end, "D"))
    day_of_month = (days - days.astype("datetime64[M]")).astype(np.int64)  # 0-based
    cell = day_class * MONTH_PARTS + np.minimum(day_of_month // 10, MONTH_PARTS - 1)
    month = days.astype("datetime64[M]").astype(np.int64)
    group = month - month[0]
    k = DAY_CLASSES * MONTH_PARTS
    index = (visit - days[0]).astype(np.int64)
    zero = weights[index] <= 0
    if zero.any():
        found = np.unique(visit[zero])[:3]
        return CheckResult(name, "impossible values", None, 0.0, None, None, True,
                           f"{n:,} rows: {int(zero.sum()):,} visits on days of weight 0 "
                           f"({', '.join(map(str, found))}{', ...' if zero.sum() > 3 else ''})"
                           ", where the model draws no visit", kind="model", node="visit_date",
                           rows=n)
    mass = np.zeros((group[-1] + 1, k))
    np.add.at(mass, (group, cell), weights)
    probs = mass / mass.sum(axis=1, keepdims=True)
    rows_in = np.bincount(group[index], minlength=len(probs))
    observed = np.bincount(cell[index], minlength=k)
    return _grouped(name, "visit_date", observed, rows_in, probs, n,
                    "visit days by weekday (holidays apart) and third of the month, vs the "
                    "calendar's weights within each visit's month")


def follow_up_day_check(visit: np.ndarray, follow_up: np.ndarray, diagnosis: np.ndarray,
                        info: ModelInfo) -> CheckResult:
    """Follow-up days against the calendar's weights within each row's interval.

    ``follow_up`` holds the follow-up dates (NaT on rows without a follow-up); every date
    lies in its interval (a records check).
    """
    name = "model: follow_up_date day within its interval"
    has = ~np.isnat(follow_up)
    visit, follow_up, diagnosis = visit[has], follow_up[has], diagnosis[has]
    n = len(visit)
    if n == 0:
        return _not_tested(name, "model", "follow_up_date", 0, "no follow-up dates")
    spans = info.follow_up_days
    dx = info.states["diagnosis"]
    lo = np.array([spans[info.categories[d]][0] for d in dx], np.int64)[diagnosis]
    length = np.array([spans[info.categories[d]][1] - spans[info.categories[d]][0] + 1
                       for d in dx], np.int64)[diagnosis]
    first = visit.min() + lo.min()
    days, weights, day_class = _calendar(info, first, visit.max() + (lo + length).max())
    start = (visit - first).astype(np.int64) + lo  # index of each row's first candidate day
    # One group per (first candidate day, interval length): same days, same distribution.
    radix = int(length.max()) + 1
    keys, group = np.unique(start * radix + length, return_inverse=True)
    groups = np.stack([keys // radix, keys % radix])
    group = group.reshape(-1)
    k = DAY_CLASSES * INTERVAL_PARTS
    probs = np.zeros((groups.shape[1], k))
    for size in np.unique(groups[1]):
        chosen = np.flatnonzero(groups[1] == size)
        offsets = np.arange(size)
        at = groups[0, chosen][:, None] + offsets  # (groups, days)
        w = weights[at]
        total = w.sum(axis=1, keepdims=True)
        w = np.where(total > 0, w, 1.0)  # all weights 0: the sampler draws uniformly
        cells = day_class[at] * INTERVAL_PARTS + offsets * INTERVAL_PARTS // size
        flat = (np.arange(len(chosen))[:, None] * k + cells).ravel()
        probs[chosen] = np.bincount(flat, weights=w.ravel(),
                                    minlength=len(chosen) * k).reshape(-1, k)
    probs /= probs.sum(axis=1, keepdims=True)
    offset = (follow_up - visit).astype(np.int64) - lo
    at = start + offset
    row_cell = day_class[at] * INTERVAL_PARTS + offset * INTERVAL_PARTS // length
    zero = probs[group, row_cell] <= 0
    if zero.any():
        return CheckResult(name, "impossible values", None, 0.0, None, None, True,
                           f"{n:,} follow-ups: {int(zero.sum()):,} on days of weight 0 in "
                           "their interval, where the model draws none", kind="model",
                           node="follow_up_date", rows=n)
    observed = np.bincount(row_cell, minlength=k)
    rows_in = np.bincount(group, minlength=len(probs))
    return _grouped(name, "follow_up_date", observed, rows_in, probs, n,
                    "follow-up days by weekday (holidays apart) and quarter of the interval, "
                    "vs the calendar's weights within each row's interval",
                    parts=INTERVAL_PARTS, part="quarter")


def _grouped(name: str, node: str, observed: np.ndarray, rows_in: np.ndarray,
             probs: np.ndarray, n: int, what: str, parts: int = MONTH_PARTS,
             part: str = "third") -> CheckResult:
    """The generalised Pearson statistic of cell counts summed over groups of rows with
    their own cell probabilities (``probs``, one row per group, ``rows_in`` rows each)."""
    expected = rows_in @ probs
    cells = _cells(expected, parts)
    if len(cells) < 2:
        return _not_tested(name, "model", node, n,
                           f"{n:,} rows: too few expected in two or more cells to test the "
                           "days")
    pool = np.zeros((len(probs[0]), len(cells)))
    for c, members in enumerate(cells):
        pool[members, c] = 1
    o, e, p = observed @ pool, expected @ pool, probs @ pool
    covariance = np.diag(e) - (p.T * rows_in) @ p
    d = (o - e)[:-1]
    try:
        statistic = float(d @ np.linalg.solve(covariance[:-1, :-1], d))
    except np.linalg.LinAlgError:
        statistic = float(d @ np.linalg.pinv(covariance[:-1, :-1]) @ d)
    statistic, df, pvalue = _chi2_tail(statistic, len(cells) - 1)
    frequency, share = o / n, e / n
    worst = int(np.argmax(np.abs(frequency - share)))
    label = _cell_label(cells[worst], parts, part)
    tv = float(0.5 * np.abs(frequency - share).sum())
    detail = (f"{n:,} {what}; largest difference {label}: {frequency[worst]:.4f} observed vs "
              f"{share[worst]:.4f} expected")
    return CheckResult(name, f"generalised Pearson statistic over {len(cells)} cells, "
                       f"df={df}", statistic, pvalue, tv, None, True, detail, kind="model",
                       node=node, rows=n)


def _cells(expected: np.ndarray, parts: int) -> list[np.ndarray]:
    """The cells tested: a day class whose parts are not all expected to hold
    :data:`GROUPED_MIN_EXPECTED` rows is one cell; classes still below it are pooled
    into one, topped up with the least expected other cell if the pool is still below."""
    candidates = []
    for day_class in range(len(expected) // parts):
        members = day_class * parts + np.flatnonzero(
            expected[day_class * parts:(day_class + 1) * parts] > 0)
        if len(members) and (expected[members] < GROUPED_MIN_EXPECTED).any():
            candidates.append(members)
        else:
            candidates.extend(np.array([m]) for m in members)
    mass = np.array([expected[c].sum() for c in candidates])
    small = mass < GROUPED_MIN_EXPECTED
    if small.any() and mass[small].sum() < GROUPED_MIN_EXPECTED and (~small).any():
        big = np.flatnonzero(~small)
        small[big[np.argmin(mass[big])]] = True
    cells = [c for c, s in zip(candidates, small, strict=True) if not s]
    if small.any():
        cells.append(np.concatenate([c for c, s in zip(candidates, small, strict=True) if s]))
    return cells


def _cell_label(members: np.ndarray, parts: int, part: str) -> str:
    classes = sorted({int(m) // parts for m in members})
    if len(classes) > 1:
        return "pooled " + ", ".join(_WEEKDAYS[c] for c in classes)
    day_class, which = divmod(int(members[0]), parts)
    return _WEEKDAYS[day_class] + (f", {part} {which + 1}" if len(members) == 1 else "")
