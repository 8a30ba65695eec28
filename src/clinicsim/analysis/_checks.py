"""The checks: records validity, the model's stated targets, and the records against the model.

Every statistical check is built so that a *small p-value means the records contradict the
target or the model*; the report adjusts all of them together (Holm) and a check fails
when its adjusted p-value is below ``alpha``. Targets that carry a margin also get an
equivalence verdict (``shown``): a deviation that is statistically detectable but shown to
lie inside the margin does not fail — that is what the margin is for on large tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from ._model_info import ModelInfo
from ._records import Coded
from ._result import CheckResult

__all__ = ["gof", "holm", "model_checks", "target_checks", "validity_checks"]

MIN_EXPECTED = 5.0  # pool cells expected to hold fewer rows than this
MIN_COLUMN_ROWS = 20  # a CPD column with fewer rows joins its node's pooled check
# Cressie-Read's lambda = 2/3 keeps the chi-square tail honest down to p ~ 1e-4 with
# expected counts of 5 (Pearson's statistic rejects 1.5-3 times too often there, which
# matters because Holm tests the smallest p-value of ~200 CPD columns at alpha / 200).
MODEL_LAMBDA = "cressie-read"


def gof(observed: np.ndarray, probs: np.ndarray, lambda_: str = "pearson",
        min_expected: float = MIN_EXPECTED) -> tuple[float, int, float] | None:
    """Goodness of fit of counts to probabilities, after pooling sparse cells.

    Cells of probability 0 are left out (the caller checks that they are empty). Cells
    expected to hold fewer than ``min_expected`` rows are pooled into one, topped up with
    the smallest other cell if the pool is still too small.

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
    statistic, pvalue = stats.power_divergence(o, e, lambda_=lambda_)
    return float(statistic), len(e) - 1, float(pvalue)


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error rate, any dependence)."""
    m = len(pvalues)
    order = np.argsort(pvalues, kind="stable")
    adjusted = np.maximum.accumulate((m - np.arange(m)) * pvalues[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


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
            len(rows) / coded.n_rows, None, not problems, detail))
    return results


# -- stated targets ---------------------------------------------------------------------

def target_checks(coded: Coded, info: ModelInfo, alpha: float) -> tuple[list[CheckResult],
                                                                        dict[str, Any]]:
    """The brief's targets as the model file states them, and the data for their figures."""
    results: list[CheckResult] = []
    figures: dict[str, Any] = {"alpha": alpha}
    codes = coded.codes
    t = info.targets
    if "gender" in codes:
        results.append(_gender(codes["gender"], info, alpha, figures))
    if {"follow_up", "diagnosis", "age_group"} <= codes.keys():
        # model validation guarantees follow_up's states 'True'/'False' and a category
        # for every diagnosis
        follow_up = codes["follow_up"] == info.states["follow_up"].index("True")
        results.append(_follow_up_rate(follow_up, info, alpha))
        # each row's diagnosis category, as a code into `names`
        names = sorted(set(info.categories.values()))
        category = np.array([names.index(info.categories[d])
                             for d in info.states["diagnosis"]])[codes["diagnosis"]]
        results.append(_priority(follow_up, category, names, info, alpha))
        results.append(_trend(follow_up, category == _index(names, t.trend_category),
                              codes["age_group"], info, alpha))
        figures["follow_up"] = _rates_by(follow_up, category, names, codes["age_group"], info)
    if t.even_ages:
        results.append(_ages(coded.age, info, alpha, figures))
    else:
        figures["notes"] = [
            "the model states no even-spread target for ages; the age bands are checked "
            "against the model's own age_group distribution."]
    return results, figures


def _interval(k: int, n: int, alpha: float) -> tuple[float, float]:
    """The (1 - 2 alpha) Clopper-Pearson interval: TOST at level alpha rejects iff it lies
    inside the margin."""
    ci = stats.binomtest(k, n).proportion_ci(1 - 2 * alpha, method="exact")
    return float(ci.low), float(ci.high)


def _gender(codes: np.ndarray, info: ModelInfo, alpha: float,
            figures: dict[str, Any]) -> CheckResult:
    t = info.targets
    states = info.states["gender"]
    observed = np.bincount(codes, minlength=len(states))
    n = int(observed.sum())
    target = np.array([t.gender_shares[s] for s in states])  # validated: every state
    shares = observed / n
    intervals = [_interval(int(k), n, alpha) for k in observed]
    inside = [lo >= target[i] - t.gender_margin and hi <= target[i] + t.gender_margin
              for i, (lo, hi) in enumerate(intervals)]
    deviation = shares - target
    worst = int(np.argmax(np.abs(deviation)))
    level = f"{1 - 2 * alpha:.0%}"
    parts = [f"{s} {shares[i]:.4f} [{lo:.4f}, {hi:.4f}] vs {target[i]:.2f}"
             for i, (s, (lo, hi)) in enumerate(zip(states, intervals, strict=True))]
    figures["gender"] = dict(states=states, shares=shares, target=target, intervals=intervals,
                             margin=t.gender_margin, level=level, n=n)
    impossible = int(observed[target == 0].sum())
    fit = gof(observed, target)
    statistic, pvalue = (None, 0.0) if impossible else (fit[0], fit[2]) if fit else (None, None)
    detail = (f"shares of {n:,} rows with {level} intervals: {'; '.join(parts)}; "
              f"margin ±{t.gender_margin:g}; largest deviation {deviation[worst]:+.4f} "
              f"({states[worst]}); within the margin: "
              f"{'shown' if all(inside) else 'not shown'}")
    return CheckResult("target: gender shares", f"chi-square goodness of fit + TOST per share "
                       f"({level} Clopper-Pearson intervals)", statistic, pvalue,
                       float(deviation[worst]), t.gender_margin, True, detail, shown=all(inside))


def _follow_up_rate(follow_up: np.ndarray, info: ModelInfo, alpha: float) -> CheckResult:
    t = info.targets
    n, k = len(follow_up), int(follow_up.sum())
    test = stats.binomtest(k, n, t.follow_up_rate)
    lo, hi = _interval(k, n, alpha)
    target, margin = t.follow_up_rate, t.follow_up_margin
    shown = lo >= target - margin and hi <= target + margin
    level = f"{1 - 2 * alpha:.0%}"
    detail = (f"{k:,} of {n:,} rows = {k / n:.4f} [{level}: {lo:.4f}, {hi:.4f}] vs target "
              f"{target:g} ± {margin:g}; deviation {k / n - target:+.4f}; "
              f"within the margin: {'shown' if shown else 'not shown'}")
    return CheckResult("target: follow-up rate", f"exact binomial test + TOST ({level} "
                       "Clopper-Pearson interval)", float(k), float(test.pvalue),
                       k / n - t.follow_up_rate, t.follow_up_margin, True, detail, shown=shown)


def _index(names: list[str], name: str) -> int:
    return names.index(name) if name in names else -1  # -1 matches no row


def _priority(follow_up: np.ndarray, category: np.ndarray, names: list[str], info: ModelInfo,
              alpha: float) -> CheckResult:
    t = info.targets
    name = f"target: follow-up higher in {'/'.join(t.priority_categories)}"
    inside = np.isin(category, [_index(names, c) for c in t.priority_categories])
    n1, n2 = int(inside.sum()), int((~inside).sum())
    if n1 == 0 or n2 == 0:
        return _skipped(name, f"no rows {'in' if n1 == 0 else 'outside'} these categories")
    p1, p2 = follow_up[inside].mean(), follow_up[~inside].mean()
    difference = p1 - p2
    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    delta = t.priority_min_difference
    if se == 0:
        z = np.inf if difference >= delta else -np.inf
    else:
        z = (difference - delta) / se
    low = difference - stats.norm.ppf(1 - alpha) * se
    shown = bool(low > delta)
    detail = (f"follow-up {p1:.4f} in these categories ({n1:,} rows) vs {p2:.4f} elsewhere "
              f"({n2:,} rows): difference {difference:+.4f}, one-sided {1 - alpha:.0%} lower "
              f"bound {low:+.4f}; target: at least {delta:g} higher "
              f"({'shown' if shown else 'not shown'})")
    return CheckResult(name, "one-sided z-test of a difference of proportions "
                       f"(H0: difference >= {delta:g})", float(z), float(stats.norm.cdf(z)),
                       float(difference), delta, True, detail, shown=shown)


def _trend(follow_up: np.ndarray, rows: np.ndarray, band: np.ndarray, info: ModelInfo,
           alpha: float) -> CheckResult:
    """Cochran-Armitage test for trend across age bands (scores: band midpoints in years)
    among the ``rows`` of the trend category."""
    t = info.targets
    name = f"target: follow-up rises with age ({t.trend_category})"
    states = info.states["age_group"]
    order = sorted(range(len(states)), key=lambda i: info.bands[states[i]][0])
    n = np.bincount(band[rows], minlength=len(states))[order].astype(float)
    x = np.bincount(band[rows], weights=follow_up[rows], minlength=len(states))[order]
    score = np.array([sum(info.bands[states[i]]) / 2 for i in order])
    total = n.sum()
    if total == 0:
        return _skipped(name, f"no {t.trend_category} rows")
    rate = x.sum() / total
    spread = (n * score**2).sum() - (n * score).sum() ** 2 / total
    if spread == 0 or rate in (0.0, 1.0):
        return _skipped(name, f"{t.trend_category} rows fall in one age band or share one outcome")
    statistic = (score * (x - n * rate)).sum()
    z = statistic / np.sqrt(rate * (1 - rate) * spread)
    slope = statistic / spread * 10  # least-squares rise of the rate per decade
    shown = bool(stats.norm.sf(z) < alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = ", ".join(f"{states[i]} {r:.3f} (n={int(m)})"
                          for i, r, m in zip(order, x / n, n, strict=True))
    detail = (f"follow-up among {int(total):,} {t.trend_category} rows by age band: {rates}; "
              f"slope {slope:+.4f} per decade, z = {z:.2f}; target: rising "
              f"({'shown' if shown else 'not shown'} at one-sided alpha {alpha:g})")
    return CheckResult(name, "Cochran-Armitage trend test (one-sided; H0: not falling)",
                       float(z), float(stats.norm.cdf(z)), float(slope), 0.0, True, detail,
                       shown=shown)


def _ages(age: np.ndarray, info: ModelInfo, alpha: float, figures: dict[str, Any]) -> CheckResult:
    """Even spread over single years ``age_min..age_max``; equivalence by the DKW band."""
    t = info.targets
    span = t.age_max - t.age_min + 1
    counts = np.bincount(age - t.age_min, minlength=span)
    n = int(counts.sum())
    target = np.full(span, 1 / span)
    fit = gof(counts, target)
    # Kolmogorov distance of the age distribution function from an even spread; with
    # probability >= 1 - alpha the true one is within eps of the empirical (DKW, Massart).
    distance = float(np.max(np.abs(np.cumsum(counts) / n - np.cumsum(target))))
    eps = float(np.sqrt(np.log(2 / alpha) / (2 * n)))
    shown = distance + eps <= t.age_margin
    figures["age"] = dict(ages=np.arange(t.age_min, t.age_max + 1), counts=counts, n=n,
                          bands=info.bands, alpha=alpha)
    detail = (f"{n:,} ages over {span} single years {t.age_min}..{t.age_max}; largest gap "
              f"between the age distribution function and an even spread {distance:.4f} "
              f"(+ {eps:.4f} at {1 - alpha:.0%} confidence) vs margin {t.age_margin:g}: "
              f"within the margin {'shown' if shown else 'not shown'}")
    statistic, pvalue = (fit[0], fit[2]) if fit else (None, None)
    return CheckResult("target: ages evenly spread", "chi-square goodness of fit over single "
                       "years + DKW band for the distribution function", statistic, pvalue,
                       distance, t.age_margin, True, detail, shown=shown)


def _skipped(name: str, why: str) -> CheckResult:
    return CheckResult(name, "skipped", None, None, None, None, True, f"skipped: {why}")


def _rates_by(follow_up: np.ndarray, category: np.ndarray, names: list[str], band: np.ndarray,
              info: ModelInfo) -> dict[str, Any]:
    """Rows and follow-ups by category, and by age band (all rows; trend category)."""
    k = len(names)
    rows = np.bincount(category, minlength=k)
    hits = np.bincount(category, weights=follow_up, minlength=k)
    by_category = {c: (int(rows[i]), int(hits[i])) for i, c in enumerate(names)}
    trend = category == _index(names, info.targets.trend_category)
    states = info.states["age_group"]
    m = len(states)
    count = {"all": (np.bincount(band, minlength=m), np.bincount(band, follow_up, minlength=m)),
             "trend": (np.bincount(band[trend], minlength=m),
                       np.bincount(band[trend], follow_up[trend], minlength=m))}
    by_band = {s: {key: (int(n[i]), int(x[i])) for key, (n, x) in count.items()}
               for i, s in sorted(enumerate(states), key=lambda e: info.bands[e[1]][0])}
    return dict(by_category=by_category, by_band=by_band, targets=info.targets)


# -- records against the model ----------------------------------------------------------

def model_checks(coded: Coded, info: ModelInfo) -> tuple[list[CheckResult], dict[str, Any],
                                                        list[str]]:
    """Each node's marginal and each CPD column against the records' frequencies."""
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
        pooled_obs = np.zeros(len(states))
        pooled_exp = np.zeros(len(states))
        pooled = 0
        for j in np.flatnonzero(counts.sum(axis=0)):
            o, p = counts[:, j], table[:, j]
            fit = gof(o, p, MODEL_LAMBDA) if o.sum() >= MIN_COLUMN_ROWS else None
            if o[p == 0].any() or fit:
                results.append(_column(f"model: {node} | {labels[j]}", node, states, o, p,
                                       "CPD column", fit))
            else:
                pooled_obs += o
                pooled_exp += o.sum() * p
                pooled += 1
        if pooled:
            results.append(_column(
                f"model: {node} | {pooled} sparse columns pooled", node, states, pooled_obs,
                pooled_exp / pooled_exp.sum(), f"{pooled} CPD columns with fewer than "
                f"{MIN_COLUMN_ROWS} rows (expected: their CPD columns weighted by their rows)"))
        tables[node] = dict(states=states, parents=parents, labels=labels, model=table,
                            counts=counts, row_states=info.states[parents[0]],
                            col_states=info.states[parents[-1]])
    return results, tables, notes


def _column(name: str, node: str, states: list[str], observed: np.ndarray, probs: np.ndarray,
            what: str, fit: tuple[float, int, float] | None = None) -> CheckResult:
    n = int(observed.sum())
    frequency = observed / n
    tv = float(0.5 * np.abs(frequency - probs).sum())  # total variation distance
    impossible = (probs == 0) & (observed > 0)
    if impossible.any():
        listed = ", ".join(f"{int(observed[i]):,} with {node}={states[i]}"
                           for i in np.flatnonzero(impossible))
        return CheckResult(name, "impossible values", None, 0.0, tv, None, False,
                           f"{n:,} rows: {listed}, where the model ({what}) gives "
                           "probability 0")
    worst = int(np.argmax(np.abs(frequency - probs)))
    fit = fit or gof(observed, probs, MODEL_LAMBDA)
    detail = (f"{n:,} rows vs the {what}; largest difference {node}={states[worst]}: "
              f"{frequency[worst]:.4f} observed vs {probs[worst]:.4f}")
    if fit is None:
        return _skipped(name, f"{n:,} rows: too few to test the {what}")
    return CheckResult(name, f"Cressie-Read power divergence (lambda 2/3), df={fit[1]}",
                       fit[0], fit[2], tv, None, True, detail)
