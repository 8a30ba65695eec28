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
from .simulate import sample, sample_remaining


def __getattr__(name: str) -> Any:
    # The report (SciPy, matplotlib) loads on first use: `import clinicsim` and sampling
    # stay near the import time of numpy, pandas and pyarrow.
    if name == "conformance_report":
        from .analysis import conformance_report

        return conformance_report
    if name == "analysis":
        import importlib

        return importlib.import_module(".analysis", __name__)
    raise AttributeError(f"module 'clinicsim' has no attribute {name!r}")

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
    "load_model",
    "sample",
    "sample_remaining",
]
__version__ = "0.1.0"
