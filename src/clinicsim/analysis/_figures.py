"""The report's figures, drawn as SVG by :mod:`._svg` (no plotting library).

One drawing path serves the saved page (each figure inline, so the page stays one offline
file), the notebook (``report.figures()``: a mapping of name to :class:`SvgFigure`, shown
inline, ``.savefig("x.svg")`` to keep one) and the tests (which read the drawn text boxes).
Every figure is at most ``WIDTH`` inches wide at ``DPI``, shown at its own size; its
smallest text is ``SMALL`` points; every interval is at the report's one level,
``1 - alpha`` (the level of the checks' intervals: a target is shown when its interval lies
inside the margin). Hovering a bar, point or heatmap cell shows its numbers.

Hook for other reports: :data:`DRAWERS` maps a figure key's prefix to a function
``(data, key) -> SvgFigure``; a report that carries other figure data (a history report's
per-patient quantities) registers its drawer there and lists its keys in
``data["extra_figures"]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
from scipy import special

from ._svg import PT, Canvas, SvgFigure, text_width

__all__ = ["DPI", "DRAWERS", "ReportFigures", "draw", "figure_keys", "interval_level",
           "largest_residuals", "render_figures"]

DPI = 96
WIDTH = 10.5  # inches: 1008 px at DPI, inside the report's 1100 px column
SMALL = 9  # points; 12 px at DPI
_TARGET = "#d62728"
_BAR = "#1f77b4"
_OTHER = "#9e9e9e"
_ALL = "#444444"
_GRID = "#e6e6e6"
MAX_ROWS = 20  # parent combinations drawn per CPD; the rest are in the table of residuals
_PX = WIDTH * DPI
DRAWERS: dict[str, Callable[[dict[str, Any], str], SvgFigure]] = {}


def interval_level(alpha: float) -> str:
    """The report's interval level as a label, e.g. ``"99%"`` for alpha 0.01."""
    return f"{1 - alpha:.0%}"


def figure_keys(data: dict[str, Any]) -> list[str]:
    """The figures a report has: ``gender``, ``age``, ``follow_up``, ``cpd:<node>``, ``realism``."""
    keys: list[str] = [k for k in ("gender", "age", "follow_up") if k in data]
    keys += [f"cpd:{node}" for node in data.get("cpd", {})]
    keys += list(data.get("extra_figures", ()))
    return keys + (["realism"] if "realism" in data else [])


def draw(data: dict[str, Any], key: str) -> SvgFigure:
    """The figure ``key`` (one of :func:`figure_keys`) of a report's figure data."""
    if key not in figure_keys(data):
        raise KeyError(key)
    alpha = data["alpha"]
    if key == "gender":
        return _gender(data["gender"], alpha)
    if key == "age":
        return _age(data["age"], alpha)
    if key == "follow_up":
        return _follow_up(data["follow_up"], alpha)
    if key == "realism":
        from ._realism import realism_figure

        return realism_figure(data["realism"])
    prefix = key.split(":", 1)[0]
    if prefix in DRAWERS:
        return DRAWERS[prefix](data, key)
    node = key.removeprefix("cpd:")
    return _cpd(node, data["cpd"][node], alpha)


def render_figures(data: dict[str, Any]) -> dict[str, str]:
    """SVG documents keyed as :func:`figure_keys`."""
    return {key: draw(data, key).svg for key in figure_keys(data)}


class ReportFigures(Mapping[str, SvgFigure]):
    """A report's figures, drawn when looked up; shown inline in a notebook.

    ``figures["follow_up"]`` is an :class:`SvgFigure` (``.svg`` its text,
    ``.savefig("follow_up.svg")`` to keep it).
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> SvgFigure:
        return draw(self._data, key)

    def __iter__(self) -> Iterator[str]:
        return iter(figure_keys(self._data))

    def __len__(self) -> int:
        return len(figure_keys(self._data))

    def __repr__(self) -> str:
        return f"<ReportFigures {', '.join(self)}>"

    def _repr_html_(self) -> str:
        from ._render import figures_html

        return figures_html(render_figures(self._data))


def _clopper_pearson(k: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson intervals at the report's level ``1 - alpha``, elementwise.

    The same intervals as the checks' (``binomtest(...).proportion_ci(1 - alpha)``);
    NaN where n is 0.
    """
    k, n = np.asarray(k, float), np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        # scipy.stats.beta.ppf(q, a, b) is special.betaincinv(a, b, q); scipy.special
        # alone is what the checks load (scipy.stats would add 0.4 s to the report)
        lo = np.where(k > 0, special.betaincinv(k, n - k + 1, alpha / 2), 0.0)
        hi = np.where(k < n, special.betaincinv(k + 1, n - k, 1 - alpha / 2), 1.0)
    empty = n == 0
    return np.where(empty, np.nan, lo), np.where(empty, np.nan, hi)


def _binom_ppf(q: float, n: int, p: float) -> float:
    """``scipy.stats.binom.ppf(q, n, p)``, by its own formula, from scipy.special."""
    k = math.ceil(float(special.bdtrik(q, n, p)))
    below = max(k - 1, 0)
    return float(below if special.bdtr(below, n, p) >= q else k)


# -- layout helpers --------------------------------------------------------------------

def _wrap(text: str, points: float, width: float) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` pixels."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            if line and text_width(trial, points * PT) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines


def _title(c: Canvas, text: str, x: float, y: float, width: float, points: float = 11) -> float:
    """A wrapped, bold title from baseline ``y``; returns the y below it."""
    for line in _wrap(text, points, width):
        c.text(x, y, line, points, role="title", bold=True)
        y += points * PT * 1.3
    return y


def _ticks(top: float) -> list[float]:
    """About five round ticks from 0 to at least ``top``."""
    top = top if top > 0 else 1.0
    raw = top / 5
    step = min(m * 10 ** math.floor(math.log10(raw)) for m in (1, 2, 2.5, 5, 10)
                if m * 10 ** math.floor(math.log10(raw)) >= raw)
    return [i * step for i in range(int(math.ceil(top / step - 1e-9)) + 1)]


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if v >= 10 or v == 0 else f"{v:g}"


class _Axes:
    """A plot area from (x0, y0) to (x1, y1): y from 0 to ``ymax``, x from ``xmin`` to ``xmax``;
    draws the grid, the y ticks and the y label."""

    def __init__(self, c: Canvas, box: tuple[float, float, float, float], ymax: float,
                 xlim: tuple[float, float], ylabel: str, percent: bool = False) -> None:
        self.c, (self.x0, self.y0, self.x1, self.y1) = c, box
        ticks = _ticks(ymax)
        self.ymax, self.xlim = ticks[-1], xlim
        for t in ticks:
            y = self.y(t)
            c.line(self.x0, y, self.x1, y, _GRID)
            c.text(self.x0 - 5, y + 4, f"{t:.0%}" if percent else _fmt(t), SMALL, role="tick",
                   anchor="end")
        c.line(self.x0, self.y1, self.x1, self.y1, _ALL)
        c.line(self.x0, self.y0, self.x0, self.y1, _ALL)
        c.text(self.x0 - 48, (self.y0 + self.y1) / 2, ylabel, SMALL, anchor="middle",
               vertical=True)

    def x(self, v: float) -> float:
        lo, hi = self.xlim
        return self.x0 + (v - lo) / (hi - lo) * (self.x1 - self.x0)

    def y(self, v: float) -> float:
        return self.y1 - min(max(v, 0.0), self.ymax) / self.ymax * (self.y1 - self.y0)

    def interval(self, x: float, lo: float, hi: float, cap: float = 5) -> None:
        if math.isnan(lo) or math.isnan(hi):
            return
        self.c.line(x, self.y(lo), x, self.y(hi), "black", 1.2)
        for v in (lo, hi):
            self.c.line(x - cap, self.y(v), x + cap, self.y(v), "black", 1.2)


def _label_extent(labels: list[str], slot: float, points: float = SMALL) -> tuple[bool, float]:
    """Whether ``labels`` fit horizontally in ``slot`` pixels each, and their height."""
    size = points * PT
    widths = [max(text_width(line, size) for line in label.split("\n")) for label in labels]
    if max(widths, default=0) <= slot - 6:
        return True, size * 1.25 * max((label.count("\n") + 1 for label in labels), default=1)
    return False, max((text_width(label.replace("\n", " "), size) for label in labels),
                      default=0)


def _xticks(c: Canvas, xs: list[float], labels: list[str], y: float, slot: float) -> float:
    """Tick labels under an axis at ``y``: horizontal if they fit their slot, else read
    upwards; returns the y below them."""
    flat, height = _label_extent(labels, slot)
    size = SMALL * PT
    for x, label in zip(xs, labels, strict=True):
        if flat:
            for i, line in enumerate(label.split("\n")):
                c.text(x, y + size * (1.0 + 1.25 * i), line, SMALL, role="tick", anchor="middle")
        else:
            c.text(x + size * 0.3, y + 4, label.replace("\n", " "), SMALL, role="tick",
                   anchor="end", vertical=True)
    return y + height + 6


def _legend(c: Canvas, x: float, y: float, entries: list[tuple[str, str, str]],
            width: float) -> float:
    """Legend entries ``(kind, colour, label)`` in rows from baseline ``y``; returns the y
    below. Kinds: bar, line, dash, band, point, interval, outline."""
    size = SMALL * PT
    cx = x
    for kind, colour, label in entries:
        w = 22 + 6 + text_width(label, size) + 16
        if cx > x and cx + w > x + width:
            cx, y = x, y + size * 1.5
        mid = y - size * 0.3
        if kind == "bar":
            c.rect(cx, mid - 6, 22, 12, colour)
        elif kind == "band":
            c.rect(cx, mid - 6, 22, 12, colour, opacity=0.18)
        elif kind == "outline":
            c.rect(cx + 4, mid - 6, 14, 12, "white", stroke=colour)
        elif kind == "interval":
            c.line(cx + 11, mid - 6, cx + 11, mid + 6, colour, 1.2)
            c.line(cx + 7, mid - 6, cx + 15, mid - 6, colour, 1.2)
            c.line(cx + 7, mid + 6, cx + 15, mid + 6, colour, 1.2)
        elif kind == "point":
            c.line(cx, mid, cx + 22, mid, colour, 1.5)
            c.circle(cx + 11, mid, 3.5, colour)
        else:
            c.line(cx, mid, cx + 22, mid, colour, 2 if kind == "line" else 1,
                   "5 3" if kind == "dash" else "")
        c.text(cx + 28, y, label, SMALL, role="legend")
        cx += w
    return y + size * 1.2


def _pct(v: float) -> str:
    return "–" if math.isnan(v) else f"{v:.1%}"


# -- the target figures ----------------------------------------------------------------

def _gender(d: dict[str, Any], alpha: float) -> SvgFigure:
    level = interval_level(alpha)
    c = Canvas(640, 0)
    top = _title(c, d.get("title", "Gender shares vs target"), 12, 22, 616)
    expected = d.get("expected")  # a cohort: the model's exact shares given the evidence
    top = _legend(c, 12, top + 4, [("bar", _BAR, f"observed ({d['n']:,} rows)"),
                                   ("interval", "black", f"{level} interval"),
                                   ("line", _TARGET, d.get("target_label", "target"))]
                  + ([("band", _TARGET, "target ± margin")] if expected is None else []), 616)
    states, shares = d["states"], np.asarray(d["shares"], float)
    lo = np.array([i[0] for i in d["intervals"]], float)
    hi = np.array([i[1] for i in d["intervals"]], float)
    target = np.asarray(d["target"], float)
    top_line = target + d["margin"] if expected is None else np.asarray(expected, float)
    ymax = min(1.0, float(np.nanmax(np.r_[hi, top_line])) * 1.15)
    c.height = top + 250 + 60
    ax = _Axes(c, (80, top + 10, 620, top + 250), ymax, (-0.5, len(states) - 0.5),
               "share of records", percent=True)
    slot = (ax.x1 - ax.x0) / len(states)
    for i, state in enumerate(states):
        x = ax.x(i)
        c.rect(x - 0.3 * slot, ax.y(shares[i]), 0.6 * slot, ax.y1 - ax.y(shares[i]), _BAR,
               title=f"{state}: {_pct(shares[i])} of {d['n']:,} rows ({level} interval "
                     f"{_pct(lo[i])} to {_pct(hi[i])}); "
                     + (f"target {target[i]:.0%} ± {d['margin']:.0%}" if expected is None
                        else f"model {_pct(expected[i])}"))
        if expected is not None:
            c.line(x - 0.4 * slot, ax.y(expected[i]), x + 0.4 * slot, ax.y(expected[i]),
                   _TARGET, 2)
            ax.interval(x, lo[i], hi[i], 6)
            continue
        band_top, band_bottom = ax.y(target[i] + d["margin"]), ax.y(target[i] - d["margin"])
        c.rect(x - 0.4 * slot, band_top, 0.8 * slot, band_bottom - band_top, _TARGET,
               opacity=0.18)
        c.line(x - 0.4 * slot, ax.y(target[i]), x + 0.4 * slot, ax.y(target[i]), _TARGET, 2)
        ax.interval(x, lo[i], hi[i], 6)
    y = _xticks(c, [ax.x(i) for i in range(len(states))], list(states), ax.y1, slot)
    c.text((ax.x0 + ax.x1) / 2, y + 8, "gender", SMALL, anchor="middle")
    c.height = y + 20
    return c.figure("gender", "Gender shares against the target" if expected is None
                    else "Gender shares against the model's exact shares given the evidence")


def _age(d: dict[str, Any], alpha: float) -> SvgFigure:
    level = interval_level(alpha)
    ages, counts, n = np.asarray(d["ages"]), np.asarray(d["counts"], float), d["n"]
    expected_line = d.get("expected")  # per age, when the evidence makes it uneven
    p = 1 / len(ages)
    expected = n * p
    # One year's count is binomial(n, 1/years) under an even spread: its central
    # 1 - alpha range, drawn as two lines (a shaded band reads as a second series).
    low, high = (_binom_ppf(q, n, p) for q in (alpha / 2, 1 - alpha / 2))
    c = Canvas(_PX, 0)
    top = _title(c, d.get("title", "Age distribution vs even spread"), 12, 22, _PX - 24)
    entries = [("bar", _BAR, f"records per year of age ({n:,})")]
    if expected_line is None:
        entries += [("line", _TARGET, f"even spread: {expected:,.1f} per year"),
                    ("dash", _TARGET, f"{level} range of one year's count if even")]
    else:
        entries += [("line", _TARGET, "the model's exact expectation given the evidence")]
    top = _legend(c, 12, top + 4, entries, _PX - 24) + 4
    band_y = top + SMALL * PT
    box = (80, band_y + 8, _PX - 16, band_y + 228)
    ymax = max(float(counts.max()), float(high) if expected_line is None
               else float(np.max(expected_line))) * 1.1
    ax = _Axes(c, box, ymax, (float(ages.min()) - 0.5, float(ages.max()) + 0.5), "records")
    width = (ax.x1 - ax.x0) / len(ages)
    for age, count in zip(ages, counts, strict=True):
        c.rect(ax.x(age) - 0.45 * width, ax.y(count), 0.9 * width, ax.y1 - ax.y(count), _BAR,
               title=f"age {age}: {count:,.0f} records")
    if expected_line is None:
        c.line(ax.x0, ax.y(expected), ax.x1, ax.y(expected), _TARGET, 2)
        for level_count in (low, high):
            c.line(ax.x0, ax.y(level_count), ax.x1, ax.y(level_count), _TARGET, 1, "5 3")
    else:
        c.polyline([(ax.x(a), ax.y(e)) for a, e in zip(ages, expected_line, strict=True)],
                   _TARGET, 2)
    for name, (lo, hi) in d["bands"].items():
        c.line(ax.x(lo - 0.5), ax.y0, ax.x(lo - 0.5), ax.y1, "black", 0.6, "2 2")
        span = ax.x(min(hi, ages.max()) + 0.5) - ax.x(lo - 0.5)
        if text_width(name, SMALL * PT) <= span - 4:
            c.text((ax.x(lo - 0.5) + ax.x(min(hi, ages.max()) + 0.5)) / 2, band_y, name,
                   SMALL, role="tick", anchor="middle")
    decades = [a for a in range(0, int(ages.max()) + 1, 10) if a >= ages.min()]
    y = _xticks(c, [ax.x(a) for a in decades], [str(a) for a in decades], ax.y1,
                ax.x(10) - ax.x(0))
    c.text((ax.x0 + ax.x1) / 2, y + 8, "age (years); dotted lines: age bands", SMALL,
           anchor="middle")
    c.height = y + 20
    return c.figure("age", "Age distribution against the even spread" if expected_line is None
                    else "Age distribution against the model's exact expectation")


def _follow_up(d: dict[str, Any], alpha: float) -> SvgFigure:
    level = interval_level(alpha)
    c = Canvas(_PX, 0)
    names = list(d["by_category"])
    n = np.array([d["by_category"][k][0] for k in names], float)
    k = np.array([d["by_category"][k][1] for k in names], float)
    # The overall rate is a bar of its own, left of the categories: the target line and
    # its margin are drawn over that bar only, since no category has that target.
    n, k = np.r_[n.sum(), n], np.r_[k.sum(), k]
    lo, hi = _clopper_pearson(k, n, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = k / n
    expected = d.get("expected")  # per bar, the model's exact rate given the evidence
    left_w, right_x = 560.0, 650.0
    y_left = _title(c, d.get("title", "Follow-up rate, all records and by category"), 12, 22,
                    left_w - 12)
    entries = [("interval", "black", f"{level} interval")]
    if expected is not None:
        entries.append(("line", _TARGET, "model's exact rate given the evidence"))
    elif d["rate"] is not None:
        entries += [("line", _TARGET, f"target {d['rate'][0]:g} (all records)"),
                    ("band", _TARGET, "target ± margin")]
    y_left = _legend(c, 12, y_left + 4, entries, left_w - 12)
    trend = d["trend_category"]
    y_right = _title(c, "By age band" + (f" (target: rising for {trend})"
                                    if trend and expected is None else ""),
                     right_x - 50, 22, _PX - right_x + 40)
    lines = [("all", "all records", _OTHER)]
    if trend is not None:
        lines.insert(0, ("trend", trend, _BAR))
    y_right = _legend(c, right_x - 50, y_right + 4,
                      [("point", colour, f"{label} ({level} intervals)")
                       for _, label, colour in lines], _PX - right_x + 40)
    top = max(y_left, y_right) + 10
    ymax = min(1.0, float(np.nanmax(np.r_[hi, [d["rate"][0] + d["rate"][1]]
                                          if d["rate"] and expected is None else [],
                                          [] if expected is None else expected])) * 1.15)
    ax = _Axes(c, (70, top, left_w, top + 230), ymax, (-0.6, len(names) + 1.1),
               "follow-up rate", percent=True)
    xs = np.r_[0, np.arange(len(names)) + 1.5]
    slot = ax.x(1) - ax.x(0)
    labels = ["all"] + names
    for i, x in enumerate(xs):
        colour = "white" if i == 0 else _BAR if names[i - 1] in d["priority"] else _OTHER
        px = ax.x(x)
        c.rect(px - 0.35 * slot, ax.y(np.nan_to_num(rate[i])), 0.7 * slot,
               ax.y1 - ax.y(np.nan_to_num(rate[i])), colour, stroke=_ALL if i == 0 else "",
               title=f"{labels[i]}: {_pct(rate[i])} of {int(n[i]):,} rows ({level} interval "
                     f"{_pct(lo[i])} to {_pct(hi[i])})"
                     + ("" if expected is None else f"; model {_pct(expected[i])}"))
        ax.interval(px, lo[i], hi[i], 4)
        if expected is not None and not math.isnan(expected[i]):
            c.line(px - 0.4 * slot, ax.y(expected[i]), px + 0.4 * slot, ax.y(expected[i]),
                   _TARGET, 2)
    if expected is None and d["rate"] is not None:
        target, margin = d["rate"]
        x0, x1 = ax.x(-0.45), ax.x(0.45)
        c.rect(x0, ax.y(target + margin), x1 - x0, ax.y(target - margin) - ax.y(target + margin),
               _TARGET, opacity=0.18)
        c.line(x0, ax.y(target), x1, ax.y(target), _TARGET, 2)
    c.line(ax.x(0.75), ax.y0, ax.x(0.75), ax.y1, "black", 0.6, "2 2")
    y = _xticks(c, [ax.x(x) for x in xs],
                [f"{name}\n{int(m):,}" for name, m in zip(labels, n, strict=True)], ax.y1, slot)
    for line in _wrap(f"diagnosis category and rows (blue: {', '.join(d['priority'])})",
                      SMALL, left_w - 70):
        c.text((ax.x0 + ax.x1) / 2, y + 8, line, SMALL, anchor="middle")
        y += SMALL * PT * 1.3
    bands = list(d["by_band"])
    series = []
    for key, label, colour in lines:
        nb = np.array([d["by_band"][b][key][0] for b in bands], float)
        kb = np.array([d["by_band"][b][key][1] for b in bands], float)
        lob, hib = _clopper_pearson(kb, nb, alpha)
        with np.errstate(invalid="ignore", divide="ignore"):
            series.append((label, colour, kb / nb, lob, hib, nb))
    top_rate = max(float(np.nanmax(np.r_[s[4], 0.0])) for s in series)
    right = _Axes(c, (right_x, top, _PX - 16, top + 230), min(1.0, top_rate * 1.15),
                  (-0.5, len(bands) - 0.5), "follow-up rate", percent=True)
    for j, (label, colour, r, lob, hib, nb) in enumerate(series):
        shift = (j - (len(series) - 1) / 2) * 6
        points = [(right.x(i) + shift, right.y(v)) for i, v in enumerate(r) if not math.isnan(v)]
        c.polyline(points, colour)
        for i, v in enumerate(r):
            if not math.isnan(v):
                right.interval(right.x(i) + shift, lob[i], hib[i], 4)
                c.circle(right.x(i) + shift, right.y(v), 3.5, colour,
                         title=f"{label}, {bands[i]}: {_pct(v)} of {int(nb[i]):,} rows "
                               f"({level} interval {_pct(lob[i])} to {_pct(hib[i])})")
    yb = _xticks(c, [right.x(i) for i in range(len(bands))], bands, right.y1,
                 right.x(1) - right.x(0))
    c.text((right.x0 + right.x1) / 2, yb + 8, "age band", SMALL, anchor="middle")
    c.height = max(y, yb + 8) + 16
    return c.figure("follow_up", "Follow-up rates by category and by age band"
                    + ("" if expected is None else " against the model's exact rates"))


def _residuals(d: dict[str, Any]) -> dict[str, np.ndarray]:
    """Rows per column, observed frequencies, residuals and each column's deviation.

    ``z`` is (observed - expected) / SE per cell, NaN where the model gives 0 or 1 or the
    column has no rows; ``impossible`` marks rows in a state of probability 0; ``score``
    is each column's Pearson chi-square (infinite with an impossible row, -1 without rows).
    """
    model = d["model"]  # (states, columns)
    counts = d["counts"].astype(float)
    rows = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = np.where(rows > 0, counts / rows, np.nan)
        z = (counts - rows * model) / np.sqrt(rows * model * (1 - model))
    z = np.where((rows > 0) & (model > 0) & (model < 1), z, np.nan)
    impossible = (model == 0) & (counts > 0)
    score = np.where(rows > 0, np.nansum(z**2, axis=0), -1.0)
    score = np.where(impossible.any(axis=0), np.inf, score)
    return {"rows": rows, "observed": observed, "z": z, "impossible": impossible, "score": score}


def _short(label: str) -> str:
    """``"gender=male, age_group=0_14"`` -> ``"male / 0_14"``."""
    return " / ".join(part.split("=", 1)[1] for part in label.split(", "))


def largest_residuals(d: dict[str, Any], limit: int = 15) -> list[dict[str, Any]]:
    """The CPD cells that deviate most from the model, largest ``|z|`` first.

    Rows in states the model gives probability 0 come first; of a two-state node only the
    first state's residuals are listed (the second's are their negatives). Each entry has
    the parent states, the state, the column's rows, the observed frequency, the model's
    probability and the standardised residual ``z`` (None for impossible rows).
    """
    r = _residuals(d)
    size = np.where(np.isnan(r["z"]), -1.0, np.abs(r["z"]))
    if len(d["states"]) == 2:
        size[1] = -1.0  # a two-state column's second residual is the first one negated
    size = np.where(r["impossible"], np.inf, size)
    cells = sorted(zip(*np.nonzero(size >= 0), strict=True), key=lambda c: -size[c])[:limit]
    return [{"parents": _short(d["labels"][j]), "state": d["states"][i],
             "rows": int(r["rows"][j]), "observed": float(r["observed"][i, j]),
             "model": float(d["model"][i, j]),
             "z": None if r["impossible"][i, j] else float(r["z"][i, j])}
            for i, j in cells]


def _significant(z: np.ndarray, alpha: float) -> np.ndarray:
    """Cells whose residual is significant after Holm over the table's residuals at
    ``alpha`` (two-sided normal p-values; NaN cells never)."""
    flat = z.ravel()
    finite = np.flatnonzero(~np.isnan(flat))
    p = np.array([math.erfc(abs(float(flat[i])) / math.sqrt(2)) for i in finite])
    out = np.zeros(flat.shape, bool)
    for rank, i in enumerate(np.argsort(p, kind="stable")):
        if p[i] * (len(p) - rank) > alpha:
            break
        out[finite[i]] = True
    return out.reshape(z.shape)


def _diverging(v: float, bound: float = 4.0) -> str:
    """RdBu-like: blue below 0, white at 0, red above; NaN white."""
    if math.isnan(v):
        return "#ffffff"
    t = max(-1.0, min(1.0, v / bound))
    end = (178, 24, 43) if t > 0 else (33, 102, 172)
    rgb = [round(255 + (e - 255) * abs(t)) for e in end]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _sequential(v: float) -> str:
    t = max(0.0, min(1.0, v))
    rgb = [round(255 + (e - 255) * t) for e in (8, 81, 156)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


_ANNOTATION = text_width("+0.00", SMALL * PT) + 6


def _grid(c: Canvas, x: float, y: float, colours: list[list[str]], text: list[list[str]],
          hover: list[list[str]], marked: np.ndarray, rows: list[str], cols: list[str],
          cell: float, dark: np.ndarray) -> float:
    """A heatmap with its top-left corner at (x, y): row labels left of ``x``, column
    labels under it; marked cells outlined; returns the y below the column labels."""
    rh = SMALL * PT + 9
    for i, label in enumerate(rows):
        c.text(x - 6, y + rh * (i + 0.5) + SMALL * PT * 0.35, label, SMALL, role="tick",
               anchor="end")
        for j in range(len(cols)):
            cx, cy = x + cell * j, y + rh * i
            c.rect(cx, cy, cell, rh, colours[i][j], stroke="#ffffff", title=hover[i][j])
            if marked[i, j]:
                c.rect(cx + 1.5, cy + 1.5, cell - 3, rh - 3, "none", stroke="black")
            if text[i][j] and cell >= _ANNOTATION:
                c.text(cx + cell / 2, cy + rh / 2 + SMALL * PT * 0.35, text[i][j], SMALL,
                       role="annotation", anchor="middle",
                       colour="white" if dark[i, j] else "#222", title=hover[i][j])
    return _xticks(c, [x + cell * (j + 0.5) for j in range(len(cols))], cols,
                   y + rh * len(rows), cell)


def _colour_bar(c: Canvas, x: float, y: float, alpha: float) -> float:
    """The residual scale and the meaning of an outline, from baseline ``y``."""
    c.text(x, y, "residual (observed - expected) / SE:", SMALL, role="legend")
    x0 = x + text_width("residual (observed - expected) / SE:", SMALL * PT) + 10
    for i in range(17):
        c.rect(x0 + 12 * i, y - 11, 12, 12, _diverging(-4 + i * 0.5))
    for v in (-4, -2, 0, 2, 4):
        c.text(x0 + 12 * (v + 4) * 2 + 6, y + SMALL * PT + 4, f"{v:+d}" if v else "0", SMALL,
               role="tick", anchor="middle")
    _legend(c, x0 + 12 * 17 + 24, y, [("outline", "black",
                                       f"significant after Holm over the cells (alpha {alpha:g})")],
            _PX - x0 - 12 * 17 - 30)
    return y + SMALL * PT * 2.6


def _cpd(node: str, d: dict[str, Any], alpha: float) -> SvgFigure:
    """Standardised residuals of a CPD, labelled, with the values written in the cells
    (when they fit; always on hover) and the significant cells outlined.

    A two-state node with two parents is drawn as a grid (first parent x second parent):
    the model's P(first state) beside the residuals. Any other node is drawn with one row
    per parent combination, at most ``MAX_ROWS`` of them: those that deviate most.
    """
    states, parents = d["states"], d["parents"]
    r = _residuals(d)
    counts, model = d["counts"].astype(float), d["model"]
    first = r["z"][:1] if len(states) == 2 else r["z"]
    marked_all = _significant(first, alpha)
    if len(states) == 2:
        marked_all = np.vstack([marked_all, marked_all])

    def fmt(v: float) -> str:
        return "" if math.isnan(v) else "0" if abs(v) < 0.05 else f"{v:+.1f}"

    def hover(i: int, j: int) -> str:
        z = r["z"][i, j]
        rows = r["rows"][j]
        text = (f"{_short(d['labels'][j])} -> {node}={states[i]}: observed {counts[i, j]:,.0f}"
                f" of {rows:,.0f}, expected {rows * model[i, j]:,.1f} (P {model[i, j]:.3f})")
        if r["impossible"][i, j]:
            return text + "; the model makes this state impossible"
        if not math.isnan(z):
            text += f"; residual {z:+.2f}"
        return text + ("; significant after Holm" if marked_all[i, j] else "")

    c = Canvas(_PX, 0)
    total = int(r["rows"].sum())
    if len(states) == 2 and len(parents) == 2:
        shape = (len(d["row_states"]), len(d["col_states"]))
        model0, z0 = model[0].reshape(shape), r["z"][0].reshape(shape)
        marked = marked_all[0].reshape(shape)
        cells = [[hover(0, a * shape[1] + b) for b in range(shape[1])] for a in range(shape[0])]
        row_states, col_states, parents = list(d["row_states"]), list(d["col_states"]), parents
        if shape[1] > shape[0]:  # the parent with more states down the side: labels fit
            cells = [list(c) for c in zip(*cells, strict=True)]
            model0, z0, marked = model0.T, z0.T, marked.T
            row_states, col_states, parents = col_states, row_states, parents[::-1]
            shape = shape[::-1]
        y = _title(c, f"CPD of {node}: {total:,} rows against the model (residual = (observed "
                   "- expected) / SE; blank: no rows)", 12, 22, _PX - 24)
        label_w = max(text_width(s, SMALL * PT) for s in row_states) + 10
        panel = (_PX - 40) / 2
        cell = min(60.0, (panel - label_w - 30) / shape[1])
        bottom = y
        for k, (title, colours, text, dark, mark) in enumerate([
                (f"model P({node}={states[0]})",
                 [[_sequential(v) for v in row] for row in model0],
                 [[f"{v:.2f}" for v in row] for row in model0], model0 > 0.6,
                 np.zeros(shape, bool)),
                (f"standardised residual of {node}={states[0]}",
                 [[_diverging(v) for v in row] for row in z0],
                 [[fmt(v) for v in row] for row in z0], np.nan_to_num(np.abs(z0)) > 2.5,
                 marked)]):
            x = 30 + k * (panel + 20) + label_w
            c.text(x - label_w, y + 12, title, 10, role="title", bold=True)
            c.text(x - label_w - 16, y + 30 + shape[0] * 10, parents[0], SMALL,
                   anchor="middle", vertical=True)
            yb = _grid(c, x, y + 24, colours, text, cells, mark, row_states, col_states, cell,
                       dark)
            c.text(x + cell * shape[1] / 2, yb + 8, parents[1], SMALL, anchor="middle")
            bottom = max(bottom, yb + 20)
        c.height = _colour_bar(c, 30, bottom + 10, alpha)
        return c.figure(f"cpd:{node}", f"Residuals of the CPD of {node}")
    seen = np.flatnonzero(r["rows"] > 0)
    if len(seen) > MAX_ROWS:
        shown = seen[np.argsort(-r["score"][seen], kind="stable")[:MAX_ROWS]]
        which = (f"the {MAX_ROWS} of {len(seen)} parent combinations (with rows) that "
                 "deviate most, largest chi-square first")
    else:
        shown = seen
        which = f"all {len(seen)} parent combinations with rows"
    labels = [f"{_short(d['labels'][j])}  (n={int(r['rows'][j]):,})" for j in shown]
    label_w = max((text_width(s, SMALL * PT) for s in labels), default=0) + 10
    left = 30 + label_w
    cell = max(14.0, min(60.0, (_PX - left - 16) / len(states)))
    note = "" if cell >= _ANNOTATION else " Values on hover."
    y = _title(c, f"CPD of {node}: standardised residuals of {which}. · the model gives "
               "probability 0 and no row has it; × rows in a state the model makes "
               f"impossible.{note}", 12, 22, _PX - 24, 10)
    zt = r["z"][:, shown].T
    impossible = r["impossible"][:, shown].T
    zero = (model[:, shown].T == 0) & ~impossible
    text = [[("×" if impossible[a, b] else "·" if zero[a, b] else fmt(zt[a, b]))
             for b in range(len(states))] for a in range(len(shown))]
    colours = [[_diverging(4.0 if impossible[a, b] else zt[a, b]) for b in range(len(states))]
               for a in range(len(shown))]
    cells = [[hover(i, j) for i in range(len(states))] for j in shown]
    dark = (np.nan_to_num(np.abs(zt)) > 2.5) | impossible
    c.text(16, y + 10 + len(shown) * 10, " / ".join(parents), SMALL, anchor="middle",
           vertical=True)
    yb = _grid(c, left, y + 6, colours, text, cells, marked_all[:, shown].T, labels,
               list(states), cell, dark)
    c.text(left + cell * len(states) / 2, yb + 8, node, SMALL, anchor="middle")
    c.height = _colour_bar(c, 30, yb + 34, alpha)
    return c.figure(f"cpd:{node}", f"Residuals of the CPD of {node}")


from . import _history_figures  # noqa: E402, F401  (registers the history drawers)
