"""Optional FHIR codings of the further nodes and their states (``metadata.nodes``): used
by the Observations when given, text only otherwise, validated like the rest of a model."""

import pytest

import clinicsim
import clinicsim.fhir
from clinicsim.model import model_from_dict, model_to_dict
from clinicsim.simulate import COLUMNS
from tests.models import insurance_model
from tests.test_examples import PAYMENT

SOPT = "https://nahdo.org/sopt"


def observations(model, records, seed):
    return [r for r in clinicsim.fhir.resources(records, model=model, seed=seed)
            if r["resourceType"] == "Observation"]


def test_the_example_codes_payment_with_the_typology_and_leaves_patient_status_text():
    model = clinicsim.load_model(PAYMENT)
    records = clinicsim.sample(200, model=model, seed=1)
    found = observations(model, records, 1)
    status = [r for r in found if r["code"] == {"text": "patient_status"}]
    payment = [r for r in found if r["code"] == {"text": "payment"}]
    assert len(status) == len(payment) == 200
    assert {r["valueCodeableConcept"]["text"] for r in status} == {"established", "new"}
    assert all(set(r["valueCodeableConcept"]) == {"text"} for r in status)
    codes = {r["valueCodeableConcept"]["text"]: r["valueCodeableConcept"]["coding"]
             for r in payment}
    assert codes["medicare"] == [{"system": SOPT, "code": "1", "display": "MEDICARE"}]
    assert codes["medicaid_chip"] == [{"system": SOPT, "code": "23",
                                       "display": "Medicaid/SCHIP"}]
    assert {c[0]["code"] for c in codes.values()} == {"1", "23", "5", "8", "9"}


def with_codings(entry):
    data = model_to_dict(insurance_model())
    data["metadata"]["nodes"] = {"insurance": entry}
    return data


def test_a_node_coding_and_some_state_codings(tmp_path):
    node = {"system": "http://example.org/cs", "code": "INS", "display": "Insurance"}
    model = model_from_dict(with_codings(
        {"coding": node, "state_codings": {"public": {"system": "urn:oid:1.2.3", "code": "P"}}}))
    records = clinicsim.sample(300, model=model, seed=2, extended=True)
    found = observations(model, records, 2)
    assert {str(r["code"]) for r in found} == {str({"coding": [node], "text": "insurance"})}
    for r in found:
        value = r["valueCodeableConcept"]
        if value["text"] == "public":
            assert value["coding"] == [{"system": "urn:oid:1.2.3", "code": "P"}]
        else:
            assert "coding" not in value
    # read back by read_records (the text names the state), and the file round-trips
    clinicsim.fhir.write(tmp_path / "out/", records, model=model, seed=2)
    back = clinicsim.fhir.read_records(tmp_path / "out", model)
    assert back.equals(records[[*COLUMNS, "insurance"]])
    path = tmp_path / "m.yaml"
    model.save(path)
    assert clinicsim.load_model(path).metadata["nodes"] == model.metadata["nodes"]


def test_the_codings_are_valid_r4():
    r4b = pytest.importorskip("fhir.resources.R4B")
    model = clinicsim.load_model(PAYMENT)
    for resource in observations(model, clinicsim.sample(20, model=model, seed=6), 6):
        r4b.get_fhir_model_class("Observation").model_validate(resource)


@pytest.mark.parametrize(("entry", "message"), [
    ({"state_codings": {"public": {"system": "not a uri", "code": "P"}}},
     "metadata.nodes['insurance'].state_codings['public'].system must be the code system's URI"),
    ({"state_codings": {"public": {"system": SOPT, "code": " 2"}}},
     "metadata.nodes['insurance'].state_codings['public'].code must have no leading"),
    ({"state_codings": {"public": {"system": SOPT}}},
     "metadata.nodes['insurance'].state_codings['public'] must be {system, code}"),
    ({"state_codings": {"medicaid": {"system": SOPT, "code": "2"}}},
     "metadata.nodes['insurance'].state_codings['medicaid']: 'medicaid' is not a state of "
     "'insurance'"),
    ({"coding": {"system": SOPT, "code": "x", "colour": "red"}},
     "metadata.nodes['insurance'].coding must be {system, code}"),
    ({"state_codings": ["public"]}, "metadata.nodes['insurance'].state_codings must map states"),
])
def test_bad_codings_are_refused_naming_node_and_state(entry, message):
    with pytest.raises(clinicsim.ModelError) as info:
        model_from_dict(with_codings(entry))
    assert any(message in e for e in info.value.errors), info.value.errors


def test_codings_only_for_further_nodes_of_the_model():
    data = with_codings({})
    data["metadata"]["nodes"] = {"gender": {"coding": {"system": SOPT, "code": "1"}},
                                 "wealth": {}}
    with pytest.raises(clinicsim.ModelError) as info:
        model_from_dict(data)
    text = str(info.value)
    assert "metadata.nodes['gender']: only a further node" in text
    assert "metadata.nodes['wealth']: 'wealth' is not a node of the model" in text


def test_add_node_with_a_bad_coding_changes_nothing():
    model = clinicsim.default_model()
    where = r"metadata.nodes\['payer'\].state_codings\['a'\]"
    with pytest.raises(clinicsim.ModelError, match=where):
        model.add_node("payer", ["a", "b"], cpd={"a": 0.5, "b": 0.5},
                       metadata={"state_codings": {"a": {"system": "nope", "code": "1"}}})
    assert "payer" not in model.nodes and "nodes" not in model.metadata
