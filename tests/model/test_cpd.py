"""Inspecting and editing CPDs: labelled tables in, validated, refused edits change nothing."""

import numpy as np
import pandas as pd
import pytest

import clinicsim
from clinicsim import InvalidCPDError, TargetWarning


def test_cpd_is_labelled(model):
    table = model.cpd("diagnosis")
    assert list(table.index) == model.states("diagnosis")
    assert table.columns.names == ["gender", "age_group"]
    assert table.shape == (16, 18)
    np.testing.assert_allclose(table.sum(axis=0), 1, atol=1e-9)
    root = model.cpd("gender")
    assert root["p"].to_dict() == pytest.approx({"male": 0.45, "female": 0.43, "other": 0.12})


def test_set_cpd_takes_effect(model):
    with pytest.warns(TargetWarning, match="share gender"):
        model.set_cpd("gender", {"male": 0.5, "female": 0.5, "other": 0.0})
    assert model.marginal("gender")["other"] == 0
    table = model.cpd("follow_up")
    table.loc["True"] = 0.5
    table.loc["False"] = 0.5
    with pytest.warns(TargetWarning, match="rate follow_up=True"):
        model.set_cpd("follow_up", table)
    assert model.marginal("follow_up")["True"] == pytest.approx(0.5)
    records = model.sample(2000, seed=3)
    assert (records.gender != "other").all()


def test_set_cpd_aligns_by_label_not_position(model):
    table = model.cpd("treatment")
    shuffled = table.sample(frac=1, random_state=0).T.sample(frac=1, random_state=1).T
    swapped = shuffled.copy()
    swapped.columns = swapped.columns.swaplevel()  # parents given in the other order
    for version in (shuffled, swapped):
        edited = model.copy()
        edited.set_cpd("treatment", version)
        pd.testing.assert_frame_equal(edited.cpd("treatment"), table)


@pytest.mark.parametrize(
    ("rows", "value", "message"),
    [
        (slice(0, 1), lambda v: v + 1e-6, "sums to"),
        (slice(0, 1), lambda v: v + 0.1, "sums to"),
        (slice(0, 2), lambda v: -v, "negative"),
        (slice(0, 2), lambda v: v * np.nan, "non-finite"),
        (slice(0, 2), lambda v: v * np.inf, "non-finite"),
    ],
)
def test_refused_values_leave_model_unchanged(model, rows, value, message):
    before = model.cpd("follow_up")
    table = before.copy()
    table.iloc[rows, 5] = value(table.iloc[rows, 5])
    with pytest.raises(InvalidCPDError, match=message):
        model.set_cpd("follow_up", table)
    pd.testing.assert_frame_equal(model.cpd("follow_up"), before)


def test_refused_shapes_and_labels(model):
    table = model.cpd("follow_up")
    with pytest.raises(InvalidCPDError, match="missing \\['False'\\]"):
        model.set_cpd("follow_up", table.drop(index="False"))
    with pytest.raises(InvalidCPDError, match="missing"):
        model.set_cpd("follow_up", table.iloc[:, :-1])
    renamed = table.rename(columns={"hypertension": "gout"})
    with pytest.raises(InvalidCPDError, match="unknown"):
        model.set_cpd("follow_up", renamed)
    strings = table.astype(object)
    strings.iloc[0, 0] = "0.5"
    with pytest.raises(InvalidCPDError, match="probability of 'True' must be a number; got '0.5'"):
        model.set_cpd("follow_up", strings)
    with pytest.raises(InvalidCPDError, match="unknown node 'mood'"):
        model.set_cpd("mood", table)
    with pytest.raises(InvalidCPDError, match="must be a DataFrame"):
        model.set_cpd("follow_up", [0.3, 0.7])
    with pytest.raises(InvalidCPDError, match="missing \\['other'\\]"):
        model.set_cpd("gender", {"male": 0.5, "female": 0.5})
    pd.testing.assert_frame_equal(model.cpd("follow_up"), table)


def test_error_names_node_and_column(model):
    table = model.cpd("follow_up")
    table.loc["True", ("65_74", "asthma")] += 0.03  # levels in topological order
    with pytest.raises(InvalidCPDError) as info:
        model.set_cpd("follow_up", table)
    assert "'follow_up' column (age_group=65_74, diagnosis=asthma) sums to 1.03" in str(info.value)
    assert isinstance(info.value, clinicsim.ModelError) and isinstance(info.value, ValueError)


def test_copy_is_independent(model):
    other = model.copy()
    with pytest.warns(TargetWarning):
        other.set_cpd("gender", {"male": 1.0, "female": 0.0, "other": 0.0})
    assert model.marginal("gender")["male"] == pytest.approx(0.45)


# -- the adversarial sweep: every refused edit names what and where, and changes nothing --


def edited(node, row, column, value):
    """A maker: ``node``'s table with one cell (by position) replaced, as object dtype."""
    def make(model):
        table = model.cpd(node).astype(object)
        table.iloc[row, column] = value
        return table
    return make


def relabelled(node, how):
    def make(model):
        table = model.cpd(node)
        how(table)
        return table
    return make


def unnamed_swapped(table):
    table.columns = pd.MultiIndex.from_tuples([(b, a) for a, b in table.columns])


REFUSED = {
    "numeric string": ("gender", lambda m: {"male": "0.45", "female": 0.43, "other": 0.12},
                       "probability of 'male' must be a number; got '0.45'"),
    "None": (edited("follow_up", 0, 3, None), "probability of 'True' must be a number; got None"),
    "bool": (edited("follow_up", 1, 3, True), "probability of 'False' must be a number; got True"),
    "pd.NA": (edited("follow_up", 0, 3, pd.NA), "must be a number; got <NA>"),
    "list in a cell": (edited("follow_up", 0, 3, [0.5]), "must be a number; got \\[0.5\\]"),
    "-inf": (edited("follow_up", 0, 3, -np.inf), "non-finite probability -inf for 'True'"),
    "int beyond float": ("gender", lambda m: {"male": 10**400, "female": 0, "other": 0},
                         "non-finite probability inf for 'male'"),
    "all-zero column": (lambda m: m.cpd("follow_up") * 0, "sums to 0, not 1"),
    "float32 rounding": (lambda m: m.cpd("follow_up").astype("float32"), "sums to 0.99999997"),
    "numpy array": (lambda m: m.cpd("follow_up").to_numpy(), "must be a DataFrame .*got ndarray"),
    "numpy array for root": ("gender", lambda m: np.array([0.45, 0.43, 0.12]),
                             "a Series or a mapping .*got ndarray"),
    "Series for non-root": (lambda m: pd.Series({"True": 0.3, "False": 0.7}),
                            "must be a DataFrame like model.cpd\\(node\\); got Series"),
    "mapping for non-root": (lambda m: {"True": 0.3, "False": 0.7}, "got dict"),
    "root with two columns": ("gender", lambda m: pd.concat([m.cpd("gender")] * 2, axis=1),
                              "root node 'gender' must have one column; got 2"),
    "duplicated row": (lambda m: pd.concat([m.cpd("follow_up"), m.cpd("follow_up").iloc[[0]]]),
                       "duplicated \\['True'\\]"),
    "duplicated column": (lambda m: pd.concat([m.cpd("follow_up"), m.cpd("follow_up").iloc[:, [4]]],
                                              axis=1),
                          "duplicated \\['\\(age_group=0_14, diagnosis=heart_disease\\)'\\]"),
    "extra state": (lambda m: pd.concat([m.cpd("follow_up"), m.cpd("follow_up").iloc[[0]] * 0]
                                        ).set_axis(["True", "False", "Maybe"]),
                    "unknown \\['Maybe'\\]"),
    "unknown parent state": (lambda m: m.cpd("follow_up").rename(columns={"0_14": "0-14"}),
                             "unknown \\['\\(age_group=0-14, diagnosis=hypertension\\)'"),
    "unnamed levels in the wrong order": (relabelled("follow_up", unnamed_swapped),
                                          "levels are unnamed, so they are read in parent order"),
    "levels named wrongly": (relabelled("follow_up", lambda t: setattr(
        t, "columns", t.columns.set_names(["dx", "age"]))), "column levels must be its parents"),
    "one level named": (relabelled("follow_up", lambda t: setattr(
        t, "columns", t.columns.set_names([None, "age_group"]))), "got \\[None, 'age_group'\\]"),
    "flat tuples, not levels": (relabelled("follow_up", lambda t: setattr(
        t, "columns", pd.Index(list(t.columns), tupleize_cols=False))), "needs 2 column level"),
    "transposed": (lambda m: m.cpd("follow_up").T, "rows must be its states"),
    "empty frame": (lambda m: pd.DataFrame(), "missing \\['True', 'False'\\]"),
    "nonexistent node": ("mood", lambda m: m.cpd("gender"), "unknown node 'mood'"),
    "unhashable node": (["gender"], lambda m: m.cpd("gender"), "unknown node \\['gender'\\]"),
}


@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED.keys())
def test_refused_edit_changes_nothing(model, case):
    node, make, message = case if len(case) == 3 else ("follow_up", *case)
    before = {n: model.cpd(n) for n in model.nodes}
    with pytest.raises(InvalidCPDError, match=message):
        model.set_cpd(node, make(model))
    for n in model.nodes:
        pd.testing.assert_frame_equal(model.cpd(n), before[n])


ACCEPTED = {
    "unnamed levels in parent order": lambda t: t.set_axis(
        pd.MultiIndex.from_tuples(list(t.columns)), axis=1),
    "nullable Float64": lambda t: t.astype("Float64"),
    "categorical row labels": lambda t: t.set_axis(pd.CategoricalIndex(t.index), axis=0),
    "bool row labels read as 'True'/'False'": lambda t: t.set_axis([True, False], axis=0),
    "off by 1e-12": lambda t: t + np.array([[1e-12], [0.0]]),
}


@pytest.mark.parametrize("change", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted_variants_set_the_same_table(model, change):
    table = model.cpd("follow_up")
    model.set_cpd("follow_up", change(table.copy()))
    pd.testing.assert_frame_equal(model.cpd("follow_up"), table, atol=1e-11)


def test_root_accepts_series_and_shuffled_frame(model):
    with pytest.warns(TargetWarning):  # 50/30/20 against the target 45/43/12
        model.set_cpd("gender", pd.Series({"other": 0.2, "male": 0.5, "female": 0.3}))
    assert model.cpd("gender")["p"].to_dict() == {"male": 0.5, "female": 0.3, "other": 0.2}
    model.set_cpd("gender", model.cpd("gender").iloc[::-1])
    assert model.states("gender") == ["male", "female", "other"]
    assert model.cpd("gender")["p"].tolist() == [0.5, 0.3, 0.2]


def test_single_parent_node_aligns_by_label(model):
    data = clinicsim.model.model_to_dict(model)
    data["nodes"]["smoker"] = {"states": ["yes", "no"], "parents": ["age_group"], "cpd": [
        {"given": {"age_group": b}, "p": {"yes": i / 10, "no": 1 - i / 10}}
        for i, b in enumerate(model.states("age_group"))]}
    m = clinicsim.model.model_from_dict(data)
    table = m.cpd("smoker")
    assert table.columns.name == "age_group"
    m.set_cpd("smoker", table.iloc[::-1, ::-1])
    pd.testing.assert_frame_equal(m.cpd("smoker"), table)
    m.set_cpd("smoker", table.rename_axis(columns=None))
    pd.testing.assert_frame_equal(m.cpd("smoker"), table)
    twice = table.set_axis(["0_14", "0_14", *table.columns[2:]], axis=1)
    with pytest.raises(InvalidCPDError, match="missing \\['\\(age_group=15_24\\)'\\].*duplicated"):
        m.set_cpd("smoker", twice)
    pd.testing.assert_frame_equal(m.cpd("smoker"), table)


# -- normalize=True: columns typed to a few decimals ----------------------------------


def test_normalize_rescales_rounded_columns(model):
    table = model.cpd("treatment")
    column = ("15_24", "influenza")
    table[column] = table[column].round(3)
    table.loc["antiviral", column] += 0.004  # the column now sums to 1.004 (or so)
    total = table[column].sum()
    assert 1e-9 < abs(total - 1) < 0.01
    with pytest.raises(InvalidCPDError, match="sums to"):
        model.set_cpd("treatment", table)
    model.set_cpd("treatment", table, normalize=True)
    got = model.cpd("treatment")
    np.testing.assert_allclose(got[column], table[column] / total, rtol=0, atol=1e-15)
    np.testing.assert_allclose(got.sum(axis=0), 1, rtol=0, atol=1e-12)
    # the other columns were already exact: unchanged to the last bit (x / 1.0 == x)
    other = ("0_14", "asthma")
    assert (got[other] == table[other]).all()


def test_normalize_thirds_typed_to_four_decimals():
    m = clinicsim.default_model()
    table = m.cpd("visit_month")
    table["asthma"] = 0.0833  # twelve months, 0.9996 in all
    m.set_cpd("visit_month", table, normalize=True)
    np.testing.assert_allclose(m.cpd("visit_month")["asthma"], 1 / 12, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c * 0.98, r"sums to 0\.98, more than 1% from 1"),
        (lambda c: c * 1.02, r"sums to 1\.02, more than 1% from 1"),
        (lambda c: c * 0, "is all zero"),
        (lambda c: c.where(c.index != "True", -0.1).where(c.index != "False", 1.1),
         "negative probability -0.1 for 'True'"),
    ],
)
def test_normalize_still_refuses(model, change, message):
    before = model.cpd("follow_up")
    table = before.copy()
    column = ("65_74", "asthma")
    table[column] = change(table[column])
    with pytest.raises(InvalidCPDError, match=message) as info:
        model.set_cpd("follow_up", table, normalize=True)
    assert "column (age_group=65_74, diagnosis=asthma)" in str(info.value)
    pd.testing.assert_frame_equal(model.cpd("follow_up"), before)
