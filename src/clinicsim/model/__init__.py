"""The clinic's Bayesian network: CPDs, metadata, stated targets, exact marginals, files."""

from ._files import default_model, load_model, model_from_dict, model_to_dict
from ._model import CATEGORIES, MONTHS, REQUIRED_NODES, ClinicModel, Targets, VisitWindow

__all__ = [
    "CATEGORIES",
    "MONTHS",
    "REQUIRED_NODES",
    "ClinicModel",
    "Targets",
    "VisitWindow",
    "default_model",
    "load_model",
    "model_from_dict",
    "model_to_dict",
]
