"""Targets as statements: parsing, refusal, the old mapping, exact values, with_targets."""

import copy
import re

import pytest

from clinicsim import ModelError, default_model
from clinicsim.model import Difference, Even, Rate, Share, Targets, Trend, model_to_dict
from clinicsim.model._schema import model_from_dict
from clinicsim.model._targets import exact_value, is_met, parse_statements, statements_to_list

OLD_MAPPING = {  # the targets mapping of the first schema-1 files
    "gender": {"shares": {"male": 0.45, "female": 0.43, "other": 0.12}, "margin": 0.02},
    "follow_up": {"rate": 0.30, "margin": 0.02},
    "follow_up_priority": {"categories": ["chronic", "surgical", "viral"],
                           "min_difference": 0.15},
    "follow_up_age_trend": {"category": "chronic"},
    "age": {"min": 0, "max": 89, "margin": 0.02},
}


@pytest.fixture(scope="module")
def model():
    return default_model()


@pytest.fixture(scope="module")
def states(model):
    return {n: list(model.table(n).states) for n in model.nodes}


def test_default_model_states_the_brief_five(model, states):
    got = model.targets
    assert isinstance(got, Targets) and isinstance(got, tuple)
    assert [type(s) for s in got] == [Share, Rate, Difference, Trend, Even]
    assert [str(s) for s in got][1] == "rate follow_up=True"
    assert str(got[3]) == "trend follow_up=True over age_group where diagnosis_category=chronic"
    assert parse_statements(statements_to_list(got), states) == got  # round trip


def test_old_mapping_loads_as_the_same_statements(model):
    data = model_to_dict(model)
    assert isinstance(data["targets"], list)  # export writes the list
    data["targets"] = copy.deepcopy(OLD_MAPPING)
    assert model_from_dict(data).targets == model.targets
    del data["targets"]["age"]  # no even spread stated
    assert [type(s) for s in model_from_dict(data).targets] == [Share, Rate, Difference, Trend]


@pytest.mark.parametrize("path, value, message", [
    (("gender", "shares", "male"), 0.40, "targets.gender.shares sum to 0.95, not 1"),
    (("follow_up", "rate"), "0.3", "targets.follow_up.rate must be a number in [0, 1]"),
    (("age", "max"), 89.5, "targets.age.max must be an integer"),
    (("age", "min"), 95, "targets.age: min 95 is above max 89"),
    (("follow_up_age_trend", "category"), "dental", "targets.follow_up_age_trend.category"),
])
def test_old_mapping_errors_name_their_path(model, path, value, message):
    data = model_to_dict(model)
    data["targets"] = copy.deepcopy(OLD_MAPPING)
    entry = data["targets"]
    for key in path[:-1]:
        entry = entry[key]
    entry[path[-1]] = value
    with pytest.raises(ModelError, match=re.escape(message)):
        model_from_dict(data)


def test_statements_are_frozen(model):
    s = model.targets[1]
    with pytest.raises(AttributeError):
        s.value = 0.5
    assert hash(s) == hash(Rate("follow_up", "True", s.value, s.margin))
    assert hash(model.targets) == hash(default_model().targets)


def test_with_targets_returns_a_copy_and_checks_each_statement(model):
    key = model.content_key()
    other = model.with_targets([model.targets[0],
                                {"rate": {"follow_up": "True"}, "value": 0.5, "margin": 0.02,
                                 "where": {"diagnosis_category": ["chronic"]}}])
    assert model.content_key() == key and len(model.targets) == 5
    assert str(other.targets[1]) == "rate follow_up=True where diagnosis_category=chronic"
    assert other.content_key() != key
    with pytest.raises(ModelError, match=r"targets\[1\]\.rate: 'maybe' is not a state"):
        model.with_targets([model.targets[0], {"rate": {"follow_up": "maybe"}, "value": 0.3,
                                               "margin": 0.02}])
    with pytest.raises(ModelError, match="list of statements"):
        model.with_targets({"rate": {"follow_up": "True"}})


def test_exact_values_of_the_default_model(model):
    share, rate, difference, trend, even = (exact_value(model, s) for s in model.targets)
    assert share == pytest.approx({"male": 0.45, "female": 0.43, "other": 0.12}, abs=1e-12)
    assert rate == pytest.approx(0.30, abs=1e-12)
    # by hand: P(T | chronic/surgical/viral) - P(T | the rest), from the joint
    joint = model.query(["follow_up", "diagnosis"]).unstack("diagnosis")
    cats = model.diagnosis_categories
    group = [d for d in joint.columns if cats[d] in ("chronic", "surgical", "viral")]
    rest = [d for d in joint.columns if d not in group]
    by_hand = (joint.loc["True", group].sum() / joint[group].to_numpy().sum()
               - joint.loc["True", rest].sum() / joint[rest].to_numpy().sum())
    assert difference == pytest.approx(by_hand, abs=1e-12)
    assert trend > 0.02 and even == pytest.approx((0.0, 0.0), abs=1e-12)
    assert all(is_met(model, s) for s in model.targets)
    assert not is_met(model, Rate("follow_up", "True", 0.40, 0.02))


def test_conditional_rate_and_defaults(states):
    (r, t) = parse_statements([
        {"rate": {"follow_up": "True"}, "value": 0.4, "margin": 0.03,
         "where": {"diagnosis_category": ["chronic"]}},
        {"trend": {"follow_up": "True"}, "over": "age_group"}], states)
    assert str(r) == "rate follow_up=True where diagnosis_category=chronic"
    assert (t.direction, t.min_slope) == ("rising", 0.02)


@pytest.mark.parametrize("bad, where", [
    ({"rate": {"follow_up": "maybe"}, "value": 0.3, "margin": 0.02}, "targets[1].rate"),
    ({"rate": {"follow_up": "True"}, "value": 1.3, "margin": 0.02}, "targets[1].value"),
    ({"share": "gender", "values": {"male": 1.0}, "margin": 0.02}, "targets[1].values"),
    ({"difference": {"follow_up": "True"}, "at_least": 0.1}, "targets[1].where"),
    ({"trend": {"follow_up": "True"}, "over": "nope"}, "targets[1].over"),
    ({"even": "age", "range": [9, 1], "margin": 0.01}, "targets[1].range"),
    ({"rate": {"follow_up": "True"}, "value": 0.3, "margin": 0.02,
      "where": {"colour": ["red"]}}, "targets[1].where.colour"),
    ({"rate": {"follow_up": "True"}, "value": 0.3, "margin": 0.02, "typo": 1},
     "targets[1].typo"),
    ({"share": "gender", "rate": {"follow_up": "True"}}, "targets[1] must have exactly one"),
])
def test_each_malformed_statement_is_named(states, bad, where):
    good = {"rate": {"follow_up": "True"}, "value": 0.3, "margin": 0.02}
    with pytest.raises(ModelError, match=re.escape(where)):
        parse_statements([good, bad], states)


def test_a_falling_trend_is_named_and_evaluated_as_falling(model):
    rising = model.targets[3]
    falling = model.with_targets([{"trend": {"follow_up": "True"}, "over": "age_group",
                                   "direction": "falling",
                                   "where": {"diagnosis_category": ["chronic"]}}]).targets[0]
    assert str(falling) == ("trend follow_up=True falling over age_group "
                            "where diagnosis_category=chronic")
    assert is_met(model, rising) and not is_met(model, falling)
    with pytest.raises(ModelError, match=r"targets\[0\]\.over must be an ordered node other"):
        model.with_targets([{"trend": {"follow_up": "True"}, "over": "follow_up"}])


def test_targets_keep_the_earlier_fixed_fields(model):
    t = model.targets
    assert dict(t.gender_shares) == {"male": 0.45, "female": 0.43, "other": 0.12}
    assert (t.gender_margin, t.follow_up_rate, t.follow_up_margin) == (0.02, 0.3, 0.02)
    assert t.priority_categories == ("chronic", "surgical", "viral")
    assert (t.priority_min_difference, t.trend_category, t.even_ages) == (0.15, "chronic", True)
    with pytest.raises(AttributeError, match="state no follow-up rate"):
        _ = Targets(t[:1]).follow_up_rate
