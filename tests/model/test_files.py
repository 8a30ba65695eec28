"""Model files: round trips through every format, and every problem reported at once."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

import clinicsim
from clinicsim import ModelError
from clinicsim.model import model_to_dict


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json", ".bif", ".xmlbif"])
def test_round_trip_keeps_cpds(model, tmp_path, suffix):
    model.set_cpd("gender", {"male": 0.5, "female": 0.3, "other": 0.2})
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = clinicsim.load_model(path)
    assert loaded.nodes == model.nodes
    for node in model.nodes:
        pd.testing.assert_frame_equal(loaded.cpd(node), model.cpd(node), atol=1e-12)
    assert loaded.diagnosis_categories == model.diagnosis_categories
    assert loaded.age_bands == model.age_bands
    if suffix in (".yaml", ".yml", ".json"):
        assert model_to_dict(loaded) == model_to_dict(model)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


def write(tmp_path, data, name="m.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if name.endswith(".yaml") else json.dumps(data))
    return path


def test_every_problem_is_reported_at_once(model, tmp_path):
    data = model_to_dict(model)
    data["nodes"]["gender"]["cpd"]["male"] = 0.5
    data["nodes"]["follow_up"]["cpd"][3]["p"]["True"] = -0.1
    del data["nodes"]["treatment"]["cpd"][0]
    data["metadata"]["visit_window"]["end"] = "2023-01-01"
    with pytest.raises(ModelError) as info:
        clinicsim.load_model(write(tmp_path, data))
    errors = info.value.errors
    assert len(errors) == 4, errors
    assert any("'gender' sums to 1.05" in e for e in errors)
    assert any("'follow_up' column (diagnosis=hypertension, age_group=45_64)" in e for e in errors)
    assert any("'treatment' is missing columns (age_group=0_14, diagnosis=hypertension)" in e
               for e in errors)
    assert any("ends (2023-01-01) before it starts" in e for e in errors)
    assert all(e.startswith(str(tmp_path)) for e in errors)


def test_structure_errors(model, tmp_path):
    data = model_to_dict(model)
    data["nodes"]["gender"]["parents"] = ["follow_up"]
    data["nodes"]["gender"]["cpd"] = [{"given": {"follow_up": s}, "p": {"male": 0.45, "female": 0.43,
                                       "other": 0.12}} for s in ("True", "False")]
    with pytest.raises(ModelError, match="cycle"):
        clinicsim.load_model(write(tmp_path, data))
    data = model_to_dict(model)
    del data["nodes"]["treatment"]
    with pytest.raises(ModelError, match="required node 'treatment' is missing"):
        clinicsim.load_model(write(tmp_path, data, "m.json"))
    data = model_to_dict(model)
    data["schema_version"] = 99
    with pytest.raises(ModelError, match="unsupported schema_version 99"):
        clinicsim.load_model(write(tmp_path, data))


def test_unsafe_or_malformed_files_are_refused(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("!!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ModelError, match="cannot parse model file"):
        clinicsim.load_model(evil)
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    with pytest.raises(ModelError, match="broken.json"):
        clinicsim.load_model(broken)
    with pytest.raises(ModelError, match="unknown model format '.txt'"):
        clinicsim.load_model(tmp_path / "m.txt")
    with pytest.raises(ModelError, match="cannot read model file"):
        clinicsim.load_model(tmp_path / "absent.yaml")


def test_non_default_edges_and_extra_nodes(model, tmp_path):
    """A model file may add nodes and edges; sampling and inference follow them."""
    data = model_to_dict(model)
    data["nodes"]["smoker"] = {"states": ["yes", "no"], "parents": ["age_group"], "cpd": [
        {"given": {"age_group": b}, "p": {"yes": 0.0 if b == "0_14" else 0.2,
                                          "no": 1.0 if b == "0_14" else 0.8}}
        for b in model.states("age_group")]}
    fu = data["nodes"]["follow_up"]
    fu["parents"] = ["diagnosis", "age_group", "smoker"]
    fu["cpd"] = [{"given": {**c["given"], "smoker": s}, "p": c["p"]}
                 for c in fu["cpd"] for s in ("yes", "no")]
    loaded = clinicsim.load_model(write(tmp_path, data))
    assert loaded.nodes.index("smoker") < loaded.nodes.index("follow_up")
    assert loaded.parents("follow_up") == ("diagnosis", "age_group", "smoker")
    np.testing.assert_allclose(loaded.marginal("follow_up"), model.marginal("follow_up"))
    assert len(loaded.sample(100, seed=1)) == 100
