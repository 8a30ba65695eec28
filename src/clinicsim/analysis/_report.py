"""``conformance_report``: does a records table match the model's stated targets and the model?"""

from __future__ import annotations

import collections
import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._io import atomic_path, output_file
from .._validate import check_alpha
from ..model import ClinicModel, as_model, cohort
from ._calendar_checks import calendar_checks
from ._checks import holm, model_checks, target_checks, validity_checks
from ._cohort import cohort_figures, conditional_info, evidence_check, skip_inapplicable
from ._columns import absent_target_columns, summed_out
from ._history import history_checks, is_history
from ._model_info import model_info
from ._records import code_records, read_records
from ._result import STATUSES, CheckResult

if TYPE_CHECKING:
    from ._figures import ReportFigures

__all__ = ["REPORT_SUFFIXES", "ConformanceReport", "check_report_path", "conformance_report"]

REPORT_SUFFIXES = (".html", ".md", ".json")
FRAME_COLUMNS = ["kind", "name", "status", "passed", "test", "statistic", "pvalue",
                 "pvalue_holm", "effect", "margin", "shown", "node", "rows", "interval_low",
                 "interval_high", "detail"]


def conformance_report(
    records: pd.DataFrame | str | os.PathLike[str],
    model: ClinicModel | str | os.PathLike[str] | None = None,
    alpha: float = 0.01,
    *,
    realism: bool = False,
    given: Mapping[str, object] | None = None,
) -> ConformanceReport:
    """Check a records table against the model's stated targets and against the model.

    Three families of checks:

    * **records** — every value valid: ``patient_id`` present and unique, ``age`` a whole
      number inside the age bands and the target range, ``visit_date`` a date inside the
      visit window, categories among the model's states. Rows with an invalid value are
      named (column, value, first rows) and left out of the statistics.
    * **targets** — one check per statement of ``model.targets``, named by the statement
      (``target: rate follow_up=True where diagnosis_category=chronic``): a share or a
      rate against its value ± margin, a difference of rates at least its minimum, a
      trend rising (falling) by at least its minimum within the grouped nodes' states
      (one slope, pooled over them), ages evenly spread (distribution function and
      single years). An equality statement not shown says about how many rows would
      show it at its margin.
    * **records, extended columns** (when present) — ``age_group`` the band of ``age``,
      ``diagnosis_code`` and ``diagnosis_category`` the model's for the row's diagnosis,
      ``follow_up_date`` present exactly on the rows with a follow-up and inside the
      category's ``follow_up_days`` after ``visit_date``.
    * **model** — each node's marginal against the model's exact marginal, each CPD
      column with enough rows against the observed conditional frequencies, and a node's
      sparse columns together. A row in a state the model gives probability 0 fails.
      Then what the network does not draw: single ages within each band, visit days
      within their month, follow-up days within their interval (with a
      ``follow_up_date`` column), each against the sampler's exact rule.

    The verdict rule (see :mod:`clinicsim.analysis._checks`): a target fails only when the
    records show it *missed* — an equality target's value outside target ± margin, a
    difference or slope below its minimum; it is ``shown`` when the records show it met,
    and ``not shown`` otherwise, which does not fail. A model check fails when the records
    contradict the exact model. Each family is adjusted by Holm; the two families are
    combined by Holm too (each tested at ``alpha / 2``, and at ``alpha`` once the other
    has failed). So:

    * ``targets_passed`` is False with probability at most ``alpha`` when the true values
      meet every target, at any number of rows (exact for shares, rates and ages; normal
      approximations for the difference and the trend, not tested below 20 rows a group);
    * ``model_passed`` is False with probability at most ``alpha`` for a sample of the
      model;
    * ``passed`` (both) is False with probability at most ``alpha`` for a sample of a model
      that meets its targets — its exact values anywhere inside the margins.

    A check that cannot be computed (too few rows, no variation) reads ``not tested`` and
    says why; it fails nothing.

    Parameters
    ----------
    records : DataFrame or path
        Columns ``patient_id, visit_date, age, gender, diagnosis, treatment, follow_up``
        as :func:`clinicsim.sample` makes them, or a ``.csv``/``.parquet``/``.jsonl`` file.
        A column of each further node of the model is checked as the others are; a node
        without a column is summed out of its children's checks (P(child | the parents
        present), exact), and a stated target about it fails as ``records: NODE``. Other
        columns are ignored (with a note); ``age_group`` is used if present.
    model : ClinicModel, path or None
        The model (or model file) the records should follow; the default model if None.
    alpha : float
        Significance level of ``passed``, in (0, 0.5).
    realism : bool
        Add a section comparing the model's exact figures with the published figures
        it was built from (NAMCS 2019, CDC ILINet); it describes the model, not the
        records, and never fails.
    given : mapping, optional
        The records are a cohort (as ``clinicsim.sample(..., given=...)`` makes, or an
        unconditional sample filtered to it): the model checks use the model conditioned
        on this evidence (exact posterior marginals and CPD columns), a ``records: given``
        check fails rows outside it, and each stated target whose distribution the
        evidence changes is skipped with a note.

    Returns
    -------
    ConformanceReport

    Raises
    ------
    RecordsError
        The records cannot be read or lack required columns.
    ArgumentError
        ``alpha`` is not in (0, 0.5).

    Examples
    --------
    >>> import clinicsim
    >>> report = clinicsim.conformance_report(clinicsim.sample(5000, seed=42))
    >>> report.passed
    True
    >>> [c.status for c in report.checks if c.kind == "target"]
    ['not shown', 'not shown', 'shown', 'shown', 'not shown']
    """
    alpha = check_alpha(alpha)
    model = as_model(model)  # only read here
    info = model_info(model)
    evidence = cohort(model, given)
    data = read_records(records)
    history: tuple[list[CheckResult], list[CheckResult]] = ([], [])
    history_figures: dict[str, Any] = {}
    if is_history(data):  # a patient history: its first visits are the records
        history_validity, history_model, first_visits, history_figures = history_checks(
            data, model)
        history = (history_validity, history_model)
        data = first_visits
    coded = code_records(data, info)
    info, summed_notes = summed_out(info, model, coded.codes.keys())
    targets, figures = target_checks(coded, info, alpha)
    figures.update(history_figures)
    cohort_checks: list[CheckResult] = []
    cohort_notes: list[str] = []
    applicable = list(model.targets)
    if evidence is not None:
        tested = targets
        targets, cohort_notes = skip_inapplicable(targets, model.targets, model, evidence)
        # a statement the cohort makes inapplicable needs no column
        applicable = [s for s, before, after in zip(model.targets, tested, targets, strict=True)
                      if after is before]
        cohort_checks = [evidence_check(coded, evidence)]
        info = conditional_info(info, model, evidence)
        cohort_figures(figures, model, evidence, info)
    modelled, tables, notes = model_checks(coded, info)
    modelled += calendar_checks(coded.age, coded.codes["age_group"], coded.days,
                                coded.follow_up_dates, coded.codes["diagnosis"], info,
                                None if evidence is None else evidence.ages)
    modelled += history[1]
    validity = validity_checks(coded) + absent_target_columns(coded, applicable) + cohort_checks
    validity += history[0]
    invalid = not all(c.passed for c in validity)
    p_targets, p_model = _family_pvalue(targets), 0.0 if invalid else _family_pvalue(modelled)
    # Holm over the two families: each is tested at alpha / 2, and at alpha once the
    # other has failed.
    levels = {"target": alpha if p_model < alpha / 2 else alpha / 2,
              "model": alpha if p_targets < alpha / 2 else alpha / 2}
    checks = validity + _judged(targets, levels["target"]) + _judged(modelled, levels["model"])
    figures["cpd"] = tables
    if realism:
        from ._realism import realism_table

        figures["realism"] = realism_table(model)
    return ConformanceReport(
        checks=checks, alpha=alpha, n_rows=coded.n_rows, n_used=coded.n_used,
        model_name=model.name,
        notes=coded.notes + summed_notes + figures.pop("notes", []) + cohort_notes + notes,
        levels=levels, _figures=figures)


def _family_pvalue(checks: list[CheckResult]) -> float:
    """The smallest Holm-adjusted p-value of a family (1 when nothing was tested)."""
    p = [c.pvalue for c in checks if c.pvalue is not None]
    return float(holm(np.array(p)).min()) if p else 1.0


def _judged(checks: list[CheckResult], level: float) -> list[CheckResult]:
    tested = [i for i, c in enumerate(checks) if c.pvalue is not None]
    adjusted = holm(np.array([checks[i].pvalue for i in tested]))
    out = list(checks)
    for i, p in zip(tested, adjusted, strict=True):
        out[i] = checks[i].judged(p, level)
    return out


def check_report_path(path: str | os.PathLike[str]) -> Path:
    """``path`` if its suffix is a report format (``.html``, ``.md``, ``.json``), else an error.

    Examples
    --------
    >>> from clinicsim.analysis import check_report_path
    >>> check_report_path("report.html")
    PosixPath('report.html')
    >>> check_report_path("r.pdf")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    clinicsim._errors.ArgumentError: report 'r.pdf': unknown report format '.pdf'; use .html, ...
    """
    return output_file(path, "report", "report", REPORT_SUFFIXES)


@dataclasses.dataclass(frozen=True, repr=False)
class ConformanceReport:
    """The outcome of :func:`conformance_report`.

    Attributes
    ----------
    checks : list of CheckResult
        Records validity checks, then the stated targets, then the model checks.
    alpha : float
        The significance level of ``passed``.
    n_rows, n_used : int
        Rows in the table, and rows without invalid values (used by the statistics).
    model_name : str
        The name of the model checked against.
    notes : list of str
        Columns ignored, nodes derived or skipped, rows left out.
    levels : dict
        The level each family was tested at (``"target"``, ``"model"``): ``alpha / 2``,
        or ``alpha`` when the other family failed (Holm over the two families).

    Examples
    --------
    >>> import clinicsim
    >>> report = clinicsim.conformance_report(clinicsim.sample(5000, seed=42))
    >>> report.passed, len(report.checks), report.failed
    (True, 152, [])
    """

    checks: list[CheckResult]
    alpha: float
    n_rows: int
    n_used: int
    model_name: str
    notes: list[str]
    levels: dict[str, float]
    _figures: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def targets_passed(self) -> bool:
        """No stated target failed. Records whose true values meet every target (inside
        its margin, above its minimum) fail this with probability at most ``alpha``."""
        return all(c.passed for c in self.checks if c.kind == "target")

    @property
    def model_passed(self) -> bool:
        """Every value valid and no model check failed. A sample drawn from the model fails
        this with probability at most ``alpha``."""
        return all(c.passed for c in self.checks if c.kind != "target")

    @property
    def passed(self) -> bool:
        """``targets_passed and model_passed``. A sample drawn from a model that meets its
        targets fails this with probability at most ``alpha``."""
        return self.targets_passed and self.model_passed

    @property
    def counts(self) -> dict[str, int]:
        """How many checks have each status, in the order of :data:`STATUSES` (zeros left
        out)."""
        found = collections.Counter(c.status for c in self.checks)
        return {s: found[s] for s in STATUSES if found[s]}

    def tally(self) -> str:
        """``157 checks: 3 shown, 2 not shown, ...``: the count every format shows.

        Examples
        --------
        >>> import clinicsim
        >>> clinicsim.conformance_report(clinicsim.sample(5000, seed=42)).tally()
        '152 checks: 2 shown, 3 not shown, 140 not rejected, 7 valid'
        """
        parts = ", ".join(f"{k} {s}" for s, k in self.counts.items())
        return f"{len(self.checks)} checks: {parts}"

    @property
    def realism(self) -> pd.DataFrame | None:
        """The model against its published sources, if asked for (``realism=True``)."""
        return self._figures.get("realism")

    @property
    def failed(self) -> list[CheckResult]:
        """The checks that failed."""
        return [c for c in self.checks if not c.passed]

    def to_frame(self) -> pd.DataFrame:
        """One row per check: the fields of :class:`CheckResult` (``interval`` as
        ``interval_low``, ``interval_high``) plus ``status``.

        Examples
        --------
        >>> import clinicsim
        >>> frame = clinicsim.conformance_report(clinicsim.sample(5000, seed=42)).to_frame()
        >>> frame.status.value_counts().to_dict()
        {'not rejected': 140, 'valid': 7, 'not shown': 3, 'shown': 2}
        """
        rows = []
        for c in self.checks:
            row = dataclasses.asdict(c) | {"status": c.status}
            low, high = row.pop("interval") or (None, None)
            rows.append(row | {"interval_low": low, "interval_high": high})
        return pd.DataFrame(rows, columns=FRAME_COLUMNS)

    def summary(self) -> str:
        """A short plain-text table: the targets, and counts for records and model checks.

        Examples
        --------
        >>> import clinicsim
        >>> summary = clinicsim.conformance_report(clinicsim.sample(1000, seed=1)).summary()
        >>> print(summary.splitlines()[0].split(";")[0])
        PASSED: 1,000 records (1,000 used) against model 'default'
        """
        from ._render import summary

        return summary(self)

    def to_markdown(self) -> str:
        """The report as Markdown (tables and text; no figures).

        Examples
        --------
        >>> import clinicsim
        >>> text = clinicsim.conformance_report(clinicsim.sample(1000, seed=1)).to_markdown()
        >>> text.splitlines()[0]
        '# Conformance report: passed'
        """
        from ._render import markdown

        return markdown(self)

    def to_json(self) -> str:
        """The report as JSON: ``passed``, ``alpha``, rows, ``notes`` and every check.

        Examples
        --------
        >>> import json, clinicsim
        >>> report = clinicsim.conformance_report(clinicsim.sample(1000, seed=1))
        >>> data = json.loads(report.to_json())
        >>> data["passed"], len(data["checks"])
        (True, 67)
        """
        from ._render import to_json

        return to_json(self)

    def to_html(self, figures: bool = True) -> str:
        """A self-contained HTML page; figures are embedded as PNG (built only here).

        Examples
        --------
        >>> import clinicsim
        >>> html = clinicsim.conformance_report(clinicsim.sample(1000, seed=1)).to_html()
        >>> html.startswith("<!DOCTYPE html>"), 'class="clinicsim-report"' in html
        (True, False)
        """
        from ._render import html

        return html(self, figures=figures)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the report to ``path`` by suffix (``.html``, ``.md``, ``.json``), atomically.

        Examples
        --------
        >>> import clinicsim
        >>> report = clinicsim.conformance_report(clinicsim.sample(1000, seed=1))
        >>> report.save("conformance.md")
        PosixPath('conformance.md')
        >>> report.save("r.pdf")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        clinicsim._errors.ArgumentError: report 'r.pdf': unknown report format '.pdf'; ...
        """
        path = check_report_path(path)
        render = {".html": self.to_html, ".md": self.to_markdown, ".json": self.to_json}
        text = render[path.suffix.lower()]()
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return path

    def figures(self) -> ReportFigures:
        """The report's figures, drawn on demand: a mapping of name to matplotlib ``Figure``.

        Examples
        --------
        >>> import clinicsim
        >>> figures = clinicsim.conformance_report(clinicsim.sample(1000, seed=1)).figures()
        >>> list(figures)[:3]
        ['gender', 'age', 'follow_up']
        """
        from ._figures import ReportFigures

        return ReportFigures(self._figures)

    def _repr_html_(self) -> str:  # light: tables only; figures by figures() or to_html()
        from ._render import html

        return html(self, figures=False, page=False)

    def __repr__(self) -> str:
        return (f"<ConformanceReport {'passed' if self.passed else 'FAILED'} ({self.tally()}) "
                f"on {self.n_used:,} of {self.n_rows:,} rows, model {self.model_name!r}, "
                f"alpha {self.alpha:g}>")
