"""The clinic's Bayesian network: CPDs, metadata, stated targets, exact marginals, files."""

# _model first: it imports pgmpy quietly (clinicsim._pgmpy) before _files imports it again.
from ._model import CATEGORIES, MONTHS, REQUIRED_NODES, ClinicModel, Targets, VisitWindow

from ._files import default_model, load_model, model_from_dict, model_to_dict  # isort: skip

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
