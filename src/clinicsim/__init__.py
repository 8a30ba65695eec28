"""clinicsim: synthetic clinic visit records from a Bayesian network, with proof.

>>> import clinicsim
>>> records = clinicsim.sample(5000, seed=42)
>>> list(records.columns)
['patient_id', 'visit_date', 'age', 'gender', 'diagnosis', 'treatment', 'follow_up']
"""

from ._errors import ArgumentError, ClinicSimError, InvalidCPDError, ModelError, RecordsError
from .analysis import conformance_report
from .model import ClinicModel, default_model, load_model
from .simulate import sample, sample_remaining

__all__ = [
    "ArgumentError",
    "ClinicModel",
    "ClinicSimError",
    "InvalidCPDError",
    "ModelError",
    "RecordsError",
    "conformance_report",
    "default_model",
    "load_model",
    "sample",
    "sample_remaining",
]
__version__ = "0.1.0"
