"""Model edits: the TargetWarning when an edit contradicts a stated target, the name of an
edited model, adding and removing states."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import clinicsim
from clinicsim import InvalidCPDError, TargetWarning

# -- TargetWarning ---------------------------------------------------------------------


def test_warning_names_the_target_the_new_value_and_the_fix(model):
    with pytest.warns(TargetWarning) as caught:
        model.set_cpd("gender", {"male": 0.5, "female": 0.5, "other": 0.0})
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "set_cpd('gender') moved a stated target outside its margin" in message
    assert "share gender: the exact shares are now male 0.5, female 0.5, other 0 " in message
    assert "(target male 0.45, female 0.43, other 0.12, each ± 0.02)" in message
    assert "model.with_targets(" in message
    # the whole gender table is the edit: refitting with it kept cannot meet its shares
    assert "fit_targets" not in message
    assert caught[0].filename == __file__  # points at the caller's line
    assert isinstance(caught[0].message, UserWarning)
    assert model.cpd("gender")["p"].tolist() == [0.5, 0.5, 0.0]  # the edit is made


def test_warning_offers_a_refit_that_keeps_the_edited_columns(model):
    table = model.cpd("follow_up")
    chronic = [d for d, c in model.diagnosis_categories.items() if c == "chronic"]
    rising = table.columns.get_level_values("diagnosis").isin(chronic)
    table.loc["True", rising] = 1.0
    table.loc["False", rising] = 0.0
    with pytest.warns(TargetWarning) as caught:
        model.set_cpd("follow_up", table)
    message = str(caught[0].message)
    rate = float(model.marginal("follow_up")["True"])
    assert f"rate follow_up=True: the exact rate is now {rate:.4g} (target 0.3 ± 0.02)" \
        in message
    n = int(rising.sum())
    assert "model.fit_targets(keep=[('follow_up', {'age_group': '0_14', 'diagnosis': " \
        f"'hypertension'}}), ('follow_up', {{'age_group': '0_14', 'diagnosis': " \
        f"'type2_diabetes'}}), ...] (the {n} edited columns))" in message


def test_one_edited_column_is_named_in_the_refit(model):
    table = model.cpd("follow_up")
    column = ("25_44", "adult_checkup")
    share = float(model.query(["age_group", "diagnosis"]).loc[column])
    # enough to move the overall rate by 0.03: past the margin 0.02
    assert share * (1 - table.loc["True", column]) > 0.03
    table[column] = [1.0, 0.0]
    with pytest.warns(TargetWarning, match=r"fit_targets\(keep=\[\('follow_up', "
                      r"\{'age_group': '25_44', 'diagnosis': 'adult_checkup'\}\)\]\)"):
        model.set_cpd("follow_up", table)


def test_difference_and_age_spread_are_warned_about(model):
    table = model.cpd("follow_up")
    table.loc["True"] = 0.3
    table.loc["False"] = 0.7
    with pytest.warns(TargetWarning, match=r"difference follow_up=True where diagnosis_category"
                      r"=chronic,surgical,viral: the exact difference is now [+-]0\.0000 "
                      r"\(target: at least 0\.15\)") as caught:
        model.set_cpd("follow_up", table)
    message = str(caught[0].message)
    assert "rate follow_up" not in message  # 0.3 is the target
    assert re.search(r"trend follow_up=True over age_group where diagnosis_category=chronic: "
                     r"the exact slope is now [+-]0\.0000 per decade \(target: rising by at "
                     r"least 0\.02\)", message)
    ages = model.cpd("age_group")
    ages["p"] = 1 / len(ages)  # six bands of unequal width, equally likely
    with pytest.warns(TargetWarning, match=r"even age 0\.\.89: the exact distribution of ages "
                      r"is now 0\.\d+ from an even spread"):
        model.set_cpd("age_group", ages)


def test_no_warning_inside_the_margins_or_away_from_the_targets(model):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.set_cpd("gender", {"male": 0.46, "female": 0.42, "other": 0.12})  # inside
        table = model.cpd("treatment")  # no target names treatments
        table[("0_14", "asthma")] = 0.0
        table.loc["inhaler", ("0_14", "asthma")] = 1.0
        model.set_cpd("treatment", table)


def test_a_figure_the_edit_does_not_move_is_not_warned_about_again(model):
    with pytest.warns(TargetWarning):
        model.set_cpd("gender", {"male": 0.6, "female": 0.3, "other": 0.1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.set_cpd("visit_month", model.cpd("visit_month").iloc[::-1])  # same table


def test_a_refused_edit_neither_warns_nor_changes(model):
    before = model.cpd("gender")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidCPDError):
            model.set_cpd("gender", {"male": 1.0, "female": 0.5, "other": 0.0})
    pd.testing.assert_frame_equal(model.cpd("gender"), before)
    np.testing.assert_array_equal(model.cpd("gender")["p"], [0.45, 0.43, 0.12])
    assert clinicsim.TargetWarning is TargetWarning


# -- an edited model's name ------------------------------------------------------------


def test_an_edited_model_no_longer_claims_the_preset(model, tmp_path):
    assert model.name == "default"
    description = model.description
    with pytest.warns(TargetWarning):
        model.set_cpd("gender", {"male": 0.5, "female": 0.5, "other": 0.0})
    assert model.name == "default (edited)"
    assert model.description == f"{description}\nEdited: set_cpd('gender')."
    model.set_cpd("treatment", model.cpd("treatment").iloc[::-1])  # the same table: no edit
    model.set_cpd("gender", {"male": 0.45, "female": 0.43, "other": 0.12})
    assert model.description == f"{description}\nEdited: set_cpd('gender')."
    model.save(tmp_path / "m.yaml")
    loaded = clinicsim.load_model(tmp_path / "m.yaml")
    assert (loaded.name, loaded.description) == (model.name, model.description)
    table = loaded.cpd("visit_month")
    table["asthma"] = 1 / 12
    loaded.set_cpd("visit_month", table)  # edited again: named once, both edits listed
    assert loaded.name == "default (edited)"
    assert loaded.description.endswith("\nEdited: set_cpd('gender'); set_cpd('visit_month').")
    assert clinicsim.default_model().name == "default"


def test_new_targets_and_a_fit_that_moves_a_cpd_are_edits(model):
    assert model.with_targets(model.targets).name == "default"  # the same statements
    assert model.fit_targets().name == "default"  # a fixed point: nothing moved
    mine = model.with_targets([*model.targets[:1],
                               {"rate": {"follow_up": "True"}, "value": 0.25, "margin": 0.02}])
    assert mine.name == "default (edited)"
    assert mine.description.endswith("\nEdited: with_targets().")
    fitted = mine.fit_targets()
    assert fitted.description.endswith("\nEdited: with_targets(); fit_targets().")
    assert model.name == "default" and "Edited" not in model.description


def test_a_name_the_user_gives_is_kept(model, tmp_path):
    model.name = "my_clinic"
    model.description = ""
    table = model.cpd("visit_month")
    table["asthma"] = 1 / 12
    model.set_cpd("visit_month", table)
    assert model.name == "my_clinic"
    assert model.description == "Edited: set_cpd('visit_month')."
    model.remove_state("treatment", "physical_therapy")
    assert model.description == \
        "Edited: set_cpd('visit_month'); remove_state('treatment', 'physical_therapy')."
    before = model.content_key()
    model.name = "other"
    assert model.content_key() != before  # the name is part of what the model is


# -- add_state / remove_state ----------------------------------------------------------

COVID = {"code": "U07.1", "category": "viral"}


def _given(table, diagnosis):
    """The columns of ``table`` given this diagnosis (the other parents' states as labels)."""
    if table.columns.nlevels == 1:
        return table[[diagnosis]].set_axis(["-"], axis=1)
    return table.xs(diagnosis, level="diagnosis", axis=1)


def _without(table, diagnosis):
    level = "diagnosis" if table.columns.nlevels > 1 else None
    return table.drop(columns=diagnosis, level=level)


def test_add_a_diagnosis_like_influenza(model, tmp_path):
    before = clinicsim.default_model()
    model.add_state("diagnosis", "covid19", like="influenza", p=0.03, metadata=COVID)
    assert model.states("diagnosis") == [*before.states("diagnosis"), "covid19"]
    dx, old = model.cpd("diagnosis"), before.cpd("diagnosis")
    assert (dx.loc["covid19"] == 0.03).all()
    np.testing.assert_allclose(dx.drop(index="covid19"), old * 0.97, rtol=0, atol=1e-15)
    for child in ("treatment", "follow_up", "visit_month"):  # the columns copied from influenza
        table = model.cpd(child)
        pd.testing.assert_frame_equal(_given(table, "covid19"), _given(table, "influenza"))
        pd.testing.assert_frame_equal(_without(table, "covid19"), before.cpd(child))
    assert model.diagnosis_codes["covid19"] == "U07.1"
    assert model.diagnosis_categories["covid19"] == "viral"
    assert model.name == "default (edited)"
    assert model.description.endswith("\nEdited: add_state('diagnosis', 'covid19').")
    assert float(model.marginal("diagnosis")["covid19"]) == pytest.approx(0.03, abs=1e-12)

    n = 20_000
    records = model.sample(n, seed=16, extended=True)
    share = (records.diagnosis == "covid19").mean()
    assert abs(share - 0.03) < 5 * (0.03 * 0.97 / n) ** 0.5
    rows = records[records.diagnosis == "covid19"]
    assert (rows.diagnosis_code == "U07.1").all() and (rows.diagnosis_category == "viral").all()
    report = clinicsim.conformance_report(records, model=model)
    assert report.passed, report.summary()
    assert any("covid19" in c.name for c in report.checks)  # its own CPD columns are checked

    model.save(tmp_path / "covid.yaml")
    assert clinicsim.load_model(tmp_path / "covid.yaml").content_key() == model.content_key()


def test_add_state_reports_every_problem_at_once_and_changes_nothing(model):
    key = model.content_key()
    with pytest.raises(clinicsim.ModelError) as info:
        model.add_state("diagnosis", "covid19", p=1.5)
    errors = info.value.errors
    assert len(errors) == 3, errors
    assert "like= is required: the CPDs of ['treatment', 'follow_up', 'visit_month'] need " \
        "columns for 'covid19'" in errors[0]
    assert "p must be a number in [0, 1)" in errors[1] and "got 1.5" in errors[1]
    assert "metadata= is required: each state of 'diagnosis' has metadata.diagnoses " \
        "{code, category}" in errors[2]
    assert all(e.startswith("add_state('diagnosis', 'covid19'): ") for e in errors)
    with pytest.raises(clinicsim.ModelError) as info:  # the rest is found by validation
        model.add_state("diagnosis", "covid19", like="flu", p=0.02,
                        metadata={"code": "U07.1", "category": "pandemic"})
    assert len(info.value.errors) == 2
    assert "like='flu' is not a state of 'diagnosis'" in info.value.errors[0]
    assert "metadata.diagnoses['covid19'] needs a code and a category" in info.value.errors[1]
    for args, message in [
        (("diagnosis", "influenza"), "'diagnosis' already has a state 'influenza'"),
        (("diagnosis", ""), "must be a non-empty string"),
        (("mood", "calm"), "unknown node 'mood'"),
    ]:
        with pytest.raises(clinicsim.ModelError, match=message):
            model.add_state(*args, like="influenza", p=0.1, metadata=COVID)
    with pytest.raises(clinicsim.ModelError, match="'gender' has no metadata for its states"):
        model.add_state("gender", "unknown", like="other", p=0.01, metadata=COVID)
    with pytest.raises(clinicsim.ModelError, match=r"targets\[0\]\.values must map each state "
                       r"of gender \(male, female, other, unknown\) to its share"):
        model.add_state("gender", "unknown", like="other", p=0.01)
    with pytest.raises(clinicsim.ModelError, match="states must be 'True' and 'False'"):
        model.add_state("follow_up", "maybe", p=0.1)
    assert model.content_key() == key and model.name == "default"


def test_add_a_treatment_needs_its_code_not_a_like(model):
    code = {"resource": "MedicationRequest", "system": "http://www.whocc.no/atc",
            "code": "J05AX", "display": "Other antivirals"}
    model.add_state("treatment", "paxlovid", p=0.0, metadata=code)  # no children
    assert (model.cpd("treatment").loc["paxlovid"] == 0).all()
    pd.testing.assert_frame_equal(model.cpd("treatment").drop(index="paxlovid"),
                                  clinicsim.default_model().cpd("treatment"))
    assert model.metadata["treatments"]["paxlovid"] == code


def test_add_state_warns_about_a_target_it_moves(model):
    with pytest.warns(TargetWarning, match=r"(?s)add_state\('diagnosis', 'covid19'\) moved a "
                      r"stated target.*rate follow_up=True") as caught:
        # half of all visits, with hypertension's high follow-up rates
        model.add_state("diagnosis", "covid19", like="hypertension", p=0.5, metadata=COVID)
    assert caught[0].filename == __file__
    assert "fit_targets(keep=[('diagnosis', {})])" in str(caught[0].message)


def test_remove_a_diagnosis(model):
    before = clinicsim.default_model()
    model.remove_state("diagnosis", "influenza")
    assert "influenza" not in model.states("diagnosis")
    assert "influenza" not in model.diagnosis_codes
    old = before.cpd("diagnosis")
    expected = old.drop(index="influenza") / (1 - old.loc["influenza"])
    pd.testing.assert_frame_equal(model.cpd("diagnosis"), expected, rtol=0, atol=1e-15)
    for child in ("treatment", "follow_up", "visit_month"):
        pd.testing.assert_frame_equal(model.cpd(child), _without(before.cpd(child), "influenza"))
    assert "influenza" not in set(model.sample(2000, seed=17).diagnosis)
    assert model.description.endswith("Edited: remove_state('diagnosis', 'influenza').")


def test_add_then_remove_gives_the_model_back(model):
    model.add_state("diagnosis", "covid19", like="influenza", p=0.03, metadata=COVID)
    model.remove_state("diagnosis", "covid19")
    before = clinicsim.default_model()
    for node in model.nodes:
        pd.testing.assert_frame_equal(model.cpd(node), before.cpd(node), rtol=0, atol=1e-15)
    assert model.metadata == before.metadata


def test_remove_state_refusals_name_where_and_change_nothing(model):
    table = model.cpd("treatment")
    for column in [("0_14", "asthma"), ("25_44", "asthma")]:
        table[column] = 0.0
        table.loc["inhaler", column] = 1.0
    model.set_cpd("treatment", table)
    key = model.content_key()
    with pytest.raises(clinicsim.ModelError) as info:
        model.remove_state("treatment", "inhaler")
    assert info.value.errors == [
        f"remove_state('treatment', 'inhaler'): the CPD of 'treatment' column (age_group={a}, "
        "diagnosis=asthma) gives 'inhaler' probability 1; without it the column would be all "
        "zero (set that column first with set_cpd)" for a in ("0_14", "25_44")]
    for args, message in [
        (("follow_up", "True"), "'follow_up' would be left with one state"),
        (("diagnosis", "flu"), "'flu' is not a state of 'diagnosis'"),
        (("gender", "other"), r"targets\[0\]\.values must map each state of gender"),
        (("age_group", "15_24"), "metadata.age_bands leave a gap between '0_14' and '25_44'"),
    ]:
        with pytest.raises(clinicsim.ModelError, match=message):
            model.remove_state(*args)
    assert model.content_key() == key


# -- a warning raised as an error leaves the model unchanged -----------------------------

def _even_gender(model):
    model.set_cpd("gender", {"male": 0.5, "female": 0.5, "other": 0.0})


def _follow_up_column(model):
    table = model.cpd("follow_up")
    table[("25_44", "adult_checkup")] = [1.0, 0.0]
    model.set_cpd("follow_up", table)


@pytest.mark.parametrize("edit", [
    _even_gender,
    _follow_up_column,
    lambda m: m.add_state("diagnosis", "covid19", like="hypertension", p=0.5, metadata=COVID),
    lambda m: m.remove_state("diagnosis", "hypertension"),
    lambda m: m.remove_state("age_group", "0_14"),
], ids=["set_cpd root", "set_cpd column", "add_state", "remove_state", "remove_state band"])
def test_a_warning_raised_as_an_error_leaves_the_model_unchanged(model, edit):
    """``warnings.simplefilter("error", TargetWarning)``, as the README suggests: the edit
    raises and is not made, so the model is never half-edited."""
    before = (model.content_key(), model.name, model.description, model.nodes,
              {n: model.states(n) for n in model.nodes}, model.metadata)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TargetWarning)
        with pytest.raises(TargetWarning):
            edit(model)
    assert (model.content_key(), model.name, model.description, model.nodes,
            {n: model.states(n) for n in model.nodes}, model.metadata) == before
    with pytest.warns(TargetWarning):  # and the same edit, warned only, is made
        edit(model)
    assert model.content_key() != before[0] and model.name == "default (edited)"


def test_methods_that_return_a_new_model_never_warn_nor_edit(model):
    """with_targets and fit_targets edit a copy and do not warn."""
    key = model.content_key()
    with warnings.catch_warnings():
        warnings.simplefilter("error", TargetWarning)
        model.with_targets(model.targets[:1])
        model.fit_targets()
    assert model.content_key() == key and model.name == "default"
