"""Hostile FHIR export folders for the read-back sweep, and an independent reader to judge
what ``clinicsim.fhir.read_records`` makes of them.

A folder is a small export written by ``fhir.write``, damaged by a few mutations drawn by
hypothesis (``MUTATIONS``): a field set to a hostile value or removed, a raw line put in,
a line repeated or moved to another file, a file removed, emptied, blanked or replaced by
a FIFO, a folder or a dangling link, a line made longer than pyarrow's 1 MiB block.

``reference_rows(folder)`` reads it the slow way, line by line with ``json.loads``, by the
rules written in ``clinicsim.fhir._read``'s docstring (it shares no code with the reader),
and returns the records as tuples or raises ``Refused``. ``outcome(folder)`` compares the
two: ``"read"`` (the same rows), ``"refused"`` (a RecordsError naming the file and the
line, or a whole file or folder, where the reference refuses too), or a failure:
``"wrong rows"``, ``"silently accepted"``, ``"refused valid"``, ``"unnamed refusal"``,
``"traceback: TYPE"``. ``python -m tests.fhir._hostile N`` prints the counts over N
drawn folders, each read in a child process (so that a crash is counted): with
``PYTHONPATH`` at another checkout, the same folders judge that checkout's reader.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

from hypothesis import strategies as st

KINDS = ("Patient", "Encounter", "Condition", "MedicationRequest", "Procedure", "ServiceRequest")
ID_SYSTEM = "urn:clinicsim:patient_id"
FOLLOW_UP = ("http://snomed.info/sct", "390906007")
# The fields the records come from, as JSON types: "s" a string, {...} an object, [x] a list
_REF = {"reference": "s"}
SCHEMA = {
    "Patient": {"resourceType": "s", "id": "s", "gender": "s", "birthDate": "s",
                "identifier": [{"system": "s", "value": "s"}]},
    "Encounter": {"resourceType": "s", "subject": _REF, "period": {"start": "s"}},
    "Condition": {"resourceType": "s", "subject": _REF, "code": {"text": "s"}},
    "Procedure": {"resourceType": "s", "subject": _REF, "code": {"text": "s"}},
    "MedicationRequest": {"resourceType": "s", "subject": _REF,
                          "medicationCodeableConcept": {"text": "s"}},
    "ServiceRequest": {"resourceType": "s", "subject": _REF,
                       "code": {"coding": [{"system": "s", "code": "s"}], "text": "s"}},
}
# The records' date rule (YYYY-MM-DD, a time of day may follow, no time zone), as known
# answers: each date text and the day it is, or None where it must be refused
DATES = {"2024-03-01": "2024-03-01", "2024-3-1": "2024-03-01",
         "2024-03-01T10:30:00": "2024-03-01", "2024-03-01 10:30": "2024-03-01",
         "2024-03-01T10:30:00.5": "2024-03-01", "2024-02-29": "2024-02-29",
         "1980-07-15": "1980-07-15", "2024-03-01T10:30:00+02:00": None,
         "2024-03-01T10:30:00Z": None, "2024-03-01T23:00:00-05:00": None, "2024-03": None,
         "1980": None, "2023-02-29": None, "2024-03-01T24:00": None, "today": None, "": None,
         "20240301": None}
FIELDS = {
    "Patient": ["resourceType", "id", "gender", "birthDate", "identifier", "identifier.0",
                "identifier.0.system", "identifier.0.value"],
    "Encounter": ["resourceType", "subject", "subject.reference", "period", "period.start"],
    "Condition": ["resourceType", "subject", "subject.reference", "code", "code.text"],
    "MedicationRequest": ["resourceType", "subject", "subject.reference",
                          "medicationCodeableConcept", "medicationCodeableConcept.text"],
    "Procedure": ["resourceType", "subject", "subject.reference", "code", "code.text"],
    "ServiceRequest": ["resourceType", "subject", "subject.reference", "code", "code.text",
                       "code.coding", "code.coding.0.code"],
}
VALUES = st.sampled_from([None, 5, 1.5, True, "", "x", [], {}, [1], {"a": 1}, float("nan"),
                          "\ud800", ID_SYSTEM, FOLLOW_UP[1], "2024-03-01"])
# Values that mean something in one field (a date in a date field, a known id ...)
MEANINGFUL = {
    "resourceType": st.sampled_from([*KINDS, "Observation", "patient"]),
    "id": st.sampled_from(["P0000001", "P0000030", "new", " P0000002"]),
    "reference": st.sampled_from(["Patient/nobody", "Group/1", "P0000001", "Patient/P0000002",
                                  "Patient/", "patient/P0000003", "Patient/P0000004 "]),
    "gender": st.sampled_from(["male", "robot", "unknown"]),
    "birthDate": st.sampled_from(sorted(DATES)),
    "start": st.sampled_from(sorted(DATES)),
    "text": st.sampled_from(["asthma", "antibiotic", "follow-up visit", "nothing known"]),
    "system": st.sampled_from([ID_SYSTEM, FOLLOW_UP[0], "urn:other"]),
    "code": st.sampled_from([FOLLOW_UP[1], "J45.909"]),
}
RAW_LINES = [b"null", b"5", b"[]", b'"x"', b"", b"   ", b"{", b"{}", b"{} {}", b"{}{}",
             b'{"resourceType":"Patient"} null', b'{"x":"\xff"}', b'{"x":"\\ud800"}',
             b'{"x":"\x01"}', b"\x00", b'{"x":\n1}', b"\xef\xbb\xbf{}", b"\t{}\r",
             b'{"resourceType":"Encounter","resourceType":"Encounter"}', b'{"x":1,"x":2}',
             b'{"resourceType":"Patient","id":"new","gender":"male"}']
HUGE = 3 * 2**19  # characters of a long line: more than pyarrow's 1 MiB block


class Refused(Exception):
    """The reference reader refuses the folder: ``file`` (a name) and ``line`` (or None)."""

    def __init__(self, file: str, line: int | None, why: str) -> None:
        super().__init__(f"{file} line {line}: {why}")
        self.file, self.line = file, line


# -- mutations -------------------------------------------------------------------------

def _lines(folder: Path, kind: str) -> list[bytes]:
    path = folder / f"{kind}.ndjson"
    if not path.is_file():
        return []
    return path.read_bytes().split(b"\n")[:-1]


def _put(folder: Path, kind: str, lines: list[bytes]) -> None:
    path = folder / f"{kind}.ndjson"
    if path.exists() and not path.is_file():
        return  # a FIFO or folder stays what it is
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def _edit(kind: str, at: int, edit) -> object:
    def mutate(folder: Path) -> None:
        lines = _lines(folder, kind)
        if not lines:
            return
        i = at % len(lines)
        try:
            resource = json.loads(lines[i])
        except ValueError:
            return
        if not isinstance(resource, dict):
            return
        edit(resource)
        lines[i] = json.dumps(resource).encode()
        _put(folder, kind, lines)
    return mutate


def _set(path: str, value: object, delete: bool = False):
    def edit(resource: dict) -> None:
        keys = path.split(".")
        node: object = resource
        for key in keys[:-1]:
            child = node[int(key)] if isinstance(node, list) and key.isdigit() and \
                int(key) < len(node) else (node.get(key) if isinstance(node, dict) else None)
            if not isinstance(child, (dict, list)):
                return
            node = child
        last = keys[-1]
        if isinstance(node, list) and last.isdigit() and int(last) < len(node):
            if delete:
                del node[int(last)]
            else:
                node[int(last)] = value
        elif isinstance(node, dict):
            if delete:
                node.pop(last, None)
            else:
                node[last] = value
    return edit


@st.composite
def _field_edit(draw):
    kind = draw(st.sampled_from(KINDS))
    path = draw(st.sampled_from(FIELDS[kind]))
    at = draw(st.integers(0, 60))
    if draw(st.integers(0, 5)) == 0:
        return _named(_edit(kind, at, _set(path, None, delete=True)), f"del {kind}[{at}].{path}")
    last = path.split(".")[-1]
    value = draw(st.one_of(VALUES, MEANINGFUL[last]) if last in MEANINGFUL else VALUES)
    return _named(_edit(kind, at, _set(path, value)), f"{kind}[{at}].{path} = {value!r}")


@st.composite
def _date_edit(draw):
    kind, path = draw(st.sampled_from([("Encounter", "period.start"), ("Patient", "birthDate")]))
    at, value = draw(st.integers(0, 60)), draw(st.sampled_from(sorted(DATES)))
    return _named(_edit(kind, at, _set(path, value)), f"{kind}[{at}].{path} = {value!r}")


@st.composite
def _raw_line(draw):
    kind = draw(st.sampled_from(KINDS))
    raw = draw(st.sampled_from(RAW_LINES))
    at = draw(st.integers(0, 60))
    replace = draw(st.booleans())

    def mutate(folder: Path) -> None:
        lines = _lines(folder, kind)
        i = at % (len(lines) + 1)
        lines[i:i + replace] = [raw]
        _put(folder, kind, lines)
    return _named(mutate, f"{'replace' if replace else 'insert'} {kind}[{at}] = {raw!r}")


@st.composite
def _line_move(draw):
    source, target = draw(st.sampled_from(KINDS)), draw(st.sampled_from(KINDS))
    at, to = draw(st.integers(0, 60)), draw(st.integers(0, 60))
    keep = draw(st.booleans())  # a copy (a repeat if source is target), or moved

    def mutate(folder: Path) -> None:
        lines = _lines(folder, source)
        if not lines:
            return
        line = lines[at % len(lines)]
        if not keep:
            del lines[at % len(lines)]
            _put(folder, source, lines)
        into = _lines(folder, target)
        into.insert(to % (len(into) + 1), line)
        _put(folder, target, into)
    return _named(mutate, f"{'copy' if keep else 'move'} {source}[{at}] to {target}[{to}]")


@st.composite
def _file_change(draw):
    kind = draw(st.sampled_from(KINDS))
    change = draw(st.sampled_from(["remove", "empty", "blank", "fifo", "folder", "dangling",
                                   "bom", "crlf", "no final newline", "symlink"]))

    def mutate(folder: Path) -> None:
        path = folder / f"{kind}.ndjson"
        data = path.read_bytes() if path.is_file() else b""
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        if change == "empty":
            path.write_bytes(b"")
        elif change == "blank":
            path.write_bytes(b"\n \n\t\n")
        elif change == "fifo":
            os.mkfifo(path)
        elif change == "folder":
            path.mkdir()
        elif change == "dangling":
            path.symlink_to(folder / "nowhere")
        elif change == "bom":
            path.write_bytes(b"\xef\xbb\xbf" + data)
        elif change == "crlf":
            path.write_bytes(data.replace(b"\n", b"\r\n"))
        elif change == "no final newline":
            path.write_bytes(data.rstrip(b"\n"))
        elif change == "symlink":
            (folder.parent / f"real-{kind}").write_bytes(data)
            path.symlink_to(folder.parent / f"real-{kind}")
    return _named(mutate, f"{change} {kind}.ndjson")


@st.composite
def _huge_line(draw):
    kind = draw(st.sampled_from(KINDS))
    at = draw(st.integers(0, 60))
    read = {"Patient": "gender", "Encounter": "period.start",
            "MedicationRequest": "medicationCodeableConcept.text"}.get(kind, "code.text")
    field = draw(st.sampled_from(["note", read]))  # a field that is not read, or one that is
    return _named(_edit(kind, at, _set(field, "x" * HUGE)),
                  f"{kind}[{at}].{field} = 'x' * {HUGE:,}")


def _named(mutate, name: str) -> _Named:
    return _Named(mutate, name)


class _Named:
    """A mutation, shown by what it does when hypothesis prints a failing example."""

    def __init__(self, mutate, name: str) -> None:
        self.mutate, self.name = mutate, name

    def __call__(self, folder: Path) -> None:
        self.mutate(folder)

    def __repr__(self) -> str:
        return self.name


MUTATIONS = st.lists(st.one_of(_field_edit(), _field_edit(), _date_edit(), _raw_line(),
                               _line_move(), _file_change(), _huge_line()),
                     min_size=1, max_size=3)


# -- the reference reader --------------------------------------------------------------

class _Object(dict):
    twice: frozenset = frozenset()


def _pairs(pairs: list) -> _Object:
    found = _Object(pairs)
    keys = Counter(k for k, _ in pairs)
    found.twice = frozenset(k for k, c in keys.items() if c > 1)
    return found


def _typed(value: object, spec: object) -> bool:
    """``value`` has the JSON type ``spec`` (null is every type), keys of it given once."""
    if value is None:
        return True
    if spec == "s":
        return isinstance(value, str)
    if isinstance(spec, list):
        return isinstance(value, list) and all(_typed(v, spec[0]) for v in value)
    assert isinstance(spec, dict)
    return (isinstance(value, dict)
            and not (set(getattr(value, "twice", ())) & set(spec))
            and all(_typed(value.get(k), s) for k, s in spec.items()))


def _valid_unicode(value: object) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return True


def _resources(folder: Path, kind: str, limit: int) -> list[tuple[int, dict]] | None:
    name = f"{kind}.ndjson"
    path = folder / name
    if not os.path.lexists(path):
        return None
    if not path.is_file():
        raise Refused(name, None, "not a regular file")
    data = path.read_bytes()
    data = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    pieces = data.split(b"\n")
    if data.endswith(b"\n"):
        pieces.pop()
    found = []
    for number, raw in enumerate(pieces, 1):
        text = raw.strip(b" \t\r")
        if not text:
            continue
        if len(found) == limit:
            raise Refused(name, number, "too many")
        if not (text.startswith(b"{") and text.endswith(b"}")):
            raise Refused(name, number, "not an object")
        try:
            resource = json.loads(text.decode("utf-8"), object_pairs_hook=_pairs)
        except (UnicodeDecodeError, ValueError) as exc:
            raise Refused(name, number, f"not JSON: {exc}") from None
        if not _valid_unicode(resource):
            raise Refused(name, number, "lone surrogate")
        if not _typed(resource, SCHEMA[kind]):
            raise Refused(name, number, "a field of the wrong type")
        if resource.get("resourceType") != kind:
            raise Refused(name, number, "resourceType")
        found.append((number, resource))
    return found


def _day(value: object, where: tuple[str, int]) -> dt.date | None:
    if value is None:
        return None
    if value not in DATES and isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d",
                                                                        value):
        return dt.date.fromisoformat(value)  # as written by fhir.write (or an error below)
    if value not in DATES and re.match(r"\d{4}-", value):  # type: ignore[arg-type]
        raise AssertionError(f"no known answer for the date {value!r}")
    day = DATES.get(value)  # type: ignore[call-overload]
    if day is None:
        raise Refused(*where, f"date {value!r}")
    return dt.date.fromisoformat(day)


def reference_rows(folder: Path, max_patients: int = 4_000_000) -> list[tuple]:
    """The records of ``folder`` as tuples (patient_id, visit day, age, gender, diagnosis,
    treatment, follow_up), None for a missing value; or :class:`Refused`."""
    if not os.path.lexists(folder / "Patient.ndjson"):
        raise Refused("Patient.ndjson", None, "no Patient.ndjson")
    patients = _resources(folder, "Patient", max_patients)
    if not patients:
        raise Refused("Patient.ndjson", None, "no Patients")
    row_of: dict[str, int] = {}
    for number, p in patients:
        if not p.get("id"):
            raise Refused("Patient.ndjson", number, "no id")
        if p["id"] in row_of:
            raise Refused("Patient.ndjson", number, "id repeats")
        row_of[p["id"]] = len(row_of)
    n = len(patients)

    def rows(kind: str, found: list[tuple[int, dict]]) -> list[int]:
        out = []
        for number, r in found:
            ref = (r.get("subject") or {}).get("reference")
            if ref is None or not ref.startswith("Patient/") or ref[8:] not in row_of:
                raise Refused(f"{kind}.ndjson", number, f"subject {ref!r}")
            out.append(row_of[ref[8:]])
        return out

    def once(where: list[tuple[str, int]], patient_rows: list[int]) -> None:
        seen: set[int] = set()
        for w, r in zip(where, patient_rows, strict=True):
            if r in seen:
                raise Refused(*w, "a second one")
            seen.add(r)

    visit: list[dt.date | None] = [None] * n
    diagnosis: list[str | None] = [None] * n
    for kind in ("Encounter", "Condition"):
        found = _resources(folder, kind, n)
        if found is None:
            continue
        patient_rows = rows(kind, found)
        once([(f"{kind}.ndjson", number) for number, _ in found], patient_rows)
        for (number, r), row in zip(found, patient_rows, strict=True):
            if kind == "Encounter":
                visit[row] = _day((r.get("period") or {}).get("start"),
                                  ("Encounter.ndjson", number))
            else:
                diagnosis[row] = (r.get("code") or {}).get("text")
    treatment: list[str | None] = [None] * n
    follow_up = [False] * n
    tx: list[tuple[tuple[str, int], int, str | None]] = []
    fu: list[tuple[tuple[str, int], int]] = []
    for kind in ("MedicationRequest", "Procedure", "ServiceRequest"):
        found = _resources(folder, kind, 2 * n)
        if found is None:
            continue
        concept = "medicationCodeableConcept" if kind == "MedicationRequest" else "code"
        for (number, r), row in zip(found, rows(kind, found), strict=True):
            codings = (r.get("code") or {}).get("coding") or [] if kind == "ServiceRequest" \
                else []
            if any(c and (c.get("system"), c.get("code")) == FOLLOW_UP for c in codings):
                fu.append(((f"{kind}.ndjson", number), row))
            else:
                tx.append(((f"{kind}.ndjson", number), row, (r.get(concept) or {}).get("text")))
    once([w for w, _, _ in tx], [row for _, row, _ in tx])
    once([w for w, _ in fu], [row for _, row in fu])
    for _, row, text in tx:
        treatment[row] = text
    for _, row in fu:
        follow_up[row] = True
    out = []
    for (number, p), visit_day, dx, t, f in zip(patients, visit, diagnosis, treatment,
                                                follow_up, strict=True):
        birth = _day(p.get("birthDate"), ("Patient.ndjson", number))
        age = None
        if birth is not None and visit_day is not None:
            age = visit_day.year - birth.year - ((visit_day.month, visit_day.day)
                                                 < (birth.month, birth.day))
        pid = next((i.get("value") for i in p.get("identifier") or []
                    if i and i.get("system") == ID_SYSTEM), None)
        out.append((pid, visit_day, age, p.get("gender"), dx, t, f))
    return out


def frame_rows(frame) -> list[tuple]:
    """``read_records``' table as the tuples of :func:`reference_rows`."""
    import pandas as pd

    def value(v):
        return None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v

    out = []
    for r in frame.itertuples(index=False):
        day = None if pd.isna(r.visit_date) else r.visit_date.date()
        out.append((value(r.patient_id), day, None if pd.isna(r.age) else int(r.age),
                    value(r.gender), value(r.diagnosis), value(r.treatment),
                    bool(r.follow_up)))
    return out


_NAMED = [re.compile(p) for p in (
    r"^cannot read FHIR file '(?P<file>[^']+)': line (?P<line>[\d,]+): .+",
    r"^cannot read FHIR file '(?P<file>[^']+)': (it is (a folder|not a regular file)|"
    r"no such file)$",
    r"^'(?P<folder>[^']+)' is not a FHIR export folder: it has no Patient\.ndjson .+",
    r"^FHIR file '(?P<file>[^']+)' holds no Patient: .+")]


def outcome(folder: Path) -> str:
    """What ``read_records(folder)`` does, judged by :func:`reference_rows`."""
    import clinicsim
    from clinicsim import fhir

    try:
        expected: list[tuple] | Refused = reference_rows(folder)
    except Refused as refused:
        expected = refused
    try:
        got = fhir.read_records(folder)
    except clinicsim.RecordsError as exc:
        if not isinstance(expected, Refused):
            return "refused valid"
        message = str(exc)
        for shape in _NAMED:
            if (m := shape.match(message)) is not None:
                named = m.groupdict()
                if "folder" in named:
                    return "refused" if Path(named["folder"]) == folder else "unnamed refusal"
                path = Path(named["file"])
                if path.parent != folder or path.name not in {f"{k}.ndjson" for k in KINDS}:
                    return "unnamed refusal"
                if named.get("line") is not None:
                    lines = path.read_bytes().count(b"\n") + 1 if path.is_file() else 0
                    if not 1 <= int(named["line"].replace(",", "")) <= lines:
                        return "unnamed refusal"
                return "refused"
        return "unnamed refusal"
    except Exception as exc:  # noqa: BLE001 - what is counted: any other exception
        return f"traceback: {type(exc).__name__}"
    if isinstance(expected, Refused):
        return "silently accepted"
    return "read" if frame_rows(got) == expected else "wrong rows"


def base_folder(where: Path) -> Path:
    """The undamaged export: 30 records with every resource type and follow-ups."""
    import clinicsim
    from clinicsim import fhir

    records = clinicsim.sample(30, seed=21, extended=True)
    fhir.write(f"{where}/", records, seed=2)
    assert sorted(p.stem for p in where.iterdir()) == sorted(KINDS)
    return where


def _count(n: int) -> None:  # pragma: no cover - run by hand for the before/after counts
    """Counts of outcomes over ``n`` folders drawn as the sweep draws them (derandomized:
    the same folders whichever clinicsim is on the path), each read in a child process."""
    import tempfile

    from hypothesis import HealthCheck, given, settings

    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        base = base_folder(Path(tmp) / "base")

        @settings(max_examples=n, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(MUTATIONS)
        def draw(mutations):
            work = Path(tmp) / "work"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            folder = work / "x"
            shutil.copytree(base, folder, symlinks=True)
            for m in mutations:
                m(folder)
            read, write = os.pipe()
            child = os.fork()
            if child == 0:
                os.close(read)
                try:
                    result = outcome(folder)
                except BaseException as exc:  # noqa: BLE001
                    result = f"traceback: {type(exc).__name__}"
                os.write(write, result.encode())
                os._exit(0)
            os.close(write)
            with os.fdopen(read, "rb") as pipe:
                result = pipe.read().decode()
            _, status = os.waitpid(child, 0)
            result = result or f"crash (signal {os.WTERMSIG(status)})"
            counts[result] += 1
            if result not in ("read", "refused"):
                print(f"{result}: {mutations}", file=sys.stderr)

        draw()
    for result, count in counts.most_common():
        print(f"{count:5d}  {result}")


if __name__ == "__main__":  # pragma: no cover
    _count(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
