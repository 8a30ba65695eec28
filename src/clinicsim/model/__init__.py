"""The clinic's Bayesian network: CPDs, metadata, stated targets, exact marginals, files.

``model`` imports neither ``simulate`` nor ``analysis``; what they need from it is
exported here.
"""

from .._cache import cached_by_content
from ._calendar import MONTH_NODE, calendar_span, day_weights, visit_groups
from ._codings import Coding, node_codings
from ._cohort import Cohort, adjusted_tables, cohort
from ._expected import HistoryExpectations, history_expectations
from ._files import (
    MODEL_SUFFIXES,
    PRESETS,
    as_model,
    default_model,
    load_model,
    shared_default_model,
)
from ._fit import check_keep, cpd_changes, parse_keep
from ._history import HistoryModel
from ._inference import Factor, factors, joint
from ._limits import (
    MAX_CHUNK_ROWS,
    MAX_CHUNKS,
    MAX_NAME_CHARS,
    MAX_PARTITIONS,
    MAX_PATTERNS,
    MAX_REJECTION_DRAWS,
    MAX_ROWS,
    WORKERS_PER_CORE,
    max_workers,
)
from ._metadata import CATEGORIES, Diagnosis, FrozenMap, Metadata, VisitWindow
from ._model import MONTHS, REQUIRED_NODES, ClinicModel
from ._oracle import Oracle
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
    node_of,
    trend_scale,
    trend_scores,
)
from ._treatments import FOLLOW_UP_CODE, UNCODED, treatment_codes

__all__ = [
    "CATEGORIES",
    "DIAGNOSIS_CATEGORY",
    "FOLLOW_UP_CODE",
    "MAX_CHUNKS",
    "MAX_CHUNK_ROWS",
    "MAX_NAME_CHARS",
    "MAX_PARTITIONS",
    "MAX_PATTERNS",
    "MAX_REJECTION_DRAWS",
    "MAX_ROWS",
    "MODEL_SUFFIXES",
    "MONTHS",
    "MONTH_NODE",
    "PRESETS",
    "REQUIRED_NODES",
    "UNCODED",
    "WORKERS_PER_CORE",
    "YEAR_MARGIN",
    "ClinicModel",
    "Coding",
    "Cohort",
    "Diagnosis",
    "Difference",
    "Even",
    "Factor",
    "FrozenMap",
    "HistoryExpectations",
    "HistoryModel",
    "Metadata",
    "Oracle",
    "Rate",
    "Share",
    "Statement",
    "Table",
    "Targets",
    "Trend",
    "VisitWindow",
    "adjusted_tables",
    "as_model",
    "cached_by_content",
    "calendar_span",
    "check_keep",
    "cohort",
    "cpd_changes",
    "day_weights",
    "default_model",
    "describe_value",
    "exact_value",
    "factors",
    "is_met",
    "joint",
    "load_model",
    "max_workers",
    "history_expectations",
    "model_from_dict",
    "model_to_dict",
    "node_codings",
    "node_of",
    "parse_keep",
    "shared_default_model",
    "treatment_codes",
    "trend_scale",
    "trend_scores",
    "visit_groups",
]
