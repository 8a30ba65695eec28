"""Records from a model: the numpy and pgmpy engines, writers and the Dask path.

What ``fhir`` and the command line need from here is exported here too (``CHUNK_ROWS`` and
the Dask helpers): no other package imports this one's private modules.
"""

from ._dask import check_cluster, dask_client, in_order, partition_rows, to_dask
from ._defects import Defects, inject_defects, read_spec
from ._patients import (
    PatientHistory,
    PatientSampler,
    patient_paths,
    sample_patients,
    write_patients,
)
from ._remaining import sample_remaining
from ._sample import BLOCK_ROWS, COLUMNS, ENGINES, EXTENDED_COLUMNS, Sampler, extra_nodes, sample
from ._stream import CHUNK_ROWS, write_sample

__all__ = [
    "BLOCK_ROWS",
    "CHUNK_ROWS",
    "COLUMNS",
    "Defects",
    "ENGINES",
    "EXTENDED_COLUMNS",
    "PatientHistory",
    "PatientSampler",
    "Sampler",
    "check_cluster",
    "dask_client",
    "extra_nodes",
    "in_order",
    "inject_defects",
    "partition_rows",
    "patient_paths",
    "read_spec",
    "sample",
    "sample_patients",
    "sample_remaining",
    "to_dask",
    "write_patients",
    "write_sample",
]
