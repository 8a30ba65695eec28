"""Inspecting and editing CPDs: labelled tables in, validated, refused edits change nothing."""

import numpy as np
import pandas as pd
import pytest

import clinicsim
from clinicsim import InvalidCPDError


def test_cpd_is_labelled(model):
    table = model.cpd("diagnosis")
    assert list(table.index) == model.states("diagnosis")
    assert table.columns.names == ["gender", "age_group"]
    assert table.shape == (16, 18)
    np.testing.assert_allclose(table.sum(axis=0), 1, atol=1e-9)
    root = model.cpd("gender")
    assert root["p"].to_dict() == pytest.approx({"male": 0.45, "female": 0.43, "other": 0.12})


def test_set_cpd_takes_effect(model):
    model.set_cpd("gender", {"male": 0.5, "female": 0.5, "other": 0.0})
    assert model.marginal("gender")["other"] == 0
    table = model.cpd("follow_up")
    table.loc["True"] = 0.5
    table.loc["False"] = 0.5
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
    table.loc["True", ("asthma", "65_74")] += 0.03
    with pytest.raises(InvalidCPDError) as info:
        model.set_cpd("follow_up", table)
    assert "'follow_up' column (diagnosis=asthma, age_group=65_74) sums to 1.03" in str(info.value)
    assert isinstance(info.value, clinicsim.ModelError) and isinstance(info.value, ValueError)


def test_copy_is_independent(model):
    other = model.copy()
    other.set_cpd("gender", {"male": 1.0, "female": 0.0, "other": 0.0})
    assert model.marginal("gender")["male"] == pytest.approx(0.45)
