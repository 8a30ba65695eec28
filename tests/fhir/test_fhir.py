"""FHIR R4 export: structure (fhir.resources R4B models), required bindings, references,
round trip, Bundle form, same bytes, and bad input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import clinicsim
from clinicsim import ClinicSimError, ModelError, RecordsError, fhir
from clinicsim._cli import main
from clinicsim.fhir._export import sample_fhir
from clinicsim.fhir._mapping import age_on, birth_dates
from clinicsim.model import model_from_dict, model_to_dict

pytest.importorskip("fhir.resources")
from fhir.resources.R4B import get_fhir_model_class

N = 3000  # enough rows for every treatment state and the follow-up


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return clinicsim.sample(N, seed=11, extended=True)


@pytest.fixture(scope="module")
def folder(records, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fhir") / "out"
    assert fhir.write(f"{out}/", records, seed=4) == N
    return out


def _resources(folder: Path) -> dict[str, list[dict]]:
    return {p.stem: [json.loads(line) for line in p.read_text().splitlines()]
            for p in sorted(folder.glob("*.ndjson"))}


def test_one_file_per_resource_type(folder, records):
    found = _resources(folder)
    assert sorted(found) == ["Condition", "Encounter", "MedicationRequest", "Patient",
                             "Procedure", "ServiceRequest"]
    assert all(len(found[t]) == N for t in ("Patient", "Encounter", "Condition"))
    treatments = sum(len(found[t]) for t in ("MedicationRequest", "Procedure", "ServiceRequest"))
    assert treatments == N + int(records["follow_up"].sum())
    assert all(r["resourceType"] == t for t, rs in found.items() for r in rs)


def test_every_resource_is_valid_fhir_r4(folder):
    """Each resource of each type written, against the R4B pydantic models; one per
    distinct code so that every treatment state's resource is covered."""
    for kind, rs in _resources(folder).items():
        model = get_fhir_model_class(kind)
        seen = set()
        for r in rs:
            key = json.dumps(r.get("code", r.get("medicationCodeableConcept")), sort_keys=True)
            if key in seen and len(seen) > 3:
                continue
            seen.add(key)
            model.model_validate(r)


def test_required_bindings(folder):
    found = _resources(folder)
    assert {p["gender"] for p in found["Patient"]} == {"male", "female", "other"}
    for e in found["Encounter"]:
        assert e["status"] == "finished"
        assert e["class"]["system"] == "http://terminology.hl7.org/CodeSystem/v3-ActCode"
        assert e["class"]["code"] == "AMB"
    statuses = Counter()
    categories = clinicsim.default_model().diagnosis_categories
    for c in found["Condition"]:
        status = c["clinicalStatus"]["coding"][0]
        assert status["system"] == "http://terminology.hl7.org/CodeSystem/condition-clinical"
        assert status["code"] in {"active", "recurrence", "relapse", "inactive", "remission",
                                  "resolved"}
        statuses[(categories[c["code"]["text"]], status["code"])] += 1
        (category,) = c["category"]
        assert category["coding"][0] == {
            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
            "code": "encounter-diagnosis", "display": "Encounter Diagnosis"}
        assert c["code"]["coding"][0]["system"] == "http://hl7.org/fhir/sid/icd-10-cm"
    assert statuses[("chronic", "resolved")] == 0 and statuses[("chronic", "active")] > 0


def test_references_resolve(folder):
    found = _resources(folder)
    ids = {f"{t}/{r['id']}" for t, rs in found.items() for r in rs}
    assert len(ids) == sum(map(len, found.values()))  # ids unique per type

    def refs(value):
        if isinstance(value, dict):
            for k, v in value.items():
                yield from ([v] if k == "reference" else refs(v))
        elif isinstance(value, list):
            for v in value:
                yield from refs(v)

    every = [ref for rs in found.values() for r in rs for ref in refs(r)]
    assert len(every) > 5 * N
    assert set(every) <= ids


def test_treatment_codes_come_from_the_model(folder):
    codes = clinicsim.default_model().metadata["treatments"]
    for kind in ("MedicationRequest", "Procedure", "ServiceRequest"):
        for r in _resources(folder)[kind]:
            concept = r.get("code", r.get("medicationCodeableConcept"))
            if r["id"].endswith("-fu"):
                assert concept["coding"][0]["code"] == "390906007"
                continue
            meta = codes[concept["text"]]
            assert meta["resource"] == kind
            assert concept["coding"] == [{k: meta[k] for k in ("system", "code", "display")}]


def test_birth_dates_match_the_age_on_the_visit(folder, records):
    births = np.array([p["birthDate"] for p in _resources(folder)["Patient"]], "datetime64[D]")
    visits = records["visit_date"].to_numpy("datetime64[D]")
    assert (age_on(births, visits) == records["age"].to_numpy()).all()


def test_birth_dates_cover_leap_days():
    days = np.arange(np.datetime64("2023-01-01"), np.datetime64("2025-01-01"))
    visit = np.repeat(days, 4)
    age = np.tile(np.array([0, 1, 3, 4]), len(days))
    birth = birth_dates(visit, age, np.random.SeedSequence(3), 0)
    assert (age_on(birth, visit) == age).all()
    assert (birth <= visit).all()
    # a visit on 29 Feb 2024 at age 3: born 2020-03-01 .. 2021-02-28 (2020-02-29 is 4)
    one = birth_dates(np.full(20000, np.datetime64("2024-02-29")), np.full(20000, 3),
                      np.random.SeedSequence(5), 0)
    assert one.min() == np.datetime64("2020-03-01") and one.max() == np.datetime64("2021-02-28")


@pytest.mark.parametrize("extended", [False, True])
def test_round_trip(tmp_path, extended):
    records = clinicsim.sample(2000, seed=12, extended=extended)
    fhir.write(tmp_path / "d/", records, seed=1)
    back = fhir.read_records(tmp_path / "d")
    pd.testing.assert_frame_equal(back, records[list(clinicsim.simulate.COLUMNS)])


def test_round_trip_of_ids_that_are_no_fhir_ids(tmp_path):
    records = clinicsim.sample(50, seed=13)
    records["patient_id"] = [f'pat_{i} "x"' if i % 2 else f"p{i}" for i in range(50)]
    fhir.write(tmp_path / "d/", records, seed=1)
    found = _resources(tmp_path / "d")
    assert found["Patient"][1]["id"].startswith("x-")
    assert found["Encounter"][1]["subject"]["reference"] == f"Patient/{found['Patient'][1]['id']}"
    back = fhir.read_records(tmp_path / "d")
    assert back["patient_id"].tolist() == records["patient_id"].tolist()


def test_resources_are_the_lines_written(folder, records):
    written = _resources(folder)
    from_api = list(fhir.resources(records, seed=4))
    assert sorted(map(json.dumps, from_api)) == sorted(
        json.dumps(r) for rs in written.values() for r in rs)


def test_same_seed_same_bytes_however_chunked(tmp_path, records):
    sample_fhir(tmp_path / "a/", N, seed=11, chunk_size=1000)
    sample_fhir(tmp_path / "b/", N, seed=11)
    for name in ("a", "b"):
        for p in (tmp_path / name).iterdir():
            assert p.read_bytes() == (tmp_path / "a" / p.name).read_bytes()
    fhir.write(tmp_path / "c/", records, seed=np.random.SeedSequence(11))
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == \
        sorted(p.name for p in (tmp_path / "a").iterdir())
    for p in (tmp_path / "c").iterdir():
        assert p.read_bytes() == (tmp_path / "a" / p.name).read_bytes()


def test_bundle(tmp_path, records):
    path = tmp_path / "b.json"
    fhir.write(path, records.head(40), seed=2)
    bundle = json.loads(path.read_text())
    get_fhir_model_class("Bundle").model_validate(bundle)
    assert bundle["type"] == "transaction"
    entries = bundle["entry"]
    assert len(entries) == 3 * 40 + 40 + int(records.head(40)["follow_up"].sum())
    for e in entries:
        r = e["resource"]
        assert e["request"] == {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}


def test_bundle_over_the_limit_is_refused(tmp_path, monkeypatch, records):
    monkeypatch.setattr("clinicsim.fhir._export.BUNDLE_MAX_RECORDS", 10)
    with pytest.raises(ClinicSimError, match="at most 10 records; got 11"):
        fhir.write(tmp_path / "b.json", records.head(11))
    with pytest.raises(ClinicSimError, match="at most 10 records; got 11"):
        sample_fhir(tmp_path / "b.json", 11)
    assert list(tmp_path.iterdir()) == []


def test_unknown_suffix_is_refused(tmp_path, records):
    with pytest.raises(ClinicSimError, match=r"unknown FHIR output '\.xml'"):
        fhir.write(tmp_path / "x.xml", records.head(3))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("")
    with pytest.raises(ClinicSimError, match="directory is not empty"):
        fhir.write(tmp_path / "full/", records.head(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]


def test_invalid_records_are_refused_with_the_records_check_message(tmp_path):
    records = clinicsim.sample(30, seed=14)
    records.to_csv(tmp_path / "r.csv", index=False)
    text = (tmp_path / "r.csv").read_text().splitlines()
    text[2] = text[2].replace(",male,", ",robot,").replace(",female,", ",robot,") \
        .replace(",other,", ",robot,")
    (tmp_path / "r.csv").write_text("\n".join(text) + "\n")
    report = clinicsim.conformance_report(tmp_path / "r.csv")
    (check,) = [c for c in report.checks if c.name == "records: gender"]
    with pytest.raises(RecordsError) as caught:
        fhir.write(tmp_path / "out/", tmp_path / "r.csv")
    assert f"records: gender: {check.detail}" in caught.value.errors
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]


def test_model_validate_checks_treatment_codes():
    data = model_to_dict(clinicsim.default_model())
    del data["metadata"]["treatments"]["antibiotic"]
    data["metadata"]["treatments"]["inhaler"]["resource"] = "Observation"
    with pytest.raises(ModelError) as caught:
        model_from_dict(data)
    text = str(caught.value)
    assert "metadata.treatments must give {resource, system, code, display}" in text
    assert "missing ['antibiotic']" in text


def test_cli_sample_export_and_report(tmp_path, capsys):
    def run(*args):
        with pytest.raises(SystemExit) as stop:
            main(list(args))
        return stop.value.code

    assert run("sample", "-n", "500", "--seed", "3", "--format", "fhir", "-o",
               f"{tmp_path}/a/") == 0
    assert run("sample", "-n", "500", "--seed", "3", "--extended", "-o",
               str(tmp_path / "r.parquet")) == 0
    assert run("export", "fhir", str(tmp_path / "r.parquet"), "--seed", "3", "-o",
               f"{tmp_path}/b/") == 0
    for p in (tmp_path / "a").iterdir():
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes()
    assert run("report", f"{tmp_path}/a/") == 0
    assert run("sample", "-n", "5", "--format", "csv", "-o", f"{tmp_path}/c/") == 2
    assert "--format must be 'fhir'" in capsys.readouterr().err


def test_dask_workers_write_the_same_bytes(tmp_path):
    pytest.importorskip("distributed")
    sample_fhir(tmp_path / "w/", 70_000, seed=8, chunk_size=1 << 16, workers=1)
    sample_fhir(tmp_path / "s/", 70_000, seed=8)
    for p in (tmp_path / "s").iterdir():
        assert p.read_bytes() == (tmp_path / "w" / p.name).read_bytes()
