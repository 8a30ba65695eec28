"""Skewed models for the analysis tests: each breaks one stated target."""

import contextlib

import pandas as pd
import pytest

import clinicsim


def _set_cpd(model: clinicsim.ClinicModel, node: str, table, breaks: str | None) -> None:
    """``model.set_cpd(node, table)``, expecting the TargetWarning that names ``breaks``
    (a target whose exact figure the skew moves outside its margin), or no warning."""
    expect = pytest.warns(clinicsim.TargetWarning, match=breaks) if breaks \
        else contextlib.nullcontext()
    with expect:
        model.set_cpd(node, table)


def _outside(value: float, target: float, margin: float) -> bool:
    return abs(value - target) > margin + 1e-9  # the helpers' skews are clear of the edge


def gender_off(model: clinicsim.ClinicModel, points: float = 0.05) -> clinicsim.ClinicModel:
    """Men ``points`` more, women ``points`` fewer than the 45/43/12 target."""
    skewed = model.copy()
    _set_cpd(skewed, "gender", {"male": 0.45 + points, "female": 0.43 - points, "other": 0.12},
             "share gender" if _outside(points, 0, model.targets.gender_margin) else None)
    return skewed


def follow_up_rate(model: clinicsim.ClinicModel, rate: float) -> clinicsim.ClinicModel:
    """Every follow-up probability scaled so that the overall rate is about ``rate``."""
    skewed = model.copy()
    table = skewed.cpd("follow_up")
    factor = rate / float(model.marginal("follow_up")["True"])
    table.loc["True"] = (table.loc["True"] * factor).clip(upper=1.0)
    table.loc["False"] = 1.0 - table.loc["True"]
    t = model.targets
    _set_cpd(skewed, "follow_up", table, "rate follow_up=True"
             if _outside(rate, t.follow_up_rate, t.follow_up_margin) else None)
    return skewed


def follow_up_ignores_diagnosis(model: clinicsim.ClinicModel) -> clinicsim.ClinicModel:
    """P(follow_up | diagnosis, age) replaced by P(follow_up | age): same rate, same age trend
    overall, no dependence on the diagnosis."""
    skewed = model.copy()
    table = skewed.cpd("follow_up")
    gender = model.cpd("gender")["p"]
    diagnosis = model.cpd("diagnosis")  # columns (gender, age_group)
    for age in model.states("age_group"):
        weights = sum(gender[g] * diagnosis[(g, age)] for g in model.states("gender"))
        rate = float((weights * table.loc["True"].xs(age, level="age_group")).sum())
        for dx in model.states("diagnosis"):
            table.loc["True", (age, dx)] = rate
            table.loc["False", (age, dx)] = 1.0 - rate
    _set_cpd(skewed, "follow_up", table, "difference follow_up=True")
    return skewed


def follow_up_falling_with_age(model: clinicsim.ClinicModel, category: str = "chronic"
                               ) -> clinicsim.ClinicModel:
    """Within ``category``, follow-up falls from 0.7 in the youngest band by 0.08 a band."""
    skewed = model.copy()
    table = skewed.cpd("follow_up")
    for dx, cat in model.diagnosis_categories.items():
        if cat == category:
            for i, age in enumerate(model.states("age_group")):
                table.loc["True", (age, dx)] = 0.7 - 0.08 * i
                table.loc["False", (age, dx)] = 0.3 + 0.08 * i
    # the chronic diagnoses' higher rates at young ages raise the overall rate too
    _set_cpd(skewed, "follow_up", table, "rate follow_up=True")
    return skewed


def gender_shares(model: clinicsim.ClinicModel, male: float, female: float,
                  other: float) -> clinicsim.ClinicModel:
    """The gender CPD set to these shares."""
    skewed = model.copy()
    shares = {"male": male, "female": female, "other": other}
    t = model.targets
    _set_cpd(skewed, "gender", shares, "share gender" if any(
        _outside(shares[g], t.gender_shares[g], t.gender_margin) for g in shares) else None)
    return skewed


def follow_up_flat_in_age(model: clinicsim.ClinicModel, category: str = "chronic"
                          ) -> clinicsim.ClinicModel:
    """Within each diagnosis of ``category``, follow-up no longer depends on age: each age
    band gets the diagnosis' own overall rate, so the rates of the diagnoses (and their
    mix across ages) are unchanged."""
    skewed = model.copy()
    table = skewed.cpd("follow_up")
    ages = model.states("age_group")
    age_p = model.cpd("age_group")["p"]
    gender = model.cpd("gender")["p"]
    diagnosis = model.cpd("diagnosis")  # columns (gender, age_group)
    for dx, cat in model.diagnosis_categories.items():
        if cat != category:
            continue
        weight = {a: age_p[a] * sum(gender[g] * diagnosis[(g, a)][dx]
                                    for g in model.states("gender")) for a in ages}
        total = sum(weight.values())
        rate = sum(weight[a] * table.loc["True", (a, dx)] for a in ages) / total
        for a in ages:
            table.loc["True", (a, dx)] = rate
            table.loc["False", (a, dx)] = 1.0 - rate
    # the exact stratified slope is 0: below the trend's minimum
    _set_cpd(skewed, "follow_up", table, "trend follow_up=True")
    return skewed


def ages_missing(records, ages=(3, 17, 30, 52, 68, 81)):
    """Records whose ages in ``ages`` are moved one year up (inside the same band): those
    single years never occur, every band keeps its rows."""
    moved = records.copy()
    moved.loc[moved["age"].isin(ages), "age"] += 1
    return moved


def visits_in_one_month(records, month: int = 6):
    """Records whose visit dates all fall in ``month`` of their year (day clipped to 28)."""
    dates = records["visit_date"]
    moved = records.copy()
    moved["visit_date"] = (dates.dt.year * 10000 + month * 100 + dates.dt.day.clip(upper=28)
                           ).astype(str).pipe(pd.to_datetime, format="%Y%m%d").astype(dates.dtype)
    return moved
