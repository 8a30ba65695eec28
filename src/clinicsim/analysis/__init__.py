"""Statistical conformance: records against the model's stated targets and its CPDs.

>>> import clinicsim
>>> report = clinicsim.conformance_report(clinicsim.sample(5000, seed=42))
>>> report.passed
True
"""

from ._report import REPORT_SUFFIXES, ConformanceReport, conformance_report
from ._result import STATUSES, CheckResult

__all__ = ["REPORT_SUFFIXES", "STATUSES", "CheckResult", "ConformanceReport", "conformance_report"]
