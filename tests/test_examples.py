"""examples/small_clinic.yaml: a small complete model file that loads, samples and passes
its own report, and is the model file shown in the docs (docs/model.md)."""

from pathlib import Path

import pytest

import clinicsim

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "examples" / "small_clinic.yaml"


def test_small_clinic_loads_samples_and_passes_its_report():
    model = clinicsim.load_model(SMALL)
    assert model.name == "small_clinic"
    assert model.nodes == ("gender", "age_group", "diagnosis", "treatment", "follow_up")
    assert len(model.states("diagnosis")) == 5
    t = model.targets  # its stated figures are its exact ones
    assert float(model.marginal("follow_up")["True"]) == pytest.approx(t.follow_up_rate,
                                                                        abs=0.001)
    assert dict(model.marginal("gender")) == pytest.approx(dict(t.gender_shares), abs=1e-12)
    records = model.sample(5000, seed=2024, extended=True)
    assert set(records.diagnosis) == set(model.states("diagnosis"))
    report = clinicsim.conformance_report(records, model=model)
    assert report.passed, report.summary()


def test_the_model_page_shows_the_small_clinic_file_itself():
    """docs/model.md includes the file (literalinclude), so the page cannot drift from it;
    the page's editing walkthrough, which ends with a saved model passing its report, runs
    in tests/test_docs.py."""
    page = (ROOT / "docs" / "model.md").read_text()
    assert "```{literalinclude} ../examples/small_clinic.yaml\n:language: yaml\n```" in page
