"""``CheckResult``: one check of a conformance report, as a small frozen object.

The report speaks one vocabulary, the same in every format (terminal summary, Python repr,
HTML, Markdown, JSON and ``to_frame().status``), listed in :data:`STATUSES`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

__all__ = ["KINDS", "STATUSES", "CheckResult"]

KINDS = ("records", "target", "model")
#: Every status a check can have, in the order the report counts them:
#: ``failed`` — the check fails the report; ``shown`` — a target demonstrated (its interval
#: inside the margin, above the minimum); ``not shown`` — a target neither shown nor
#: failed (too few rows to tell); ``not rejected`` — a model check whose test found no
#: departure from the model; ``valid`` — a records column without invalid values;
#: ``not tested`` — the check could not be computed (too few rows, no variation): it
#: neither passes nor fails anything on evidence and says why in its detail.
STATUSES = ("failed", "shown", "not shown", "not rejected", "valid", "not tested")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one conformance check.

    Attributes
    ----------
    name : str
        ``records: <column>``, ``target: <what>`` or ``model: <node> | <parent states>``.
    test : str
        The test used, e.g. ``exact binomial test against target ± margin``.
    statistic : float or None
        The test statistic (None for validity checks, impossible values and checks not
        tested).
    pvalue : float or None
        The unadjusted p-value of the test whose rejection fails the check: small means the
        records contradict the target or the model. None for checks without a test.
    effect : float or None
        The deviation in the check's own unit: a share's difference from its target, a
        difference of rates, a slope per decade, a total variation distance, or the fraction
        of invalid rows.
    margin : float or None
        The tolerance or minimum from the model's targets, in the unit of ``effect``.
    passed : bool
        False when the check fails the report (see :meth:`judged`, the one place a
        statistical check's verdict is decided), or when a validity check found invalid
        values.
    detail : str
        Observed and expected values, intervals and the offending rows, in words.
    pvalue_holm : float or None
        ``pvalue`` adjusted (Holm) within the check's family: the stated targets, or the
        model checks.
    shown : bool or None
        For targets: True when the records *demonstrate* the target with confidence
        ``1 - alpha`` (an interval inside the margin, a difference or slope above its
        minimum). None for other checks.
    kind : str
        ``"records"``, ``"target"`` or ``"model"``: the section (and family) of the check.
    node : str or None
        The node or record column the check is about (``gender``, ``follow_up``, ``age``…).
    interval : (float, float) or None
        The ``1 - alpha`` confidence interval of ``effect``, when the check has one.
    rows : int
        The rows the check used.

    Examples
    --------
    >>> import clinicsim
    >>> report = clinicsim.conformance_report(clinicsim.sample(5000, seed=42))
    >>> check = report.checks[8]
    >>> check.name, check.kind, check.passed, check.shown, round(check.effect, 4)
    ('target: rate follow_up=True', 'target', True, False, -0.0152)
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
    kind: str = field(kw_only=True)
    node: str | None = field(default=None, kw_only=True)
    interval: tuple[float, float] | None = field(default=None, kw_only=True)
    rows: int = field(default=0, kw_only=True)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"CheckResult kind must be one of {KINDS}; got {self.kind!r}")

    @property
    def tested(self) -> bool:
        """Whether a statistical test was computed (validity checks count as tested)."""
        return self.kind == "records" or self.pvalue is not None

    @property
    def status(self) -> str:
        """One of :data:`STATUSES`."""
        if not self.passed:
            return "failed"
        if not self.tested:
            return "not tested"
        if self.kind == "records":
            return "valid"
        if self.kind == "target":
            return "shown" if self.shown else "not shown"
        return "not rejected"

    def judged(self, pvalue_holm: float, level: float) -> CheckResult:
        """This check with its family's Holm-adjusted p-value and its verdict.

        The one place a statistical check's ``passed`` is decided: it fails when the
        adjusted p-value is below its family's ``level``. Each test is set up so that this
        happens with probability at most ``level`` when the records meet the target (or
        follow the model); a check without a p-value (not tested, or a validity check)
        keeps the verdict it was built with.
        """
        if self.pvalue is None:
            return self
        return dataclasses.replace(self, pvalue_holm=float(pvalue_holm),
                                   passed=bool(pvalue_holm >= level))
