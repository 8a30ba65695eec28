"""``conformance_report``: does a records table match the model's stated targets and the model?"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ClinicSimError
from .._io import atomic_path, output_file
from ..model import ClinicModel, load_model, shared_default_model
from ._checks import holm, model_checks, target_checks, validity_checks
from ._model_info import model_info
from ._records import code_records, read_records
from ._result import CheckResult

__all__ = ["REPORT_SUFFIXES", "ConformanceReport", "check_report_path", "conformance_report"]

REPORT_SUFFIXES = (".html", ".md", ".json")


def conformance_report(
    records: pd.DataFrame | str | os.PathLike[str],
    model: ClinicModel | str | os.PathLike[str] | None = None,
    alpha: float = 0.01,
    *,
    realism: bool = False,
) -> ConformanceReport:
    """Check a records table against the model's stated targets and against the model.

    Three families of checks:

    * **records** — every value valid: ``patient_id`` present and unique, ``age`` a whole
      number inside the age bands and the target range, ``visit_date`` a date inside the
      visit window, categories among the model's states. Rows with an invalid value are
      named (column, value, first rows) and left out of the statistics.
    * **targets** (``model.targets``) — gender shares (chi-square goodness of fit and an
      equivalence test per share against the margin), the follow-up rate (exact binomial
      test and interval against the margin), follow-up higher in the priority categories
      by at least the stated difference (one-sided test), follow-up rising with age in the
      trend category (Cochran-Armitage), ages evenly spread over single years
      (goodness of fit, and the distribution function within the margin).
    * **model** — each node's marginal against the model's exact marginal, and each CPD
      column with at least 20 rows against the observed conditional frequencies (sparse
      columns pooled per node). A row in a state the model gives probability 0 fails.

    All p-values are adjusted together with Holm's method, so ``passed`` holds at the
    family-wise level ``alpha``: a table drawn from the model fails with probability at
    most ``alpha`` (the calibration tests measure this).

    "Not rejected" is not "matches": a small table can be far off and still not be
    rejected, because the tests have little power. So targets with a margin also report
    whether the records *show* that they match (``CheckResult.shown``): the
    ``1 - 2 alpha`` interval of each share lies inside ``target ± margin`` (two one-sided
    tests, TOST). A deviation that is significant but shown to be inside the margin does
    not fail: on a million rows a 0.1-point difference is detectable yet within tolerance.

    Parameters
    ----------
    records : DataFrame or path
        Columns ``patient_id, visit_date, age, gender, diagnosis, treatment, follow_up``
        as :func:`clinicsim.sample` makes them, or a ``.csv``/``.parquet``/``.jsonl`` file.
        Extra columns are ignored (with a note); ``age_group`` is used if present.
    model : ClinicModel, path or None
        The model (or model file) the records should follow; the default model if None.
    alpha : float
        Family-wise significance level, in (0, 0.5).
    realism : bool
        Add a section comparing the model's exact figures with the published figures
        it was built from (NAMCS 2019, CDC ILINet); it describes the model, not the
        records, and never fails.

    Returns
    -------
    ConformanceReport

    Raises
    ------
    RecordsError
        The records cannot be read or lack required columns.

    Examples
    --------
    >>> import clinicsim
    >>> report = clinicsim.conformance_report(clinicsim.sample(5000, seed=42))
    >>> report.passed
    True
    >>> [c.status for c in report.checks if c.kind == "target"]
    ['not rejected', 'not rejected', 'shown', 'shown', 'not rejected']
    """
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.floating)) \
            or not 0 < alpha < 0.5:
        raise ClinicSimError(f"`alpha` must be a number in (0, 0.5); got {alpha!r}")
    alpha = float(alpha)
    if model is None:
        model = shared_default_model()  # only read here
    elif not isinstance(model, ClinicModel):
        model = load_model(model)
    info = model_info(model)
    coded = code_records(read_records(records), info)
    targets, figures = target_checks(coded, info, alpha)
    modelled, tables, notes = model_checks(coded, info)
    checks = validity_checks(coded) + targets + modelled
    tested = [i for i, c in enumerate(checks) if c.pvalue is not None]
    adjusted = holm(np.array([checks[i].pvalue for i in tested]))
    for i, p in zip(tested, adjusted):
        c = checks[i]
        checks[i] = dataclasses.replace(c, pvalue_holm=float(p),
                                        passed=bool(p >= alpha or c.shown))
    figures["cpd"] = tables
    if realism:
        from ._realism import realism_table

        figures["realism"] = realism_table(model)
    return ConformanceReport(
        passed=all(c.passed for c in checks), checks=checks, alpha=alpha,
        n_rows=coded.n_rows, n_used=coded.n_used, model_name=model.name,
        notes=coded.notes + figures.pop("notes", []) + notes, _figures=figures)


def check_report_path(path: str | os.PathLike[str]) -> Path:
    """``path`` if its suffix is a report format (``.html``, ``.md``, ``.json``), else an error."""
    return output_file(path, "report", "report", REPORT_SUFFIXES)


@dataclasses.dataclass(frozen=True, repr=False)
class ConformanceReport:
    """The outcome of :func:`conformance_report`.

    Attributes
    ----------
    passed : bool
        True when no check failed at the family-wise level ``alpha``.
    checks : list of CheckResult
        Records validity checks, then the stated targets, then the model checks.
    alpha : float
        The family-wise significance level.
    n_rows, n_used : int
        Rows in the table, and rows without invalid values (used by the statistics).
    model_name : str
        The name of the model checked against.
    notes : list of str
        Columns ignored, nodes derived or skipped, rows left out.
    """

    passed: bool
    checks: list[CheckResult]
    alpha: float
    n_rows: int
    n_used: int
    model_name: str
    notes: list[str]
    _figures: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def realism(self) -> pd.DataFrame | None:
        """The model against its published sources, if asked for (``realism=True``)."""
        return self._figures.get("realism")

    @property
    def failed(self) -> list[CheckResult]:
        """The checks that failed."""
        return [c for c in self.checks if not c.passed]

    def to_frame(self) -> pd.DataFrame:
        """One row per check: the fields of :class:`CheckResult` plus ``kind`` and ``status``."""
        rows = [dataclasses.asdict(c) | {"kind": c.kind, "status": c.status} for c in self.checks]
        frame = pd.DataFrame(rows)
        return frame[["kind", "name", "status", "passed", "test", "statistic", "pvalue",
                      "pvalue_holm", "effect", "margin", "shown", "detail"]]

    def summary(self) -> str:
        """A short plain-text table: the targets, and counts for records and model checks."""
        from ._render import summary

        return summary(self)

    def to_markdown(self) -> str:
        """The report as Markdown (tables and text; no figures)."""
        from ._render import markdown

        return markdown(self)

    def to_json(self) -> str:
        """The report as JSON: ``passed``, ``alpha``, rows, ``notes`` and every check."""
        from ._render import to_json

        return to_json(self)

    def to_html(self, figures: bool = True) -> str:
        """A self-contained HTML page; figures are embedded as PNG (built only here)."""
        from ._render import html

        return html(self, figures=figures)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the report to ``path`` by suffix (``.html``, ``.md``, ``.json``), atomically."""
        path = check_report_path(path)
        render = {".html": self.to_html, ".md": self.to_markdown, ".json": self.to_json}
        text = render[path.suffix.lower()]()
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        from ._render import html

        return html(self, figures=True, page=False)

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else f"FAILED ({len(self.failed)} checks)"
        return (f"<ConformanceReport {verdict}: {len(self.checks)} checks on {self.n_used:,} of "
                f"{self.n_rows:,} rows, model {self.model_name!r}, alpha {self.alpha:g}>")
