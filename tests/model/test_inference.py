"""clinicsim's own variable elimination against pgmpy's VariableElimination."""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pgmpy.inference import VariableElimination

import clinicsim
from clinicsim import ModelError
from clinicsim.model import model_from_dict
from clinicsim.model._inference import _order

from .test_properties import SETTINGS, recipes


def pgmpy_query(model, variables, evidence=None):
    """P(variables | evidence) from pgmpy, as a Series shaped like ``model.query``.

    pgmpy takes one state per given node; a list of states is handled by querying the
    joint with those nodes and summing the rows that satisfy the evidence.
    """
    evidence = dict(evidence or {})
    single = {k: v for k, v in evidence.items() if isinstance(v, str)}
    multi = {k: v for k, v in evidence.items() if not isinstance(v, str)}
    extra = [k for k in multi if k not in variables]
    factor = VariableElimination(model.network).query(
        [*variables, *extra], evidence=single or None, joint=True, show_progress=False)
    states = [factor.state_names[v] for v in factor.variables]
    rows = {}
    for combo in itertools.product(*states):
        labels = dict(zip(factor.variables, combo, strict=True))
        if all(labels[k] in v for k, v in multi.items() if k in labels):
            key = tuple(labels[v] for v in variables)
            index = tuple(states[i].index(c) for i, c in enumerate(combo))
            rows[key] = rows.get(key, 0.0) + factor.values[index]
    # pgmpy drops given nodes from its result: query a given node through a list of states
    assert not set(single) & set(variables)
    full = pd.MultiIndex.from_product([model.states(v) for v in variables], names=variables)
    series = pd.Series(rows, dtype=float).reindex(full, fill_value=0.0)
    series = series / series.sum()
    if len(variables) == 1:
        series.index = pd.Index(full.get_level_values(0), name=variables[0])
    return series.rename("p")


def assert_same(model, variables, evidence=None):
    ours = model.query(variables, evidence)
    theirs = pgmpy_query(model, variables, evidence)
    assert ours.index.equals(theirs.index)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-9, atol=1e-12)
    assert ours.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.fixture(params=["default", "us-office-visits"])
def preset(request):
    return clinicsim.load_model(request.param)


def test_marginals_match_pgmpy(preset):
    for node in preset.nodes:
        assert_same(preset, [node])
        assert preset.marginal(node).equals(preset.query(node))


@pytest.mark.parametrize(("variables", "evidence"), [
    (["gender", "diagnosis"], None),                                    # joint
    (["age_group", "treatment", "follow_up"], None),
    (["diagnosis"], {"gender": "other"}),                               # on a root
    (["follow_up"], {"age_group": "75_89", "gender": "female"}),
    (["gender", "age_group"], {"follow_up": "True"}),                   # on a descendant
    (["age_group"], {"treatment": "inhaler"}),
    (["gender"], {"visit_month": "jan", "follow_up": "False"}),
    (["diagnosis", "age_group"], {"gender": "male", "follow_up": "True"}),   # both
    (["gender"], {"diagnosis": ["influenza", "asthma"]}),               # lists of states
    (["diagnosis", "follow_up"], {"diagnosis": ["influenza", "asthma"], "age_group": "0_14"}),
])
def test_queries_match_pgmpy(preset, variables, evidence):
    assert_same(preset, variables, evidence)


def test_query_labels_and_order(model):
    table = model.query(["follow_up", "gender"])
    assert list(table.index.names) == ["follow_up", "gender"]
    assert list(table.index.levels[1]) == model.states("gender") or set(
        table.index.get_level_values(1)) == set(model.states("gender"))
    assert list(table.index[:3]) == [("True", "male"), ("True", "female"), ("True", "other")]
    single = model.query("gender")
    assert list(single.index) == model.states("gender") and single.index.name == "gender"
    assert single.to_dict() == pytest.approx({"male": 0.45, "female": 0.43, "other": 0.12},
                                             abs=1e-12)


def test_given_state_queried_keeps_all_states_with_zeros(model):
    table = model.query("diagnosis", {"diagnosis": ["asthma", "influenza"]})
    assert (table.drop(["asthma", "influenza"]) == 0).all()
    assert table[["asthma", "influenza"]].sum() == pytest.approx(1.0)
    assert model.query("follow_up", {"follow_up": True})["True"] == 1.0  # bools as names


def test_impossible_evidence_is_named(model):
    table = model.cpd("treatment")  # columns (age_group, diagnosis)
    rows, columns = np.nonzero(table.to_numpy() == 0)
    treatment, (age, diagnosis) = table.index[rows[0]], table.columns[columns[0]]
    evidence = {"treatment": treatment, "diagnosis": diagnosis, "age_group": age}
    with pytest.raises(ModelError, match=f"evidence .*treatment='{treatment}'.*probability 0"):
        model.query("gender", evidence)
    del evidence["treatment"]
    assert model.query("treatment", evidence)[treatment] == 0


@pytest.mark.parametrize(("variables", "evidence", "match"), [
    (["nope"], None, "unknown: \\['nope'\\]"),
    (["gender", "gender"], None, "distinct nodes"),
    ([], None, "distinct nodes"),
    (["gender"], {"nope": "x"}, "unknown node 'nope'"),
    (["gender"], {"diagnosis": "flu"}, "unknown state\\(s\\) \\['flu'\\]"),
    (["gender"], {"diagnosis": []}, "no state given"),
])
def test_unknown_names_are_refused(model, variables, evidence, match):
    # ModelError until ArgumentError lands in clinicsim._errors (both are ValueErrors)
    with pytest.raises(ValueError, match=match):
        model.query(variables, evidence)


def test_query_follows_an_edit(model):
    before = model.marginal("follow_up")
    table = model.cpd("follow_up")
    table.loc["True"], table.loc["False"] = 1.0, 0.0
    with pytest.warns(clinicsim.TargetWarning, match="the exact rate is now 1 "):
        model.set_cpd("follow_up", table)
    assert model.marginal("follow_up")["True"] == 1.0
    assert clinicsim.default_model().marginal("follow_up").equals(before)


def test_elimination_order_is_greedy_min_size():
    # a chain a - b - c with a big b: summing b out first makes the smallest factor (a, c)
    scopes = [{"a", "b"}, {"b", "c"}]
    assert _order(scopes, {"a", "b"}, {"a": 2, "b": 50, "c": 3}) == ["b", "a"]
    # a star around d: summing d out first would join all the leaves; leaves go first
    scopes = [{"d", x} for x in "efg"]
    assert _order(scopes, set("defg"), dict.fromkeys("defg", 4))[:2] == ["e", "f"]


@SETTINGS
@given(recipe=recipes, data=st.data())
def test_random_models_match_pgmpy(recipe, data):
    model = model_from_dict(recipe.build())
    nodes = list(model.nodes)
    variables = data.draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=2, unique=True))
    given_nodes = data.draw(st.lists(st.sampled_from([n for n in nodes if n not in variables]),
                                     max_size=2, unique=True))
    evidence = {}
    for node in given_nodes:
        states = model.states(node)
        if data.draw(st.booleans()):
            evidence[node] = data.draw(st.sampled_from(states))
        else:
            evidence[node] = data.draw(st.lists(st.sampled_from(states), min_size=1, unique=True))
    try:
        ours = model.query(variables, evidence)
    except ModelError as error:  # probability 0: pgmpy must agree
        assert "probability 0" in str(error)
        joint = model.query([*variables, *given_nodes])
        mask = np.ones(len(joint), bool)
        for node, value in evidence.items():
            value = [value] if isinstance(value, str) else value
            mask &= joint.index.get_level_values(node).isin(value)
        assert joint[mask].sum() == 0
        return
    theirs = pgmpy_query(model, variables, evidence)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-8, atol=1e-12)
