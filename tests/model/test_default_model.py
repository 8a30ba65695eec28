"""The default model meets every stated target exactly, by inference (no sampling)."""

import itertools
import re

import numpy as np
import pytest
from pgmpy.inference import VariableElimination

from clinicsim.model import CATEGORIES


def joint(model, *nodes):
    """Exact joint distribution of ``nodes`` as an array indexed in each node's state order."""
    factor = VariableElimination(model.network).query(list(nodes), show_progress=False, joint=True)
    order = [factor.variables.index(n) for n in nodes]
    values = np.transpose(factor.values, order)
    for axis, n in enumerate(nodes):
        idx = [factor.state_names[n].index(s) for s in model.states(n)]
        values = np.take(values, idx, axis=axis)
    return values


def follow_up_by(model, group_of_diagnosis):
    """P(follow_up=True | group) for each group, exactly."""
    p = joint(model, "diagnosis", "follow_up")
    true = model.states("follow_up").index("True")
    groups = {}
    for d, row in zip(model.states("diagnosis"), p, strict=True):
        g = group_of_diagnosis(d)
        num, den = groups.get(g, (0.0, 0.0))
        groups[g] = (num + row[true], den + row.sum())
    return {g: num / den for g, (num, den) in groups.items()}


def test_gender_is_exactly_the_brief(model):
    assert model.marginal("gender").to_dict() == pytest.approx(
        {"male": 0.45, "female": 0.43, "other": 0.12}, abs=1e-12)


def test_ages_evenly_spread_over_0_to_89(model):
    bands = model.age_bands
    spans = sorted(bands.values())
    assert spans[0][0] == 0 and spans[-1][1] == 89
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(spans))  # no gap, no overlap
    width = {k: hi - lo + 1 for k, (lo, hi) in bands.items()}
    expected = {k: w / 90 for k, w in width.items()}
    assert model.marginal("age_group").to_dict() == pytest.approx(expected, abs=1e-12)


def test_sizes_codes_and_categories(model):
    assert 12 <= len(model.states("diagnosis")) <= 20
    assert 8 <= len(model.states("treatment")) <= 15
    assert set(model.diagnosis_categories.values()) == set(CATEGORIES)
    for d, code in model.diagnosis_codes.items():
        assert re.fullmatch(r"[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?", code), (d, code)


def test_follow_up_rate_is_030(model):
    assert model.marginal("follow_up")["True"] == pytest.approx(0.30, abs=0.005)


def test_follow_up_concentrated_in_chronic_surgical_viral(model):
    cats = model.diagnosis_categories
    priority = set(dict(model.targets[2].where)["diagnosis_category"])
    rates = follow_up_by(model, lambda d: cats[d] in priority)
    assert rates[True] - rates[False] >= 0.15
    by_cat = follow_up_by(model, cats.get)
    rest = [by_cat[c] for c in CATEGORIES if c not in priority]
    assert min(by_cat[c] for c in priority) > max(rest)


def test_follow_up_rises_with_age_among_chronic(model):
    cats = model.diagnosis_categories
    p = joint(model, "age_group", "diagnosis", "follow_up")
    chronic = [i for i, d in enumerate(model.states("diagnosis")) if cats[d] == "chronic"]
    true = model.states("follow_up").index("True")
    sub = p[:, chronic, :].sum(axis=1)
    rate = sub[:, true] / sub.sum(axis=1)
    ages = [model.age_bands[b][0] for b in model.states("age_group")]
    rate = rate[np.argsort(ages)]
    assert np.all(np.diff(rate) > 0), rate


def test_chronic_grows_with_age_and_preventive_leads_in_children(model):
    cats = model.diagnosis_categories
    p = joint(model, "age_group", "diagnosis")
    p = p / p.sum(axis=1, keepdims=True)
    dx = model.states("diagnosis")
    chronic = p[:, [cats[d] == "chronic" for d in dx]].sum(axis=1)
    preventive = p[:, [cats[d] == "preventive" for d in dx]].sum(axis=1)
    assert np.all(np.diff(chronic) > 0)  # bands are in age order in the default model
    assert chronic[0] < 0.15 and preventive[0] > 0.35


def test_treatments_make_sense(model):
    tx = model.cpd("treatment")
    cats = model.diagnosis_categories
    assert (tx.loc["cardiology_referral", "0_14"] == 0).all()  # no cardiac work-up in children
    for d, cat in cats.items():
        if cat in ("preventive", "viral") and d != "upper_respiratory_infection":
            assert (tx.loc["antibiotic", (slice(None), d)] == 0).all(), d
    assert (tx.loc["vaccination", (slice(None), "hypertension")] == 0).all()
