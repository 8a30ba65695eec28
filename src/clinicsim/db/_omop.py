"""Records as OMOP CDM 5.4 tables: ``--format omop`` into a folder of CSV files or a DuckDB
or SQLite file.

Flat records are one person and one visit each (``person_id`` = ``visit_occurrence_id`` =
``observation_period_id`` = the row's number, from 1). Concepts: gender 8507 male, 8532
female, and 0 for any other state, whose name stays in ``gender_source_value`` and is
recorded as gender identity in OBSERVATION (the CDM keeps biological sex in PERSON);
visits 9202 Outpatient Visit; type concepts 32827 EHR encounter record (visits,
conditions, procedures), 32838 EHR prescription (drugs), 32882 (observation periods).
Without a vocabulary every ``*_concept_id`` of a clinical event is 0 and the code is kept
in ``*_source_value``: no record is ever dropped. The diagnosis is a CONDITION_OCCURRENCE
(ICD-10-CM code); the treatment by its FHIR resource type: MedicationRequest a
DRUG_EXPOSURE (ATC), Procedure a PROCEDURE_OCCURRENCE (SNOMED CT), ServiceRequest (a
referral: ordered, not done) an OBSERVATION. The follow-up order is an OBSERVATION
(``observation_source_value`` ``follow_up``, value 4188539 Yes / 4188540 No): the CDM has
no table for an order of a future visit, and OBSERVATION is its home for facts without
one. Each further model node is an OBSERVATION (the node as source value, the state as
``value_as_string``). The birth date is one with the record's age on the visit date.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ClinicSimError, RecordsError
from ..model import ClinicModel, treatment_codes
from ._cdm import FIELDS, TABLES, ddl
from ._vocabulary import VOCABULARIES, Vocabulary

__all__ = ["GENDER_CONCEPTS", "cdm_source", "is_omop", "omop_tables", "read_omop",
           "sample_omop", "write_omop"]

GENDER_CONCEPTS = {"male": 8507, "female": 8532}
OUTPATIENT, EHR, PRESCRIPTION, PERIOD = 9202, 32827, 32838, 32882
YES, NO = 4188539, 4188540
_RECORD = ("patient_id", "visit_date", "age", "gender", "diagnosis", "treatment", "follow_up")


def _frame(table: str, columns: dict[str, object], n: int) -> pd.DataFrame:
    """A CDM table's frame: every field, in the spec's order; fields not given are null."""
    out = {}
    for field, kind, _ in FIELDS[table]:
        value = columns.get(field)
        if value is None:  # all null, built without a Python object per row
            value = pd.arrays.IntegerArray(np.zeros(n, np.int64), np.ones(n, bool)) \
                if kind == "integer" else np.full(n, None, dtype=object)
        out[field] = pd.Series(value).reset_index(drop=True)  # masked rows: renumbered
    return pd.DataFrame(out)


def _birth(visit: np.ndarray, age: np.ndarray) -> np.ndarray:
    """A birth date (datetime64[D]) with ``age`` whole years on ``visit``: the day after
    the birthday one year further back, so every age is exact."""
    from ..fhir._mapping import _clamped

    year = visit.astype("datetime64[Y]").astype(np.int64) + 1970
    month = visit.astype("datetime64[M]").astype(np.int64) % 12
    day = (visit - visit.astype("datetime64[M]")).astype(np.int64)
    return _clamped(year - age - 1, month, day) + 1


def _concepts(codes: pd.Series, vocabularies: pd.Series | str, vocab: Vocabulary | None
              ) -> tuple[pd.Series, pd.Series]:
    """(standard, source) concept ids of ``codes``: 0 without a vocabulary or a match."""
    if vocab is None:
        zeros = pd.Series(np.zeros(len(codes), np.int64))
        return zeros, zeros
    names = vocabularies if isinstance(vocabularies, pd.Series) else \
        pd.Series([vocabularies] * len(codes))
    pairs = [vocab.concepts(v, c) for v, c in zip(names, codes, strict=True)]
    return (pd.Series([p[0] for p in pairs], dtype=np.int64),
            pd.Series([p[1] for p in pairs], dtype=np.int64))


def omop_tables(records: pd.DataFrame, model: ClinicModel, start: int = 0,
                vocab: Vocabulary | None = None) -> dict[str, pd.DataFrame]:
    """The CDM tables of ``records`` (rows ``start ..`` of the whole export), with concept
    ids from ``vocab`` where it has the code."""
    n = len(records)
    ids = pd.Series(np.arange(start + 1, start + n + 1, dtype=np.int64))
    visit = records["visit_date"].to_numpy().astype("datetime64[D]")
    dates = pd.Series(visit)
    birth = _birth(visit, records["age"].to_numpy(np.int64))
    months = birth.astype("datetime64[M]").astype(np.int64)
    gender = records["gender"].astype(str).reset_index(drop=True)
    zeros = pd.Series(np.zeros(n, np.int64))
    tables = {
        "person": _frame("person", {
            "person_id": ids, "gender_concept_id": gender.map(GENDER_CONCEPTS).fillna(0)
            .astype(np.int64), "year_of_birth": pd.Series(months // 12 + 1970),
            "month_of_birth": pd.Series(months % 12 + 1),
            "day_of_birth": pd.Series((birth - birth.astype("datetime64[M]")).astype(np.int64)
                                      + 1),
            "race_concept_id": zeros, "ethnicity_concept_id": zeros,
            "person_source_value": records["patient_id"].astype(str).reset_index(drop=True),
            "gender_source_value": gender, "gender_source_concept_id": zeros}, n),
        "observation_period": _frame("observation_period", {
            "observation_period_id": ids, "person_id": ids,
            "observation_period_start_date": dates, "observation_period_end_date": dates,
            "period_type_concept_id": zeros + PERIOD}, n),
        "visit_occurrence": _frame("visit_occurrence", {
            "visit_occurrence_id": ids, "person_id": ids, "visit_concept_id": zeros + OUTPATIENT,
            "visit_start_date": dates, "visit_end_date": dates,
            "visit_type_concept_id": zeros + EHR}, n),
    }
    codes = records["diagnosis"].astype(str).map(model.diagnosis_codes).reset_index(drop=True)
    dx_standard, dx_source = _concepts(codes, "ICD10CM", vocab)
    tables["condition_occurrence"] = _frame("condition_occurrence", {
        "condition_occurrence_id": ids, "person_id": ids, "condition_concept_id": dx_standard,
        "condition_start_date": dates, "condition_type_concept_id": zeros + EHR,
        "visit_occurrence_id": ids, "condition_source_concept_id": dx_source,
        "condition_source_value": codes}, n)
    tx = treatment_codes(model.metadata)
    treatment = records["treatment"].astype(str).reset_index(drop=True)
    resource = treatment.map({t: c.resource for t, c in tx.items()})
    source = treatment.map({t: c.code for t, c in tx.items()})
    tx_standard, tx_source = _concepts(source, treatment.map(
        {t: VOCABULARIES.get(c.system, "") for t, c in tx.items()}), vocab)
    drug = (resource == "MedicationRequest").to_numpy()
    done = (resource == "Procedure").to_numpy()
    tables["drug_exposure"] = _frame("drug_exposure", {
        "drug_exposure_id": ids[drug], "person_id": ids[drug], "drug_concept_id": tx_standard[drug],
        "drug_exposure_start_date": dates[drug], "drug_exposure_end_date": dates[drug],
        "drug_type_concept_id": zeros[drug] + PRESCRIPTION, "visit_occurrence_id": ids[drug],
        "drug_source_value": source[drug], "drug_source_concept_id": tx_source[drug]},
        int(drug.sum()))
    tables["procedure_occurrence"] = _frame("procedure_occurrence", {
        "procedure_occurrence_id": ids[done], "person_id": ids[done],
        "procedure_concept_id": tx_standard[done], "procedure_date": dates[done],
        "procedure_type_concept_id": zeros[done] + EHR, "visit_occurrence_id": ids[done],
        "procedure_source_value": source[done], "procedure_source_concept_id": tx_source[done]},
        int(done.sum()))
    # OBSERVATION: the follow-up order of every visit, the referrals, gender identity
    # where PERSON holds 0, and each further node; ids numbered per kind, kinds apart
    parts: list[tuple[str, np.ndarray, pd.Series | None, np.ndarray | None]] = [
        ("follow_up", np.ones(n, bool), None, records["follow_up"].to_numpy(bool).astype(str))]
    parts.append(("referral", (resource == "ServiceRequest").to_numpy(), source, None))
    parts.append(("gender_identity", ~gender.isin(list(GENDER_CONCEPTS)).to_numpy(), None,
                  gender.to_numpy(str)))
    for column in records.columns:
        if column not in _RECORD and column in model.nodes:
            parts.append((column, np.ones(n, bool), None,
                          records[column].astype(str).to_numpy(str)))
    frames = []
    for kind, (name, mask, value_source, text) in enumerate(parts):
        count = int(mask.sum())
        follow = None
        if name == "follow_up":
            follow = pd.Series(np.where(records["follow_up"].to_numpy(bool), YES, NO))
        frames.append(_frame("observation", {
            "observation_id": pd.Series(ids[mask].to_numpy() * 64 + kind),
            "person_id": ids[mask].reset_index(drop=True),
            "observation_concept_id": zeros[mask].reset_index(drop=True),
            "observation_date": dates[mask].reset_index(drop=True),
            "observation_type_concept_id": (zeros[mask] + EHR).reset_index(drop=True),
            "value_as_string": None if text is None else pd.Series(text[mask]),
            "value_as_concept_id": None if follow is None else follow[mask]
            .reset_index(drop=True),
            "visit_occurrence_id": ids[mask].reset_index(drop=True),
            "observation_source_value": pd.Series([name] * count, dtype=object),
            "value_source_value": None if value_source is None
            else value_source[mask].reset_index(drop=True)}, count))
    tables["observation"] = pd.concat(frames, ignore_index=True)
    for table, frame in tables.items():
        tables[table] = frame.reset_index(drop=True)
    return tables


def cdm_source(model: ClinicModel, vocab: Vocabulary | None = None) -> pd.DataFrame:
    from .. import __version__

    today = pd.Timestamp.today().normalize()
    return _frame("cdm_source", {
        "cdm_source_name": pd.Series([f"clinicsim {__version__} synthetic records, model "
                                      f"{model.name!r}"]),
        "cdm_source_abbreviation": pd.Series(["clinicsim"]),
        "cdm_holder": pd.Series(["clinicsim (synthetic data, no real patient)"]),
        "source_release_date": pd.Series([today]), "cdm_release_date": pd.Series([today]),
        "cdm_version": pd.Series(["CDM v5.4"]), "cdm_version_concept_id": pd.Series([756265]),
        "vocabulary_version": pd.Series([(vocab.version if vocab is not None
                                          else "none: concept 0")[:20]]),
        "source_description": pd.Series(["Synthetic outpatient visits sampled from a Bayesian "
                                         "network; vocabulary: " + (vocab.version if vocab
                                         else "none (concept 0, codes in *_source_value)")])},
        1)


def _insert_frame(con: Any, dialect: str, table: str, frame: pd.DataFrame) -> None:
    if len(frame) == 0:
        return
    if dialect == "duckdb":
        import pyarrow as pa

        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        arrow = arrow.cast(pa.schema([f.with_type(pa.date32()) if pa.types.is_timestamp(f.type)
                                      else f for f in arrow.schema]))
        con.register("clinicsim_chunk", arrow)
        con.execute(f"INSERT INTO {table} SELECT * FROM clinicsim_chunk")
        con.unregister("clinicsim_chunk")
        return
    values = []
    for field, kind, _ in FIELDS[table]:
        column = frame[field]
        if kind == "date":
            days = column.to_numpy().astype("datetime64[D]")
            text = np.datetime_as_string(days).astype(object)
            text[np.isnat(days)] = None
            values.append(text.tolist())
        else:
            values.append(column.astype(object).where(column.notna(), None).tolist())
    marks = ", ".join("?" * len(values))
    con.executemany(f"INSERT INTO {table} VALUES ({marks})", zip(*values, strict=True))


def write_omop(chunks: Iterable[pd.DataFrame], output: str | os.PathLike[str],
               model: ClinicModel, *, replace: bool = False,
               vocab: Vocabulary | None = None) -> int:
    """Write record chunks as the CDM tables into the folder ``output`` (one CSV file per
    table) or the DuckDB or SQLite file ``output``; return the number of records."""
    from .._io import DATABASE_SUFFIXES, atomic_dir, output_folder
    from ._files import _duckdb, check_database, dialect_of, mark_ours, transaction

    path = Path(output)
    if path.suffix.lower() not in DATABASE_SUFFIXES:
        output_folder(path)
        rows = 0
        with atomic_dir(path, what="output") as tmp:
            files = {t: open(tmp / f"{t}.csv", "w", newline="") for t in TABLES}
            try:
                for table, frame in _all_tables(chunks, model, vocab):
                    frame.to_csv(files[table], header=files[table].tell() == 0, index=False,
                                 date_format="%Y-%m-%d")
                    if table == "person":
                        rows += len(frame)
            finally:
                for file in files.values():
                    file.close()
        return rows
    for table in TABLES:
        check_database(path, table, replace)
    dialect = dialect_of(path)
    if dialect == "duckdb":
        _duckdb()
    rows = 0
    with transaction(path, dialect) as con:
        for table in reversed(TABLES):  # dependants first
            con.execute(f"DROP TABLE IF EXISTS {table}")
        for table in TABLES:
            con.execute(ddl(table, dialect))
        for table, frame in _all_tables(chunks, model, vocab):
            _insert_frame(con, dialect, table, frame)
            if table == "person":
                rows += len(frame)
        mark_ours(con, dialect, TABLES, "omop", "[]", rows)
    return rows


def _all_tables(chunks: Iterable[pd.DataFrame], model: ClinicModel, vocab: Vocabulary | None
                ) -> Iterator[tuple[str, pd.DataFrame]]:
    start = 0
    for chunk in chunks:
        yield from omop_tables(chunk, model, start, vocab).items()
        start += len(chunk)
    yield "cdm_source", cdm_source(model, vocab)


def read_omop(path: str | os.PathLike[str], model: ClinicModel) -> pd.DataFrame:
    """Records from an OMOP export (a folder of CSV files, or a DuckDB or SQLite file)."""
    from .._io import DATABASE_SUFFIXES

    path = Path(path)
    needed = ("person", "visit_occurrence", "condition_occurrence", "drug_exposure",
              "procedure_occurrence", "observation")
    if path.suffix.lower() in DATABASE_SUFFIXES:
        from ._files import _check_ours, _opened, dialect_of

        dialect = dialect_of(path)
        _check_ours(path, dialect, "OMOP database", RecordsError)
        with _opened(path, dialect, RecordsError) as con:
            frames = {t: pd.read_sql_query(f"SELECT * FROM {t}", con) if dialect == "sqlite"
                      else con.execute(f"SELECT * FROM {t}").df() for t in needed}
    else:
        missing = [t for t in needed if not (path / f"{t}.csv").is_file()]
        if missing:
            raise RecordsError(f"OMOP folder {str(path)!r} has no {missing[0]}.csv")
        frames = {}
        for t in needed:  # codes as text (SNOMED's are digits); ids and birth as numbers
            frame = pd.read_csv(path / f"{t}.csv", dtype=str, keep_default_na=False,
                                na_values=[""])
            for column in frame.columns:
                if column.endswith(("_id", "_of_birth")):
                    frame[column] = pd.to_numeric(frame[column]).astype("Int64")
            frames[t] = frame
    person = frames["person"].set_index("person_id")
    visit = frames["visit_occurrence"].set_index("visit_occurrence_id")
    codes = {c: d for d, c in model.diagnosis_codes.items()}
    tx = treatment_codes(model.metadata)
    by_code = {(c.resource, c.code): t for t, c in tx.items()}
    treatment = pd.Series(index=visit.index, dtype=object)
    for table, resource, field in [("drug_exposure", "MedicationRequest", "drug_source_value"),
                                   ("procedure_occurrence", "Procedure",
                                    "procedure_source_value")]:
        f = frames[table]
        treatment[f["visit_occurrence_id"].to_numpy()] = \
            f[field].map(lambda c, r=resource: by_code.get((r, c))).to_numpy()
    obs = frames["observation"]
    ref = obs[obs.observation_source_value == "referral"]
    treatment[ref["visit_occurrence_id"].to_numpy()] = \
        ref["value_source_value"].map(lambda c: by_code.get(("ServiceRequest", c))).to_numpy()
    fu = obs[obs.observation_source_value == "follow_up"].set_index("visit_occurrence_id")
    cond = frames["condition_occurrence"].set_index("visit_occurrence_id")
    vdate = pd.to_datetime(visit["visit_start_date"]).to_numpy().astype("datetime64[D]")
    who = person.loc[visit["person_id"]]
    birth = pd.to_datetime(pd.DataFrame({"year": who.year_of_birth, "month": who.month_of_birth,
                                         "day": who.day_of_birth})).to_numpy()
    from ..fhir._mapping import age_on

    records = pd.DataFrame({
        "patient_id": who["person_source_value"].astype(str).to_numpy(),
        "visit_date": vdate.astype("datetime64[s]"),
        "age": age_on(birth.astype("datetime64[D]"), vdate),
        "gender": who["gender_source_value"].to_numpy(),
        "diagnosis": cond["condition_source_value"].reindex(visit.index).map(codes).to_numpy(),
        "treatment": treatment.to_numpy(),
        "follow_up": fu["value_as_concept_id"].reindex(visit.index).to_numpy() == YES})
    for node in model.nodes:
        if node not in _RECORD and node in set(obs.observation_source_value):
            o = obs[obs.observation_source_value == node].set_index("visit_occurrence_id")
            records[node] = o["value_as_string"].reindex(visit.index).to_numpy()
    return records


def sample_omop(output: str | os.PathLike[str], n: int, *, model: ClinicModel | None = None,
                seed: object = None, engine: str = "numpy", chunk_size: int | None = None,
                replace: bool = False, vocabulary: str | os.PathLike[str] | None = None,
                schema: str = "public") -> int:
    """Sample ``n`` records straight into an OMOP export at ``output`` (a folder, or a
    ``.duckdb``/``.sqlite`` file), chunk by chunk; return the number of records."""
    from .._io import DATABASE_SUFFIXES, output_folder
    from .._validate import check_int
    from ..simulate._sample import CHUNK_ROWS, Sampler, check_chunk_size
    from ._files import check_database
    from ._postgres import is_database_url

    url = is_database_url(output)
    path = Path(output)
    if url:
        pass  # checked once connected, before anything is written
    elif path.suffix.lower() in DATABASE_SUFFIXES:
        for table in TABLES:
            check_database(path, table, replace)
    else:
        output_folder(path)
    n = check_int(n, "n")
    chunk_size = CHUNK_ROWS if chunk_size is None else check_chunk_size(chunk_size, n)
    from ._vocabulary import read_vocabulary

    vocab = None if vocabulary is None else read_vocabulary(vocabulary)
    sampler = Sampler(model, seed=seed, engine=engine, extended=False, n=n)  # type: ignore[arg-type]
    if url:
        return write_omop_postgres(sampler.chunks(chunk_size), str(output), sampler.model,
                                   schema=schema, replace=replace, vocab=vocab)
    return write_omop(sampler.chunks(chunk_size), path, sampler.model, replace=replace,
                      vocab=vocab)


def write_omop_postgres(chunks: Iterable[pd.DataFrame], url: str, model: ClinicModel, *,
                        schema: str = "public", replace: bool = False,
                        vocab: Vocabulary | None = None) -> int:
    """The CDM tables in ``schema`` of the PostgreSQL database at ``url``, through COPY, in
    one transaction; return the number of records."""
    import io

    from psycopg import Error, sql

    from ._postgres import _clean, check_schema, connect, redact, table_exists

    con = connect(url)
    where = f"PostgreSQL {redact(url)}, schema {schema}"
    rows = 0
    try:
        with con:
            check_schema(con, schema, where)
            existing = [t for t in TABLES if table_exists(con, schema, t)]
            if existing and not replace:
                raise ClinicSimError(f"{where} already has the table {existing[0]}; pass "
                                     "--replace (replace=True) to replace the CDM tables")
            con.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
            for table in reversed(TABLES):
                con.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(
                    sql.Identifier(table)))
            for table in TABLES:
                con.execute(sql.SQL(ddl(table, "postgresql")))  # the spec's text only
            for table, frame in _all_tables(chunks, model, vocab):
                if len(frame) == 0:
                    continue
                text = io.StringIO()
                frame.to_csv(text, index=False, header=False, date_format="%Y-%m-%d")
                statement = sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(
                    sql.Identifier(table))
                with con.cursor() as cursor, cursor.copy(statement) as copy:
                    copy.write(text.getvalue())
                if table == "person":
                    rows += len(frame)
    except Error as exc:
        raise ClinicSimError(f"{where}: {_clean(exc, url)}") from None
    finally:
        con.close()
    return rows


def is_omop(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an OMOP export clinicsim wrote: a folder with ``person.csv``, or a
    database file whose ``person`` table clinicsim wrote as OMOP."""
    from .._io import DATABASE_SUFFIXES

    path = Path(path)
    if path.suffix.lower() in DATABASE_SUFFIXES:
        from ._files import tables

        try:
            return tables(path).get("person") == "omop"
        except ClinicSimError:
            return False
    return path.is_dir() and (path / "person.csv").is_file()
