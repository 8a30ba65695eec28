"""The records as HL7 FHIR R4: Bulk Data NDJSON or a transaction Bundle, and back.

``resources(records)`` yields the resources as dicts; ``write(path, records)`` streams them
to a folder (``DIR/``: one ``TYPE.ndjson`` per resource type) or a Bundle (``FILE.json``);
``read_records(DIR)`` rebuilds the records table. The mapping is in docs/formats.md.
"""

from ._export import BUNDLE_MAX_RECORDS, resources, sample_fhir, write
from ._read import read_records

__all__ = ["BUNDLE_MAX_RECORDS", "read_records", "resources", "sample_fhir", "write"]
