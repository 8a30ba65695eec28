"""The checks: records validity, the model's stated targets, and the records against the model.

Every statistical check returns an unadjusted p-value of the hypothesis whose rejection
fails it; the report adjusts them within their family (Holm) and
:meth:`CheckResult.judged` decides. What a p-value tests depends on the kind of check:

* **equality targets with a margin** (a share, a rate, ages evenly spread): the
  hypothesis is "the true value lies inside target ± margin". The check fails only when
  the records show the value *outside* the margin, is ``shown`` when its ``1 - alpha``
  interval lies inside, and is ``not shown`` otherwise. A model whose exact values lie
  anywhere inside the margins fails with probability at most alpha, at every size; a
  value outside is failed with power growing to 1 with the rows. Exact binomial tails
  (Clopper–Pearson) and the DKW inequality make this hold at every n, not only
  asymptotically.
* **one-sided targets with a minimum** (a difference of rates, a trend): the hypothesis
  is "at least the minimum"; the check fails when the records show the quantity below
  the minimum and is ``shown`` when they show it above. Normal approximations (a score
  test, a stratified Cochran–Armitage statistic) below a documented group size are not
  trusted: the check then reads ``not tested``.
* **model checks**: exact probabilities from the model; the hypothesis is "the records
  are a sample of the model" (goodness of fit, no margin).

Target checks are one function per kind of statement — :func:`share_check`,
:func:`rate_check`, :func:`difference_check`, :func:`trend_check`, :func:`even_check` —
so that target statements map onto them; :func:`target_checks` runs the model's
statements, one check each.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from ..model import (
    CATEGORIES,
    DIAGNOSIS_CATEGORY,
    YEAR_MARGIN,
    Difference,
    Even,
    Rate,
    Share,
    Statement,
    node_of,
    trend_scale,
    trend_scores,
)
from ..model import Trend as TrendStatement
from ._model_info import ModelInfo
from ._records import Coded
from ._result import CheckResult

__all__ = ["difference_check", "even_check", "gof", "holm", "model_checks", "rate_check",
           "share_check", "target_checks", "trend_check", "validity_checks"]

MIN_EXPECTED = 5.0  # pool cells expected to hold fewer rows than this
MIN_COLUMN_ROWS = 20  # a CPD column with fewer rows joins its node's sparse-columns check
MIN_GROUP_ROWS = 20  # fewer rows in a group: a normal approximation is not trusted
# Cressie-Read's lambda = 2/3 keeps the chi-square tail honest down to p ~ 1e-4 with
# expected counts of 5 (Pearson's statistic rejects 1.5-3 times too often there, which
# matters because Holm tests the smallest p-value of ~200 CPD columns at alpha / 200).
MODEL_LAMBDA = "cressie-read"
SPARSE_MIN_P = 0.1  # states rarer than this are pooled within a sparse column
ZERO = 1e-9  # a goodness-of-fit statistic this small is zero up to rounding: p = 1


def gof(observed: np.ndarray, probs: np.ndarray, lambda_: str = "pearson",
        min_expected: float = MIN_EXPECTED) -> tuple[float, int, float] | None:
    """Goodness of fit of counts to probabilities, after pooling sparse cells.

    Cells of probability 0 are left out (the caller checks that they are empty). Cells
    expected to hold fewer than ``min_expected`` rows are pooled into one, topped up with
    the smallest other cell if the pool is still too small. A statistic that is zero up to
    rounding (counts exactly proportional) has p-value 1, never NaN.

    Returns
    -------
    (statistic, df, pvalue), or None when fewer than two cells remain.
    """
    keep = probs > 0
    o = observed[keep].astype(float)
    e = o.sum() * probs[keep] / probs[keep].sum()
    small = e < min_expected
    if small.any():
        if e[small].sum() < min_expected and (~small).any():
            small[np.flatnonzero(~small)[np.argmin(e[~small])]] = True
        o = np.append(o[~small], o[small].sum())
        e = np.append(e[~small], e[small].sum())
    if len(e) < 2:
        return None
    return _chi2_tail(_divergence(o, e, lambda_), len(e) - 1)


def _divergence(o: np.ndarray, e: np.ndarray, lambda_: str) -> float:
    """Pearson's or Cressie–Read's (lambda 2/3) statistic (as ``scipy.stats.power_divergence``,
    without its per-call overhead, which dominates a report's time)."""
    if lambda_ == "pearson":
        return float(((o - e) ** 2 / e).sum())
    lam = 2 / 3
    return float(2 / (lam * (lam + 1)) * (o * ((o / e) ** lam - 1)).sum())


def _chi2_tail(statistic: float, df: float, scale: float = 1.0) -> tuple[float, int, float]:
    statistic = max(statistic, 0.0)
    pvalue = 1.0 if statistic <= ZERO else float(special.chdtrc(df, statistic / scale))
    return statistic, round(df), pvalue


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error rate, any dependence)."""
    m = len(pvalues)
    order = np.argsort(pvalues, kind="stable")
    adjusted = np.maximum.accumulate((m - np.arange(m)) * pvalues[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _not_tested(name: str, kind: str, node: str | None, rows: int, why: str,
                margin: float | None = None) -> CheckResult:
    return CheckResult(name, "not tested", None, None, None, margin, True,
                       f"not tested: {why}", kind=kind, node=node, rows=rows)


# -- records validity -------------------------------------------------------------------

def validity_checks(coded: Coded) -> list[CheckResult]:
    """One check per checked column: which values are missing, unparseable or out of range."""
    results = []
    for column, problems in coded.problems.items():
        rows = set()
        for p in problems:
            rows.update(p.rows.tolist())
        detail = "; ".join(map(str, problems)) if problems else "every value is valid"
        results.append(CheckResult(
            f"records: {column}", "validity", float(len(rows)), None,
            len(rows) / coded.n_rows, None, not problems, detail, kind="records", node=column,
            rows=coded.n_rows))
    return results


# -- exact binomial pieces --------------------------------------------------------------

def _interval(k: np.ndarray, n: int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Clopper–Pearson ``1 - alpha`` intervals of ``k`` successes in ``n`` (vectorised)."""
    k = np.asarray(k, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, special.betaincinv(k, n - k + 1, alpha / 2), 0.0)
        hi = np.where(k < n, special.betaincinv(k + 1, n - k, 1 - alpha / 2), 1.0)
    return lo, hi


def _outside_pvalue(k: np.ndarray, n: int, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """p-value of "the true proportion lies in [low, high]" (two-sided, exact): below alpha
    exactly when the ``1 - alpha`` Clopper–Pearson interval lies wholly outside."""
    k = np.asarray(k, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        # P(X >= k) = I_p(k, n - k + 1) and P(X <= k) = I_(1-p)(n - k, k + 1)
        above = np.where((high < 1) & (k > 0),
                         special.betainc(np.maximum(k, 1), n - k + 1, np.clip(high, 0, 1)), 1.0)
        below = np.where((low > 0) & (k < n),
                         special.betainc(np.maximum(n - k, 1), k + 1, np.clip(1 - low, 0, 1)),
                         1.0)
    return np.minimum(1.0, 2 * np.minimum(above, below))


def _level(alpha: float) -> str:
    return f"{1 - alpha:.0%}"


# -- target checks, one per kind of statement -------------------------------------------

def share_check(name: str, node: str, codes: np.ndarray, states: list[str],
                target: dict[str, float], margin: float, alpha: float
                ) -> tuple[CheckResult, dict[str, Any]]:
    """Shares of a node's states, each against ``target[state] ± margin``.

    Fails when some share is shown outside its margin (exact binomial test per share,
    Bonferroni over the states); shown when every share's ``1 - alpha`` interval lies
    inside. Returns the result and the data for its figure.
    """
    observed = np.bincount(codes, minlength=len(states))
    n = int(observed.sum())
    t = np.array([target[s] for s in states])
    if n == 0:
        return _not_tested(name, "target", node, 0, "no rows", margin), {}
    lo, hi = _interval(observed, n, alpha)
    inside = (lo >= t - margin) & (hi <= t + margin)
    p = _outside_pvalue(observed, n, t - margin, t + margin)
    pvalue = float(min(1.0, len(states) * p.min()))
    shares = observed / n
    deviation = shares - t
    worst = int(np.argmax(np.abs(deviation)))
    level = _level(alpha)
    parts = [f"{s} {shares[i]:.4f} [{lo[i]:.4f}, {hi[i]:.4f}] vs {t[i]:.2f}"
             for i, s in enumerate(states)]
    shown = bool(inside.all())
    detail = (f"shares of {n:,} rows with {level} intervals: {'; '.join(parts)}; "
              f"target ± {margin:g}; largest deviation {deviation[worst]:+.4f} "
              f"({states[worst]}); {_verdict_words(shown, 'every interval inside the margin')}")
    figure = {"states": states, "shares": shares, "target": t,
              "intervals": list(zip(lo.tolist(), hi.tolist(), strict=True)), "margin": margin,
              "level": level, "n": n}
    return CheckResult(
        name, "exact binomial test per share against target ± margin (Bonferroni over "
        f"{len(states)} states)", float(observed[worst]), pvalue, float(deviation[worst]),
        margin, True, detail, shown=shown, kind="target", node=node,
        interval=(float(lo[worst] - t[worst]), float(hi[worst] - t[worst])), rows=n), figure


def rate_check(name: str, node: str, hits: np.ndarray, target: float, margin: float,
               alpha: float) -> CheckResult:
    """The rate of ``hits`` against ``target ± margin`` (exact binomial test)."""
    n, k = len(hits), int(hits.sum())
    if n == 0:
        return _not_tested(name, "target", node, 0, "no rows", margin)
    (lo,), (hi,) = _interval(np.array([k]), n, alpha)
    (pvalue,) = _outside_pvalue(np.array([k]), n, np.array([target - margin]),
                                np.array([target + margin]))
    shown = bool(lo >= target - margin and hi <= target + margin)
    detail = (f"{k:,} of {n:,} rows = {k / n:.4f} [{_level(alpha)}: {lo:.4f}, {hi:.4f}] vs "
              f"target {target:g} ± {margin:g}; deviation {k / n - target:+.4f}; "
              f"{_verdict_words(shown, 'interval inside the margin')}")
    return CheckResult(name, "exact binomial test against target ± margin", float(k),
                       float(pvalue), k / n - target, margin, True, detail, shown=shown,
                       kind="target", node=node,
                       interval=(float(lo - target), float(hi - target)), rows=n)


def _verdict_words(shown: bool, what: str) -> str:
    # Plain words, not status words: the status column says "shown" or "not shown".
    return f"demonstrated: {what}" if shown else f"not demonstrated: {what}"


def score_difference(x1: int, n1: int, x2: int, n2: int, delta: float
                     ) -> tuple[float, float]:
    """Score test of ``p1 - p2 = delta`` (Farrington–Manning; Miettinen–Nurminen without
    their n / (n - 1) factor): (z, variance under the null).

    The variance uses the maximum-likelihood rates restricted to ``p1 - p2 = delta`` (the
    closed-form root of a cubic), so it is not zero when an observed rate is 0 or 1 and
    delta is not 0. ``z`` and the variance are 0 when the variance is.
    """
    n, x = n1 + n2, x1 + x2
    if delta == 0:
        r2 = x / n
    else:
        c3 = n
        c2 = (n1 + 2 * n2) * delta - n - x
        c1 = (x2 * delta - n - 2 * x2) * delta + x
        c0 = x2 * delta * (1 - delta)
        q = (c2 / (3 * c3)) ** 3 - c1 * c2 / (6 * c3**2) + c0 / (2 * c3)
        p = np.sign(q) * np.sqrt(max((c2 / (3 * c3)) ** 2 - c1 / (3 * c3), 0.0))
        ratio = 0.0 if p == 0 else float(np.clip(q / p**3, -1.0, 1.0))
        r2 = 2 * p * np.cos((np.pi + np.arccos(ratio)) / 3) - c2 / (3 * c3)
    r2 = float(np.clip(r2, 0.0, 1.0))
    r1 = float(np.clip(r2 + delta, 0.0, 1.0))
    variance = r1 * (1 - r1) / n1 + r2 * (1 - r2) / n2
    if variance <= 0:
        return 0.0, 0.0
    return float((x1 / n1 - x2 / n2 - delta) / np.sqrt(variance)), variance


def difference_check(name: str, node: str, hits: np.ndarray, group: np.ndarray,
                     minimum: float, alpha: float, labels: tuple[str, str] = ("in", "outside")
                     ) -> CheckResult:
    """The rate of ``hits`` in ``group`` minus the rate outside it, at least ``minimum``.

    Farrington–Manning score test of ``difference = minimum``: fails when the difference
    is shown below the minimum (one-sided p-value), shown when above it at one-sided level
    alpha. Not tested with fewer than :data:`MIN_GROUP_ROWS` rows on either side.
    """
    n1, n2 = int(group.sum()), int((~group).sum())
    if min(n1, n2) < MIN_GROUP_ROWS:
        return _not_tested(name, "target", node, n1 + n2,
                           f"{n1:,} rows {labels[0]} and {n2:,} {labels[1]}; the score test "
                           f"needs {MIN_GROUP_ROWS} on each side", minimum)
    x1, x2 = int(hits[group].sum()), int(hits[~group].sum())
    p1, p2 = x1 / n1, x2 / n2
    z, variance = score_difference(x1, n1, x2, n2, minimum)
    if variance == 0:
        return _not_tested(name, "target", node, n1 + n2, "no variance under the target",
                           minimum)
    difference = p1 - p2
    half = _z(alpha) * np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    shown = bool(special.ndtr(-z) < alpha)
    detail = (f"{p1:.4f} {labels[0]} ({n1:,} rows) vs {p2:.4f} {labels[1]} ({n2:,} rows): "
              f"difference {difference:+.4f} [{_level(alpha)} Wald: {difference - half:+.4f}, "
              f"{difference + half:+.4f}]; target: at least {minimum:g}; score z = {z:.2f}; "
              f"{_verdict_words(shown, 'above the minimum')}")
    return CheckResult(name, "one-sided Farrington-Manning score test of a difference of "
                       f"rates (H0: difference >= {minimum:g})", float(z),
                       float(special.ndtr(z)), difference, minimum, True, detail,
                       shown=shown, kind="target", node=node,
                       interval=(float(difference - half), float(difference + half)),
                       rows=n1 + n2)


@dataclass(frozen=True)
class Trend:
    """A stratified Cochran–Armitage trend: the pooled within-stratum least-squares slope
    of a 0/1 outcome on a score, and its variance under no trend within strata (Mantel's
    hypergeometric variance, summed over strata)."""

    slope: float  # per unit of score
    variance: float  # of the slope
    rows: int

    @property
    def z0(self) -> float:
        """The stratified Cochran–Armitage z of "no trend" (0 without variance)."""
        return 0.0 if self.variance == 0 else self.slope / np.sqrt(self.variance)


def stratified_trend(hits: np.ndarray, score: np.ndarray, stratum: np.ndarray) -> Trend:
    """The stratified trend of ``hits`` on ``score`` within each ``stratum`` (codes >= 0)."""
    strata = int(stratum.max()) + 1 if len(stratum) else 0
    n = np.bincount(stratum, minlength=strata).astype(float)
    x = np.bincount(stratum, weights=hits, minlength=strata)
    s1 = np.bincount(stratum, weights=score, minlength=strata)
    s2 = np.bincount(stratum, weights=score**2, minlength=strata)
    sxy = np.bincount(stratum, weights=score * hits, minlength=strata)
    used = n > 1
    n, x, s1, s2, sxy = n[used], x[used], s1[used], s2[used], sxy[used]
    spread = s2 - s1**2 / n  # sum of squared deviations from the stratum's mean score
    numerator = sxy - s1 * x / n  # sum of (score - stratum mean) * outcome
    rate = x / n
    var_t = rate * (1 - rate) * n / (n - 1) * spread  # Mantel: conditional on the margins
    total = float(spread.sum())
    if total <= 0:
        return Trend(0.0, 0.0, int(n.sum()))
    return Trend(float(numerator.sum() / total), float(var_t.sum() / total**2), int(n.sum()))


def trend_check(name: str, node: str, hits: np.ndarray, score: np.ndarray,
                stratum: np.ndarray, minimum: float, alpha: float, per: float = 10.0,
                unit: str = "decade") -> CheckResult:
    """The rate of ``hits`` rises with ``score`` by at least ``minimum`` per ``per`` units,
    within the strata, pooled: the slopes within each ``stratum`` (so a shift in the
    strata's mix alone does not show it), weighted by their information — one stratum's
    slope may fall while the pooled slope rises.

    Statistic: the stratified Cochran–Armitage (Mantel) trend — the pooled within-stratum
    least-squares slope with its variance under no trend; z = (slope - minimum) / se.
    Fails when the slope is shown below the minimum, shown when above it (one-sided level
    alpha each). Not tested with fewer than :data:`MIN_GROUP_ROWS` rows in strata with both
    outcomes and more than one score.
    """
    trend = stratified_trend(hits, score, stratum)
    if trend.variance == 0 or trend.rows < MIN_GROUP_ROWS:
        return _not_tested(name, "target", node, len(hits),
                           f"{len(hits):,} rows, {trend.rows:,} in strata with more than one "
                           f"row; the trend test needs {MIN_GROUP_ROWS} and both outcomes at "
                           "more than one score", minimum)
    slope, se = trend.slope * per, np.sqrt(trend.variance) * per
    z = (slope - minimum) / se
    half = _z(alpha) * se
    shown = bool(special.ndtr(-z) < alpha)
    detail = (f"{len(hits):,} rows, stratified slope {slope:+.4f} per {unit} "
              f"[{_level(alpha)}: {slope - half:+.4f}, {slope + half:+.4f}] (no-trend z = "
              f"{trend.z0:.2f}); target: rising by at least {minimum:g} per {unit}, the slopes "
              f"within the strata pooled (one stratum may fall while the pooled slope "
              f"rises); z = {z:.2f}; {_verdict_words(shown, 'above the minimum')}")
    return CheckResult(name, "stratified Cochran-Armitage trend test, one-sided (H0: slope "
                       f">= {minimum:g} per {unit})", float(z), float(special.ndtr(z)),
                       slope, minimum, True, detail, shown=shown, kind="target", node=node,
                       interval=(float(slope - half), float(slope + half)), rows=len(hits))


def even_check(name: str, node: str, values: np.ndarray, low: int, high: int, margin: float,
               alpha: float, year_margin: float = YEAR_MARGIN) -> tuple[CheckResult,
                                                                        dict[str, Any]]:
    """Whole numbers ``low..high`` evenly spread: the distribution function within
    ``margin`` of even, and every single value's share within ``year_margin`` (a fraction
    of the even share) of even.

    Fails when either is shown outside (the DKW inequality for the distribution function,
    exact binomial tests for single values with Bonferroni; Bonferroni over the two);
    shown when both are shown inside at level alpha.
    """
    span = high - low + 1
    counts = np.bincount(values - low, minlength=span)
    n = int(counts.sum())
    figure = {"ages": np.arange(low, high + 1), "counts": counts, "n": n}
    if n == 0:
        return _not_tested(name, "target", node, 0, "no rows", margin), figure
    even = 1 / span
    distance = float(np.max(np.abs(np.cumsum(counts) / n - np.arange(1, span + 1) * even)))
    eps = float(np.sqrt(np.log(2 / alpha) / (2 * n)))  # DKW (Massart): P(sup > eps) <= alpha
    excess = distance - margin
    p_cdf = 1.0 if excess <= 0 else min(1.0, 2 * np.exp(-2 * n * excess**2))
    year_lo, year_hi = even * (1 - year_margin), even * (1 + year_margin)
    p_years = _outside_pvalue(counts, n, np.full(span, year_lo), np.full(span, year_hi))
    p_year = min(1.0, span * float(p_years.min()))
    lo, hi = _interval(counts, n, alpha)
    years_inside = bool(((lo >= year_lo) & (hi <= year_hi)).all())
    shown = distance + eps <= margin and years_inside
    share = counts / n
    worst = int(np.argmax(np.abs(share - even)))
    detail = (f"{n:,} values over {span} single years {low}..{high}: largest gap between the "
              f"distribution function and an even spread {distance:.4f} (± {eps:.4f} at "
              f"{_level(alpha)}, DKW) vs margin {margin:g}; largest single-year deviation "
              f"{low + worst}: {share[worst]:.4f} vs {even:.4f} (margin ±{year_margin:.0%} of "
              f"an even year's share, {year_lo:.4f}..{year_hi:.4f}); "
              f"{sum(counts == 0)} years without rows; "
              f"{_verdict_words(shown, 'both inside their margins')}")
    return CheckResult(name, "DKW band for the distribution function + exact binomial test "
                       "per single year (Bonferroni)", distance,
                       min(1.0, 2 * min(p_cdf, p_year)), distance, margin, True, detail,
                       shown=shown, kind="target", node=node,
                       interval=(max(0.0, distance - eps), distance + eps), rows=n), figure


# -- the model's target statements --------------------------------------------------------

def target_checks(coded: Coded, info: ModelInfo, alpha: float) -> tuple[list[CheckResult],
                                                                        dict[str, Any]]:
    """One check per target statement of the model, in its order, named
    ``target: <statement>``; and the data of the targets' figures."""
    figures: dict[str, Any] = {"alpha": alpha}
    masks: dict[tuple, np.ndarray] = {}  # statements share groups: each mask made once
    results = [_statement_check(s, coded, info, alpha, figures, masks) for s in info.targets]
    codes = coded.codes
    if {"follow_up", "diagnosis", "age_group"} <= codes.keys():
        figures["follow_up"] = _rates_by(coded, info)
    if not any(isinstance(s, Even) for s in info.targets):
        figures["notes"] = [
            ("the model states no even-spread target for ages; the age bands are checked "
             "against the model's own age_group distribution.")]
    return results, figures


def _column_codes(coded: Coded, info: ModelInfo, column: str) -> tuple[np.ndarray, list[str]]:
    """The codes of a node or of ``diagnosis_category`` (in CATEGORIES order), and its
    states."""
    if column == DIAGNOSIS_CATEGORY:
        to_category = np.array([CATEGORIES.index(info.categories[d])
                                for d in info.states["diagnosis"]], dtype=np.int64)
        return to_category[coded.codes["diagnosis"]], list(CATEGORIES)
    return coded.codes[column], info.states[column]


def _is_in(coded: Coded, info: ModelInfo, column: str, chosen: Sequence[str],
           masks: dict[tuple, np.ndarray]) -> np.ndarray:
    """The rows whose ``column`` is in ``chosen``, read-only and kept in ``masks``: a
    model of 10,000 statements names a few hundred groups."""
    key = (column, tuple(chosen))
    if key not in masks:
        codes, states = _column_codes(coded, info, column)
        wanted = np.zeros(len(states), bool)
        wanted[[states.index(c) for c in chosen]] = True
        masks[key] = wanted[codes]  # a lookup: np.isin sorts, ten times slower
        masks[key].flags.writeable = False
    return masks[key]


def _group(coded: Coded, info: ModelInfo, where: Sequence[tuple[str, Sequence[str]]],
           masks: dict[tuple, np.ndarray]) -> np.ndarray:
    """The rows in every ``where`` clause (read-only, kept in ``masks``)."""
    key = ("where", tuple(where))
    if key not in masks:
        group = np.ones(coded.n_used, bool)
        for column, chosen in where:
            group &= _is_in(coded, info, column, chosen, masks)
        group.flags.writeable = False
        masks[key] = group
    return masks[key]


def _statement_check(s: Statement, coded: Coded, info: ModelInfo, alpha: float,
                     figures: dict[str, Any], masks: dict[tuple, np.ndarray]) -> CheckResult:
    name = f"target: {s}"
    if isinstance(s, Even):
        # ages outside the first even range are invalid rows already; another range's
        # statement looks at the ages inside it
        ages = coded.age[(coded.age >= s.low) & (coded.age <= s.high)]
        result, figure = even_check(name, s.column, ages, s.low, s.high, s.margin, alpha,
                                    s.year_margin)
        if "age" not in figures:
            figures["age"] = figure | {"bands": info.bands, "alpha": alpha}
        if figure.get("n"):
            share = figure["counts"] / figure["n"]
            even = 1 / len(share)
            # n rows make the DKW band sqrt(log(2 / alpha) / 2n) wide: it must fit the room
            room = s.margin - (result.effect or 0.0)
            cdf = None if room <= 0 else float(np.log(2 / alpha) / (2 * room**2))
            years = _rows_for(share, even, even * s.year_margin, alpha)
            need = None if cdf is None or years is None else max(cdf, years)
            result = _with_rows_needed(result, need, coded.n_used, figure["n"])
        return result
    node = node_of(s.node)
    columns = {node, *(node_of(c) for c, _ in s.where)}
    if isinstance(s, TrendStatement):
        columns.add(s.over)
    missing = sorted(columns - coded.codes.keys())
    if missing:
        margin = getattr(s, "margin", None)
        return _not_tested(name, "target", s.node, coded.n_used,
                           f"{', '.join(missing)} not in the records", margin)
    group = _group(coded, info, s.where, masks)
    if ("rows", s.where) not in masks:  # a gather of the group's rows: cheaper than a mask
        masks["rows", s.where] = np.flatnonzero(group)
    rows_in = masks["rows", s.where]
    if isinstance(s, Share):
        codes, states = _column_codes(coded, info, s.node)
        target = dict(s.values)
        result, figure = share_check(name, s.node, codes[rows_in], states, target, s.margin,
                                     alpha)
        if s.node == "gender" and not s.where and "gender" not in figures:
            figures["gender"] = figure
        if figure:
            t = np.array([target[x] for x in states])
            result = _with_rows_needed(result, _rows_for(figure["shares"], t, s.margin, alpha),
                                       coded.n_used, figure["n"])
        return result
    hits = _is_in(coded, info, s.node, [s.state], masks)
    if isinstance(s, Rate):
        inside = hits[rows_in]
        result = rate_check(name, s.node, inside, s.value, s.margin, alpha)
        if inside.size:
            rate = np.array([inside.mean()])
            result = _with_rows_needed(result, _rows_for(rate, s.value, s.margin, alpha),
                                       coded.n_used, inside.size)
        return result
    if isinstance(s, Difference):
        only_categories = {c for c, _ in s.where} == {DIAGNOSIS_CATEGORY}
        labels = ("in these categories" if only_categories else "in the group", "elsewhere")
        return difference_check(name, s.node, hits, group, s.at_least, alpha, labels)
    # a trend: within each combination of the grouped nodes' states (over excepted)
    strata = [node_of(c) for c, _ in s.where if node_of(c) != s.over]
    stratum = np.zeros(coded.n_used, np.int64)
    for n in dict.fromkeys(strata):
        stratum = stratum * len(info.states[n]) + coded.codes[n]
    stratum = np.unique(stratum[group], return_inverse=True)[1].reshape(-1)
    score_of = trend_scores(s.over, info.states[s.over], info.bands)
    unit = "decade" if s.over == "age_group" else f"step of {s.over}"
    rows = hits[group] if s.direction == "rising" else ~hits[group]
    result = trend_check(name, s.node, rows, score_of[coded.codes[s.over][group]], stratum,
                         s.min_slope, alpha, trend_scale(s.over), unit)
    if s.direction == "falling":
        result = dataclasses.replace(
            result, detail=f"falling, tested as the rate of {s.node}≠{s.state} rising: "
            + result.detail)
    return result


def _rows_for(estimate: np.ndarray, target: np.ndarray | float, margin: float,
              alpha: float) -> float | None:
    """About how many rows would show estimates inside target ± margin at level alpha
    (each interval, about z·sqrt(p(1-p)/n) each side, inside the margin) if the true
    values were the estimates; None when an estimate lies on or outside the margin."""
    room = margin - np.abs(estimate - target)
    if (room <= 0).any():
        return None
    z = _z(alpha)
    return float((z**2 * estimate * (1 - estimate) / room**2).max())


def _with_rows_needed(result: CheckResult, rows: float | None, n_used: int, n_group: int
                      ) -> CheckResult:
    """An equality check not shown says about how many rows (of the whole records, at the
    group's share of them) would show it at its margin."""
    if result.shown is not False or result.pvalue is None or n_group == 0:
        return result
    if rows is None:
        more = ("no number of rows shows it at this margin while the estimate lies this far "
                "from the target")
    elif not math.isfinite(total := max(rows, 1.0) * n_used / n_group):
        more = "more rows than any table holds would show it at this margin"
    else:
        more = (f"about {_round_up(total):,} rows would show it at this margin (were the "
                "true value the observed one)")
    return dataclasses.replace(result, detail=f"{result.detail}; {more}")


def _z(alpha: float) -> float:
    """The two-sided normal quantile of level ``alpha``, z with P(|Z| > z) = alpha.

    From the lower tail: ``1 - alpha / 2`` rounds to 1 (z infinite) below alpha = 1e-16.
    """
    return float(-special.ndtri(max(alpha / 2, 5e-324)))  # alpha = 5e-324 halves to 0


def _round_up(x: float) -> int:
    """``x`` (finite) rounded up to two significant figures: an estimate, not a count."""
    count = math.ceil(x)
    step = 10 ** max(0, len(str(count)) - 2)
    return -(-count // step) * step


def _rates_by(coded: Coded, info: ModelInfo) -> dict[str, Any]:
    """Rows and follow-ups by category, and by age band (all rows; the trend's category),
    with the follow-up statements the figure draws."""
    codes = coded.codes
    follow_up = codes["follow_up"] == info.states["follow_up"].index("True")
    category, names = _column_codes(coded, info, DIAGNOSIS_CATEGORY)
    present = sorted(set(info.categories.values()))
    k = len(names)
    rows = np.bincount(category, minlength=k)
    hits = np.bincount(category, weights=follow_up, minlength=k)
    by_category = {c: (int(rows[i]), int(hits[i])) for i, c in enumerate(names) if c in present}
    statements = [s for s in info.targets if getattr(s, "node", None) == "follow_up"
                  and getattr(s, "state", None) == "True"]
    rate = next((s for s in statements if isinstance(s, Rate) and not s.where), None)
    priority = next((dict(s.where)[DIAGNOSIS_CATEGORY] for s in statements
                     if isinstance(s, Difference)
                     and {c for c, _ in s.where} == {DIAGNOSIS_CATEGORY}), ())
    trend_category = next((dict(s.where)[DIAGNOSIS_CATEGORY][0] for s in statements
                           if isinstance(s, TrendStatement) and s.over == "age_group"
                           and [(c, len(v)) for c, v in s.where] == [(DIAGNOSIS_CATEGORY, 1)]),
                          None)
    band = codes["age_group"]
    trend = category == (names.index(trend_category) if trend_category else -1)
    states = info.states["age_group"]
    m = len(states)
    count = {"all": (np.bincount(band, minlength=m), np.bincount(band, follow_up, minlength=m)),
             "trend": (np.bincount(band[trend], minlength=m),
                       np.bincount(band[trend], follow_up[trend], minlength=m))}
    by_band = {s: {key: (int(n[i]), int(x[i])) for key, (n, x) in count.items()}
               for i, s in sorted(enumerate(states), key=lambda e: info.bands[e[1]][0])}
    return {"by_category": by_category, "by_band": by_band,
            "rate": None if rate is None else (rate.value, rate.margin),
            "priority": list(priority), "trend_category": trend_category}


# -- records against the model ----------------------------------------------------------

def model_checks(coded: Coded, info: ModelInfo) -> tuple[list[CheckResult], dict[str, Any],
                                                        list[str]]:
    """Each node's marginal and each CPD column against the records' frequencies.

    A CPD column gets its own test when it has :data:`MIN_COLUMN_ROWS` rows and at least
    two cells after pooling; a row in a state of probability 0 fails its column outright.
    The remaining columns with two or more possible states are *sparse*: they are tested
    together by :func:`sparse_columns`. Columns with one possible state have nothing to
    test beyond impossible values.
    """
    results: list[CheckResult] = []
    tables: dict[str, Any] = {}
    notes: list[str] = []
    codes = coded.codes
    for node in info.nodes:
        if node not in codes:
            continue
        states = info.states[node]
        observed = np.bincount(codes[node], minlength=len(states))
        results.append(_column(f"model: marginal {node}", node, states, observed,
                               info.marginals[node], "exact marginal"))
        parents = info.parents[node]
        if not parents:
            continue
        if any(p not in codes for p in parents):
            notes.append(f"CPD of {node!r} not checked: parent(s) "
                         f"{', '.join(p for p in parents if p not in codes)} not in the records.")
            continue
        column = np.zeros(len(codes[node]), np.int64)
        for p in parents:
            column = column * len(info.states[p]) + codes[p]
        table = info.tables[node]
        counts = np.bincount(column * len(states) + codes[node],
                             minlength=table.size).reshape(-1, len(states)).T
        labels = info.column_labels(node)
        sparse = []
        for j in np.flatnonzero(counts.sum(axis=0)):
            obs, prob = counts[:, j], table[:, j]
            fit = gof(obs, prob, MODEL_LAMBDA) if obs.sum() >= MIN_COLUMN_ROWS else None
            if obs[prob == 0].any() or fit:
                results.append(_column(f"model: {node} | {labels[j]}", node, states, obs, prob,
                                       "CPD column", fit))
            elif (prob > 0).sum() > 1:
                sparse.append(j)
        if sparse:
            results.append(sparse_columns(node, counts[:, sparse], table[:, sparse]))
        tables[node] = {"states": states, "parents": parents, "labels": labels,
                        "model": table, "counts": counts,
                        "row_states": info.states[parents[0]],
                        "col_states": info.states[parents[-1]]}
    return results, tables, notes


def sparse_columns(node: str, counts: np.ndarray, probs: np.ndarray) -> CheckResult:
    """CPD columns too sparse for their own test, tested together.

    In each column, states of probability below :data:`SPARSE_MIN_P` are pooled into one
    cell (topped up with the least likely other state if still below it), and Pearson's
    statistic is computed against the column's own CPD. The columns are independent given
    their row counts, so the sum has the exact mean ``sum(k_j - 1)`` and variance
    ``sum(2 (k_j - 1) + (sum_i 1/p_ij - k_j^2 - 2 k_j + 2) / n_j)`` (``k_j`` cells,
    ``n_j`` rows); its p-value is that of a scaled chi-square with these two moments
    (Satterthwaite). Pooling the rare states keeps the sum's tail close to that (without
    it, a single row in a state of probability 0.01 dominates the sum, and the test
    rejects about twice too often at p = 0.01).
    """
    groups = np.stack([_pooled(p) for p in probs.T])  # (columns, states, cells)
    o = np.einsum("sj,jsc->jc", counts, groups)
    p = np.einsum("sj,jsc->jc", probs, groups)
    k = (p > 0).sum(axis=1)
    keep = k >= 2
    o, p, k = o[keep], p[keep], k[keep]
    n = o.sum(axis=1)
    used, rows = int(keep.sum()), int(n.sum())
    name = f"model: {node} | {used} sparse CPD columns"
    with np.errstate(divide="ignore", invalid="ignore"):
        e = n[:, None] * p
        statistic = float(np.where(p > 0, (o - e) ** 2 / e, 0.0).sum())
        inverse = np.where(p > 0, 1 / p, 0.0).sum(axis=1)
    mean = float((k - 1).sum())
    variance = float((2 * (k - 1) + (inverse - k**2 - 2 * k + 2) / n).sum())
    if used == 0 or variance <= ZERO:
        return _not_tested(name, "model", node, int(counts.sum()),
                           f"{int(counts.sum()):,} rows in sparse columns, whose Pearson "
                           "statistics cannot vary (fewer than two states of probability "
                           f"{SPARSE_MIN_P:g} or more, or one row in an even column)")
    scale, df = variance / (2 * mean), 2 * mean**2 / variance
    statistic, _, pvalue = _chi2_tail(statistic, df, scale)
    n_j = counts.sum(axis=0)
    tv = float(0.5 * np.abs(counts / n_j - probs).sum(axis=0).max())
    detail = (f"{rows:,} rows in {used} CPD columns of {node!r} with fewer than "
              f"{MIN_COLUMN_ROWS} rows or too few expected rows for a column's own test "
              f"(states below probability {SPARSE_MIN_P:g} pooled within a column): sum of "
              f"their Pearson statistics {statistic:.2f} (exact mean {mean:.0f}, variance "
              f"{variance:.1f}); largest total variation in one column {tv:.3f}")
    return CheckResult(name, f"sum of per-column Pearson statistics, scaled chi-square "
                       f"(Satterthwaite, df={df:.1f})", statistic, pvalue, tv, None, True,
                       detail, kind="model", node=node, rows=rows)


def _pooled(p: np.ndarray) -> np.ndarray:
    """A column's states (rows) to its cells (columns): states of probability at least
    SPARSE_MIN_P alone, the others pooled into the last cell (empty when there are none)."""
    possible = p > 0
    rare = possible & (p < SPARSE_MIN_P)
    common = np.flatnonzero(possible & ~rare)
    if rare.any() and p[rare].sum() < SPARSE_MIN_P and len(common):
        rare[common[np.argmin(p[common])]] = True
        common = np.flatnonzero(possible & ~rare)
    groups = np.zeros((len(p), len(p) + 1))
    groups[common, np.arange(len(common))] = 1
    groups[rare, len(p)] = 1
    return groups


def _column(name: str, node: str, states: list[str], observed: np.ndarray, probs: np.ndarray,
            what: str, fit: tuple[float, int, float] | None = None) -> CheckResult:
    n = int(observed.sum())
    frequency = observed / n if n else np.zeros(len(states))
    tv = float(0.5 * np.abs(frequency - probs).sum())  # total variation distance
    impossible = (probs == 0) & (observed > 0)
    if impossible.any():
        listed = ", ".join(f"{int(observed[i]):,} with {node}={states[i]}"
                           for i in np.flatnonzero(impossible))
        return CheckResult(name, "impossible values", None, 0.0, tv, None, True,
                           f"{n:,} rows: {listed}, where the model ({what}) gives "
                           "probability 0", kind="model", node=node, rows=n)
    fit = fit or gof(observed, probs, MODEL_LAMBDA)
    if fit is None:
        return _not_tested(name, "model", node, n, f"{n:,} rows: too few expected in two "
                           f"or more states to test the {what}")
    worst = int(np.argmax(np.abs(frequency - probs)))
    detail = (f"{n:,} rows vs the {what}; largest difference {node}={states[worst]}: "
              f"{frequency[worst]:.4f} observed vs {probs[worst]:.4f}")
    return CheckResult(name, f"Cressie-Read power divergence (lambda 2/3), df={fit[1]}",
                       fit[0], fit[2], tv, None, True, detail, kind="model", node=node, rows=n)
