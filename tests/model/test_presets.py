"""The us-office-visits preset: NAMCS 2019 primary-care ages and sexes, the rest as the default."""

from importlib import resources

import pandas as pd
import pytest

import clinicsim
from clinicsim._reference import NAMCS_PRIMARY_CARE_AGE, NAMCS_SEX
from clinicsim.model import PRESETS, model_to_dict


@pytest.fixture(scope="module")
def preset():
    return clinicsim.load_model("us-office-visits")


def test_presets_are_listed_and_default_stays_the_brief():
    assert set(PRESETS) == {"default", "us-office-visits"}
    assert clinicsim.default_model().marginal("gender").to_dict() == pytest.approx(
        {"male": 0.45, "female": 0.43, "other": 0.12}, abs=1e-12)


@pytest.mark.parametrize("name", list(PRESETS))
def test_a_preset_is_its_yaml_file(name):
    """A preset is loaded from the JSON twin of its YAML file (faster to parse): the two hold
    the same model, the YAML read as any model file is (duplicate keys refused)."""
    yaml_file = resources.files("clinicsim.model").joinpath("data", PRESETS[name])
    with resources.as_file(yaml_file) as path:
        from_yaml = clinicsim.load_model(path)
    preset = clinicsim.load_model(name)
    assert preset.content_key() == from_yaml.content_key()
    assert model_to_dict(preset) == model_to_dict(from_yaml)


def test_ages_are_namcs_primary_care(preset):
    expected = pd.Series(NAMCS_PRIMARY_CARE_AGE, index=preset.states("age_group"))
    assert preset.marginal("age_group").to_dict() == pytest.approx(
        (expected / expected.sum()).to_dict(), abs=1e-6)


def test_sexes_are_namcs_with_a_small_other_share(preset):
    p = preset.marginal("gender")
    assert p["other"] == pytest.approx(0.016)
    assert p["female"] / (p["male"] + p["female"]) == pytest.approx(NAMCS_SEX["female"] / 100)
    assert dict(preset.targets[0].values) == pytest.approx(p.to_dict(), abs=1e-12)


def test_everything_else_is_the_default(preset):
    default = clinicsim.default_model()
    assert preset.nodes == default.nodes
    for node in default.nodes:
        if node not in ("gender", "age_group"):
            pd.testing.assert_frame_equal(preset.cpd(node), default.cpd(node))
    metadata = preset.metadata
    assert metadata == default.metadata


def test_preset_meets_its_own_targets(preset):
    assert preset.marginal("follow_up")["True"] == pytest.approx(
        preset.targets[1].value, abs=0.005)
