"""Exact expectations of a model's patient histories, computed, not simulated.

The number of visits of a patient has a probability generating function (PGF) that the
model gives in closed form, evaluated on ``N`` points of the unit circle and turned into
the distribution by an inverse FFT (exact to rounding once the mass at ``N`` visits or
more is below 1e-13; ``N`` doubles until it is):

- a follow-up chain: ``F[c, k](s)``, the PGF of the follow-up visits still to come after
  a visit on day ``s`` of category ``c`` that orders follow-up number ``k``: a sum over
  its due day ``d`` (the calendar's weights over ``follow_up_days[c]``) of 1 if ``d`` is
  after the window, else ``(1 - a_c) + a_c z (r[c, k] F[c, k + 1](d) + 1 - r[c, k])``;
  from the last listed number on the chain is stationary, solved backwards over days;
- returns: a Poisson process of intensity ``mu(s) = rate[b0] w(s) / (365.25 mean w)`` after
  the first visit, each drawn from the network given gender, age band and month at ``s``
  and starting a chain if it orders a follow-up; its PGF is
  ``exp(sum over s of mu(s) (z R(s) - 1))``;
- the first visit: the network's joint law of gender, age band, diagnosis, follow-up
  and month, and the calendar's law of the day within the month.

A patient whose first-visit age is the top of a band moves to the next band on the
birthday, which is uniform over the year after the first visit. (Exactly so but for
births on 29 February, whose birthday is 1 March in common years: an effect below 1e-5
on any figure here.) ``given=`` cohorts are not covered: these are the figures of the
whole population.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._cache import cached_by_content
from ._calendar import MONTH_NODE, calendar_span, day_weights, visit_groups

if TYPE_CHECKING:
    from ._model import ClinicModel

__all__ = ["HistoryExpectations", "history_expectations"]

TAIL = 1e-13


@dataclass(frozen=True)
class HistoryExpectations:
    """A model's exact history figures (see :func:`history_expectations`).

    ``visits`` is P(a patient has v visits), indexed by v = 1, 2, ...; ``follow_up_share``
    the share of patients with at least one follow-up visit; ``returning_share`` the
    share of visits that are not a patient's first (by returning patients);
    ``visits_per_year`` the expected visits per patient-year by the first visit's age
    band (from the first visit to the window's end, the first visit included);
    ``mean_visits`` E[visits per patient].
    """

    visits: pd.Series
    follow_up_share: float
    returning_share: float
    visits_per_year: pd.Series
    mean_visits: float


def history_expectations(model: ClinicModel) -> HistoryExpectations:
    """The exact expectations of ``model``'s patient histories.

    Examples
    --------
    >>> import clinicsim
    >>> from clinicsim.model import history_expectations
    >>> e = history_expectations(clinicsim.default_model())
    >>> round(e.mean_visits, 4), round(e.follow_up_share, 4), round(e.returning_share, 4)
    (2.4778, 0.2896, 0.5964)
    >>> e.visits.head(3).round(4).tolist()
    [0.4303, 0.2328, 0.1282]
    """
    return _expectations(model)


class _Parts:
    """What the PGFs need from a model, computed once per model."""

    def __init__(self, m: ClinicModel) -> None:
        h = m.history
        window = m.visit_window
        spans = m.follow_up_days
        self.start = window.start.toordinal()
        self.T = (window.end - window.start).days + 1
        longest = max(hi for _, hi in spans.values())
        first, last = calendar_span(window.start, window.end, longest)
        _, weights = day_weights(window, first, last)
        self.w = weights
        self.base = weights[:self.T] / weights[:self.T].mean() / 365.25
        self.categories = list(dict.fromkeys(c for c, _ in h.attendance))
        self.spans = spans
        self.attend = dict(h.attendance)
        self.repeat = dict(h.repeat)
        ages = m.states("age_group")
        self.bands = ages
        self.rate = np.array([h.rate(b) for b in ages])
        lo = np.array([m.age_bands[b][0] for b in ages])
        hi = np.array([m.age_bands[b][1] for b in ages])
        self.width = hi - lo + 1
        # the band an age of hi + 1 falls in (-1: none, the top band)
        self.next = np.array([int(np.flatnonzero(lo == h1 + 1)[0]) if (lo == h1 + 1).any()
                              else -1 for h1 in hi])
        categories = m.diagnosis_categories
        dx = m.states("diagnosis")
        cat_of = np.array([self.categories.index(categories[d]) for d in dx])
        fu_true = m.states("follow_up").index("True")
        month = MONTH_NODE in m.nodes
        nodes = ["gender", "age_group", "diagnosis", "follow_up",
                 *([MONTH_NODE] if month else [])]
        joint = m.query(nodes).to_numpy().reshape([len(m.states(n)) for n in nodes])
        if not month:
            joint = joint[..., None]
        # P(g, b, category, follow-up True/False, month group)
        by_cat = np.zeros((joint.shape[0], joint.shape[1], len(self.categories), 2,
                           joint.shape[-1]))
        for k in range(len(self.categories)):
            by_cat[:, :, k] = joint[:, :, cat_of == k].sum(axis=2)
        by_cat = by_cat[:, :, :, [fu_true, 1 - fu_true], :]  # [..., 0] = follow-up True
        days, wts, groups = visit_groups(m)
        p_day = np.zeros((len(groups), self.T))  # P(first-visit day | month group)
        offsets = (days - np.datetime64(window.start, "D")).astype(np.int64)
        for k, g in enumerate(groups):
            if wts[g].sum() > 0:
                p_day[k, offsets[g]] = wts[g] / wts[g].sum()
        self.first = np.einsum("gbcfm,mt->gbcft", by_cat, p_day)
        # returns: P(category, follow-up | g, b, month of day s)
        marg = by_cat.sum(axis=(2, 3), keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            cond = np.where(marg > 0, by_cat / np.where(marg > 0, marg, 1), 0.0)
        month_of_day = self._month_of_day(m, month, groups, offsets)
        self.ret = cond[..., month_of_day]  # (g, b, c, f, s)
        # the birthday: uniform over the days to the same date a year later
        self.year_days = np.array([(_plus_year(window.start + timedelta(days=t)) -
                                    (window.start + timedelta(days=t))).days
                                   for t in range(self.T)])
        self.due = {c: self._due(c) for c in self.categories}

    @staticmethod
    def _month_of_day(m, month, groups, offsets) -> np.ndarray:
        out = np.zeros(int(offsets.max()) + 1, np.int64)
        if month:
            for k, g in enumerate(groups):
                out[offsets[g]] = k
        return out

    def _due(self, category: str) -> np.ndarray:
        """P(due day = d | visit on day s) as a (T, T + hi) matrix over window days s and
        days d from the window's start (past the window: censored)."""
        lo, hi = self.spans[category]
        s = np.arange(self.T)[:, None]
        w = self.w[s + np.arange(lo, hi + 1)]
        total = w.sum(axis=1, keepdims=True)
        flat = np.full_like(w, 1.0 / w.shape[1])
        with np.errstate(invalid="ignore", divide="ignore"):
            q = np.where(total > 0, w / np.where(total > 0, total, 1), flat)
        matrix = np.zeros((self.T, self.T + hi + 1))
        matrix[np.repeat(np.arange(self.T), hi - lo + 1),
               (s + np.arange(lo, hi + 1)).ravel()] = q.ravel()
        return matrix


def _plus_year(d: date) -> date:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:
        return d.replace(year=d.year + 1, month=3, day=1)


_parts = cached_by_content(_Parts)


def _real_matmul(M: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``M @ h`` for a real matrix and a complex one, by one real product (numpy has no
    BLAS routine for the mixed types and would loop)."""
    pairs = np.ascontiguousarray(h).view(np.float64)
    return np.ascontiguousarray(M @ pairs).view(np.complex128)


def _chains(p: _Parts, z: np.ndarray) -> np.ndarray:
    """``F[c, 1](s; z)`` for every category and window day: (C, T, N)."""
    out = []
    T = p.T
    for c in p.categories:
        M = p.due[c]
        a, r = p.attend[c], p.repeat[c]
        lo = p.spans[c][0]
        h = np.ones((M.shape[1], len(z)), complex)  # H(d): 1 past the window (censored)

        def attended(f: np.ndarray, rk: float, a: float = a) -> np.ndarray:
            return (1 - a) + a * z * (rk * f + 1 - rk)

        # the stationary tail F = M H(F); with r = 0 it is explicit
        rk = r[-1]
        if rk == 0:
            h[:T] = (1 - a) + a * z
            f = _real_matmul(M, h)
        else:  # backwards, lo days at a time: their due days are all known
            f = np.ones((T, len(z)), complex)
            for top in range(T - 1, -1, -lo):
                rows = slice(max(0, top - lo + 1), top + 1)
                f[rows] = _real_matmul(M[rows], h)
                h[rows] = attended(f[rows], rk)
        for k in range(len(r) - 2, -1, -1):
            h[:T] = attended(f, r[k])
            f = _real_matmul(M, h)
        out.append(f)
    return np.array(out)


def _pgf(p: _Parts, z: np.ndarray, zf: np.ndarray, by_band: bool = False) -> np.ndarray:
    """E[z^(first + returns) zf^(follow-ups)] on the points, (N,) or (B, N) by band."""
    chain = _chains(p, zf)  # (C, T, N)
    # returns: z R(s) - 1, R the chain PGF of a return on day s, per gender and band
    R = _per_day(p.ret[:, :, :, 0], chain) + p.ret[:, :, :, 1].sum(axis=2)[..., None]
    term = p.base[None, None, :, None] * (z * R - 1)  # (G, B, T, N)
    # Q(t) = sum over s >= t of term(s); Q[..., T, :] = 0
    Q = np.concatenate([np.cumsum(term[:, :, ::-1], axis=2)[:, :, ::-1],
                        np.zeros((*term.shape[:2], 1, term.shape[3]))], axis=2)
    G, B = Q.shape[:2]
    t = np.arange(p.T)
    X = np.empty((G, B, p.T, len(z)), complex)
    for b in range(B):
        stay = np.exp(p.rate[b] * Q[:, b, t + 1])
        nb = p.next[b]
        if nb < 0:
            X[:, b] = stay
            continue
        # a birthday on day beta in t+1 .. t+L moves the band from then on
        D = np.exp(p.rate[b] * (Q[:, nb, :p.T] - Q[:, b, :p.T]))  # (G, T, N), beta inside
        cum = np.concatenate([np.zeros((G, 1, len(z))), np.cumsum(D, axis=1)], axis=1)
        L = p.year_days
        last = np.minimum(t + L, p.T - 1)
        inside = cum[:, last + 1] - cum[:, t + 1]
        outside = (t + L - last)[None, :, None]
        moved = (inside + outside) / L[None, :, None]
        share = 1.0 / p.width[b]
        X[:, b] = stay * ((1 - share) + share * moved)
    W = _per_day(p.first[:, :, :, 0], chain) + p.first[:, :, :, 1].sum(axis=2)[..., None]
    per = z * (W * X).sum(axis=2)  # (G, B, N)
    return per.sum(axis=0) if by_band else per.sum(axis=(0, 1))


def _per_day(weights: np.ndarray, chain: np.ndarray) -> np.ndarray:
    """sum over categories c of weights[g, b, c, t] chain[c, t, n], as (g, b, t, n)."""
    g, b, c, t = weights.shape
    w = weights.reshape(g * b, c, t).transpose(2, 0, 1)  # (t, gb, c)
    out = np.matmul(w, chain.transpose(1, 0, 2))  # (t, gb, n)
    return out.transpose(1, 0, 2).reshape(g, b, t, -1)


def _distribution(p: _Parts) -> tuple[np.ndarray, np.ndarray]:
    n = 128
    while True:
        # half the circle: the PGF at conj(z) is the conjugate of the PGF at z
        z = np.exp(2j * np.pi * np.arange(n // 2 + 1) / n)
        probs = np.fft.irfft(np.conj(_pgf(p, z, z, by_band=True)), n=n, axis=1)  # (B, n)
        probs = np.clip(probs, 0, None)
        if probs[:, n // 2:].sum() < TAIL or n >= 4096:
            return probs.sum(axis=0), probs
        n *= 2


@cached_by_content
def _expectations(m: ClinicModel) -> HistoryExpectations:
    p = _parts(m)
    total, by_band = _distribution(p)
    v = np.arange(len(total))
    mean = float((v * total).sum())
    one = np.ones(1, complex)
    no_follow_up = float(_pgf(p, one, np.zeros(1, complex)).real[0])
    first_band = p.first.sum(axis=(0, 2, 3))  # (B, T): P(band, first day)
    years = ((p.T - np.arange(p.T)) / 365.25 * first_band).sum(axis=1)
    per_year = (by_band * v).sum(axis=1) / np.where(years > 0, years, np.nan)
    visits = pd.Series(total[1:], index=pd.RangeIndex(1, len(total), name="visits"), name="p")
    visits = visits[: int(np.flatnonzero(visits.to_numpy() > TAIL).max()) + 1]
    return HistoryExpectations(
        visits=visits,
        follow_up_share=1 - no_follow_up,
        returning_share=(mean - 1) / mean,
        visits_per_year=pd.Series(per_year, index=pd.Index(p.bands, name="age_group"),
                                  name="visits_per_year"),
        mean_visits=mean,
    )
