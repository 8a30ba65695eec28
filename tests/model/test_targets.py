"""Targets as statements (issue 11, step 1): parsing, refusal, old mapping converted."""

import pytest

from clinicsim import ModelError, default_model
from clinicsim.model._targets import (
    Difference,
    Even,
    Rate,
    Share,
    Trend,
    parse_statements,
    statements_from_targets,
    statements_to_list,
)


@pytest.fixture(scope="module")
def model():
    return default_model()


@pytest.fixture(scope="module")
def states(model):
    return {n: list(model.table(n).states) for n in model.nodes}


def test_old_mapping_converts_to_the_five_statements(model, states):
    got = statements_from_targets(model.targets)
    assert [type(s) for s in got] == [Share, Rate, Difference, Trend, Even]
    assert [str(s) for s in got][1] == "rate follow_up=True"
    assert str(got[3]) == "trend follow_up=True over age_group where diagnosis_category=chronic"
    assert parse_statements(statements_to_list(got), states) == got  # round trip


def test_statements_are_frozen(model):
    s = statements_from_targets(model.targets)[1]
    with pytest.raises(AttributeError):
        s.value = 0.5
    assert hash(s) == hash(Rate("follow_up", "True", s.value, s.margin))


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
    with pytest.raises(ModelError, match=__import__("re").escape(where)):
        parse_statements([good, bad], states)
