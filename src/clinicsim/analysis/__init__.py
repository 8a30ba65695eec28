"""Statistical conformance: records against the model's stated targets and its CPDs.

>>> import clinicsim
>>> report = clinicsim.conformance_report(clinicsim.sample(5000, seed=42))
>>> report.passed
True
"""

from ._records import MAX_RECORDS_ROWS, valid_records
from ._report import REPORT_SUFFIXES, ConformanceReport, check_report_path, conformance_report
from ._result import STATUSES, CheckResult

# MAX_RECORDS_ROWS, check_report_path and valid_records are for the command line and fhir:
# no other package imports this one's private modules.
__all__ = ["MAX_RECORDS_ROWS", "REPORT_SUFFIXES", "STATUSES", "CheckResult", "ConformanceReport",
           "check_report_path", "conformance_report", "valid_records"]
