"""The report on a patient history: temporal consistency row by row, and the exact
visits-per-patient distribution."""

import pandas as pd
import pytest

import clinicsim
from clinicsim.simulate import write_patients


@pytest.fixture(scope="module")
def history():
    return clinicsim.sample_patients(800, seed=13).visits


def _failed(report):
    return sorted(c.name for c in report.checks if not c.passed)


def test_a_history_passes_and_is_checked_as_one(history):
    report = clinicsim.conformance_report(history)
    assert report.passed, _failed(report)
    names = [c.name for c in report.checks]
    for check in ("gender", "age", "order", "window", "link", "due date", "visit_id"):
        assert f"records: history {check}" in names
    assert "model: history visits per patient" in names
    assert "model: history share of patients with a follow-up visit" in names


def test_a_history_file_passes(tmp_path):
    write_patients(tmp_path / "v.csv", 300, seed=3)
    assert clinicsim.conformance_report(tmp_path / "v.csv").passed


def _broken(history, column, row, value):
    bad = history.copy()
    bad[column] = bad[column].astype(object)
    bad.loc[row, column] = value
    return bad


def test_broken_histories_fail_naming_the_rows(history):
    follow = history.index[history.visit_kind == "follow-up"]
    second = history.index[history.visit_number == 2][0]
    row = int(follow[0])
    gender = "female" if history.gender[row] != "female" else "male"
    cases = {
        "records: history gender": _broken(history, "gender", row, gender),
        "records: history due date": _broken(history, "visit_date", row,
                                             history.visit_date[row] + pd.Timedelta(days=1)),
        "records: history link": _broken(history, "previous_visit_id", row, "P9999999-01"),
        "records: history age": _broken(history, "age", second, history.age[second] + 3),
        "records: history window": _broken(history, "visit_date", row,
                                           pd.Timestamp("2025-06-01")),
    }
    for name, bad in cases.items():
        report = clinicsim.conformance_report(bad)
        assert not report.passed, name
        check = next(c for c in report.checks if c.name == name)
        assert not check.passed and "rows" in check.detail, name


def test_a_chain_that_never_ends_fails():
    visits, _ = clinicsim.sample_patients(400, seed=5)
    # every follow-up of every chain repeats: twice the follow-ups the model allows
    follow = visits[visits.visit_kind == "follow-up"]
    more = follow.copy()
    more["visit_id"] = more.visit_id + "b"
    bad = pd.concat([visits, more], ignore_index=True)
    report = clinicsim.conformance_report(bad)
    assert not report.passed
    assert "records: history order" in _failed(report)


def test_too_many_visits_fail_the_distribution_check():
    visits, _ = clinicsim.sample_patients(2000, seed=8)
    # patients with one visit dropped: the distribution moves, every row stays valid
    single = visits.groupby("patient_id").visit_id.transform("size") == 1
    keep = visits[~single | (visits.patient_id < "P0001000")]
    report = clinicsim.conformance_report(keep.reset_index(drop=True))
    check = next(c for c in report.checks if c.name == "model: history visits per patient")
    assert not check.passed and not report.passed


def test_type_one_error_at_100_patients():
    # 40 reports of correct histories at alpha = 0.05: failures are binomial(40, <= 0.05),
    # P(more than 7) < 0.001
    failures = sum(not clinicsim.conformance_report(
        clinicsim.sample_patients(100, seed=seed).visits, alpha=0.05).passed
        for seed in range(1000, 1040))
    assert failures <= 7
