"""clinicsim: synthetic clinic visit records from a Bayesian network, with proof.

>>> import clinicsim
>>> records = clinicsim.sample(5000, seed=42)
>>> list(records.columns)
['patient_id', 'visit_date', 'age', 'gender', 'diagnosis', 'treatment', 'follow_up']
"""

from typing import Any

from ._errors import (
    ArgumentError,
    ClinicSimError,
    InvalidCPDError,
    ModelError,
    RecordsError,
    TargetWarning,
)
from .model import ClinicModel, default_model, load_model
from .simulate import inject_defects, sample, sample_patients, sample_remaining

# Loaded on first use: the report (SciPy, matplotlib) and the FHIR export, so that
# `import clinicsim` and sampling stay near the import time of numpy, pandas and pyarrow.
_LAZY_MODULES = ("analysis", "fhir")


def __getattr__(name: str) -> Any:
    if name == "conformance_report":
        from .analysis import conformance_report

        return conformance_report
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'clinicsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    # dir() lists the lazy names too, as if they were loaded (tab completion, help()).
    return sorted({*globals(), "conformance_report", *_LAZY_MODULES})


__all__ = [
    "ArgumentError",
    "ClinicModel",
    "ClinicSimError",
    "InvalidCPDError",
    "ModelError",
    "RecordsError",
    "TargetWarning",
    "conformance_report",
    "default_model",
    "fhir",
    "inject_defects",
    "load_model",
    "sample",
    "sample_patients",
    "sample_remaining",
]
__version__ = "0.1.0"
