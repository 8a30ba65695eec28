"""The clinic's Bayesian network: CPDs, metadata, stated targets, exact marginals, files.

``model`` imports neither ``simulate`` nor ``analysis``; what they need from it is
exported here.
"""

from .._cache import cached_by_content
from ._calendar import MONTH_NODE, calendar_span, day_weights, visit_groups
from ._cohort import Cohort, adjusted_tables, cohort
from ._files import PRESETS, as_model, default_model, load_model, shared_default_model
from ._fit import cpd_changes, parse_keep
from ._inference import factors, joint
from ._metadata import CATEGORIES, Diagnosis, FrozenMap, Metadata, VisitWindow
from ._model import MONTHS, REQUIRED_NODES, ClinicModel
from ._schema import model_from_dict, model_to_dict
from ._table import Table
from ._targets import (
    DIAGNOSIS_CATEGORY,
    YEAR_MARGIN,
    Difference,
    Even,
    Rate,
    Share,
    Statement,
    Targets,
    Trend,
    describe_value,
    exact_value,
    is_met,
)
from ._treatments import FOLLOW_UP_CODE, UNCODED, treatment_codes

__all__ = [
    "Cohort",
    "adjusted_tables",
    "as_model",
    "cohort",
    "factors",
    "joint",
    "FOLLOW_UP_CODE",
    "UNCODED",
    "treatment_codes",
    "CATEGORIES",
    "MONTHS",
    "MONTH_NODE",
    "PRESETS",
    "REQUIRED_NODES",
    "ClinicModel",
    "Diagnosis",
    "FrozenMap",
    "Metadata",
    "Table",
    "Targets",
    "DIAGNOSIS_CATEGORY",
    "YEAR_MARGIN",
    "cpd_changes",
    "parse_keep",
    "describe_value",
    "exact_value",
    "is_met",
    "Difference",
    "Even",
    "Rate",
    "Share",
    "Statement",
    "Trend",
    "VisitWindow",
    "cached_by_content",
    "calendar_span",
    "day_weights",
    "default_model",
    "load_model",
    "model_from_dict",
    "model_to_dict",
    "shared_default_model",
    "visit_groups",
]
