"""Treatment codes in the model metadata: which FHIR resource and terminology code each
treatment state becomes (``metadata.treatments``), and their validation.

Each treatment state maps to ``{resource, system, code, display}``: the FHIR R4 resource
type (``MedicationRequest``, ``Procedure`` or ``ServiceRequest``), the code system's URI
(SNOMED CT ``http://snomed.info/sct``, WHO ATC ``http://www.whocc.no/atc``, RxNorm
``http://www.nlm.nih.gov/research/umls/rxnorm``, or any other absolute URI), the code and
its display. They live in the model file, so a user who edits the treatments edits their
codes too. Two treatments may share a code (a FHIR export names the state in ``code.text``
and reads it back from there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["FOLLOW_UP_CODE", "RESOURCE_TYPES", "SNOMED", "UNCODED", "TreatmentCode",
           "check_treatments", "treatment_codes"]

RESOURCE_TYPES = ("MedicationRequest", "Procedure", "ServiceRequest")
SNOMED = "http://snomed.info/sct"
# The follow-up visit is a ServiceRequest with this code; no treatment may use it.
FOLLOW_UP_CODE = ("ServiceRequest", SNOMED, "390906007")
# A model read from BIF/XMLBIF has no metadata of its own: its treatments that the default
# model does not know get the root concept of SNOMED CT procedures.
UNCODED = {"resource": "Procedure", "system": SNOMED, "code": "71388002",
           "display": "Procedure (procedure)"}
_KEYS = ("resource", "system", "code", "display")
_URI = re.compile(r"^(https?://[^\s]+|urn:[^\s]+)$")
_CODE = re.compile(r"^[^\s]+( [^\s]+)*$")  # FHIR's code type: no leading, trailing or double space


@dataclass(frozen=True)
class TreatmentCode:
    """A treatment state as FHIR: resource type, code system URI, code and display."""

    resource: str
    system: str
    code: str
    display: str


def check_treatments(spec: Any, treatments: list[str], errors: list[str]) -> None:
    """Add to ``errors`` every problem of ``metadata.treatments`` for these treatment states."""
    if not isinstance(spec, dict) or set(spec) != set(treatments):
        given = list(spec) if isinstance(spec, dict) else []
        errors.append("metadata.treatments must give {resource, system, code, display} for "
                      f"each treatment state; missing {[t for t in treatments if t not in given]}, "
                      f"unknown {[t for t in given if t not in treatments]}")
        return
    for t in treatments:
        entry = spec[t]
        where = f"metadata.treatments[{t!r}]"
        if not isinstance(entry, dict) or set(entry) != set(_KEYS) \
                or not all(isinstance(entry[k], str) and entry[k] for k in _KEYS):
            errors.append(f"{where} needs exactly {list(_KEYS)}, each a non-empty string; "
                          f"got {entry!r}")
            continue
        if entry["resource"] not in RESOURCE_TYPES:
            errors.append(f"{where}.resource must be one of {list(RESOURCE_TYPES)}; "
                          f"got {entry['resource']!r}")
        if not _URI.match(entry["system"]):
            errors.append(f"{where}.system must be the code system's URI (http://, https:// "
                          f"or urn:), e.g. {SNOMED}; got {entry['system']!r}")
        if not _CODE.match(entry["code"]):
            errors.append(f"{where}.code must have no leading, trailing or repeated spaces; "
                          f"got {entry['code']!r}")
        if (entry["resource"], entry["system"], entry["code"]) == FOLLOW_UP_CODE:
            errors.append(f"{where}: {entry['resource']} {entry['code']} is the follow-up "
                          "visit's code")


def treatment_codes(metadata: dict[str, Any]) -> dict[str, TreatmentCode]:
    """``metadata.treatments`` of a validated model as ``{state: TreatmentCode}``.

    Examples
    --------
    >>> import clinicsim
    >>> from clinicsim.model import treatment_codes
    >>> code = treatment_codes(clinicsim.default_model().metadata)["antibiotic"]
    >>> code.resource, code.code
    ('MedicationRequest', 'J01')
    """
    return {t: TreatmentCode(**{k: m[k] for k in _KEYS})
            for t, m in metadata["treatments"].items()}
