"""Records in databases: typed tables in DuckDB and SQLite files (by suffix), and in
PostgreSQL (a ``postgresql://`` URL, loaded through COPY; ``pip install 'clinicsim[postgres]'``).

``clinicsim sample -o clinic.duckdb`` (or ``.sqlite``) and
:func:`clinicsim.simulate.write_sample` write here; ``clinicsim report clinic.duckdb`` and
:func:`clinicsim.conformance_report` read back. DuckDB is imported only when a ``.duckdb``
file is written or read (``pip install 'clinicsim[duckdb]'``); SQLite is Python's own.
"""

from ._files import DATABASE_SUFFIXES, check_database, read_records, tables, write_database
from ._omop import read_omop, sample_omop, write_omop
from ._postgres import is_database_url, redact, write_postgres

__all__ = ["DATABASE_SUFFIXES", "check_database", "is_database_url", "read_omop",
           "read_records", "redact", "sample_omop", "tables", "write_database", "write_omop",
           "write_postgres"]
