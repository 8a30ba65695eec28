"""The report checks every target statement, named by it (issue 11)."""

import re

import pytest

import clinicsim

CATEGORY_SHARES = {"chronic": 0.30, "surgical": 0.04, "viral": 0.16, "bacterial": 0.10,
                   "injury": 0.06, "preventive": 0.22, "other": 0.12}


@pytest.fixture(scope="module")
def clinic():
    """A clinic's own figures stated, then fitted: the README's second workflow."""
    model = clinicsim.default_model()
    mine = model.with_targets([*model.targets,
        {"share": "diagnosis_category", "values": CATEGORY_SHARES, "margin": 0.02},
        {"rate": {"follow_up": "True"}, "value": 0.55, "margin": 0.03,
         "where": {"diagnosis_category": ["chronic"]}},
        {"trend": {"diagnosis_category": "preventive"}, "over": "age_group",
         "direction": "falling", "min_slope": 0.01}])
    return mine.fit_targets()


def test_fitted_figures_are_sampled_and_each_statement_checked(clinic):
    report = clinicsim.conformance_report(clinic.sample(20_000, seed=7), clinic)
    targets = {c.name: c for c in report.checks if c.kind == "target"}
    assert list(targets) == [f"target: {s}" for s in clinic.targets]
    assert report.passed
    share = targets["target: share diagnosis_category"]
    assert share.status == "shown" and share.rows == 20_000
    rate = targets["target: rate follow_up=True where diagnosis_category=chronic"]
    assert rate.status == "shown" and 0.25 * 20_000 < rate.rows < 0.35 * 20_000
    falling = targets["target: trend diagnosis_category=preventive falling over age_group"]
    assert falling.detail.startswith("falling, tested as the rate of "
                                     "diagnosis_category≠preventive rising")


def test_the_clinics_records_keep_the_brief_but_not_the_default_cpds(clinic):
    """Fitting kept the brief's five exactly, so against the default model only the
    model checks (the diagnosis and follow-up columns that moved) fail."""
    report = clinicsim.conformance_report(clinic.sample(20_000, seed=8))  # the default model
    assert report.targets_passed and not report.model_passed
    assert {c.node for c in report.failed} <= {"diagnosis", "follow_up", "treatment",
                                               "visit_month"}


def test_an_equality_target_not_shown_says_how_many_rows_would_show_it():
    report = clinicsim.conformance_report(clinicsim.sample(2000, seed=5))
    rate = next(c for c in report.checks if c.name == "target: rate follow_up=True")
    assert rate.status == "not shown"
    rows = int(re.search(r"about ([\d,]+) rows would show it", rate.detail)[1].replace(",", ""))
    p, room = rate.statistic / 2000, 0.02 - abs(rate.effect)
    # z^2 p (1 - p) / room^2 at z = 2.576, rounded up to two significant figures
    assert 2.5758**2 * p * (1 - p) / room**2 <= rows <= 1.1 * 2.5758**2 * p * (1 - p) / room**2
