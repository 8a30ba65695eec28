"""Records from a model: the numpy and pgmpy engines, writers and the Dask path."""

from ._sample import BLOCK_ROWS, COLUMNS, ENGINES, EXTENDED_COLUMNS, Sampler, sample

__all__ = ["BLOCK_ROWS", "COLUMNS", "ENGINES", "EXTENDED_COLUMNS", "Sampler", "sample"]
