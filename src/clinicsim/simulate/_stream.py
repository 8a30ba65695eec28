"""Sample straight to a file, chunk by chunk, in this process or on a Dask cluster.

Whatever the chunk size, the number of workers or the scheduler, the same seed writes
the same bytes: chunks and partitions are slices of the sampler's fixed blocks, and
the writers cut their output independently of how rows arrive.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pandas as pd

from .._errors import ClinicSimError
from .._io import (
    DATABASE_SUFFIXES,
    atomic_dir,
    check_name,
    check_outputs,
    output_folder,
    size_text,
)
from .._random import SeedLike
from .._validate import check_int, check_path
from ..model import PRESETS, ClinicModel
from ._sample import BLOCK_ROWS, CHUNK_ROWS, Sampler, check_chunk_size
from ._writers import check_records_path, date_columns, encoded_bytes, write_records

__all__ = ["CHUNK_ROWS", "PROGRESS_MIN_ROWS", "is_directory", "progress", "progress_columns",
           "write_sample"]

PROGRESS_MIN_ROWS = 2_000_000  # shorter runs take about a second: no bar


def is_directory(output: str | os.PathLike[str]) -> bool:
    """``-o DIR/``: a trailing slash or an existing directory means partitioned Parquet."""
    if str(output).endswith(("/", os.sep)):
        return True
    try:
        return Path(output).is_dir()
    except OSError:  # a name too long, say: not a folder; writing will say what is wrong
        return False


def write_sample(
    output: str | os.PathLike[str] | None,
    n: int,
    *,
    model: ClinicModel | None = None,
    seed: SeedLike = None,
    engine: str = "numpy",
    extended: bool = False,
    chunk_size: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    show_progress: bool | None = None,
    given: Mapping[str, object] | None = None,
    table: str = "records",
    replace: bool = False,
) -> int:
    """Write ``sample(n, ...)`` to ``output`` (CSV on standard output if None); return rows.

    Rows are made and written ``chunk_size`` at a time (memory is bounded by a chunk),
    in this process, on ``workers`` local Dask processes, or on the Dask ``scheduler`` at
    an address. ``output`` ending in ``/`` (or an existing directory) gets partitioned
    Parquet, one file per chunk, written by the workers. Files appear only complete.
    ``show_progress=None`` shows a bar on standard error when it is a terminal, the
    output is a file and the run is long. ``given`` samples a cohort, as for
    :func:`clinicsim.sample`; bad evidence raises before anything is written.
    ``output`` ending in ``.duckdb`` or ``.sqlite`` gets a typed ``table`` in that
    database file, a ``postgresql://`` URL a table loaded through COPY
    (:mod:`clinicsim.db`); an existing table is refused unless ``replace``.

    Examples
    --------
    >>> import pandas as pd
    >>> import clinicsim
    >>> from clinicsim.simulate import write_sample
    >>> write_sample("records.csv", 1000, seed=1, chunk_size=100)
    1000
    >>> pd.read_csv("records.csv").patient_id.tolist()[:3]
    ['P0000001', 'P0000002', 'P0000003']
    >>> clinicsim.conformance_report("records.csv").passed
    True
    """
    from ..db import is_database_url
    from ._dask import check_cluster

    url = is_database_url(output)
    if output is not None and not url:
        check_name(check_path(output, "output"), "output")
    directory = output is not None and not url and is_directory(output)
    if directory:
        assert output is not None  # for mypy: a directory is only asked of an output
        output_folder(output)
    elif output is not None and not url:
        check_records_path(output)
        if Path(output).suffix.lower() in DATABASE_SUFFIXES:
            from ..db import check_database

            check_database(output, table, replace)
    if isinstance(model, (str, os.PathLike)) and model not in PRESETS and not url:
        check_outputs({"output": output}, {"model file": model})
    n = check_int(n, "n")
    chunk_size = CHUNK_ROWS if chunk_size is None else check_chunk_size(chunk_size, n)
    check_cluster(workers, scheduler)
    on_cluster = workers is not None or scheduler is not None
    sampler = Sampler(model, seed=seed, engine=engine, extended=extended, n=n, given=given)
    if show_progress is None:
        show_progress = output is not None and sampler.n >= PROGRESS_MIN_ROWS \
            and sys.stderr.isatty()
    if output is not None and not url:
        suffix = ".parquet" if directory else Path(output).suffix.lower()
        _check_space(Path(output), sampler, suffix)
    if not on_cluster and not directory:
        chunks = sampler.chunks(chunk_size)
        return write_records(progress(chunks, sampler.n) if show_progress else chunks, output,
                             table=table, replace=replace)

    from ._dask import dask_client, in_order, partition_rows, to_dask

    rows_per_partition = partition_rows(chunk_size)
    frame = to_dask(sampler.n, model=sampler.model, seed=sampler.root, engine=engine,
                    extended=extended, npartitions=-(-sampler.n // rows_per_partition),
                    given=given)
    with dask_client(workers, scheduler) if on_cluster else contextlib.nullcontext() as client:
        if directory:
            assert output is not None
            return _write_directory(frame, Path(output))
        assert client is not None  # for mypy: not a directory here means on a cluster
        chunks = (part.reset_index(drop=True) for part in in_order(frame, client))
        return write_records(progress(chunks, sampler.n) if show_progress else chunks, output,
                             table=table, replace=replace)




def _check_space(output: Path, sampler: Sampler, suffix: str) -> None:
    """Refuse up front an output that cannot fit on its disk.

    Skipped while the output cannot reach the free space even at 1 KiB a row; otherwise
    the size is estimated from the first block written in the output's format.
    """
    folder = output.parent
    free = shutil.disk_usage(folder).free
    if sampler.n * 1024 <= free:
        return
    probe = min(sampler.n, BLOCK_ROWS)
    need = encoded_bytes(sampler.rows(0, probe), suffix) * sampler.n / probe
    if need > free:
        raise ClinicSimError(
            f"output {str(output)!r}: {sampler.n:,} records need about {size_text(need)}, but "
            f"{str(folder)!r} has {size_text(free)} free; sample fewer rows or write elsewhere")


def _write_directory(frame, path: Path) -> int:
    """Partitioned Parquet in a temporary folder beside ``path``, renamed when complete.

    Dates are stored as dates (``date32``), as in a single Parquet file.
    """
    output_folder(path)  # again: it may have changed while the cluster started
    with atomic_dir(path) as tmp:
        frame.to_parquet(tmp, write_index=False, schema=date_columns(frame.dtypes))
    return len(frame)


def progress(chunks: Iterable[pd.DataFrame], total: int) -> Iterator[pd.DataFrame]:
    """Pass ``chunks`` through, drawing a bar with rows/s and ETA on standard error."""
    from rich.console import Console
    from rich.progress import Progress, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(*progress_columns(), TimeElapsedColumn(), "eta", TimeRemainingColumn(),
                   console=Console(stderr=True), transient=True)
    with bar:
        task = bar.add_task("records", total=total)
        for chunk in chunks:
            yield chunk
            bar.advance(task, len(chunk))


def progress_columns() -> list:
    """The bar's label, bar, ``1,048,576/20,000,000`` rows done and rows per second."""
    from rich.progress import BarColumn, ProgressColumn, Task
    from rich.text import Text

    class Count(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"{task.completed:,.0f}/{task.total:,.0f}", style="green")

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:,.0f} rows/s" if task.speed else "", style="cyan")

    return ["records", BarColumn(), Count(), Rate()]
