"""Reports for cohorts: the model conditioned on ``given``, as the checks see a model.

The model checks compare records with ``ModelInfo.marginals`` and ``ModelInfo.tables``;
for a cohort these become P(node | evidence) and P(node | parents, evidence), exact, by
the model's variable elimination. A CPD column whose parents are impossible under the
evidence is all zeros, so a row there fails as an impossible value.

A stated target is about the whole clinic. It still applies to a cohort only when the
evidence leaves the distribution it speaks of unchanged (exactly, up to rounding):
a statement needs the joint distribution of the nodes it names (its node, its ``where:``
columns, a trend's ``over``) unchanged, with diagnosis grouped into categories when only
``diagnosis_category`` names it: P(gender | e) = P(gender) for the gender shares,
P(follow_up, category | e) for the follow-up difference; ages evenly spread need
P(age_group | e) unchanged and no age range. Otherwise the target reads "not tested",
with a note saying why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from ..model import (
    DIAGNOSIS_CATEGORY,
    ClinicModel,
    Cohort,
    Even,
    Statement,
    Trend,
    factors,
    joint,
    node_of,
)
from ._model_info import ModelInfo
from ._records import Coded
from ._result import CheckResult

__all__ = ["cohort_figures", "conditional_info", "evidence_check", "skip_inapplicable"]

_SAME = 1e-9  # distributions equal up to rounding


def conditional_info(info: ModelInfo, model: ClinicModel, cohort: Cohort) -> ModelInfo:
    """``info`` with marginals and CPD columns given the cohort's evidence."""
    net = factors(model)
    evidence = cohort.likelihoods
    marginals, tables = {}, {}
    for node in info.nodes:
        parents = info.parents[node]
        table = joint(net, [node, *parents], evidence)
        column = table.sum(axis=0, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            tables[node] = np.where(column > 0, table / np.where(column > 0, column, 1), 0.0
                                    ).reshape(len(info.states[node]), -1)
        marginal = table.reshape(len(info.states[node]), -1).sum(axis=1)
        marginals[node] = marginal / marginal.sum()
    return dataclasses.replace(info, marginals=marginals, tables=tables)


def _changed(model: ClinicModel, nodes: list[str], evidence: Mapping[str, np.ndarray],
             group: np.ndarray | None = None) -> bool:
    """Whether P(nodes | evidence) differs from P(nodes); ``group`` maps the diagnosis
    axis (when queried) onto categories first."""
    net = factors(model)
    before, after = joint(net, nodes, {}), joint(net, nodes, evidence)
    before, after = before / before.sum(), after / after.sum()
    if group is not None:
        axis = nodes.index("diagnosis")
        before, after = (np.moveaxis(np.stack([np.moveaxis(t, axis, 0)[group == g].sum(axis=0)
                                               for g in np.unique(group)]), 0, axis)
                         for t in (before, after))
    return not np.allclose(before, after, rtol=0, atol=_SAME)


def skip_inapplicable(checks: list[CheckResult], statements: Sequence[Statement],
                      model: ClinicModel, cohort: Cohort) -> tuple[list[CheckResult], list[str]]:
    """Target checks (one per statement, in order) whose statement no longer applies to
    the cohort, made "not tested"."""
    evidence = cohort.likelihoods
    dx = model.states("diagnosis")
    names = sorted(set(model.diagnosis_categories.values()))
    category = np.array([names.index(model.diagnosis_categories[d]) for d in dx])
    out, notes = [], []
    for check, s in zip(checks, statements, strict=True):
        if isinstance(s, Even):
            nodes, group, changed = ["age_group"], None, cohort.ages is not None
        else:
            columns = [s.node, *(c for c, _ in s.where)]
            nodes = list(dict.fromkeys(
                node_of(c) for c in columns + ([s.over] if isinstance(s, Trend) else [])))
            # diagnosis through its categories only: compare the categories' distribution
            group = category if DIAGNOSIS_CATEGORY in columns and "diagnosis" not in columns \
                else None
            changed = False
        if changed or _changed(model, nodes, evidence, group):
            why = (f"the cohort ({cohort.text}) changes what the statement is about "
                   f"({', '.join(nodes)}), so the stated target does not apply")
            check = CheckResult(check.name, "not tested", None, None, None, check.margin,
                                True, f"not tested: {why}", kind="target",
                                node=check.node, rows=check.rows)
            notes.append(f"{check.name} not tested: {why}.")
        out.append(check)
    return out, notes


def evidence_check(coded: Coded, cohort: Cohort) -> CheckResult:
    """``records: given``: every row satisfies the evidence (its node states and ages)."""
    evidence = cohort.likelihoods
    bad = np.zeros(coded.n_used, bool)
    problems = []
    for node, weights in evidence.items():
        if node not in coded.codes:
            problems.append(f"{node} is not in the records and cannot be checked")
            continue
        wrong = weights[coded.codes[node]] == 0
        if wrong.any():
            problems.append(f"{int(wrong.sum()):,} rows outside the given {node}")
        bad |= wrong
    if cohort.ages is not None:
        lo, hi = cohort.ages
        wrong = (coded.age < lo) | (coded.age > hi)
        if wrong.any():
            problems.append(f"{int(wrong.sum()):,} ages outside {lo}..{hi}")
        bad |= wrong
    failed = bool(bad.any())
    rows = np.flatnonzero(bad)[:3]
    detail = (f"every row satisfies {cohort.text}" if not failed
              else "; ".join(problems) + f" (usable rows {', '.join(str(r + 1) for r in rows)}"
              + (", ...)" if bad.sum() > 3 else ")"))
    if not failed and problems:
        detail += "; " + "; ".join(problems)
    return CheckResult("records: given", "validity", float(bad.sum()), None,
                       float(bad.mean()) if coded.n_used else 0.0, None, not failed, detail,
                       kind="records", node="given", rows=coded.n_used)


def cohort_figures(figures: dict, model: ClinicModel, cohort: Cohort, info: ModelInfo) -> None:
    """Point the target figures of a cohort report at the model's exact expectations
    given the evidence (``info`` already conditional): P(gender | e), the ages' exact
    distribution inside the cohort, P(follow_up | e) overall and per category. Only the
    drawing changes; the checks' numbers are not touched."""
    net, evidence = factors(model), cohort.likelihoods
    what = f"given {cohort.text}"
    if "gender" in figures and "gender" in info.marginals:
        figures["gender"] = figures["gender"] | {
            "expected": np.asarray(info.marginals["gender"], float),
            "title": f"Gender shares in the cohort vs the model's exact shares {what}",
            "target_label": f"model's exact share {what}"}
    if "age" in figures and "age_group" in info.marginals:
        figures["age"] = _cohort_ages(figures["age"], info, cohort, what)
    if "follow_up" in figures and {"follow_up", "diagnosis"} <= set(info.nodes):
        true = info.states["follow_up"].index("True")
        table = joint(net, ["follow_up", "diagnosis"], evidence)
        names = list(figures["follow_up"]["by_category"])
        dx = info.states["diagnosis"]
        of = {c: np.array([info.categories[x] == c for x in dx]) for c in names}
        rows = [table.sum()] + [table[:, of[c]].sum() for c in names]
        hits = [table[true].sum()] + [table[true, of[c]].sum() for c in names]
        figures["follow_up"] = figures["follow_up"] | {
            "expected": np.array([h / r if r > 0 else np.nan for h, r in zip(hits, rows,
                                                                             strict=True)]),
            "title": f"Follow-up rate in the cohort vs the model's exact rate {what}"}


def _cohort_ages(d: dict, info: ModelInfo, cohort: Cohort, what: str) -> dict:
    """The age figure's years narrowed to those the cohort can hold (or holds), with the
    exact expected count per year: P(band | e) spread evenly over the band's years inside
    the cohort's age range (the sampler's rule)."""
    ages, counts = np.asarray(d["ages"]), np.asarray(d["counts"], float)
    lo, hi = cohort.ages if cohort.ages is not None else (int(ages.min()), int(ages.max()))
    p = np.zeros(len(ages))
    for band, share in zip(info.states["age_group"], info.marginals["age_group"], strict=True):
        b_lo, b_hi = info.bands[band]
        inside = (ages >= max(b_lo, lo)) & (ages <= min(b_hi, hi))
        if inside.any():
            p[inside] = share / inside.sum()
    keep = np.flatnonzero((p > 0) | (counts > 0))
    if len(keep) == 0 or p.sum() == 0:
        return d
    span = slice(int(keep[0]), int(keep[-1]) + 1)
    ages, counts, p = ages[span], counts[span], p[span]
    n = int(counts.sum())
    a0, a1 = int(ages[0]), int(ages[-1])
    bands = {name: (max(b_lo, a0), min(b_hi, a1)) for name, (b_lo, b_hi) in d["bands"].items()
             if b_lo <= a1 and b_hi >= a0}
    return d | {"ages": ages, "counts": counts, "n": n, "bands": bands,
                "expected": n * p / p.sum(),
                "title": f"Ages in the cohort vs the model's exact expectation {what}"}
