"""FHIR R4 export (Bulk Data NDJSON folder or transaction Bundle) and reading it back."""

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
)
from .._random import SeedLike, as_seed_sequence
from .._validate import check_path
from ..model import FOLLOW_UP_CODE, PRESETS, ClinicModel, as_model
from ._mapping import ID_SYSTEM, Mapper, age_on, birth_dates

__all__ = ["BUNDLE_MAX_RECORDS", "SLICE_ROWS", "check_fhir_path", "read_records", "resources",
           "sample_fhir", "write"]

# A transaction Bundle is one JSON document that a server applies all or nothing, in
# memory: about 4.3 resources and 2.4 kB per record, so 10,000 records are 43,000 entries
# and 24 MB, the size that HAPI and most servers take without raising their limits.
BUNDLE_MAX_RECORDS = 10_000
SLICE_ROWS = 1 << 14  # rows turned into lines at a time: about 40 MB of text at its peak
_NDJSON_LIMIT = 1 << 30  # bytes per resource file read back (the report's table limits)


def checked_records(records: pd.DataFrame | str | os.PathLike[str],
                    model: ClinicModel) -> pd.DataFrame:
    """``records`` (a DataFrame or a records file) if every value is valid, else the records
    check's own messages as a :class:`RecordsError`."""
    from ..analysis import valid_records

    return valid_records(records, model, "nothing was exported: FHIR needs every value valid")


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
        return output_folder(target), False
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
    if not bundle and free < sampler.n * 2500:  # 1.7 kB a record measured; room to spare
        raise ClinicSimError(f"output {str(output)!r}: {sampler.n:,} records need about "
                             f"{sampler.n * 1.7e-6:,.1f} GB as FHIR, but "
                             f"{str(target.parent)!r} has {free / 1e9:,.1f} GB free")
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


# -- reading back ----------------------------------------------------------------------

def _schema(**fields: pa.DataType) -> pa.Schema:
    return pa.schema(list(fields.items()))


_REF = pa.struct([("reference", pa.string())])
_CODING = pa.list_(pa.struct([("system", pa.string()), ("code", pa.string())]))
_CONCEPT = pa.struct([("coding", _CODING), ("text", pa.string())])
_SCHEMAS = {
    "Patient": _schema(id=pa.string(), gender=pa.string(), birthDate=pa.string(),
                       identifier=pa.list_(pa.struct([("system", pa.string()),
                                                      ("value", pa.string())]))),
    "Encounter": _schema(subject=_REF, period=pa.struct([("start", pa.string())])),
    "Condition": _schema(subject=_REF, code=_CONCEPT),
    "Procedure": _schema(subject=_REF, code=_CONCEPT),
    "ServiceRequest": _schema(subject=_REF, code=_CONCEPT),
    "MedicationRequest": _schema(subject=_REF, medicationCodeableConcept=_CONCEPT),
}


def _read(folder: Path, kind: str) -> pa.Table | None:
    import pyarrow.json as pj

    path = folder / f"{kind}.ndjson"
    if not path.is_file():
        return None
    if path.stat().st_size > _NDJSON_LIMIT:
        raise RecordsError(f"FHIR file {str(path)!r} is larger than "
                           f"{_NDJSON_LIMIT / 2**30:.0f} GiB; the records table would not fit "
                           "in the report's memory")
    try:
        return pj.read_json(path, parse_options=pj.ParseOptions(
            explicit_schema=_SCHEMAS[kind], unexpected_field_behavior="ignore"))
    except pa.ArrowInvalid as exc:
        raise RecordsError(f"cannot read FHIR file {str(path)!r}: {exc}") from None


def read_records(folder: str | os.PathLike[str], model: ClinicModel | None = None
                 ) -> pd.DataFrame:
    """The records table of a FHIR NDJSON folder written by :func:`write`.

    Each Patient is a row, in file order: ``patient_id`` from its identifier, ``gender``,
    ``visit_date`` from its Encounter, ``age`` from ``birthDate`` on that date, the
    diagnosis and treatment from the ``code.text`` of its Condition and treatment
    resource, ``follow_up`` whether a follow-up ServiceRequest exists. Records written
    by :func:`write` come back equal to the table that went in (columns of
    :func:`clinicsim.sample`). A row whose resources are missing gets empty values, which
    the report names.

    Examples
    --------
    >>> import clinicsim, clinicsim.fhir
    >>> records = clinicsim.sample(100, seed=1, extended=True)
    >>> _ = clinicsim.fhir.write("fhir/", records, seed=1)
    >>> clinicsim.fhir.read_records("fhir/").equals(records[list(clinicsim.simulate.COLUMNS)])
    True
    """
    model = as_model(model)
    path = check_name(check_path(folder, "folder"), "FHIR folder", RecordsError)
    if not path.is_dir() or not (path / "Patient.ndjson").is_file():
        raise RecordsError(f"{str(path)!r} is not a FHIR export folder (no Patient.ndjson)")
    patients = _read(path, "Patient")
    assert patients is not None  # the file exists: checked above
    ids = pd.Index(patients["id"].to_pandas())
    if not ids.is_unique:
        raise RecordsError(f"{str(path / 'Patient.ndjson')!r}: Patient ids repeat")
    n = len(ids)

    def rows_of(table: pa.Table, kind: str) -> np.ndarray:
        refs = table["subject"].combine_chunks().field("reference").to_pandas()
        rows = ids.get_indexer(refs.str.removeprefix("Patient/"))
        if (rows < 0).any():
            raise RecordsError(f"{kind}.ndjson: subject {refs[rows < 0].iloc[0]!r} is no "
                               "Patient of this export")
        return rows

    def place(kind: str, rows: np.ndarray, values: pd.Series, into: np.ndarray) -> None:
        if np.bincount(rows, minlength=n).max(initial=0) > 1:
            raise RecordsError(f"{kind}.ndjson: a patient has more than one {kind}")
        into[rows] = values.to_numpy(object)

    visit = np.full(n, None, object)
    enc = _read(path, "Encounter")
    if enc is not None:
        place("Encounter", rows_of(enc, "Encounter"),
              enc["period"].combine_chunks().field("start").to_pandas(), visit)
    diagnosis = np.full(n, None, object)
    cond = _read(path, "Condition")
    if cond is not None:
        place("Condition", rows_of(cond, "Condition"),
              cond["code"].combine_chunks().field("text").to_pandas(), diagnosis)
    treatment = np.full(n, None, object)
    follow_up = np.zeros(n, bool)
    tx_rows: list[np.ndarray] = []
    tx_values: list[pd.Series] = []
    for kind in ("MedicationRequest", "Procedure", "ServiceRequest"):
        table = _read(path, kind)
        if table is None:
            continue
        concept = table["medicationCodeableConcept" if kind == "MedicationRequest"
                        else "code"].combine_chunks()
        rows = rows_of(table, kind)
        first = concept.field("coding").flatten()  # every coding; ours have one each
        is_fu = np.zeros(len(table), bool)
        if kind == FOLLOW_UP_CODE[0]:
            lengths = concept.field("coding").value_lengths().fill_null(0).to_numpy()
            code = first.field("code").to_numpy(zero_copy_only=False)
            system = first.field("system").to_numpy(zero_copy_only=False)
            own = np.repeat(np.arange(len(table)), lengths)
            hit = (code == FOLLOW_UP_CODE[2]) & (system == FOLLOW_UP_CODE[1])
            is_fu[own[hit]] = True
            follow_up[rows[is_fu]] = True
        tx_rows.append(rows[~is_fu])
        tx_values.append(concept.field("text").to_pandas()[~is_fu])
    if tx_rows:
        place("treatment", np.concatenate(tx_rows), pd.concat(tx_values), treatment)
    visit_day = pd.to_datetime(pd.Series(visit), format="ISO8601", errors="coerce")
    birth = pd.to_datetime(patients["birthDate"].to_pandas(), format="ISO8601", errors="coerce")
    days_v = visit_day.to_numpy("datetime64[D]")
    days_b = birth.to_numpy("datetime64[D]")
    known = ~(np.isnat(days_v) | np.isnat(days_b))
    age = pd.array(np.where(known, age_on(np.where(known, days_b, days_v),
                                           np.where(known, days_v, days_b)), 0), "Int64")
    age[~known] = pd.NA
    identifier = patients["identifier"].combine_chunks()
    values = _identifier_values(identifier)
    frame = pd.DataFrame({
        "patient_id": pd.array(values, dtype=pd.StringDtype("pyarrow")),
        "visit_date": visit_day.to_numpy("datetime64[s]"),
        "age": age if not known.all() else age.to_numpy(np.int64),
        "gender": _category(patients["gender"].to_pandas(), model.states("gender")),
        "diagnosis": _category(pd.Series(diagnosis), model.states("diagnosis")),
        "treatment": _category(pd.Series(treatment), model.states("treatment")),
        "follow_up": follow_up,
    })
    return frame


def _identifier_values(identifier: pa.Array) -> pa.Array:
    """The ``value`` of each Patient's clinicsim identifier."""
    import pyarrow.compute as pc

    flat = identifier.flatten()
    own = np.repeat(np.arange(len(identifier)),
                    identifier.value_lengths().fill_null(0).to_numpy())
    mine = pc.equal(flat.field("system"), ID_SYSTEM).fill_null(False).to_numpy(
        zero_copy_only=False)
    out = np.full(len(identifier), None, object)
    out[own[mine][::-1]] = flat.field("value").to_numpy(zero_copy_only=False)[mine][::-1]
    return pa.array(out, pa.large_string())


def _category(values: pd.Series, states: list[str]) -> pd.Series | pd.Categorical:
    """A categorical of the model's states, or the raw values if some are not states (so
    the report names them)."""
    present = set(values.dropna().unique())
    if present <= set(states):
        return pd.Categorical(values, categories=states)
    return values
