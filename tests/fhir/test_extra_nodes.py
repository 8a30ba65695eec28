"""A model's further nodes in FHIR: one Observation per node and record, read back as the
node's column (issue 22, item 1)."""

import json

import pytest

import clinicsim
import clinicsim.fhir
from clinicsim.simulate import COLUMNS
from tests.models import insurance_follow_up_model


@pytest.fixture(scope="module")
def model():
    return insurance_follow_up_model()


def test_each_extra_node_is_an_observation(model):
    records = clinicsim.sample(3, model=model, seed=1, extended=True)
    found = [r for r in clinicsim.fhir.resources(records, model=model, seed=1)
             if r["resourceType"] == "Observation"]
    assert [r["id"] for r in found] == ["P0000001-o0", "P0000002-o0", "P0000003-o0"]
    first = found[0]
    assert first["code"] == {"text": "insurance"}
    assert first["valueCodeableConcept"] == {"text": records.insurance.iloc[0]}
    assert first["subject"] == {"reference": "Patient/P0000001"}
    assert first["encounter"] == {"reference": "Encounter/P0000001-enc"}
    assert first["status"] == "final"


def test_read_back_equals_the_records(model, tmp_path):
    records = clinicsim.sample(3000, model=model, seed=2, extended=True)
    assert clinicsim.fhir.write(tmp_path / "out/", records, model=model, seed=2) == 3000
    back = clinicsim.fhir.read_records(tmp_path / "out", model)
    assert back.equals(records[[*COLUMNS, "insurance"]])
    assert clinicsim.conformance_report(back, model).passed


def test_sample_fhir_and_the_default_model_are_unchanged(model, tmp_path):
    clinicsim.fhir.sample_fhir(tmp_path / "a/", 50, model=model, seed=3)
    assert (tmp_path / "a" / "Observation.ndjson").exists()
    clinicsim.fhir.sample_fhir(tmp_path / "b/", 50, seed=3)
    assert not (tmp_path / "b" / "Observation.ndjson").exists()
    # read with the default model, the Observations are not its nodes: not read
    assert list(clinicsim.fhir.read_records(tmp_path / "a")) == list(COLUMNS)


def test_records_without_the_column_have_no_observations(model, tmp_path):
    records = clinicsim.sample(20, model=model, seed=4).drop(columns="insurance")
    clinicsim.fhir.write(tmp_path / "out/", records, model=model, seed=4)
    assert not (tmp_path / "out" / "Observation.ndjson").exists()
    assert list(clinicsim.fhir.read_records(tmp_path / "out", model)) == list(COLUMNS)


def _rewrite(path, line, change):
    lines = path.read_text().splitlines()
    resource = json.loads(lines[line])
    change(resource)
    lines[line] = json.dumps(resource)
    path.write_text("\n".join(lines) + "\n")


def test_bad_observations_are_named_by_line(model, tmp_path):
    records = clinicsim.sample(5, model=model, seed=5)
    clinicsim.fhir.write(tmp_path / "out/", records, model=model, seed=5)
    path = tmp_path / "out" / "Observation.ndjson"
    original = path.read_text()
    _rewrite(path, 1, lambda r: r["code"].update(text="income"))
    with pytest.raises(clinicsim.RecordsError, match=r"line 2: code.text 'income' is no "
                       r"further node of the model \('insurance'\)"):
        clinicsim.fhir.read_records(tmp_path / "out", model)
    path.write_text(original)
    _rewrite(path, 2, lambda r: r["subject"].update(reference="Patient/P0000001"))
    with pytest.raises(clinicsim.RecordsError, match=r"line 3: a second Observation of "
                       r"'insurance' for Patient/P0000001 \(the first is on line 1\)"):
        clinicsim.fhir.read_records(tmp_path / "out", model)
    path.write_text(original)
    _rewrite(path, 3, lambda r: r["valueCodeableConcept"].update(text="gold"))
    back = clinicsim.fhir.read_records(tmp_path / "out", model)  # the report names it
    report = clinicsim.conformance_report(back, model)
    (bad,) = [c for c in report.failed if c.name == "records: insurance"]
    assert "'gold'" in bad.detail


def test_observations_are_valid_r4(model):
    r4b = pytest.importorskip("fhir.resources.R4B")
    records = clinicsim.sample(20, model=model, seed=6, extended=True)
    found = [r for r in clinicsim.fhir.resources(records, model=model, seed=6)
             if r["resourceType"] == "Observation"]
    assert len(found) == 20
    for resource in found:
        r4b.get_fhir_model_class("Observation").model_validate(resource)
