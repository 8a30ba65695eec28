"""The answer first: one plain sentence per stated target, then whether the records are a
faithful sample of the model, with the few checks that matter named.

Every format opens with it (HTML, Markdown, JSON ``summary``). The sentences are told from
the checks' own numbers (their details, effects and intervals; the rows a target would
need come from the same test's power calculation, ``_checks._rows_for``): nothing here
computes a statistic.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._report import ConformanceReport
    from ._result import CheckResult

__all__ = ["MEANINGS", "answer"]

#: What each status word means, in the words a reader meets it with.
MEANINGS = {
    "failed": "the records contradict it: the report fails",
    "shown": "the records demonstrate the target (its interval inside the margin)",
    "not shown": "consistent with the target, but too few rows to demonstrate it; "
                 "this does not fail",
    "not rejected": "no departure from the exact model found (which, with few rows, is not "
                    "proof of a match)",
    "valid": "every value of the column is valid",
    "not tested": "could not be computed (the detail says why); neither passes nor fails",
}

_NEEDED = re.compile(r"about ([\d,]+) rows would show it")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _observed(c: CheckResult, report: ConformanceReport) -> str:
    """The observed value, its interval and the target, from the check's own numbers."""
    g = report._figures.get("gender")
    if c.name == "target: share gender" and g is not None:
        shares = ", ".join(f"{state} {_pct(share)} % ({_pct(lo)}–{_pct(hi)})" for state, share,
                           (lo, hi) in zip(g["states"], g["shares"], g["intervals"], strict=True))
        return (f"{shares} against the target "
                f"{' / '.join(f'{100 * t:g}' for t in g['target'])} ± {100 * g['margin']:g} "
                f"points ({g['level']} intervals)" if "level" in g else "points")
    first = c.detail.split("; ")[0]
    if c.margin is not None and " vs " not in first:  # a difference's or trend's minimum
        unit = " per decade" if "per decade" in first else ""
        first += f", against a minimum of {c.margin:g}{unit}"
    return first


def _sentence(c: CheckResult, report: ConformanceReport) -> str:
    what = c.name.removeprefix("target: ")
    observed = _observed(c, report)
    if c.status == "failed":
        verdict = "the records show the target missed"
    elif c.status == "shown":
        verdict = "the records demonstrate the target"
    elif c.status == "not tested":
        return f"{what}: could not be tested: {c.detail}."
    else:
        needed = _NEEDED.search(c.detail)
        verdict = (f"consistent with the target; {c.rows:,} rows cannot show it within the "
                   "margin" + (f", about {needed.group(1)} would" if needed else ""))
    return f"{what}: {observed}: {verdict}."


def answer(report: ConformanceReport) -> dict[str, Any]:
    """The first screen of a report as data: ``targets`` (one sentence each, with its
    check and status), ``model`` (one sentence, ``faithful``, the checks named) and
    ``statuses`` (each status word's meaning)."""
    targets = [c for c in report.checks if c.kind == "target"]
    model = [c for c in report.checks if c.kind == "model"]
    invalid = [c for c in report.checks if c.kind == "records" and not c.passed]
    failed = [c for c in model if not c.passed]
    tested = sorted((c for c in model if c.pvalue is not None), key=lambda c: c.pvalue or 0.0)
    named = (failed or tested)[:3]
    names = ", ".join(f"{c.name.removeprefix('model: ')} (p {c.pvalue:.2g}, Holm "
                      f"{c.pvalue_holm:.2g})" if c.pvalue is not None and c.pvalue_holm
                      is not None else c.name.removeprefix("model: ") for c in named)
    faithful = not failed and not invalid
    if invalid:
        sentence = (f"The records are not a faithful sample of the model: "
                    f"{len(invalid)} column(s) hold invalid values "
                    f"({', '.join(c.name.removeprefix('records: ') for c in invalid)}).")
    elif failed:
        sentence = (f"The records are not a faithful sample of the model: {len(failed)} of "
                    f"{len(model)} checks against the exact model fail, first {names}.")
    else:
        sentence = (f"The records are consistent with a faithful sample of the model: none of "
                    f"{len(model)} checks (each node's marginal, each CPD column with enough "
                    "rows, ages within bands, visit days) rejects it, every column is valid"
                    + (f"; the closest: {names}." if names else "."))
    return {"targets": [{"check": c.name, "status": c.status,
                         "sentence": _sentence(c, report)} for c in targets],
            "model": {"faithful": faithful, "sentence": sentence,
                      "checks": [c.name for c in named]},
            "statuses": {s: MEANINGS[s] for s in report.counts}}
