"""examples/small_clinic.yaml: a small complete model file that loads, samples and passes
its own report, and is the model file shown in the README."""

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


def test_readme_shows_the_small_clinic_file_verbatim():
    readme = (ROOT / "README.md").read_text()
    block = "```yaml\n" + SMALL.read_text() + "```\n"
    assert block in readme


def test_readme_python_walkthrough_runs_and_ends_green(tmp_path, monkeypatch):
    """The README's Python API block, run as written up to where it streams 50 million rows:
    the one edit that contradicts a target warns, the next line states the new figures, and
    the saved model passes its own report."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Python API\n\n```python\n", 1)[1].split("```", 1)[0]
    code = block.split("# Beyond memory", 1)[0]
    assert 'model.save("my_clinic.yaml")' in code and ".passed" in code
    monkeypatch.chdir(tmp_path)  # my_clinic.yaml is written here
    with pytest.warns(clinicsim.TargetWarning, match="share gender") as caught:
        exec(compile(code, "README.md", "exec"), {})
    assert len(caught) == 1
    model = clinicsim.load_model(tmp_path / "my_clinic.yaml")
    assert model.name == "default (edited)" and model.targets.gender_shares["male"] == 0.5
    report = clinicsim.conformance_report(model.sample(5000, seed=42), model)
    assert report.passed, report.summary()
