"""Reading a FHIR export back: a sweep of hostile folders (each read correctly, or refused
by a RecordsError naming the file and the line), the issue's own examples, the limits,
and the round trip of what fhir.write writes."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clinicsim
from clinicsim import ClinicSimError, RecordsError, fhir
from clinicsim._cli import main
from clinicsim.fhir import _read

from ._hostile import MUTATIONS, base_folder, frame_rows, outcome, reference_rows

pytest.importorskip("fhir.resources")
from fhir.resources.R4B import get_fhir_model_class  # the package's default modules are R5

# Deterministic: the same folders every run, in CI and locally
SWEEP = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return base_folder(tmp_path_factory.mktemp("fhir") / "base")


def _copy(base: Path, where: Path) -> Path:
    folder = where / "x"
    shutil.copytree(base, folder)
    return folder


@SWEEP
@given(mutations=MUTATIONS)
def test_a_hostile_folder_is_read_correctly_or_refused_by_file_and_line(base, mutations):
    """Against a reference reader (line by line, json.loads, the documented rules): the
    same rows, or a RecordsError naming a file of the folder and a line of it (or the
    file or folder as a whole); never another exception, a refusal of what the rules
    accept, or rows that differ (a value lost or invented)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = _copy(base, Path(tmp))
        for mutate in mutations:
            mutate(folder)
        assert outcome(folder) in ("read", "refused")


def test_the_undamaged_folder_is_read_as_the_reference_reads_it(base):
    assert frame_rows(fhir.read_records(base)) == reference_rows(base)


def _lines(path: Path) -> list[dict]:
    """The resources of an NDJSON file (split at newlines only: a value may hold U+2028)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def _write(path: Path, resources: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in resources))


def _edit(folder: Path, kind: str, line: int, **fields) -> None:
    resources = _lines(folder / f"{kind}.ndjson")
    resources[line - 1].update(fields)
    _write(folder / f"{kind}.ndjson", resources)


def _refused(folder: Path, message: str) -> None:
    with pytest.raises(RecordsError) as caught:
        fhir.read_records(folder)
    assert str(caught.value) == message.format(folder=folder)


def test_a_folder_without_patients_says_what_an_export_holds(base, tmp_path, capsys):
    folder = _copy(base, tmp_path)
    (folder / "Patient.ndjson").unlink()
    _refused(folder, "'{folder}' is not a FHIR export folder: it has no Patient.ndjson (an "
             "export holds Patient.ndjson, one Patient a line, with Encounter.ndjson, "
             "Condition.ndjson and the treatments' MedicationRequest.ndjson, "
             "Procedure.ndjson, ServiceRequest.ndjson)")
    with pytest.raises(SystemExit) as stop:
        main(["report", str(folder)])
    assert stop.value.code == 2
    assert capsys.readouterr().err.startswith(f"error: '{folder}' is not a FHIR export folder")
    with pytest.raises(RecordsError, match="is a folder; a FHIR export folder .* is read by "
                       "clinicsim.fhir.read_records"):
        clinicsim.conformance_report(folder)


def test_resource_type_is_checked_on_every_line(base, tmp_path):
    folder = _copy(base, tmp_path)
    _edit(folder, "Patient", 3, resourceType="Observation")
    _refused(folder, "cannot read FHIR file '{folder}/Patient.ndjson': line 3: resourceType "
             "is 'Observation', not 'Patient'")
    _edit(folder, "Patient", 3, resourceType="Patient")
    encounters = _lines(folder / "Encounter.ndjson")
    del encounters[4]["resourceType"]
    _write(folder / "Encounter.ndjson", encounters)
    _refused(folder, "cannot read FHIR file '{folder}/Encounter.ndjson': line 5: "
             "resourceType is missing (every line of Encounter.ndjson is an Encounter)")


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_file_that_is_not_a_regular_file_is_refused(base, tmp_path, kind):
    folder = _copy(base, tmp_path)
    path = folder / "Encounter.ndjson"
    path.unlink()
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    _refused(folder, "cannot read FHIR file '{folder}/Encounter.ndjson': it is "
             + ("not a regular file" if kind == "fifo" else "a folder"))


def test_a_10_mb_line_is_read(base, tmp_path):
    folder = _copy(base, tmp_path)
    expected = fhir.read_records(folder)
    _edit(folder, "Condition", 2, note="x" * 10_000_000)
    _edit(folder, "Patient", 5, note="y" * 10_000_000)
    pd.testing.assert_frame_equal(fhir.read_records(folder), expected)


def test_a_line_over_the_line_limit_is_refused(base, tmp_path, monkeypatch):
    monkeypatch.setattr(_read, "MAX_LINE_BYTES", 2**20)
    monkeypatch.setattr(_read, "_BLOCK_BYTES", 2**16)
    folder = _copy(base, tmp_path)
    _edit(folder, "Condition", 7, note="x" * 2**20)
    _refused(folder, "cannot read FHIR file '{folder}/Condition.ndjson': line 7: longer "
             "than 1 MiB; the limit is MAX_LINE_BYTES = 1,048,576 bytes")


@pytest.mark.parametrize(("subject", "problem"), [
    (None, "subject is missing"), ({}, "subject.reference is missing"),
    ({"reference": None}, "subject.reference is missing")])
def test_a_missing_subject_is_named_by_file_line_and_field(base, tmp_path, subject, problem):
    folder = _copy(base, tmp_path)
    _edit(folder, "Encounter", 4, subject=subject)
    _refused(folder, "cannot read FHIR file '{folder}/Encounter.ndjson': line 4: "
             f"{problem}; every resource names its Patient as subject.reference 'Patient/ID'")


def test_typed_wrong_fields_and_bad_references_are_named(base, tmp_path):
    folder = _copy(base, tmp_path)
    _edit(folder, "Encounter", 2, subject="Patient/P0000001")
    _refused(folder, "cannot read FHIR file '{folder}/Encounter.ndjson': line 2: subject "
             "must be a JSON object, not a string")
    _edit(folder, "Encounter", 2, subject={"reference": "Patient/nobody"})
    _refused(folder, "cannot read FHIR file '{folder}/Encounter.ndjson': line 2: "
             "subject.reference 'Patient/nobody' is no Patient of this export ('Patient/ID' "
             "with an id of Patient.ndjson)")
    _edit(folder, "Encounter", 2, subject={"reference": "Patient/P0000001"})
    _refused(folder, "cannot read FHIR file '{folder}/Encounter.ndjson': line 2: a second "
             "Encounter of Patient/P0000001 (the first is on line 1)")


def test_repeated_and_missing_patient_ids_are_named(base, tmp_path):
    folder = _copy(base, tmp_path)
    _edit(folder, "Patient", 9, id="P0000004")
    _refused(folder, "cannot read FHIR file '{folder}/Patient.ndjson': line 9: Patient id "
             "'P0000004' is already on line 4")
    _edit(folder, "Patient", 9, id=None)
    _refused(folder, "cannot read FHIR file '{folder}/Patient.ndjson': line 9: the Patient "
             "has no id")


@pytest.mark.parametrize("start", ["2024-03-01T10:00:00+02:00", "2024-03-01T10:00:00Z"])
def test_a_date_with_a_time_zone_is_refused_as_a_records_date_is(base, tmp_path, start):
    folder = _copy(base, tmp_path)
    _edit(folder, "Encounter", 5, period={"start": start})
    _refused(folder, "cannot read FHIR file '{folder}/Encounter.ndjson': line 5: period.start "
             f"'{start}' is not a date YYYY-MM-DD (a time of day may follow; no time zone)")
    # a time of day, without a zone, is the records' rule too: the day is kept
    _edit(folder, "Encounter", 5, period={"start": start[:19]})
    assert fhir.read_records(folder)["visit_date"].iloc[4] == pd.Timestamp(start[:10])


def test_lines_that_pyarrow_misreads_are_refused(base, tmp_path):
    """pyarrow reads a line 'null' as a row of nulls (and crashes if the file starts with
    one), two objects on a line as two rows, and does not check UTF-8."""
    folder = _copy(base, tmp_path)
    path = folder / "Encounter.ndjson"
    good = path.read_bytes().splitlines(keepends=True)
    for line, problem in [(b"null", "is not a JSON object: 'null'"),
                          (b"{} {}", "holds more than one JSON value"),
                          (b'{"note":"\xff"}', "is not UTF-8 text (byte 0xff)"),
                          (b'{"subject":{},"subject":{}}', "subject is given twice"),
                          (b'{"x":', "is not a JSON object: '{\"x\":'")]:
        path.write_bytes(b"".join(good[:-1]) + line + b"\n")  # in place of line 30
        with pytest.raises(RecordsError) as caught:
            fhir.read_records(folder)
        assert str(caught.value) == f"cannot read FHIR file '{path}': line 30: {problem}"


def test_blank_lines_a_byte_order_mark_and_crlf_change_nothing(base, tmp_path):
    folder = _copy(base, tmp_path)
    expected = fhir.read_records(folder)
    path = folder / "Encounter.ndjson"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join([lines[0], b"", b"  \t", *lines[1:]]))
    pd.testing.assert_frame_equal(fhir.read_records(folder), expected)
    wrong = lines[1].replace(b'"Encounter"', b'"Condition"', 1)
    path.write_bytes(b"\r\n".join([lines[0], b"", b"  \t", wrong, *lines[2:]]))
    _refused(folder, "cannot read FHIR file '{folder}/Encounter.ndjson': line 4: resourceType "
             "is 'Condition', not 'Encounter'")  # blank lines are counted as lines


@pytest.mark.parametrize("kind", ["Encounter", "Condition", "Procedure"])
def test_an_empty_file_is_a_missing_file(base, tmp_path, kind):
    """Both hold no resources: their values are missing, which the report names."""
    folder = _copy(base, tmp_path)
    path = folder / f"{kind}.ndjson"
    path.unlink()
    missing = fhir.read_records(folder)
    for text in ("", "\n", " \n\n"):
        path.write_text(text)
        pd.testing.assert_frame_equal(fhir.read_records(folder), missing)
    column = {"Encounter": "visit_date", "Condition": "diagnosis"}.get(kind, "treatment")
    assert missing[column].isna().any()


@pytest.mark.parametrize("text", ["", "\n \n"])
def test_an_export_without_patients_is_refused(base, tmp_path, text):
    folder = _copy(base, tmp_path)
    (folder / "Patient.ndjson").write_text(text)
    _refused(folder, "FHIR file '{folder}/Patient.ndjson' holds no Patient: the export has "
             "no records")


@pytest.mark.parametrize("prepass", [True, False])
def test_more_patients_than_a_records_file_may_hold_are_refused(base, tmp_path, monkeypatch,
                                                                  prepass):
    """MAX_RECORDS_ROWS, as for a records file: refused at the first Patient over it, counted
    first when the file is large (``prepass``) or as blocks are read."""
    from clinicsim.analysis import _records

    monkeypatch.setattr(_records, "MAX_RECORDS_ROWS", 29)
    monkeypatch.setattr(_read, "_BLOCK_BYTES", 2**10)
    if not prepass:
        monkeypatch.setattr(_read, "_PATIENT_BYTES", 2**20)
    folder = _copy(base, tmp_path)
    _refused(folder, "cannot read FHIR file '{folder}/Patient.ndjson': line 30: more than 29 "
             "Patients; the limit is MAX_RECORDS_ROWS, as for the rows of a records file; "
             "check a random sample of the patients instead")
    monkeypatch.setattr(_records, "MAX_RECORDS_ROWS", 30)
    assert len(fhir.read_records(folder)) == 30


def test_more_resources_than_the_patients_can_have_are_refused_as_read(base, tmp_path):
    folder = _copy(base, tmp_path)
    path = folder / "Condition.ndjson"
    path.write_bytes(path.read_bytes() * 2)
    _refused(folder, "cannot read FHIR file '{folder}/Condition.ndjson': line 31: more than "
             "30 Conditions; the export has 30 Patients, and one Condition each at most")


# FHIR strings by fhir.resources' pattern [ \r\n\t\S]+ (Python's \S: no Unicode spaces)
_FHIR_TEXT = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"),
                           include_characters=" \t")


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(n=st.integers(1, 60), seed=st.integers(0, 2**32), extended=st.booleans(),
       ids=st.lists(st.text(_FHIR_TEXT, min_size=1, max_size=80).filter(str.strip),
                    min_size=60, max_size=60, unique=True))
def test_a_written_folder_reads_back_to_the_same_records(n, seed, extended, ids):
    """Any patient_id that is a FHIR string comes back as it went in (an id that is no
    FHIR id is hashed in Patient.id, kept in Patient.identifier)."""
    records = clinicsim.sample(n, seed=seed, extended=extended)
    records["patient_id"] = pd.array(ids[:n], dtype=records["patient_id"].dtype)
    with tempfile.TemporaryDirectory() as tmp:
        fhir.write(f"{tmp}/out/", records, seed=seed)
        back = fhir.read_records(f"{tmp}/out")
        for path in Path(tmp, "out").iterdir():  # and each resource is valid FHIR R4
            for resource in _lines(path)[:5]:
                get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    pd.testing.assert_frame_equal(back, records[list(clinicsim.simulate.COLUMNS)])


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_patient_id_that_is_no_fhir_value_is_refused(tmp_path, blank):
    records = clinicsim.sample(3, seed=1)
    records.loc[1, "patient_id"] = blank
    with pytest.raises(RecordsError) as caught:
        fhir.write(f"{tmp_path}/out/", records)
    assert caught.value.errors == [
        f"records: patient_id: 1 row(s) hold no FHIR value: empty or white space only (row 2 "
        f"{blank!r})", "nothing was exported: FHIR needs every value valid"]
    assert list(tmp_path.iterdir()) == []


def _run(*args: str) -> int:
    with pytest.raises(SystemExit) as stop:
        main(list(args))
    return stop.value.code


# (`export fhir good.csv -o good.csv/` names its own input: refused as that, test_clobber)
@pytest.mark.parametrize("command", [["sample", "-n", "5"],
                                     ["sample", "-n", "5", "--format", "fhir"]])
def test_a_folder_output_that_names_a_file_says_so(tmp_path, capsys, command):
    records = tmp_path / "good.csv"
    clinicsim.sample(5, seed=1).to_csv(records, index=False)
    before = records.read_bytes()
    assert _run(*command, "-o", f"{records}/") == 2
    assert capsys.readouterr().err == (
        f"error: output '{records}/' names a folder (it ends in /), but '{records}' is a "
        f"file; name a new or empty folder, or write -o '{records}' to replace the file\n")
    assert records.read_bytes() == before


def test_the_free_space_check_speaks_in_sensible_units(tmp_path, monkeypatch):
    from collections import namedtuple

    from clinicsim.fhir import _export

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(_export.shutil, "disk_usage", lambda path: usage(0, 0, 120_000))
    with pytest.raises(ClinicSimError) as caught:
        _export.sample_fhir(f"{tmp_path}/out/", 100, seed=1)
    assert str(caught.value) == (
        f"output '{tmp_path}/out/': 100 records need up to about 250.0 kB as FHIR, but "
        f"'{tmp_path}' has 120.0 kB free; sample fewer rows or write elsewhere")
    assert list(tmp_path.iterdir()) == []
