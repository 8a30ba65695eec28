"""A cohort report draws the model's exact expectations given the evidence; an
unconditional report draws the stated targets as before."""

import numpy as np
import pytest

import clinicsim

# Age ranges made of whole bands, so that the same evidence can be put to model.query
# as age_group states (an age range weighs a band by its share of ages inside it).
CASES = [
    ({"diagnosis": "type2_diabetes", "age": (65, 89)},
     {"diagnosis": "type2_diabetes", "age_group": ["65_74", "75_89"]}),
    ({"age": (25, 64)}, {"age_group": ["25_44", "45_64"]}),
    ({"diagnosis": "asthma"}, {"diagnosis": "asthma"}),
]


@pytest.mark.parametrize(("given", "evidence"), CASES)
def test_cohort_figures_are_the_models_exact_conditional_values(given, evidence):
    model = clinicsim.default_model()
    records = clinicsim.sample(2000, seed=11, given=given)
    data = clinicsim.conformance_report(records, given=given)._figures
    gender = model.query("gender", evidence)
    np.testing.assert_allclose(data["gender"]["expected"], gender[data["gender"]["states"]],
                               rtol=1e-12)
    # ages: P(band | evidence) spread over the band's years, only the years the cohort
    # can hold (or holds), n times that
    age = data["age"]
    bands = model.query("age_group", evidence)
    want = {a: bands[b] / (hi - lo + 1) for b, (lo, hi) in model.age_bands.items()
            for a in range(lo, hi + 1) if bands[b] > 0}
    assert list(age["ages"]) == list(range(min(want), max(want) + 1))
    assert age["n"] == len(records) == age["counts"].sum()
    np.testing.assert_allclose(age["expected"], [len(records) * want.get(a, 0.0)
                                                 for a in age["ages"]], rtol=1e-12)
    assert all(lo >= age["ages"][0] and hi <= age["ages"][-1]
               for lo, hi in age["bands"].values())
    # follow-up: overall, then per diagnosis category (NaN where the cohort has none)
    follow = data["follow_up"]
    rates = [model.query("follow_up", evidence)["True"]]
    joint = model.query(["follow_up", "diagnosis"], evidence)
    for category in follow["by_category"]:
        dx = [d for d in model.states("diagnosis") if model.diagnosis_categories[d] == category]
        p = joint.loc[:, dx]
        total = float(p.sum())
        rates.append(float(p.loc["True"].sum()) / total if total > 1e-15 else np.nan)
    np.testing.assert_allclose(follow["expected"], rates, rtol=1e-9)
    svgs = clinicsim.conformance_report(records, given=given).figures()
    for key in ("gender", "age", "follow_up"):
        svg = svgs[key].svg
        assert "exact" in svg and "(all records)" not in svg, key
        assert "target ± margin" not in svg and "even spread" not in svg, key


def test_an_unconditional_report_draws_the_targets_as_before():
    """Pinned from the drawing before cohort figures existed (the SVG text was identical
    before and after the change)."""
    report = clinicsim.conformance_report(clinicsim.sample(5000, seed=42))
    data, figures = report._figures, report.figures()
    for key in ("gender", "age", "follow_up"):
        assert not {"expected", "title", "target_label"} & data[key].keys(), key
    assert list(data["age"]["ages"]) == list(range(90)) and data["age"]["n"] == 5000
    gender, age, follow = (figures[k].svg for k in ("gender", "age", "follow_up"))
    assert "Gender shares vs target" in gender and "target ± margin" in gender
    assert "even spread: 55.6 per year" in age and "Age distribution vs even spread" in age
    assert "target 0.3 (all records)" in follow and "(target: rising for chronic)" in follow
    assert "exact" not in gender + age + follow
