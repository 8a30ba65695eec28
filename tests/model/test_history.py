"""The model file's history section: defaults, validation, round trips."""

import pytest

import clinicsim
from clinicsim.model import model_from_dict, model_to_dict
from clinicsim.model._history import DEFAULTS, default_return_rate


def _with(history):
    data = model_to_dict(clinicsim.default_model())
    data["history"] = history
    return data


def test_a_model_without_the_section_gets_the_cited_defaults():
    model = clinicsim.default_model()
    assert "history" not in model_to_dict(model)  # the presets stay as they are
    h = model.history
    assert h.attend("chronic") == 0.70  # Synthea hypertension: 26.7-32.2% drop out
    assert [h.repeat_p("chronic", k) for k in (1, 2, 3, 4, 10)] == [0.8, 0.8, 0, 0, 0]
    # NAMCS 2019 visits per 100 persons per year, times the judged share 0.5
    assert dict(h.return_rates) == {"0_14": 0.975, "15_24": 0.78, "25_44": 0.995,
                                    "45_64": 1.875, "65_74": 3.31, "75_89": 3.88}
    assert set(DEFAULTS["attendance"]) == set(DEFAULTS["repeat"])


def test_other_bands_average_namcs_over_their_years():
    assert default_return_rate(10, 19) == pytest.approx((5 * 1.95 + 5 * 1.56) / 10 * 0.5)


def test_a_partial_section_keeps_the_defaults_for_the_rest_and_round_trips(tmp_path):
    model = model_from_dict(_with({"attendance": {"viral": 0.4},
                                   "repeat": {"chronic": [0.9, 0.5, 0.25]},
                                   "return_rates": {"75_89": 6}}))
    h = model.history
    assert (h.attend("viral"), h.attend("chronic")) == (0.4, 0.70)
    assert h.repeat_p("chronic", 7) == 0.25 and h.rate("75_89") == 6.0
    assert h.rate("0_14") == 0.975
    for suffix in (".yaml", ".json"):
        path = tmp_path / f"m{suffix}"
        model.save(path)
        back = clinicsim.load_model(path)
        assert back.history == h
        assert back.content_key() == model.content_key()
    assert "history:\n" in (tmp_path / "m.yaml").read_text()


def test_edits_and_copies_keep_the_history():
    model = model_from_dict(_with({"attendance": {"viral": 0.4}}))
    other = model.copy()
    other.remove_state("treatment", "physical_therapy")
    assert other.history == model.history
    assert model.content_key() != clinicsim.default_model().content_key()


@pytest.mark.parametrize(("history", "message"), [
    ({"attendance": {"viral": 1.5}},
     "history.attendance['viral'] must be a probability in [0, 1]; got 1.5"),
    ({"attendance": {"viral": "0.5"}}, "history.attendance['viral'] must be a probability"),
    ({"attendance": {"flu": 0.5}}, "history.attendance: unknown category 'flu'"),
    ({"repeat": {"chronic": [0.5, -0.1]}}, "history.repeat['chronic'][1] must be a probability"),
    ({"repeat": {"chronic": [0.5, 1]}}, "history.repeat['chronic']: the last value (1) holds "
                                        "for every later follow-up, so a chain would never end"),
    ({"repeat": {"chronic": []}}, "history.repeat['chronic'] must be a list of 1 to 20"),
    ({"repeat": {"chronic": [0.1] * 21}}, "history.repeat['chronic'] must be a list of 1 to 20"),
    ({"return_rates": {"0_14": -1}}, "history.return_rates['0_14'] must be a rate of visits "
                                     "per patient-year in [0, 52]"),
    ({"return_rates": {"0_14": float("nan")}}, "history.return_rates['0_14'] must be a rate"),
    ({"return_rates": {"90+": 1}}, "history.return_rates: unknown age band '90+'"),
    ({"visits": 1}, "history: unknown entries ['visits']"),
    ([1], "history must be a mapping"),
    ({"attendance": [0.5]}, "history.attendance must be a mapping category -> value"),
])
def test_bad_sections_are_refused_naming_the_field(history, message):
    with pytest.raises(clinicsim.ModelError) as info:
        model_from_dict(_with(history))
    assert message in str(info.value)


def test_every_problem_is_named_at_once_and_the_section_belongs_at_the_top():
    with pytest.raises(clinicsim.ModelError) as info:
        model_from_dict(_with({"attendance": {"viral": 2}, "return_rates": {"0_14": -2}}))
    assert len(info.value.errors) == 2
    data = model_to_dict(clinicsim.default_model())
    data["metadata"]["history"] = {}
    with pytest.raises(clinicsim.ModelError, match="a section of its own at the top level"):
        model_from_dict(data)


def test_a_yaml_file_with_a_bad_section_names_the_file(tmp_path):
    path = tmp_path / "m.yaml"
    clinicsim.default_model().save(path)
    path.write_text(path.read_text() + "history:\n  attendance:\n    surgical: 2\n")
    with pytest.raises(clinicsim.ModelError, match=r"m\.yaml: history\.attendance\['surgical'\]"):
        clinicsim.load_model(path)
