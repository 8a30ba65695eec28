"""Structural edits: add_node, remove_node, add_edge, remove_edge. Each is validated as a
model file is, all or nothing: a refused edit names what is wrong and leaves the model's
content key as it was."""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clinicsim
from clinicsim import InvalidCPDError, ModelError, TargetWarning

AGES = ["0_14", "15_24", "25_44", "45_64", "65_74", "75_89"]
PAYERS = ["private", "medicare", "medicaid", "uninsured"]


def payer_cpd():
    """P(payer | age_group): Medicare from 65, Medicaid more often for children."""
    young, old = [0.55, 0.0, 0.35, 0.10], [0.25, 0.65, 0.07, 0.03]
    return pd.DataFrame({b: old if b in ("65_74", "75_89") else young for b in AGES},
                        index=pd.Index(PAYERS, name="payer")).rename_axis(columns="age_group")


def with_payer(model):
    model.add_node("payer", PAYERS, parents=["age_group"], cpd=payer_cpd())
    return model


def refused(model, edit, match, kind=ModelError):
    """``edit`` raises ``kind`` matching ``match``; the model's content, name and
    description are unchanged."""
    before = (model.content_key(), model.name, model.description)
    with pytest.raises(kind, match=match) as info:
        edit(model)
    assert (model.content_key(), model.name, model.description) == before
    return info.value


def brute_joint(model):
    """The full joint distribution, one axis per node in ``model.nodes`` order, as the
    product of every CPD (no inference)."""
    nodes = list(model.nodes)
    joint = np.ones([len(model.states(n)) for n in nodes])
    for node in nodes:
        t = model.table(node)
        axes = [nodes.index(node), *(nodes.index(p) for p in t.parents)]
        values = np.transpose(t.values, np.argsort(axes))  # axes in increasing order
        shape = [joint.shape[a] if a in axes else 1 for a in range(len(nodes))]
        joint = joint * values.reshape(shape)
    return nodes, joint


def brute_marginal(model, variables):
    """P(variables) from the brute-force joint, axes in the order given."""
    nodes, joint = brute_joint(model)
    keep = [nodes.index(v) for v in variables]
    summed = joint.sum(axis=tuple(a for a in range(len(nodes)) if a not in keep))
    return np.transpose(summed, np.argsort(np.argsort(keep)))


# -- add_node ---------------------------------------------------------------------------

def test_add_a_node_with_a_parent(model):
    with_payer(model)
    assert model.nodes == ("gender", "age_group", "diagnosis", "treatment", "follow_up",
                           "payer", "visit_month")
    assert model.parents("payer") == ("age_group",)
    pd.testing.assert_frame_equal(model.cpd("payer"), payer_cpd())
    old = sum(b[1] - b[0] + 1 for b in model.age_bands.values() if b[0] >= 65) / 90
    assert model.marginal("payer")["medicare"] == pytest.approx(0.65 * old, abs=1e-12)
    assert model.name == "default (edited)"
    assert model.description.endswith("\nEdited: add_node('payer').")


def test_add_a_root_node_from_a_mapping_and_a_node_of_two_parents_in_any_order(model):
    model.add_node("smoker", ["yes", "no"], cpd={"yes": 0.2, "no": 0.8})
    assert model.parents("smoker") == () and model.marginal("smoker")["yes"] == 0.2
    cpd = pd.DataFrame(0.5, index=["a", "b"], columns=pd.MultiIndex.from_product(
        [model.states("smoker"), AGES], names=["smoker", "age_group"]))
    cpd.loc["a", ("yes", "0_14")], cpd.loc["b", ("yes", "0_14")] = 0.9, 0.1
    model.add_node("x", ["a", "b"], parents=["smoker", "age_group"], cpd=cpd)
    assert model.parents("x") == ("age_group", "smoker")  # the model's order
    assert model.cpd("x").loc["a", ("0_14", "yes")] == 0.9  # aligned by label
    assert model.cpd("x").loc["a", ("0_14", "no")] == 0.5


def test_a_node_s_metadata_is_kept_saved_and_removed_with_it(model, tmp_path):
    coding = {"system": "http://example.org/payer", "states": {"private": "P"}}
    model.add_node("payer", PAYERS, parents=["age_group"], cpd=payer_cpd(), metadata=coding)
    assert model.metadata["nodes"] == {"payer": coding}
    model.save(tmp_path / "m.yaml")
    again = clinicsim.load_model(tmp_path / "m.yaml")
    assert again.content_key() == model.content_key()
    model.remove_node("payer")
    assert "nodes" not in model.metadata


@pytest.mark.parametrize(("args", "kwargs", "match", "kind"), [
    (("age", ["a", "b"]), {}, r"add_node\('age'\): node 'age': the name is a records column "
     r"\(patient_id, visit_date, age, diagnosis_code, diagnosis_category, follow_up_date\)",
     ModelError),
    (("visit_date", ["a", "b"]), {}, "'visit_date': the name is a records column", ModelError),
    (("follow_up", ["a", "b"]), {}, r"the model already has a node 'follow_up'", ModelError),
    (("", ["a", "b"]), {}, r"add_node\(''\): the node's name must be a non-empty string",
     ModelError),
    ((3, ["a", "b"]), {}, r"add_node\(3\): the node's name must be a non-empty string",
     ModelError),
    (("x", ["a", "a"]), {}, r"add_node\('x'\): node 'x': duplicate states \['a'\]",
     ModelError),
    (("x", ["a", ""]), {}, r"node 'x': states must be non-empty strings; got \[''\]",
     ModelError),
    (("x", []), {}, r"node 'x': 'states' must be a non-empty list", ModelError),
    (("x", "ab"), {}, r"add_node\('x'\): states must be a list of state names; got 'ab'",
     ModelError),
    (("x", range(10**9)), {}, r"add_node\('x'\): 1,000,000,000 states; the limit is "
     r"MAX_STATES = 1,000", ModelError),
    (("x", ["a", "b"]), {"parents": ["agegroup"]},
     r"add_node\('x'\): unknown parents \['agegroup'\]; the model's nodes are \['gender'",
     ModelError),
    (("x", ["a", "b"]), {"parents": "age_group"},
     r"parents must be a list of the model's nodes; got 'age_group'", ModelError),
    (("x", ["a", "b"]), {"parents": ["gender", "gender"], "cpd": pd.DataFrame(
        0.5, index=["a", "b"], columns=pd.Index(["male", "female", "other"], name="gender"))},
     r"parents \['gender'\] are listed twice", ModelError),
    (("x", ["a", "b"]), {"cpd": {"a": 0.5, "b": 0.6}},
     r"add_node\('x'\): CPD for 'x' sums to 1.1, not 1", InvalidCPDError),
    (("x", ["a", "b"]), {"cpd": {"a": 0.5, "c": 0.5}},
     r"CPD for 'x': rows must be its states \['a', 'b'\] once each; missing \['b'\], "
     r"unknown \['c'\]", InvalidCPDError),
    (("x", ["a", "b"]), {"parents": ["gender"], "cpd": {"a": 0.5, "b": 0.5}},
     r"CPD for 'x' must be a DataFrame like model.cpd\(node\); got dict", InvalidCPDError),
    (("x", ["a", "b"]), {"parents": ["gender"], "cpd": pd.DataFrame(
        0.5, index=["a", "b"], columns=pd.Index(AGES, name="age_group"))},
     r"CPD for 'x': column levels must be its parents \['gender'\]; got \['age_group'\]",
     InvalidCPDError),
    (("x", ["a", "b"]), {"parents": ["gender"], "cpd": pd.DataFrame(
        0.5, index=["a", "b"], columns=pd.Index(["male", "female"], name="gender"))},
     r"columns must be every combination of \['gender'\] once; missing \['\(gender=other\)'\]",
     InvalidCPDError),
    (("visit_month", ["jan"]), {}, "already has a node 'visit_month'", ModelError),
])
def test_add_node_refusals_name_the_problem_and_change_nothing(model, args, kwargs, match,
                                                                kind):
    kwargs = {"cpd": {s: 1 / len(args[1]) for s in args[1]}
              if isinstance(args[1], list) and args[1] else {}, **kwargs}
    error = refused(model, lambda m: m.add_node(*args, **kwargs), match, kind)
    assert type(error) is kind


@pytest.mark.parametrize(("metadata", "match"), [
    ({"codes": {"a", "b"}}, r"metadata.nodes\['x'\]\['codes'\] is a set; a model file holds"),
    ({"codes": np.arange(2)}, r"metadata.nodes\['x'\]\['codes'\] is a ndarray"),
    ({1: "a"}, r"metadata.nodes\['x'\] has the key 1; keys must be strings"),
    ({"w": [0.5, float("nan")]}, r"metadata.nodes\['x'\]\['w'\]\[1\] is nan, not a finite"),
    ("coded", r"metadata must be a mapping \(the node's entry in metadata.nodes\) or None; "
     r"got 'coded'"),
])
def test_a_node_s_metadata_must_be_plain_data(model, metadata, match):
    refused(model, lambda m: m.add_node("x", ["a", "b"], cpd={"a": 0.5, "b": 0.5},
                                        metadata=metadata), match)


def test_numpy_numbers_in_a_node_s_metadata_are_kept_as_python_numbers(model):
    model.add_node("x", ["a", "b"], cpd={"a": 0.5, "b": 0.5},
                   metadata={"weights": (np.float64(0.5), np.int64(2))})
    weights = model.metadata["nodes"]["x"]["weights"]
    assert weights == [0.5, 2] and [type(w) for w in weights] == [float, int]


def test_a_cpd_too_large_is_refused_before_its_columns_are_listed(model):
    many = [f"s{i}" for i in range(1000)]
    for name in ("a", "b"):
        model.add_node(name, many, cpd=dict.fromkeys(many, 1 / 1000))
    refused(model, lambda m: m.add_node("c", ["x", "y"], parents=["a", "b"], cpd={}),
            r"add_node\('c'\): node 'c': its CPD would have more than 1,000,000 cells \(2 "
            r"states times 1000 x 1000 parent combinations\); the limit is MAX_CPD_CELLS")
    model.add_node("c", ["x", "y"], parents=["a"], cpd=pd.DataFrame(
        0.5, index=["x", "y"], columns=pd.Index(many, name="a")))
    refused(model, lambda m: m.add_edge("b", "c", cpd={}),
            r"add_edge\('b', 'c'\): node 'c': its CPD would have more than 1,000,000 cells")


def test_add_node_reports_every_problem_at_once(model):
    error = refused(model, lambda m: m.add_node(
        "age", ["a", "b"], parents=["gender"], cpd={"a": 1.0}, metadata=3),
        "metadata must be a mapping", InvalidCPDError)
    assert len(error.errors) == 3
    assert any("CPD for 'age' must be a DataFrame" in e for e in error.errors)
    assert any("the name is a records column" in e for e in error.errors)


def test_the_whole_edited_model_is_validated(model):
    """A CPD fine on its own that leaves a stated target's group impossible is refused, as
    the model file would be."""
    model = model.with_targets([*model.targets, {
        "rate": {"follow_up": "True"}, "value": 0.3, "margin": 0.1,
        "where": {"visit_month": ["jan"]}}])
    no_january = {s: 0.0 if s == "jan" else 1 / 11 for s in model.states("visit_month")}
    error = refused(model, lambda m: m.remove_edge("diagnosis", "visit_month",
                                                   cpd=no_january), "probability 0")
    assert error.errors == ["remove_edge('diagnosis', 'visit_month'): targets[5]: rate "
                            "follow_up=True where visit_month=jan: its group has "
                            "probability 0 in this model"]


# -- remove_node ------------------------------------------------------------------------

def test_remove_a_leaf_and_a_node_given_its_children_s_cpds(model):
    model.remove_node("visit_month")
    assert model.nodes == ("gender", "age_group", "diagnosis", "treatment", "follow_up")
    assert model.description.endswith("Edited: remove_node('visit_month').")
    model = with_payer(clinicsim.default_model())
    follow = model.cpd("follow_up")
    both = pd.concat({p: follow for p in PAYERS}, axis=1, names=["payer"])
    model.add_edge("payer", "follow_up", cpd=both)
    model.remove_node("payer", cpds={"follow_up": follow})
    assert model.parents("follow_up") == ("age_group", "diagnosis")
    pd.testing.assert_frame_equal(model.cpd("follow_up"), follow)


@pytest.mark.parametrize("node", ["gender", "age_group", "diagnosis", "treatment",
                                  "follow_up"])
def test_required_nodes_are_never_removed(model, node):
    refused(model, lambda m: m.remove_node(node, cpds={}),
            rf"remove_node\('{node}'\): '{node}' is a required node \(gender, age_group, "
            r"diagnosis, treatment, follow_up\)")


def test_remove_node_refusals_name_the_target_the_children_and_change_nothing(model):
    with_payer(model)
    follow = model.cpd("follow_up")
    model.add_edge("payer", "follow_up",
                   cpd=pd.concat({p: follow for p in PAYERS}, axis=1, names=["payer"]))
    model = model.with_targets([*model.targets, {"rate": {"payer": "medicare"},
                                                 "value": 0.21, "margin": 0.05}])
    error = refused(model, lambda m: m.remove_node("payer"), "names 'payer'")
    assert error.errors == [
        "remove_node('payer'): the target 'rate payer=medicare' names 'payer'; restate the "
        "targets without it first (model = model.with_targets(...))",
        "remove_node('payer'): 'payer' is a parent of ['follow_up']; give the new CPD of "
        "each, without 'payer' among its parents (cpds={child: table}), or first "
        "remove_edge('payer', child), which sums 'payer' out exactly"]
    model = model.with_targets(model.targets[:-1])
    refused(model, lambda m: m.remove_node("payer", cpds={"follow_up": follow.iloc[:, :3]}),
            r"remove_node\('payer'\): CPD for 'follow_up': columns must be every combination",
            InvalidCPDError)
    refused(model, lambda m: m.remove_node("payer", cpds={"follow_up": follow,
                                                          "gender": {}}),
            r"cpds= names \['gender'\], which are not children of 'payer' \['follow_up'\]")
    refused(model, lambda m: m.remove_node("payer", cpds=[follow]),
            r"cpds must be a mapping child -> its new CPD; got \[")
    refused(model, lambda m: m.remove_node("payr"),
            r"remove_node\('payr'\): unknown node 'payr'; the model's nodes are")
    refused(model, lambda m: m.remove_node("payer", cpds={"follow_up": None}),
            r"CPD for 'follow_up' must be a DataFrame like model.cpd\(node\); got NoneType",
            InvalidCPDError)
    model.remove_node("payer", cpds={"follow_up": follow})  # and with the CPD, it is made
    assert "payer" not in model.nodes


def test_the_nodes_a_statement_names():
    from clinicsim.model._edit import statement_nodes

    assert [sorted(statement_nodes(s)) for s in clinicsim.default_model().targets] == [
        ["gender"], ["follow_up"], ["diagnosis", "follow_up"],
        ["age_group", "diagnosis", "follow_up"], ["age_group"]]


def test_a_where_or_over_column_names_a_node_too(model):
    with_payer(model)
    model = model.with_targets([*model.targets, {
        "rate": {"follow_up": "True"}, "value": 0.3, "margin": 0.1,
        "where": {"payer": ["private"]}}])
    refused(model, lambda m: m.remove_node("payer"),
            r"the target 'rate follow_up=True where payer=private' names 'payer'")


# -- add_edge ---------------------------------------------------------------------------

def test_add_an_edge(model):
    months = model.cpd("visit_month")
    both = pd.concat({g: months for g in model.states("gender")}, axis=1, names=["gender"])
    model.add_edge("gender", "visit_month", cpd=both)
    assert model.parents("visit_month") == ("gender", "diagnosis")
    assert model.cpd("visit_month").loc["jan", ("other", "influenza")] == \
        months.loc["jan", "influenza"]
    assert model.description.endswith("Edited: add_edge('gender', 'visit_month').")


def test_an_edge_that_reorders_the_nodes(model):
    """visit_month -> payer: payer now comes after visit_month in the order."""
    with_payer(model)
    cpd = pd.concat({m: payer_cpd() for m in model.states("visit_month")}, axis=1,
                    names=["visit_month"])
    model.add_edge("visit_month", "payer", cpd=cpd)
    assert model.nodes[-2:] == ("visit_month", "payer")
    assert model.parents("payer") == ("age_group", "visit_month")
    pd.testing.assert_frame_equal(model.cpd("payer").xs("jan", axis=1, level="visit_month"),
                                  payer_cpd())


@pytest.mark.parametrize(("parent", "child", "match"), [
    ("follow_up", "age_group", r"add_edge\('follow_up', 'age_group'\): the edge would make "
     r"the cycle follow_up -> age_group -> follow_up"),
    ("visit_month", "gender", r"the cycle visit_month -> gender -> diagnosis -> visit_month"),
    ("gender", "gender", r"the cycle gender -> gender"),
    ("gender", "diagnosis", r"'gender' is already a parent of 'diagnosis'"),
    ("sex", "follow_up", r"add_edge\('sex', 'follow_up'\): unknown node 'sex'; the model's "
     r"nodes are \['gender'"),
    ("x", ["y"], r"unknown nodes 'x', \['y'\]"),
])
def test_add_edge_refusals(model, parent, child, match):
    refused(model, lambda m: m.add_edge(parent, child, cpd=None), match)


def test_add_edge_with_a_cpd_for_the_old_parents_is_refused(model):
    follow = model.cpd("follow_up")
    refused(model, lambda m: m.add_edge("gender", "follow_up", cpd=follow),
            r"add_edge\('gender', 'follow_up'\): CPD for 'follow_up': column levels must be "
            r"its parents \['gender', 'age_group', 'diagnosis'\]; got \['age_group', "
            r"'diagnosis'\]", InvalidCPDError)
    refused(model, lambda m: m.add_edge("gender", "follow_up", cpd=None),
            "got NoneType", InvalidCPDError)


# -- remove_edge ------------------------------------------------------------------------

@pytest.mark.parametrize(("parent", "child"), [
    ("gender", "diagnosis"), ("age_group", "diagnosis"), ("age_group", "follow_up"),
    ("diagnosis", "follow_up"), ("age_group", "treatment"), ("diagnosis", "visit_month"),
])
def test_remove_edge_sums_the_parent_out_exactly(model, parent, child):
    """The computed CPD is P(child | others) of the brute-force joint (the product of all
    CPDs, no inference), and the child's joint with its other parents, its marginal with
    it, is unchanged."""
    others = [p for p in model.parents(child) if p != parent]
    before = brute_marginal(model, [child, *others])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TargetWarning)  # some move the follow-up trend
        model.remove_edge(parent, child)
    assert model.parents(child) == tuple(others)
    given = before.sum(axis=0, keepdims=True)
    seen = np.broadcast_to(given > 0, before.shape)
    expected = before / np.where(given > 0, given, 1)
    np.testing.assert_allclose(model.table(child).values[seen], expected[seen], rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(brute_marginal(model, [child, *others]), before, rtol=0,
                               atol=1e-12)
    marginal = before.reshape(len(before), -1).sum(axis=1)
    np.testing.assert_allclose(model.marginal(child).to_numpy(), marginal, rtol=0, atol=1e-12)


def test_remove_edge_of_an_added_node_keeps_the_child_s_marginal(model):
    with_payer(model)
    follow = model.cpd("follow_up")
    tilted = pd.concat({p: follow for p in PAYERS}, axis=1, names=["payer"])
    tilted.loc[:, ("medicare", "75_89", "copd")] = [0.9, 0.1]
    model.add_edge("payer", "follow_up", cpd=tilted)
    before = model.marginal("follow_up")
    model.remove_edge("payer", "follow_up")
    assert model.parents("follow_up") == ("age_group", "diagnosis")
    assert float((model.marginal("follow_up") - before).abs().max()) <= 1e-12
    p_medicare = float(model.query(["payer"], evidence={"age_group": "75_89"})["medicare"])
    assert model.cpd("follow_up").loc["True", ("75_89", "copd")] == pytest.approx(
        0.9 * p_medicare + follow.loc["True", ("75_89", "copd")] * (1 - p_medicare),
        abs=1e-12)


def test_remove_edge_where_the_other_parents_never_occur_uses_the_parent_s_marginal(model):
    """A column no record can read (its parents' combination has probability 0) gets
    Σ_p P(child | p, others) P(p): defined, and a valid distribution."""
    model.add_node("r", ["a", "never"], cpd={"a": 1.0, "never": 0.0})
    genders = model.states("gender")
    cpd = pd.DataFrame(
        [[0.1, 0.5, 0.2, 0.3, 0.6, 0.9], [0.9, 0.5, 0.8, 0.7, 0.4, 0.1]], index=["y", "n"],
        columns=pd.MultiIndex.from_product([genders, ["a", "never"]], names=["gender", "r"]))
    model.add_node("z", ["y", "n"], parents=["gender", "r"], cpd=cpd)
    model.remove_edge("gender", "z")
    shares = model.marginal("gender").to_numpy()
    for state in ("a", "never"):
        expected = cpd.xs(state, axis=1, level="r").to_numpy() @ shares
        np.testing.assert_allclose(model.cpd("z")[state].to_numpy(), expected, rtol=0,
                                   atol=1e-15)


def test_remove_edge_with_a_given_cpd_and_its_refusals(model):
    months = model.marginal("visit_month")
    model.remove_edge("diagnosis", "visit_month", cpd=months)
    assert model.parents("visit_month") == ()
    np.testing.assert_array_equal(model.cpd("visit_month")["p"].to_numpy(), months.to_numpy())
    refused(model, lambda m: m.remove_edge("gender", "follow_up"),
            r"remove_edge\('gender', 'follow_up'\): 'gender' is not a parent of 'follow_up' "
            r"\['age_group', 'diagnosis'\]")
    refused(model, lambda m: m.remove_edge("diagnosis", "follow_up",
                                           cpd={"True": 0.3, "False": 0.7}),
            r"remove_edge\('diagnosis', 'follow_up'\): CPD for 'follow_up' must be a "
            r"DataFrame like model.cpd\(node\); got dict", InvalidCPDError)
    refused(model, lambda m: m.remove_edge("diagnosis", "nope"), "unknown node 'nope'")


def test_remove_edge_warns_about_the_trend_it_flattens(model):
    with pytest.warns(TargetWarning, match=r"remove_edge\('age_group', 'follow_up'\) moved a "
                      r"stated target outside its margin(.|\n)*trend follow_up=True over "
                      r"age_group") as caught:
        model.remove_edge("age_group", "follow_up")
    assert caught[0].filename == __file__
    assert model.parents("follow_up") == ("diagnosis",)


# -- all or nothing under warnings-as-errors ----------------------------------------------

def _all_follow_up(table):
    """``table`` (a follow_up CPD) with follow-up certain in every column."""
    return table.apply(lambda column: pd.Series([1.0, 0.0], index=column.index))


def _flatten_the_trend(model):
    model.remove_edge("age_group", "follow_up")


def _males_always_followed_up(model):
    follow = model.cpd("follow_up")
    model.add_edge("gender", "follow_up", cpd=pd.concat(
        {"male": _all_follow_up(follow), "female": follow, "other": follow}, axis=1,
        names=["gender"]))


def _payer_a_parent_of_follow_up(model):
    follow = model.cpd("follow_up")
    model.add_edge("payer", "follow_up",
                   cpd=pd.concat({p: follow for p in PAYERS}, axis=1, names=["payer"]))


def _remove_payer_leaving_follow_up_certain(model):
    follow = model.cpd("follow_up").xs("private", axis=1, level="payer")
    model.remove_node("payer", cpds={"follow_up": _all_follow_up(follow)})


@pytest.mark.parametrize(("setup", "edit"), [
    (lambda m: None, _flatten_the_trend),
    (lambda m: None, _males_always_followed_up),
    (_payer_a_parent_of_follow_up, _remove_payer_leaving_follow_up_certain),
], ids=["remove_edge", "add_edge", "remove_node"])
def test_a_warning_raised_as_an_error_leaves_the_model_unchanged(model, setup, edit):
    with_payer(model)
    setup(model)
    before = (model.content_key(), model.name, model.description, model.nodes)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TargetWarning)
        with pytest.raises(TargetWarning):
            edit(model)
    assert (model.content_key(), model.name, model.description, model.nodes) == before
    with pytest.warns(TargetWarning):  # warned only, the same edit is made
        edit(model)
    assert model.content_key() != before[0]


# -- round trips --------------------------------------------------------------------------

def test_an_edited_structure_saves_loads_and_samples(model, tmp_path):
    with_payer(model)
    follow = model.cpd("follow_up")
    model.add_edge("payer", "follow_up",
                   cpd=pd.concat({p: follow for p in PAYERS}, axis=1, names=["payer"]))
    model.remove_edge("diagnosis", "visit_month")
    model.save(tmp_path / "edited.yaml")
    again = clinicsim.load_model(tmp_path / "edited.yaml")
    assert again.content_key() == model.content_key()
    assert again.description == model.description
    records = again.sample(200, seed=3)
    assert len(records) == 200


DEFAULT_NODES = clinicsim.default_model().nodes
NODE_NAMES = st.sampled_from(["payer", "smoker", "region", "x"])


@st.composite
def new_nodes(draw, pool=DEFAULT_NODES):
    """A node to add to the default model: name, states, parents, and a Dirichlet CPD
    (exact zeros mixed in) as a DataFrame like model.cpd(); parents drawn from ``pool``."""
    model = clinicsim.default_model()
    name = draw(NODE_NAMES)
    n = draw(st.integers(2, 4))
    states = [f"s{i}" for i in range(n)]
    parents = draw(st.lists(st.sampled_from(pool), max_size=2, unique=True))
    ordered = [p for p in model.nodes if p in parents]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    combos = list(itertools.product(*(model.states(p) for p in ordered)))
    table = rng.dirichlet(np.ones(n), size=len(combos)).T
    table[:, rng.random(len(combos)) < 0.3] = np.eye(n)[:, [0]]  # a certain state
    index = pd.Index(states, name=name)
    if not ordered:
        return name, states, parents, dict(zip(states, table[:, 0], strict=True))
    columns = (pd.Index([c[0] for c in combos], name=ordered[0]) if len(ordered) == 1
               else pd.MultiIndex.from_tuples(combos, names=ordered))
    return name, states, parents, pd.DataFrame(table, index=index, columns=columns)


@settings(max_examples=25)
@given(new_nodes())
def test_add_then_remove_a_node_gives_the_model_back(node):
    name, states, parents, cpd = node
    model = clinicsim.default_model()
    key, description = model.content_key(), model.description
    model.add_node(name, states, parents=parents, cpd=cpd)
    assert model.states(name) == states
    assert set(model.parents(name)) == set(parents)
    marginals = {n: model.marginal(n) for n in model.nodes if n != name}
    model.remove_node(name)
    assert model.name == "default (edited)"
    assert model.description == f"{description}\nEdited: add_node({name!r}); " \
        f"remove_node({name!r})."
    model.name = "default"
    assert model.content_key() == key
    for n, m in marginals.items():  # a leaf never changed the others
        assert m.equals(model.marginal(n))


@settings(max_examples=25)
@given(new_nodes(("gender", "age_group")),
       st.sampled_from(["treatment", "follow_up", "visit_month"]))
def test_remove_edge_keeps_the_child_s_marginal_exactly(node, child):
    """A random new node made a parent of a child, then the edge removed with the CPD
    summed out: the child's marginal is what it was with the edge, to 1e-12."""
    name, states, parents, cpd = node
    model = clinicsim.default_model()
    model.add_node(name, states, parents=parents, cpd=cpd)
    old = model.cpd(child)
    rng = np.random.default_rng(len(states))
    tables = {s: old.apply(lambda c: pd.Series(rng.dirichlet(np.ones(len(c))), index=c.index))
              for s in states}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TargetWarning)
        model.add_edge(name, child, cpd=pd.concat(tables, axis=1, names=[name]))
        before = model.marginal(child)
        model.remove_edge(name, child)
    assert float((model.marginal(child) - before).abs().max()) <= 1e-12
