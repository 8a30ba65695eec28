"""``CheckResult``: one check of a conformance report, as a small frozen object."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CheckResult"]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one conformance check.

    Attributes
    ----------
    name : str
        ``records: <column>``, ``target: <what>`` or ``model: <node> | <parent states>``.
    test : str
        The test used, e.g. ``exact binomial test + TOST (98% Clopper-Pearson interval)``.
    statistic : float or None
        The test statistic (None for validity checks and impossible values).
    pvalue : float or None
        The unadjusted p-value of the test whose rejection fails the check: small means the
        records contradict the target or the model. None for checks without a test.
    effect : float or None
        The deviation in the check's own unit: a share's difference from its target, a
        difference of rates, a slope per decade, a total variation distance, or the fraction
        of invalid rows.
    margin : float or None
        The tolerance from the model's targets, in the unit of ``effect``.
    passed : bool
        False when the Holm-adjusted p-value is below ``alpha`` and the deviation was not
        shown to lie inside the margin, or when a validity check found invalid values.
    detail : str
        Observed and expected values, intervals and the offending rows, in words.
    pvalue_holm : float or None
        ``pvalue`` adjusted for every test in the report (Holm's step-down method).
    shown : bool or None
        For targets with a margin or direction: True when the records *demonstrate* the
        target with confidence (an interval inside the margin, a difference above the
        minimum, a significant rise). None when the check has no such claim.
    """

    name: str
    test: str
    statistic: float | None
    pvalue: float | None
    effect: float | None
    margin: float | None
    passed: bool
    detail: str
    pvalue_holm: float | None = None
    shown: bool | None = None

    @property
    def kind(self) -> str:
        """``"records"``, ``"target"`` or ``"model"``: the section the check belongs to."""
        return self.name.split(":", 1)[0]

    @property
    def status(self) -> str:
        """``failed``, ``shown`` (target demonstrated), ``not rejected``, ``ok`` or ``skipped``."""
        if not self.passed:
            return "failed"
        if self.test == "skipped":
            return "skipped"
        if self.shown:
            return "shown"
        return "ok" if self.pvalue is None else "not rejected"
