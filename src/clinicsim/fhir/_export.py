"""FHIR R4 export: a Bulk Data NDJSON folder or a transaction Bundle."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .._errors import ClinicSimError, RecordsError
from .._io import (
    atomic_dir,
    atomic_path,
    check_name,
    check_outputs,
    output_file,
    output_folder,
    shown_path,
    size_text,
)
from .._random import SeedLike, as_seed_sequence
from .._validate import check_path
from ..model import PRESETS, ClinicModel, as_model
from ._mapping import Mapper, birth_dates

__all__ = ["BUNDLE_MAX_RECORDS", "SLICE_ROWS", "check_fhir_path", "resources", "sample_fhir",
           "write"]

# A transaction Bundle is one JSON document that a server applies all or nothing, in
# memory: about 4.3 resources and 2.4 kB per record, so 10,000 records are 43,000 entries
# and 24 MB, the size that HAPI and most servers take without raising their limits.
BUNDLE_MAX_RECORDS = 10_000
# An NDJSON export takes 1.63 kB a record (measured on 200,000 default records); a model
# with longer names takes more: the free-space check asks for this, with room to spare.
_RECORD_BYTES = 2500
SLICE_ROWS = 1 << 14  # rows turned into lines at a time: about 40 MB of text at its peak


def checked_records(records: pd.DataFrame | str | os.PathLike[str],
                    model: ClinicModel) -> pd.DataFrame:
    """``records`` (a DataFrame or a records file) if every value is valid, else the records
    check's own messages as a :class:`RecordsError`."""
    from ..analysis import valid_records

    refusal = "nothing was exported: FHIR needs every value valid"
    frame = valid_records(records, model, refusal)
    # FHIR: "attribute values can never be empty", a string has non-white-space content
    ids = frame["patient_id"].astype(str)
    blank = np.flatnonzero(~ids.str.contains(r"\S", regex=True).to_numpy(bool))
    if len(blank):
        shown = ", ".join(f"row {r + 1} {ids.iloc[r]!r}" for r in blank[:3])
        raise RecordsError([f"records: patient_id: {len(blank):,} row(s) hold no FHIR value: "
                            f"empty or white space only ({shown})", refusal])
    return frame


def _lines(chunks: Iterable[pd.DataFrame], mapper: Mapper,
           root: np.random.SeedSequence) -> Iterator[dict[str, pa.Array]]:
    start = 0
    for chunk in chunks:
        for a in range(0, len(chunk), SLICE_ROWS):
            rows = chunk.iloc[a:a + SLICE_ROWS]
            visit = pd.to_datetime(rows["visit_date"], format="ISO8601").to_numpy(
                "datetime64[D]")
            birth = birth_dates(visit, rows["age"].to_numpy(np.int64), root, start + a)
            yield mapper.lines(rows, birth)
        start += len(chunk)


def resources(records: pd.DataFrame | str | os.PathLike[str], model: ClinicModel | None = None,
              seed: SeedLike = None) -> Iterator[dict[str, Any]]:
    """The FHIR R4 resources of ``records``, as dicts, a slice of rows at a time.

    Parameters
    ----------
    records : DataFrame or path
        A records table as :func:`clinicsim.sample` makes it (``extended=True`` adds the
        follow-up's date), or a ``.csv``/``.parquet``/``.jsonl`` records file. It is
        checked as the conformance report checks it; any invalid value is refused.
    model : ClinicModel, optional
        Gives the ICD-10-CM codes, categories and treatment codes; the default if None.
    seed : int, SeedSequence, Generator or None
        Draws each patient's birth date (consistent with ``age`` on ``visit_date``).

    Yields
    ------
    dict
        Per slice of rows: Patients, Encounters, Conditions, then the treatment and
        follow-up resource types in name order.

    Examples
    --------
    >>> import clinicsim, clinicsim.fhir
    >>> records = clinicsim.sample(1, seed=1)
    >>> [r["resourceType"] for r in clinicsim.fhir.resources(records, seed=1)]
    ['Patient', 'Encounter', 'Condition', 'Procedure']
    """
    model = as_model(model)
    frame = checked_records(records, model)
    for block in _lines([frame], Mapper(model), as_seed_sequence(seed)):
        for lines in block.values():
            for line in lines.to_pylist():
                yield json.loads(line)


def write(path: str | os.PathLike[str], records: pd.DataFrame | str | os.PathLike[str],
          model: ClinicModel | None = None, seed: SeedLike = None) -> int:
    """Write the FHIR resources of ``records`` to ``path``; return the number of records.

    ``path`` ending in ``/`` or without a suffix (or an existing empty folder) gets FHIR
    Bulk Data NDJSON, one
    ``TYPE.ndjson`` file per resource type; ``FILE.json`` gets one ``transaction`` Bundle
    (at most :data:`BUNDLE_MAX_RECORDS` records). Nothing appears unless all is written.

    Examples
    --------
    >>> import os, clinicsim, clinicsim.fhir
    >>> records = clinicsim.sample(100, seed=1, extended=True)
    >>> clinicsim.fhir.write("fhir/", records, seed=1)
    100
    >>> sorted(os.listdir("fhir"))[:3]
    ['Condition.ndjson', 'Encounter.ndjson', 'MedicationRequest.ndjson']
    """
    source = model
    model = as_model(model)
    target, bundle = check_fhir_path(path)
    check_outputs({"output": path}, {"records file": _file(records), "model file": _file(source)})
    frame = checked_records(records, model)
    if bundle and len(frame) > BUNDLE_MAX_RECORDS:
        raise ClinicSimError(_too_many(target, len(frame)))
    return write_chunks(target, [frame], model, as_seed_sequence(seed), bundle=bundle)


def _file(source: object) -> str | os.PathLike[str] | None:
    """``source`` if it names a file (a records or model file), else None."""
    if isinstance(source, os.PathLike) or (isinstance(source, str) and source not in PRESETS):
        return source
    return None


def _too_many(target: Path, n: int) -> str:
    return (f"output {str(target)!r}: a transaction Bundle holds at most "
            f"{BUNDLE_MAX_RECORDS:,} records; got {n:,} (write a folder, DIR/, instead)")


def check_fhir_path(path: str | os.PathLike[str]) -> tuple[Path, bool]:
    """``(path, is_bundle)`` for a FHIR output, or an error before any work starts."""
    text = str(path)
    target = check_name(check_path(path, "path"), "output")
    if text.endswith(("/", os.sep)) or target.is_dir() or not target.suffix:
        return output_folder(path), False
    if target.suffix.lower() != ".json":
        raise ClinicSimError(f"output {shown_path(text)!r}: unknown FHIR output "
                             f"{target.suffix or '(no suffix)'!r}; use DIR/ for NDJSON or "
                             ".json for a transaction Bundle")
    return output_file(target, "output", "FHIR Bundle", (".json",)), True


def write_chunks(target: Path, chunks: Iterable[pd.DataFrame], model: ClinicModel,
                 root: np.random.SeedSequence, *, bundle: bool) -> int:
    """Stream checked record chunks to an NDJSON folder or a Bundle file; return rows."""
    mapper = Mapper(model)
    rows = 0

    def counted() -> Iterator[pd.DataFrame]:
        nonlocal rows
        for chunk in chunks:
            rows += len(chunk)
            yield chunk

    if bundle:
        with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as out:
            out.write('{"resourceType":"Bundle","type":"transaction","entry":[')
            first = True
            for block in _lines(counted(), mapper, root):
                for lines in block.values():
                    for line in lines.to_pylist():
                        head = json.loads(line[:line.index(",", line.index('"id"'))] + "}")
                        out.write(("" if first else ",") + '\n{"resource":' + line
                                  + ',"request":{"method":"PUT","url":"'
                                  + f'{head["resourceType"]}/{head["id"]}"}}}}')
                        first = False
            out.write("\n]}\n")
        return rows
    with atomic_dir(target) as tmp, contextlib.ExitStack() as stack:
        files: dict[str, Any] = {}  # opened on their first line: no empty files
        for block in _lines(counted(), mapper, root):
            for kind, lines in block.items():
                if kind not in files:
                    files[kind] = stack.enter_context(open(tmp / f"{kind}.ndjson", "wb"))
                _append(files[kind], lines)
    return rows


def _append(out, lines: pa.Array) -> None:
    """Write ``lines`` with a newline after each, straight from Arrow's buffers."""
    import pyarrow.compute as pc

    lines = pc.binary_join_element_wise(lines, "\n", "")
    offsets = np.frombuffer(lines.buffers()[1], np.int32)
    start, stop = offsets[lines.offset], offsets[lines.offset + len(lines)]
    out.write(memoryview(lines.buffers()[2])[start:stop])


def sample_fhir(output: str | os.PathLike[str], n: int, *, model: ClinicModel | None = None,
                seed: SeedLike = None, engine: str = "numpy", chunk_size: int | None = None,
                workers: int | None = None, scheduler: str | None = None) -> int:
    """``clinicsim sample --format fhir``: sample ``n`` records straight to FHIR.

    Rows are drawn a chunk at a time (on Dask workers if asked) and turned into
    resources here; the same seed gives the same bytes as exporting the extended records
    of ``sample(n, seed=seed, extended=True)``.

    Examples
    --------
    >>> import json, pathlib, clinicsim.fhir
    >>> clinicsim.fhir.sample_fhir("bundle.json", 10, seed=1)
    10
    >>> bundle = json.loads(pathlib.Path("bundle.json").read_text())
    >>> bundle["type"], len(bundle["entry"])
    ('transaction', 41)
    """
    from ..simulate import CHUNK_ROWS, Sampler, check_cluster

    target, bundle = check_fhir_path(output)
    check_outputs({"output": output}, {"model file": _file(model)})
    check_cluster(workers, scheduler)
    sampler = Sampler(model, seed=seed, engine=engine, extended=True, n=n)
    if bundle and sampler.n > BUNDLE_MAX_RECORDS:
        raise ClinicSimError(_too_many(target, sampler.n))
    free = shutil.disk_usage(target.parent).free
    need = sampler.n * _RECORD_BYTES
    if not bundle and free < need:
        raise ClinicSimError(f"output {str(output)!r}: {sampler.n:,} records need up to about "
                             f"{size_text(need)} as FHIR, but {str(target.parent)!r} has "
                             f"{size_text(free)} free; sample fewer rows or write elsewhere")
    size = CHUNK_ROWS if chunk_size is None else chunk_size
    if workers is None and scheduler is None:
        return write_chunks(target, sampler.chunks(size), sampler.model, sampler.root,
                            bundle=bundle)
    from ..simulate import dask_client, in_order, partition_rows, to_dask

    per = partition_rows(size)
    frame = to_dask(sampler.n, model=sampler.model, seed=sampler.root, engine=engine,
                    extended=True, npartitions=-(-sampler.n // per))
    with dask_client(workers, scheduler) as client:
        chunks = (p.reset_index(drop=True) for p in in_order(frame, client))
        return write_chunks(target, chunks, sampler.model, sampler.root, bundle=bundle)
