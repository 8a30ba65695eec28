"""A history report's per-patient figures, drawn through :data:`._figures.DRAWERS`.

``history:visits``: the observed share of patients with each number of visits (first
visit included) against the model's exact distribution, each bar with its Clopper–Pearson
interval at the report's level; ``history:follow_up``: the share of patients with at least
one follow-up visit against its exact value. The data are made by
:func:`._history.history_checks`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._figures import (
    _BAR,
    _PX,
    _TARGET,
    DRAWERS,
    SMALL,
    _Axes,
    _clopper_pearson,
    _legend,
    _pct,
    _title,
    _xticks,
    interval_level,
)
from ._svg import Canvas, SvgFigure

__all__ = ["MAX_BARS", "visit_bars"]

MAX_BARS = 25  # visit counts drawn one by one; the last bar pools the counts above


def visit_bars(d: dict[str, Any]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(labels, patients, exact shares) per bar: counts 1, 2, ... up to the largest one
    observed or with an exact share of at least 0.001, at most ``MAX_BARS`` bars (the last
    pooling the counts above it, ``">= k"``)."""
    patients, exact = np.asarray(d["patients"], float), np.asarray(d["exact"], float)
    shown = np.flatnonzero((patients > 0) | (exact >= 1e-3))
    last = min(int(shown.max()) + 1, MAX_BARS)
    labels = [str(v) for v in d["visits"][:last]]
    if last < len(patients):
        labels[-1] = f">= {labels[-1]}"
        patients = np.r_[patients[:last - 1], patients[last - 1:].sum()]
        exact = np.r_[exact[:last - 1], exact[last - 1:].sum()]
    return labels, patients[:last], exact[:last]


def _visits(data: dict[str, Any], key: str) -> SvgFigure:
    d, alpha = data["history"], data["alpha"]
    level = interval_level(alpha)
    n = d["n"]
    labels, k, exact = visit_bars(d)
    lo, hi = _clopper_pearson(k, np.full(len(k), n), alpha)
    share = k / n
    c = Canvas(_PX, 0)
    top = _title(c, f"Visits per patient: the share of {n:,} patients with each number of "
                 "visits against the model's exact distribution", 12, 22, _PX - 24)
    top = _legend(c, 12, top + 4, [("bar", _BAR, f"observed ({n:,} patients)"),
                                   ("interval", "black", f"{level} interval"),
                                   ("line", _TARGET, "model's exact share")], _PX - 24)
    ymax = min(1.0, float(np.nanmax(np.r_[hi, exact])) * 1.15)
    c.height = top + 300
    ax = _Axes(c, (80, top + 10, _PX - 16, top + 250), ymax, (-0.5, len(k) - 0.5),
               "share of patients", percent=True)
    slot = (ax.x1 - ax.x0) / len(k)
    for i, label in enumerate(labels):
        x = ax.x(i)
        c.rect(x - 0.3 * slot, ax.y(share[i]), 0.6 * slot, ax.y1 - ax.y(share[i]), _BAR,
               title=f"{label} visits: {_pct(share[i])} ({k[i]:,.0f} of {n:,} patients; "
                     f"{level} interval {_pct(lo[i])} to {_pct(hi[i])}); "
                     f"exact {_pct(exact[i])} ({exact[i] * n:,.1f} expected)")
        c.line(x - 0.4 * slot, ax.y(exact[i]), x + 0.4 * slot, ax.y(exact[i]), _TARGET, 2)
        ax.interval(x, lo[i], hi[i], min(6.0, 0.2 * slot))
    y = _xticks(c, [ax.x(i) for i in range(len(k))], labels, ax.y1, slot)
    c.text((ax.x0 + ax.x1) / 2, y + 8, "visits per patient (the first visit included)",
           SMALL, anchor="middle")
    c.height = y + 20
    return c.figure(key, "Visits per patient against the model's exact distribution")


def _follow_up(data: dict[str, Any], key: str) -> SvgFigure:
    d, alpha = data["history"], data["alpha"]
    level = interval_level(alpha)
    n, k, exact = d["n"], d["follow_up"], d["follow_up_exact"]
    lo, hi = (float(v[0]) for v in _clopper_pearson(np.array([k]), np.array([n]), alpha))
    share = k / n
    c = Canvas(480, 0)
    top = _title(c, "Patients with at least one follow-up visit against the exact share",
                 12, 22, 456)
    top = _legend(c, 12, top + 4, [("bar", _BAR, f"observed ({n:,} patients)"),
                                   ("interval", "black", f"{level} interval"),
                                   ("line", _TARGET, "model's exact share")], 456)
    ymax = min(1.0, max(hi, exact) * 1.15)
    c.height = top + 300
    ax = _Axes(c, (80, top + 10, 460, top + 250), ymax, (-0.5, 0.5), "share of patients",
               percent=True)
    x, slot = ax.x(0), ax.x1 - ax.x0
    c.rect(x - 0.2 * slot, ax.y(share), 0.4 * slot, ax.y1 - ax.y(share), _BAR,
           title=f"with a follow-up visit: {_pct(share)} ({k:,} of {n:,} patients; {level} "
                 f"interval {_pct(lo)} to {_pct(hi)}); exact {_pct(exact)}")
    c.line(x - 0.28 * slot, ax.y(exact), x + 0.28 * slot, ax.y(exact), _TARGET, 2)
    ax.interval(x, lo, hi, 6)
    y = _xticks(c, [x], ["patients with >= 1 follow-up visit"], ax.y1, slot)
    c.height = y + 12
    return c.figure(key, "Share of patients with a follow-up visit against its exact value")


def _draw(data: dict[str, Any], key: str) -> SvgFigure:
    return {"history:visits": _visits, "history:follow_up": _follow_up}[key](data, key)


DRAWERS["history"] = _draw
