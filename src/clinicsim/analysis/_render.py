"""Renderers of a conformance report: plain-text summary, Markdown, JSON and HTML."""

from __future__ import annotations

import html as _html
import json
import math
import re
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from ._report import ConformanceReport
    from ._result import CheckResult

__all__ = ["figures_html", "html", "markdown", "summary", "to_json"]

READING = (
    "A target fails only when the records show it missed: a share or rate outside "
    "target ± margin, a difference or trend below its minimum. It is *shown* when the "
    "records show it met (the interval inside the margin, above the minimum) and *not shown* "
    "when they cannot tell either way, which does not fail. A model check fails when the "
    "records contradict the exact model. P-values are adjusted by Holm within each family "
    "(targets, model), and the two families by Holm again, so a table drawn from a model "
    "that meets its targets fails with probability at most alpha. **Not rejected is not the "
    "same as matches**: with few rows a test cannot tell a small departure from none. A "
    "check that could not be computed reads *not tested* and says why."
)
REALISM = (
    "The model's exact figures (by variable elimination, not from the records) beside the "
    "published figures its hand-set CPDs were built from. Differences here are choices of the "
    "model, such as the brief's evenly spread ages, not sampling error; this section never fails."
)
#: The JSON report's layout. 2 (issue 25): adds ``schema_version`` and ``summary`` (the
#: first screen: a sentence per target, the model sentence, each status word's meaning);
#: every key of version 1 is unchanged.
SCHEMA_VERSION = 2
_SHOWN_FAILURES = 10  # failed checks listed in the terminal summary


def _num(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}g}"


def _headline(report: ConformanceReport) -> str:
    def word(ok: bool) -> str:
        return "passed" if ok else "FAILED"

    return (f"{word(report.passed).upper()}: {report.n_rows:,} records ({report.n_used:,} used) "
            f"against model {report.model_name!r}; {report.tally()}; targets "
            f"{word(report.targets_passed)}, model {word(report.model_passed)} at alpha "
            f"{report.alpha:g}")


def _by_kind(report: ConformanceReport, kind: str) -> list[CheckResult]:
    return [c for c in report.checks if c.kind == kind]


def _model_rows(report: ConformanceReport) -> list[tuple[str, int, int, str]]:
    """Per node: checks, failures and the smallest Holm-adjusted p-value."""
    nodes: dict[str, list[CheckResult]] = {}
    for c in _by_kind(report, "model"):
        nodes.setdefault(c.node or "", []).append(c)
    rows = []
    for node, checks in nodes.items():
        ps = [c.pvalue_holm for c in checks if c.pvalue_holm is not None]
        rows.append((node, len(checks), sum(not c.passed for c in checks),
                     _num(min(ps)) if ps else "–"))
    return rows


def summary(report: ConformanceReport) -> str:
    """A short table for the terminal."""
    lines = [_headline(report), ""]
    width = max(len(c.name) for c in report.checks if c.kind == "target") + 2
    lines.append(f"  {'check':<{width}}{'result':<17}{'deviation':>10}{'margin':>8}"
                 f"{'p (Holm)':>10}")
    for c in _by_kind(report, "target"):
        lines.append(f"  {c.name:<{width}}{c.status:<17}{_num(c.effect):>10}"
                     f"{_num(c.margin):>8}{_num(c.pvalue_holm, 3):>10}")
    records = _by_kind(report, "records")
    bad = [c for c in records if not c.passed]
    lines.append(f"  records: {len(records)} columns checked, {len(bad)} with invalid values")
    model = _by_kind(report, "model")
    lines.append(f"  model: {len(model)} checks of marginals, CPD columns, ages and days, "
                 f"{sum(not c.passed for c in model)} failed, "
                 f"{sum(c.status == 'not tested' for c in model)} not tested")
    failed = report.failed
    for c in failed[:_SHOWN_FAILURES]:
        lines.append(f"  FAILED {c.name}: {c.detail}")
    if len(failed) > _SHOWN_FAILURES:
        lines.append(f"  ... and {len(failed) - _SHOWN_FAILURES} more failed checks "
                     "(see the report)")
    lines += [f"  note: {n}" for n in report.notes]
    return "\n".join(lines)


def _rows(table: pd.DataFrame) -> list[dict[Hashable, Any]]:
    """A table's rows by column name (cells as Python values, typed Any: a column's type
    is not known statically)."""
    return table.to_dict("records")


def _md_escape(text: object) -> str:
    """Text from the model or the records as Markdown text: HTML inert (a state named
    ``<script>`` is shown, not run, by a viewer that renders HTML), on one table line."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: ConformanceReport) -> str:
    """The report as Markdown."""
    from ._answer import answer

    first = answer(report)
    out = [f"# Conformance report: {'passed' if report.passed else 'FAILED'}", "",
           _md_escape(_headline(report)) + ".", "", "## The answer", ""]
    out += [f"- {_md_escape(t['sentence'])}" for t in first["targets"]]
    out += ["", _md_escape(first["model"]["sentence"]), "", "Status words: "
            + "; ".join(f"*{s}*: {m}" for s, m in first["statuses"].items()) + ".", ""]
    out += ["## Stated targets", "",
            "| check | result | deviation | margin | test | p | p (Holm) |",
            "|---|---|---:|---:|---|---:|---:|"]
    targets = _by_kind(report, "target")
    for c in targets:
        out.append(f"| {_md_escape(c.name.removeprefix('target: '))} | {c.status} "
                   f"| {_num(c.effect)} "
                   f"| {_num(c.margin)} | {_md_escape(c.test)} | {_num(c.pvalue)} "
                   f"| {_num(c.pvalue_holm)} |")
    out.append("")
    out += [f"- **{_md_escape(c.name.removeprefix('target: '))}**: {_md_escape(c.detail)}"
            for c in targets]
    out += ["", "## Records", "", "| column | result | invalid rows | detail |",
            "|---|---|---:|---|"]
    for c in _by_kind(report, "records"):
        out.append(f"| {_md_escape(c.name.removeprefix('records: '))} | {c.status} "
                   f"| {int(c.statistic or 0):,} | {_md_escape(c.detail)} |")
    out += ["", "## Records against the model", "",
            "Each node's marginal against the exact marginal, each CPD column with enough rows "
            "against the observed conditional frequencies (sparse columns pooled).", "",
            "| node | checks | failed | smallest p (Holm) |", "|---|---:|---:|---:|"]
    out += [f"| {_md_escape(n)} | {k} | {f} | {p} |" for n, k, f, p in _model_rows(report)]
    failed = [c for c in _by_kind(report, "model") if not c.passed]
    if failed:
        out += ["", "Failed:", ""]
        out += [f"- **{_md_escape(c.name.removeprefix('model: '))}** ({c.test}, p (Holm) "
                f"{_num(c.pvalue_holm)}, total variation {_num(c.effect)}): {_md_escape(c.detail)}"
                for c in failed]
    if report.realism is not None:
        out += ["", "## Realism: the model against its sources", "", REALISM, "",
                "| quantity | group | model | reference | difference | source |",
                "|---|---|---:|---:|---:|---|"]
        out += [f"| {_md_escape(r['quantity'])} | {_md_escape(r['group'])} | {_num(r['model'])} "
                f"| {_num(r['reference'])} | {_num(r['difference'])} | {_md_escape(r['source'])} |"
                for r in _rows(report.realism)]
    if report.notes:
        out += ["", "## Notes", ""] + [f"- {_md_escape(n)}" for n in report.notes]
    out += ["", "## How to read this report", "", READING, ""]
    return "\n".join(out)


def _finite(x: object) -> object:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def to_json(report: ConformanceReport) -> str:
    """The report as strict JSON (non-finite numbers become null)."""
    frame = report.to_frame()
    checks = [{k: _finite(v) for k, v in row.items()} for row in frame.to_dict("records")]
    from ._answer import answer

    document = {"schema_version": SCHEMA_VERSION, "summary": answer(report),
                "passed": report.passed, "targets_passed": report.targets_passed,
                "model_passed": report.model_passed, "counts": report.counts,
                "levels": report.levels, "alpha": report.alpha, "n_rows": report.n_rows,
                "n_used": report.n_used, "model": report.model_name, "notes": report.notes,
                "checks": checks}
    if report.realism is not None:
        document["realism"] = report.realism.to_dict("records")
    return json.dumps(document, indent=2, allow_nan=False)


# Every rule is scoped to the report's wrapper, so that shown in a notebook (or pasted
# into another page) the report styles only itself.
_CSS = """
.clinicsim-report{font-family:system-ui,sans-serif;color:#222;line-height:1.4}
.clinicsim-report.page{max-width:1100px;margin:2em auto;padding:0 1em}
.clinicsim-report table{border-collapse:collapse;margin:1em 0;font-size:.9em}
.clinicsim-report th,.clinicsim-report td{border:1px solid #ccc;padding:.3em .6em;
text-align:left;vertical-align:top}
.clinicsim-report td.n{text-align:right;font-variant-numeric:tabular-nums}
.clinicsim-report .failed{color:#b00020;font-weight:bold}
.clinicsim-report .shown{color:#1b5e20;font-weight:bold}
.clinicsim-report .verdict{font-size:1.2em;padding:.5em 1em;border-radius:4px;
display:inline-block}
.clinicsim-report .pass{background:#e8f5e9}.clinicsim-report .fail{background:#fde7e9}
.clinicsim-report figure.plot{margin:1em 0;overflow-x:auto}
.clinicsim-report details{margin:.5em 0}
.clinicsim-report .hint{color:#555;font-size:.9em}
.clinicsim-report .outline{margin:.8em 0;font-size:.95em}
.clinicsim-report ul.answer li{margin:.3em 0}
.clinicsim-report ul.answer span{font-weight:bold;margin-right:.3em}
"""


def _td(text: str, numeric: bool = False, cls: str = "") -> str:
    classes = " ".join(x for x in ("n" if numeric else "", cls) if x)
    attrs = f' class="{classes}"' if classes else ""
    return f"<td{attrs}>{_html.escape(text)}</td>"


def _table(header: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{_html.escape(h)}</th>" for h in header)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _status_td(c: CheckResult) -> str:
    """The status word, its meaning on hover."""
    from ._answer import MEANINGS

    return (f'<td class="{c.status.replace(" ", "-")}" title="{_html.escape(MEANINGS[c.status])}">'
            f"{_html.escape(c.status)}</td>")


def _outline(report: ConformanceReport) -> list[tuple[str, str]]:
    """The page's sections, as (anchor, title), in order."""
    out = [("answer", "The answer"), ("targets", "Stated targets"), ("records", "Records"),
           ("model", "Records against the model")]
    out += [("extra-figures", report._figures.get("extra_outline", "Further figures"))] \
        if report._figures.get("extra_figures") else []
    out += [("cpd", "CPD figures")] if report._figures.get("cpd") else []
    out += [("realism", "Realism")] if report.realism is not None else []
    out += [("notes", "Notes")] if report.notes else []
    return out + [("reading", "How to read this report")]


def _wrap(body: str, page: bool) -> str:
    return (f'<div class="clinicsim-report{" page" if page else ""}"><style>{_CSS}</style>'
            f"{body}</div>")


def _residual_table(node: str, table: dict[str, object]) -> str:
    from ._figures import largest_residuals

    cells = largest_residuals(table)
    rows = []
    for c in cells:
        z = "impossible" if c["z"] is None else f"{c['z']:+.2f}"
        rows.append(f"<tr>{_td(c['parents'])}{_td(c['state'])}{_td(format(c['rows'], ','), True)}"
                    f"{_td(_num(c['observed'], 3), True)}{_td(_num(c['model'], 3), True)}"
                    f"{_td(z, True)}</tr>")
    parents = " / ".join(table["parents"])  # type: ignore[arg-type]
    return (f"<details><summary>CPD of {_html.escape(node)}: the {len(cells)} cells that "
            "deviate most from the model</summary>"
            + _table([parents, node, "rows", "observed", "model",
                      "residual (obs - exp) / SE"], rows) + "</details>")


def html(report: ConformanceReport, figures: bool = True, page: bool = True) -> str:
    """A self-contained HTML page, or a light fragment for notebooks when ``page`` is False.

    The fragment leaves out the figures unless ``figures`` (a notebook asks for them with
    ``report.figures()``) and lists only the failed model checks.
    """
    e = _html.escape
    from ._answer import answer

    first = answer(report)
    parts = [f'<p class="verdict {"pass" if report.passed else "fail"}">{e(_headline(report))}</p>']
    if page:
        parts.append('<nav class="outline">' + " · ".join(
            f'<a href="#{anchor}">{e(title)}</a>' for anchor, title in _outline(report)) + "</nav>")
    parts.append('<h2 id="answer">The answer</h2><ul class="answer">' + "".join(
        f'<li><span class="{t["status"].replace(" ", "-")}">{e(t["status"])}</span> '
        f'{e(t["sentence"])}</li>' for t in first["targets"]) + "</ul>")
    parts.append(f'<p class="answer">{e(first["model"]["sentence"])}</p>')
    parts.append('<p class="hint">' + "; ".join(
        f"<b>{e(s)}</b>: {e(m)}" for s, m in first["statuses"].items()) + ".</p>")
    if not figures:
        parts.append('<p class="hint">Figures: <code>report.figures()</code>, or '
                     "<code>report.save(\"report.html\")</code> for the page with figures.</p>")
    parts.append('<h2 id="targets">Stated targets</h2>')
    rows = [f"<tr>{_td(c.name.removeprefix('target: '))}{_status_td(c)}{_td(_num(c.effect), True)}"
            f"{_td(_num(c.margin), True)}{_td(c.test)}{_td(_num(c.pvalue), True)}"
            f"{_td(_num(c.pvalue_holm), True)}{_td(c.detail)}</tr>"
            for c in _by_kind(report, "target")]
    parts.append(_table(["check", "result", "deviation", "margin", "test", "p", "p (Holm)",
                         "detail"], rows))
    plots = {}
    if figures:
        from ._figures import render_figures

        plots = render_figures(report._figures)
    for key in ("gender", "age", "follow_up"):
        if key in plots:
            parts.append(_img(plots[key], key))
    parts.append('<h2 id="records">Records</h2>')
    rows = [f"<tr>{_td(c.name.removeprefix('records: '))}{_status_td(c)}"
            f"{_td(f'{int(c.statistic or 0):,}', True)}{_td(c.detail)}</tr>"
            for c in _by_kind(report, "records")]
    parts.append(_table(["column", "result", "invalid rows", "detail"], rows))
    parts.append('<h2 id="model">Records against the model</h2>'
                 "<p>Each node's marginal against the exact marginal, each CPD column with "
                 "enough rows against the observed conditional "
                 "frequencies (sparse columns pooled).</p>")
    parts.append(_table(["node", "checks", "failed", "smallest p (Holm)"],
                        [f"<tr>{_td(n)}{_td(str(k), True)}{_td(str(f), True)}{_td(p, True)}</tr>"
                         for n, k, f, p in _model_rows(report)]))
    model = _by_kind(report, "model")
    failed = [c for c in model if not c.passed]
    columns = ["check", "result", "total variation", "test", "p", "p (Holm)", "detail"]

    def model_row(c: CheckResult) -> str:
        return (f"<tr>{_td(c.name.removeprefix('model: '))}{_status_td(c)}"
                f"{_td(_num(c.effect), True)}{_td(c.test)}{_td(_num(c.pvalue), True)}"
                f"{_td(_num(c.pvalue_holm), True)}{_td(c.detail)}</tr>")

    if failed:
        parts.append("<h3>Failed model checks</h3>"
                     + _table(columns, [model_row(c) for c in failed]))
    if page:
        parts.append(f"<details><summary>All {len(model)} model checks</summary>"
                     f"{_table(columns, [model_row(c) for c in model])}</details>")
    else:
        parts.append(f'<p class="hint">All {len(model)} model checks: '
                     "<code>report.to_frame()</code>.</p>")
    extra = [key for key in report._figures.get("extra_figures", ()) if key in plots]
    if extra:
        parts.append(f'<h3 id="extra-figures">{e(report._figures["extra_title"])}</h3>')
        parts += [_img(plots[key], key) for key in extra]
    if report._figures.get("cpd"):
        parts.append('<h3 id="cpd">CPD figures: the records against each CPD</h3>')
    for node, table in report._figures.get("cpd", {}).items():
        if f"cpd:{node}" in plots:
            parts.append(_img(plots[f"cpd:{node}"], f"cpd:{node}"))
        parts.append(_residual_table(node, table))
    if report.realism is not None:
        rows = [f"<tr>{_td(r['quantity'])}{_td(str(r['group']))}{_td(_num(r['model']), True)}"
                f"{_td(_num(r['reference']), True)}{_td(_num(r['difference']), True)}"
                f"{_td(r['source'])}</tr>"
                for r in _rows(report.realism)]
        parts.append('<h2 id="realism">Realism: the model against its sources</h2>'
                     f"<p>{e(REALISM)}</p>")
        parts.append(_table(["quantity", "group", "model", "reference", "difference", "source"],
                            rows))
        if "realism" in plots:
            parts.append(_img(plots["realism"], "realism"))
    if report.notes:
        parts.append('<h2 id="notes">Notes</h2><ul>'
                     + "".join(f"<li>{e(n)}</li>" for n in report.notes) + "</ul>")
    reading = e(READING).replace("**Not rejected is not the same as matches**",
                                 "<strong>Not rejected is not the same as matches</strong>")
    reading = re.sub(r"\*([^*]+)\*", r"<em>\1</em>", reading)
    parts.append(f'<h2 id="reading">How to read this report</h2><p>{reading}</p>')
    body = "\n".join(parts)
    if not page:
        return _wrap(body, page=False)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>clinicsim conformance report</title></head><body>"
            f"{_wrap('<h1>Conformance report</h1>' + body, page=True)}</body></html>\n")


def figures_html(svgs: dict[str, str]) -> str:
    """SVG figures (keyed by figure name) as a scoped HTML fragment."""
    return _wrap("".join(_img(svg, key) for key, svg in svgs.items()), page=False)


def _img(svg: str, key: str) -> str:
    """An SVG figure inline (the page stays one file), in a figure with its key as id."""
    return f'<figure class="plot" id="figure-{_html.escape(key.replace(":", "-"))}">{svg}</figure>'
