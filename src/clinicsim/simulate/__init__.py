"""Records from a model: the numpy and pgmpy engines, writers and the Dask path."""

from ._dask import to_dask
from ._remaining import sample_remaining
from ._sample import BLOCK_ROWS, COLUMNS, ENGINES, EXTENDED_COLUMNS, Sampler, sample
from ._stream import write_sample

__all__ = [
    "BLOCK_ROWS",
    "COLUMNS",
    "ENGINES",
    "EXTENDED_COLUMNS",
    "Sampler",
    "sample",
    "sample_remaining",
    "to_dask",
    "write_sample",
]
