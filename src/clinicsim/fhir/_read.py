"""Reading a FHIR NDJSON export back into a records table, every line checked.

Every problem is a :class:`~clinicsim.RecordsError` naming the file and the line: a line
that is not one JSON object, a field of the wrong JSON type, a ``resourceType`` other than
the file's, a Patient without an ``id`` or with one already used, a ``subject`` that is
missing or names no Patient of the folder, a second Encounter, Condition, treatment or
follow-up for one patient, a date with a time zone. What is left to the report is the
values themselves (a gender or a diagnosis the model lacks, an age out of its band, a
missing value): it names them by row, and row N is the Nth Patient of ``Patient.ndjson``
(on its line N unless blank lines come before it).

The lines are parsed by pyarrow's JSON reader a block of whole lines at a time (so a
line of any length up to :data:`MAX_LINE_BYTES` is read, where pyarrow alone fails on an
object longer than its block); a block it refuses is halved until the line is found.
Lines are checked to start with ``{`` and end with ``}`` first: pyarrow reads a line
``null`` as a row of nulls (and crashes if the file starts with one), and two objects on
one line as two rows.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._cells import days
from .._errors import RecordsError
from .._io import check_name, input_file
from .._validate import check_path, shown
from ..model import FOLLOW_UP_CODE, ClinicModel, as_model
from ..simulate import extra_nodes
from ._mapping import ID_SYSTEM, age_on

__all__ = ["MAX_FILE_BYTES", "MAX_LINE_BYTES", "TREATMENT_TYPES", "read_records"]

TREATMENT_TYPES = ("MedicationRequest", "Procedure", "ServiceRequest")
# 4,000,000 records (MAX_RECORDS_ROWS) make a Condition.ndjson of 2.7 GB (675 bytes a line)
MAX_FILE_BYTES = 4 * 2**30
# A resource larger than a whole records file (MAX_TEXT_BYTES) is no clinicsim record.
MAX_LINE_BYTES = 256 * 2**20
_BLOCK_BYTES = 32 * 2**20  # read and parsed at a time (a longer line makes a longer block)
_PATIENT_BYTES = 64  # fewer than a Patient line of an export (about 150)
_ARROW_BLOCK_BYTES = 2**20  # pyarrow's default: its blocks are parsed on its threads
_WHITESPACE = b" \t\r"  # JSON's, besides the newline that ends a line
_DATE_RULE = "a date YYYY-MM-DD (a time of day may follow; no time zone)"


def _schema(**fields: pa.DataType) -> pa.Schema:
    return pa.schema([("resourceType", pa.string()), *fields.items()])


_REF = pa.struct([("reference", pa.string())])
_TEXT = pa.struct([("text", pa.string())])
_CODED = pa.struct([("coding", pa.list_(pa.struct([("system", pa.string()),
                                                    ("code", pa.string())]))),
                    ("text", pa.string())])
# Only the fields that are read: any other field, of any type, is ignored.
_SCHEMAS = {
    "Patient": _schema(id=pa.string(), gender=pa.string(), birthDate=pa.string(),
                       identifier=pa.list_(pa.struct([("system", pa.string()),
                                                      ("value", pa.string())]))),
    "Encounter": _schema(subject=_REF, period=pa.struct([("start", pa.string())])),
    "Condition": _schema(subject=_REF, code=_TEXT),
    "Procedure": _schema(subject=_REF, code=_TEXT),
    "ServiceRequest": _schema(subject=_REF, code=_CODED),
    "MedicationRequest": _schema(subject=_REF, medicationCodeableConcept=_TEXT),
    "Observation": _schema(subject=_REF, code=_TEXT, valueCodeableConcept=_TEXT),
}


@dataclass
class _File:
    """The fields read from one resource file, and the line each row is on."""

    path: Path
    table: pa.Table
    lines: np.ndarray

    def error(self, row: int, what: str) -> RecordsError:
        return RecordsError(f"cannot read FHIR file {str(self.path)!r}: "
                            f"line {int(self.lines[row]):,}: {what}")

    def field(self, *names: str) -> pa.Array:
        """A (nested) field, null where it or any field around it is missing."""
        value = self.table[names[0]].combine_chunks()
        for name in names[1:]:
            value = pc.struct_field(value, name)
        return value


def _line_error(path: Path, line: int, what: str) -> RecordsError:
    return RecordsError(f"cannot read FHIR file {str(path)!r}: line {line:,}: {what}")


class _LongLine(Exception):
    """A line longer than MAX_LINE_BYTES (its number is known to the caller)."""


def _blocks(file) -> Iterator[memoryview]:
    """The file in blocks of whole lines (about _BLOCK_BYTES; more if a line is longer);
    a UTF-8 byte order mark is dropped."""
    size = _BLOCK_BYTES
    pos = 3 if file.read(3) == b"\xef\xbb\xbf" else 0
    file.seek(pos)
    while data := file.read(size):
        cut = data.rfind(b"\n") + 1
        if not cut and len(data) == size:  # no line ends in the block: read a longer one
            if size > MAX_LINE_BYTES:
                raise _LongLine
            size = min(2 * size, MAX_LINE_BYTES + 1)
            file.seek(pos)
            continue
        cut = cut or len(data)  # the last line, without a newline
        yield memoryview(data)[:cut]
        pos += cut
        file.seek(pos)  # the rest is read again with the next block
        size = _BLOCK_BYTES


def _newlines(file, limit: int) -> int:
    """Newlines in ``file`` from where it is, counted until there are more than ``limit``."""
    count = 0
    while count <= limit and (data := file.read(_BLOCK_BYTES)):
        count += data.count(b"\n")
    file.seek(0)
    return count


def _chunks(path: Path, file, kind: str, limit: int, over: str
            ) -> Iterator[tuple[bytes | memoryview, np.ndarray, np.ndarray]]:
    """The file's blocks as :func:`_lines` sees them, refused as soon as they hold more
    than ``limit`` resources."""
    first, count = 1, 0  # the number of the block's first line; resources before it
    try:
        for block in _blocks(file):
            text, starts, lines, seen = _lines(path, first, block)
            if count + len(lines) > limit:
                raise _line_error(path, int(lines[limit - count]),
                                  f"more than {limit:,} {kind}s; {over}")
            yield text, starts, lines
            count += len(lines)
            first += seen
    except _LongLine:
        raise _line_error(path, first, f"longer than {MAX_LINE_BYTES / 2**20:,.0f} MiB; "
                          f"the limit is MAX_LINE_BYTES = {MAX_LINE_BYTES:,} bytes") from None


def _lines(path: Path, first: int, block: memoryview
           ) -> tuple[bytes | memoryview, np.ndarray, np.ndarray, int]:
    """``block`` as its non-blank lines ``(text, starts, numbers, lines in the block)``,
    line ``i`` being ``text[starts[i]:starts[i + 1] - 1]``; an error names the first line
    that is not a JSON object (by its first and last character) or not UTF-8."""
    try:
        str(block, "utf-8")
    except UnicodeDecodeError as exc:
        line = first + bytes(block[:exc.start]).count(b"\n")
        raise _line_error(path, line, f"is not UTF-8 text (byte {block[exc.start]:#04x})") \
            from None
    if block[-1] != ord("\n"):
        block = memoryview(bytes(block) + b"\n")
    raw = np.frombuffer(block, np.uint8)
    ends = np.flatnonzero(raw == 10)
    starts = np.concatenate([[0], ends[:-1] + 1])
    if ((ends > starts).all() and (raw[starts] == ord("{")).all()
            and (raw[ends - 1] == ord("}")).all()):
        return block, np.append(starts, len(block)), first + np.arange(len(ends)), len(ends)
    kept: list[bytes] = []
    numbers: list[int] = []
    for number, raw_line in enumerate(bytes(block).split(b"\n")[:-1], first):
        text = raw_line.strip(_WHITESPACE)
        if not text:
            continue  # a blank line holds no resource, as in a records .jsonl file
        if text[:1] != b"{" or text[-1:] != b"}":
            raise _line_error(path, number, "is not a JSON object: "
                              + shown(text.decode("utf-8")))
        kept.append(text + b"\n")
        numbers.append(number)
    sizes = np.fromiter(map(len, kept), np.int64, len(kept))
    return (b"".join(kept), np.concatenate([[0], np.cumsum(sizes)]),
            np.array(numbers, np.int64), len(ends))


_TYPE_CHANGE = re.compile(r"Column\(/([^)]*)\) changed from (\w+) to (\w+)")
_TWICE = re.compile(r"Column\(/([^)]*)\) was specified twice")


def _json_problem(exc: Exception | None) -> str:
    """What pyarrow's message ``exc`` says about one line, in the line's terms."""
    if exc is None:
        return "holds more than one JSON value"
    text = str(exc)
    if found := _TYPE_CHANGE.search(text):
        field = found[1].replace("/[]", "[]").replace("/", ".")
        return f"{field} must be {_a(found[2])}, not {_a(found[3])}"
    if found := _TWICE.search(text):
        return f"{found[1].replace('/[]', '[]').replace('/', '.')} is given twice"
    text = re.sub(r" in row \d+$", "", text.removeprefix("JSON parse error: ").strip())
    return f"is not valid JSON: {text}"


def _a(kind: str) -> str:
    """``kind`` (pyarrow's name of a JSON type, or a resource type) with its article."""
    kind = "JSON object" if kind == "object" else kind
    return ("an " if kind[0] in "aeiouAEIOU" else "a ") + kind


def _parse(path: Path, kind: str, text: bytes | memoryview, starts: np.ndarray,
           numbers: np.ndarray) -> pa.Table:
    """The lines ``text`` as a table of ``kind``'s fields; a failing run of lines is halved
    until the first line that fails is found (pyarrow names no line)."""
    import pyarrow.json as pj

    options = pj.ParseOptions(explicit_schema=_SCHEMAS[kind], unexpected_field_behavior="ignore")
    buffer = pa.py_buffer(text)
    # pyarrow's blocks (parsed in parallel) must each hold a whole line
    longest = int(np.diff(starts).max(initial=0))
    reading = pj.ReadOptions(block_size=max(_ARROW_BLOCK_BYTES, longest + 1))

    def parse(a: int, b: int) -> pa.Table:
        data = buffer.slice(int(starts[a]), int(starts[b] - starts[a]))
        problem: Exception | None = None
        try:
            table = pj.read_json(pa.BufferReader(data), parse_options=options,
                                 read_options=reading)
        except (pa.ArrowException, ValueError) as exc:  # ArrowInvalid, and any other kind
            problem = exc
        else:
            if table.num_rows == b - a:
                return table
        if b - a == 1:
            raise _line_error(path, int(numbers[a]), _json_problem(problem))
        middle = (a + b) // 2
        return pa.concat_tables([parse(a, middle), parse(middle, b)])

    if not len(numbers):
        return _SCHEMAS[kind].empty_table()
    return parse(0, len(numbers))


def _read(folder: Path, kind: str, limit: int, over: str) -> _File | None:
    """The resources of ``folder/KIND.ndjson`` (None if there is no such file), refused
    as soon as there are more than ``limit`` (``over`` says why that is too many)."""
    path = folder / f"{kind}.ndjson"
    try:
        os.lstat(path)
    except FileNotFoundError:
        return None
    size = input_file(path, "FHIR file", MAX_FILE_BYTES, RecordsError,
                      f" (MAX_FILE_BYTES); a FHIR export of {limit:,} records is smaller")
    tables, numbers = [], []
    with open(path, "rb") as file:
        # Parsing takes most of the time: Patients (whose limit is MAX_RECORDS_ROWS, not the
        # number of Patients) are counted first if there may be too many
        if (kind == "Patient" and size > limit * _PATIENT_BYTES
                and _newlines(file, limit) + 1 > limit):
            for _ in _chunks(path, file, kind, limit, over):
                pass
            file.seek(0)
        for text, starts, lines in _chunks(path, file, kind, limit, over):
            tables.append(_parse(path, kind, text, starts, lines))
            numbers.append(lines)
    table = pa.concat_tables(tables) if tables else _SCHEMAS[kind].empty_table()
    found = _File(path, table, np.concatenate(numbers) if numbers else np.zeros(0, np.int64))
    resource_type = found.field("resourceType")
    wrong = np.flatnonzero(~pc.equal(resource_type, kind).fill_null(False).to_numpy(
        zero_copy_only=False))
    if len(wrong):
        given = resource_type[int(wrong[0])].as_py()
        raise found.error(int(wrong[0]), f"resourceType is {shown(given)}, not {kind!r}"
                          if given is not None else f"resourceType is missing (every line "
                          f"of {kind}.ndjson is {_a(kind)})")
    return found


def _dates(file: _File, *field: str) -> np.ndarray:
    """A date field as datetime64[D] (NaT where missing); a date that breaks the records'
    rule (the rule of a records file's ``visit_date``) is an error naming its line."""
    text = file.field(*field).to_pandas()
    parsed = days(text)
    wrong = np.flatnonzero(text.notna().to_numpy() & np.isnat(parsed))
    if len(wrong):
        raise file.error(int(wrong[0]), f"{'.'.join(field)} {shown(text.iloc[wrong[0]])} is "
                         f"not {_DATE_RULE}")
    return parsed


def _first_repeat(keys: pa.Array | np.ndarray) -> tuple[int, int] | None:
    """``(row, earlier row)`` of the first key seen before, if any."""
    keys = pa.array(keys) if isinstance(keys, np.ndarray) else keys
    first = pc.index_in(keys, value_set=keys).to_numpy()  # the first row of each key
    repeated = np.flatnonzero(first != np.arange(len(first)))
    return (int(repeated[0]), int(first[repeated[0]])) if len(repeated) else None


def _check_folder(path: Path) -> None:
    name = str(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        reason = "no such folder" if isinstance(exc, FileNotFoundError) else exc.strerror
        raise RecordsError(f"cannot read FHIR folder {name!r}: {reason}") from None
    if not stat.S_ISDIR(mode):
        raise RecordsError(f"cannot read FHIR folder {name!r}: it is not a folder")
    if not os.path.lexists(path / "Patient.ndjson"):
        raise RecordsError(
            f"{name!r} is not a FHIR export folder: it has no Patient.ndjson (an export holds "
            f"Patient.ndjson, one Patient a line, with Encounter.ndjson, Condition.ndjson "
            f"and the treatments' {', '.join(f'{t}.ndjson' for t in TREATMENT_TYPES)})")


def read_records(folder: str | os.PathLike[str], model: ClinicModel | None = None
                 ) -> pd.DataFrame:
    """The records table of a FHIR NDJSON folder written by :func:`write`.

    Each Patient is a row, in file order: ``patient_id`` from its identifier, ``gender``,
    ``visit_date`` from its Encounter, ``age`` from ``birthDate`` on that date, the
    diagnosis and treatment from the ``code.text`` of its Condition and treatment
    resource, ``follow_up`` whether a follow-up ServiceRequest exists, and each further
    node of ``model`` (:func:`clinicsim.simulate.extra_nodes`) from the
    ``valueCodeableConcept.text`` of the patient's Observation whose ``code.text`` names it
    (a column only when the export has Observations of the node). Records written by
    :func:`write` come back equal to the table that went in (columns of
    :func:`clinicsim.sample`).

    A file that is missing, empty or blank holds no resources: the rows' values from it
    are missing, which the report names (an export with no Patients is refused). Every
    line is checked; a :class:`~clinicsim.RecordsError` names the file and line of the
    first problem (see :mod:`clinicsim.fhir._read`). At most ``MAX_RECORDS_ROWS``
    Patients are read, as a records file holds at most that many rows, and each file
    is refused as soon as it holds more resources than its patients can have.

    Examples
    --------
    >>> import clinicsim, clinicsim.fhir
    >>> records = clinicsim.sample(100, seed=1, extended=True)
    >>> _ = clinicsim.fhir.write("fhir/", records, seed=1)
    >>> clinicsim.fhir.read_records("fhir/").equals(records[list(clinicsim.simulate.COLUMNS)])
    True
    """
    from ..analysis import _records  # the records' row limit, read when called

    model = as_model(model)
    path = check_name(check_path(folder, "folder"), "FHIR folder", RecordsError)
    _check_folder(path)
    limit = _records.MAX_RECORDS_ROWS
    patients = _read(path, "Patient", limit, "the limit is MAX_RECORDS_ROWS, as for the rows of "
                     "a records file; check a random sample of the patients instead")
    if patients is None or not patients.table.num_rows:
        raise RecordsError(f"FHIR file {str(path / 'Patient.ndjson')!r} holds no Patient: "
                           "the export has no records")
    ids = patients.field("id")
    missing = np.flatnonzero(~pc.greater(pc.utf8_length(ids), 0).fill_null(False)
                             .to_numpy(zero_copy_only=False))
    if len(missing):
        raise patients.error(int(missing[0]), "the Patient has no id")
    if (twice := _first_repeat(ids)) is not None:
        raise patients.error(twice[0], f"Patient id {shown(ids[twice[0]].as_py())} is "
                             f"already on line {int(patients.lines[twice[1]]):,}")
    n = len(ids)

    def rows_of(file: _File) -> np.ndarray:
        """The Patient row of each resource, from its ``subject``."""
        refs = file.field("subject", "reference")
        absent = np.flatnonzero(refs.is_null().to_numpy(zero_copy_only=False))
        if len(absent):
            what = ("subject is missing" if not file.field("subject")[int(absent[0])].is_valid
                    else "subject.reference is missing")
            raise file.error(int(absent[0]), f"{what}; every resource names its Patient as "
                             "subject.reference 'Patient/ID'")
        rows = pc.index_in(pc.utf8_slice_codeunits(refs, len("Patient/")), value_set=ids)
        known = pc.and_(pc.starts_with(refs, "Patient/"), rows.is_valid())
        unknown = np.flatnonzero(~known.to_numpy(zero_copy_only=False))
        if len(unknown):
            raise file.error(int(unknown[0]), f"subject.reference "
                             f"{shown(refs[int(unknown[0])].as_py())} is no Patient of this "
                             "export ('Patient/ID' with an id of Patient.ndjson)")
        return rows.to_numpy().astype(np.int64)

    def one_each(rows: np.ndarray, what: str, files: list[_File], file_of: np.ndarray,
                 row_of: np.ndarray) -> None:
        """Refuse a second ``what`` of a patient; resource i is row ``row_of[i]`` of
        ``files[file_of[i]]``."""
        if (twice := _first_repeat(rows)) is not None:
            (second, first) = ((files[file_of[i]], int(row_of[i])) for i in twice)
            at = f"line {int(first[0].lines[first[1]]):,}"
            at = at if first[0] is second[0] else f"{first[0].path.name} {at}"
            raise second[0].error(second[1], f"a second {what} of Patient/"
                                  f"{ids[int(rows[twice[0]])]} (the first is on {at})")

    def one_of(file: _File, rows: np.ndarray, what: str) -> None:
        one_each(rows, what, [file], np.zeros(len(rows), np.int64), np.arange(len(rows)))

    over = f"the export has {n:,} Patients, and one {{}} each at most"
    visit = np.full(n, np.datetime64("NaT"), "datetime64[D]")
    if (enc := _read(path, "Encounter", n, over.format("Encounter"))) is not None:
        rows = rows_of(enc)
        one_of(enc, rows, "Encounter")
        visit[rows] = _dates(enc, "period", "start")
    diagnosis = np.full(n, None, object)
    if (cond := _read(path, "Condition", n, over.format("Condition"))) is not None:
        rows = rows_of(cond)
        one_of(cond, rows, "Condition")
        diagnosis[rows] = cond.field("code", "text").to_numpy(zero_copy_only=False)
    treatment = np.full(n, None, object)
    follow_up = np.zeros(n, bool)
    files: list[_File] = []
    rows_, values_, fu_ = [], [], []  # per treatment file
    for kind in TREATMENT_TYPES:
        file = _read(path, kind, 2 * n, f"the export has {n:,} Patients, and a treatment and "
                     "a follow-up each at most")
        if file is None:
            continue
        is_fu = np.zeros(file.table.num_rows, bool)
        if kind == FOLLOW_UP_CODE[0]:
            coding = file.field("code", "coding")
            own = np.repeat(np.arange(len(is_fu)), coding.value_lengths().fill_null(0).to_numpy())
            flat = coding.flatten()
            hit = (pc.equal(pc.struct_field(flat, "system"), FOLLOW_UP_CODE[1]).fill_null(False)
                   .to_numpy(zero_copy_only=False)
                   & pc.equal(pc.struct_field(flat, "code"), FOLLOW_UP_CODE[2]).fill_null(False)
                   .to_numpy(zero_copy_only=False))
            is_fu[own[hit]] = True
        field = "medicationCodeableConcept" if kind == "MedicationRequest" else "code"
        files.append(file)
        rows_.append(rows_of(file))
        values_.append(file.field(field, "text").to_numpy(zero_copy_only=False))
        fu_.append(is_fu)
    if files:
        rows, values, is_fu = (np.concatenate(x) for x in (rows_, values_, fu_))
        file_of = np.repeat(np.arange(len(files)), [len(r) for r in rows_])
        row_of = np.concatenate([np.arange(len(r)) for r in rows_])
        for wanted, what in ((False, "treatment"), (True, "follow-up ServiceRequest")):
            mask = is_fu == wanted
            one_each(rows[mask], what, files, file_of[mask], row_of[mask])
        treatment[rows[~is_fu]] = values[~is_fu]
        follow_up[rows[is_fu]] = True
    observed = _observations(path, model, n, rows_of)
    birth = _dates(patients, "birthDate")
    known = ~(np.isnat(visit) | np.isnat(birth))
    age = pd.array(np.where(known, age_on(np.where(known, birth, visit),
                                           np.where(known, visit, birth)), 0), "Int64")
    age[~known] = pd.NA
    return pd.DataFrame({
        "patient_id": pd.array(_identifier_values(patients.field("identifier")),
                               dtype=pd.StringDtype("pyarrow")),
        "visit_date": visit.astype("datetime64[s]"),
        "age": age if not known.all() else age.to_numpy(np.int64),
        "gender": _category(patients.field("gender").to_pandas(), model.states("gender")),
        "diagnosis": _category(pd.Series(diagnosis), model.states("diagnosis")),
        "treatment": _category(pd.Series(treatment), model.states("treatment")),
        "follow_up": follow_up,
        **observed,
    })


def _observations(path: Path, model: ClinicModel, n: int,
                  rows_of: Callable[[_File], np.ndarray]) -> dict[str, pd.Series | pd.Categorical]:
    """The columns of the model's further nodes, from ``Observation.ndjson``: one
    Observation of each node per patient at most, ``code.text`` a further node."""
    nodes = extra_nodes(model)
    if not nodes:
        return {}
    file = _read(path, "Observation", len(nodes) * n, f"the export has {n:,} Patients, and "
                 f"one Observation of each of the model's {len(nodes)} further node(s) each at "
                 "most")
    if file is None:
        return {}
    rows = rows_of(file)
    names = file.field("code", "text")
    node = pc.index_in(names, value_set=pa.array(nodes, pa.string())).fill_null(-1).to_numpy()
    if len(unknown := np.flatnonzero(node < 0)):
        raise file.error(int(unknown[0]), f"code.text {shown(names[int(unknown[0])].as_py())} "
                         f"is no further node of the model ({', '.join(map(repr, nodes))})")
    if (twice := _first_repeat(rows * len(nodes) + node)) is not None:
        second, first = twice
        raise file.error(second, f"a second Observation of {nodes[node[second]]!r} for Patient/"
                         f"{file.field('subject', 'reference')[second].as_py()[8:]} (the first "
                         f"is on line {int(file.lines[first]):,})")
    values = file.field("valueCodeableConcept", "text").to_numpy(zero_copy_only=False)
    columns: dict[str, pd.Series | pd.Categorical] = {}
    for k, name in enumerate(nodes):
        mine = node == k
        if mine.any():
            column = np.full(n, None, object)
            column[rows[mine]] = values[mine]
            columns[name] = _category(pd.Series(column), model.states(name))
    return columns


def _identifier_values(identifier: pa.Array) -> pa.Array:
    """The ``value`` of each Patient's clinicsim identifier (its first, if several)."""
    flat = identifier.flatten()
    own = np.repeat(np.arange(len(identifier)),
                    identifier.value_lengths().fill_null(0).to_numpy())
    mine = pc.equal(pc.struct_field(flat, "system"), ID_SYSTEM).fill_null(False).to_numpy(
        zero_copy_only=False)
    out = np.full(len(identifier), None, object)
    out[own[mine][::-1]] = pc.struct_field(flat, "value").to_numpy(
        zero_copy_only=False)[mine][::-1]
    return pa.array(out, pa.large_string())


def _category(values: pd.Series, states: list[str]) -> pd.Series | pd.Categorical:
    """A categorical of the model's states, or the raw values if some are not states (so
    the report names them)."""
    present = set(values.dropna().unique())
    if present <= set(states):
        return pd.Categorical(values, categories=states)
    return values
