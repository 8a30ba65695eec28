"""``conformance_report(..., given=)``: cohorts checked against the conditional model."""

import pytest

import clinicsim

COHORTS = [
    {"diagnosis": "type2_diabetes", "age": (65, 89)},
    {"follow_up": True},
    {"gender": ["female", "other"], "visit_month": ["dec", "jan", "feb"]},
    {"diagnosis_category": "viral", "age": (10, 30)},
]


@pytest.mark.parametrize("evidence", COHORTS)
def test_a_cohort_passes_against_the_conditional_model(evidence):
    records = clinicsim.sample(8000, seed=31, given=evidence)
    report = clinicsim.conformance_report(records, given=evidence)
    assert report.passed, [c.detail for c in report.failed]
    given_check = next(c for c in report.checks if c.name == "records: given")
    assert given_check.passed and given_check.statistic == 0
    # without the evidence, the same rows are far from the unconditional model
    assert not clinicsim.conformance_report(records).passed


def test_a_filtered_unconditional_sample_passes():
    evidence = {"diagnosis_category": "chronic", "age": (50, 70)}
    full = clinicsim.sample(300_000, seed=9, extended=True)
    kept = full[(full.diagnosis_category == "chronic") & full.age.between(50, 70)]
    records = kept[list(clinicsim.simulate.COLUMNS)].reset_index(drop=True)
    report = clinicsim.conformance_report(records, given=evidence)
    assert report.passed, [c.detail for c in report.failed]


def test_rows_outside_the_evidence_fail():
    report = clinicsim.conformance_report(clinicsim.sample(2000, seed=2),
                                          given={"follow_up": True, "age": (40, 60)})
    check = next(c for c in report.checks if c.name == "records: given")
    assert not check.passed
    assert "rows outside the given follow_up" in check.detail
    assert "ages outside 40..60" in check.detail


def test_a_cohort_of_another_model_fails():
    evidence = {"age_group": "75_89"}
    records = clinicsim.load_model("us-office-visits").sample(20_000, seed=4, given=evidence)
    report = clinicsim.conformance_report(records, given=evidence)
    assert not report.passed
    assert any(c.name == "model: marginal gender" for c in report.failed)


def test_targets_that_still_apply_are_checked_the_others_skipped():
    # age_group and gender are independent roots: the gender shares still hold
    evidence = {"age_group": "0_14"}
    report = clinicsim.conformance_report(clinicsim.sample(5000, seed=12, given=evidence),
                                          given=evidence)
    status = {c.name: c.test for c in report.checks if c.kind == "target"}
    assert status["target: share gender"] != "not tested"
    skipped = {name for name, test in status.items() if test == "not tested"}
    assert "target: rate follow_up=True" in skipped and "target: even age 0..89" in skipped
    assert all(any(name in note for note in report.notes) for name in skipped)


def test_bad_evidence_is_refused():
    records = clinicsim.sample(100, seed=1)
    with pytest.raises(ValueError, match="unknown state"):
        clinicsim.conformance_report(records, given={"gender": "robot"})
