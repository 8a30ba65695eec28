"""Model edits: the TargetWarning when an edit contradicts a stated target, the name of an
edited model, adding and removing states."""

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
    assert "set_cpd('gender') moved a stated target outside the margin" in message
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
                      r"=chronic,surgical,viral: the exact rates are now 0\.3 in these "
                      r"categories and 0\.3 elsewhere, a difference of 0 \(target: at least "
                      r"0\.15\)") as caught:
        model.set_cpd("follow_up", table)
    assert "rate follow_up" not in str(caught[0].message)  # 0.3 is the target
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


def test_a_name_the_user_gives_is_kept(model, tmp_path):
    model.name = "my_clinic"
    model.description = ""
    table = model.cpd("visit_month")
    table["asthma"] = 1 / 12
    model.set_cpd("visit_month", table)
    assert model.name == "my_clinic"
    assert model.description == "Edited: set_cpd('visit_month')."
    before = model.content_key()
    model.name = "other"
    assert model.content_key() != before  # the name is part of what the model is
