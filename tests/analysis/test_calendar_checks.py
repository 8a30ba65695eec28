"""The checks of ages within bands, visit days within the month, follow-up days within
their interval, and the extended columns (issue 22): correct samples pass, each broken
case of the issue fails, invalid extended values are named by row."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import clinicsim
from clinicsim._cli import main
from clinicsim.analysis._calendar_checks import _grouped

AGE = "model: age within band"
VISIT = "model: visit_date day within month"
FOLLOW_UP = "model: follow_up_date day within its interval"


def check(report, name):
    return next(c for c in report.checks if c.name == name)


@pytest.fixture(scope="module")
def extended():
    return clinicsim.sample(20_000, seed=2201, extended=True)


def test_a_correct_extended_sample_passes_every_new_check(extended):
    report = clinicsim.conformance_report(extended)
    assert report.passed, report.failed
    for name in (AGE, VISIT, FOLLOW_UP):
        assert check(report, name).status == "not rejected"
    for column in ("diagnosis_code", "diagnosis_category", "follow_up_date", "age_group"):
        assert check(report, f"records: {column}").status == "valid"
    assert not any("columns not checked" in note for note in report.notes)


def test_a_plain_sample_gets_the_age_and_visit_day_checks_only():
    report = clinicsim.conformance_report(clinicsim.sample(5000, seed=2202))
    names = {c.name for c in report.checks}
    assert {AGE, VISIT} <= names and FOLLOW_UP not in names
    assert "records: follow_up_date" not in names


def test_uniform_weekdays_fail_the_visit_day_check():
    records = clinicsim.sample(20_000, seed=2203)
    visit = records.visit_date.to_numpy("datetime64[D]")
    month = visit.astype("datetime64[M]")
    length = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(int)
    u = np.random.default_rng(2203).random(len(visit))
    moved = month.astype("datetime64[D]") + (u * length).astype(int)
    report = clinicsim.conformance_report(records.assign(visit_date=moved))
    result = check(report, VISIT)
    assert result.status == "failed" and "Sunday" in report.to_markdown()
    # the months are unchanged: only the day check sees it
    assert check(report, "model: marginal visit_month").status == "not rejected"


def test_half_the_ages_of_each_band_fail_the_us_office_visits_report():
    office = clinicsim.load_model("us-office-visits")
    records = clinicsim.sample(5000, model=office, seed=2204, extended=True)
    assert check(clinicsim.conformance_report(records, office), AGE).status == "not rejected"
    low = records.age_group.map({b: lo for b, (lo, _) in office.age_bands.items()}).astype(int)
    halved = records.assign(age=low + (records.age - low) // 2 * 2)
    report = clinicsim.conformance_report(halved, office)
    assert not report.passed and check(report, AGE).status == "failed"


def test_a_cohort_with_an_age_range_checks_ages_within_the_range():
    given = {"age": (30, 70)}
    records = clinicsim.sample(5000, seed=2205, given=given)
    report = clinicsim.conformance_report(records, given=given)
    assert report.passed and check(report, AGE).status == "not rejected"
    assert "cohort range" in check(report, AGE).detail
    # the same ages read as uniform over the whole bands fail
    assert check(clinicsim.conformance_report(records), AGE).status == "failed"


def test_few_rows_leave_the_age_check_not_tested():
    report = clinicsim.conformance_report(clinicsim.sample(100, seed=2206))
    assert check(report, AGE).status == "not tested"


def test_follow_up_dates_before_the_visit_are_named_by_row(extended):
    records = extended.copy()
    rows = np.flatnonzero(records.follow_up.to_numpy())[:200]
    records.loc[rows, "follow_up_date"] = records.visit_date.iloc[rows] - pd.Timedelta(days=1)
    report = clinicsim.conformance_report(records)
    result = check(report, "records: follow_up_date")
    assert not report.passed and result.status == "failed"
    assert result.detail.startswith("200 rows not within the follow-up interval")
    assert f"row {rows[0] + 1} " in result.detail


def test_follow_up_date_present_exactly_when_follow_up(extended):
    records = extended.head(2000).copy()
    without = np.flatnonzero(~records.follow_up.to_numpy())[:3]
    with_ = np.flatnonzero(records.follow_up.to_numpy())[:2]
    records.loc[without, "follow_up_date"] = records.visit_date.iloc[without] + pd.Timedelta(
        days=20)
    records.loc[with_, "follow_up_date"] = pd.NaT
    detail = check(clinicsim.conformance_report(records), "records: follow_up_date").detail
    assert "3 rows present on a row with follow_up False" in detail
    assert "2 rows missing on a row with follow_up True" in detail


def test_wrong_diagnosis_codes_and_categories_are_named(extended):
    records = extended.head(3000).copy()
    records["diagnosis_code"] = records.diagnosis_code.astype(str)
    records.loc[5, "diagnosis_code"] = "Z99.99"
    records["diagnosis_category"] = records.diagnosis_category.astype(str)
    wrong = "viral" if records.loc[9, "diagnosis_category"] != "viral" else "chronic"
    records.loc[9, "diagnosis_category"] = wrong
    report = clinicsim.conformance_report(records)
    code = check(report, "records: diagnosis_code")
    assert code.status == "failed"
    assert code.detail == ("1 row not the model's code of the row's diagnosis "
                           "(row 6 'Z99.99')")
    category = check(report, "records: diagnosis_category")
    assert category.detail == (f"1 row not the model's category of the row's diagnosis "
                               f"(row 10 {wrong!r})")


def test_age_group_inconsistent_with_age_fails(extended):
    records = extended.head(1000).copy()
    records.loc[0, "age"] = 50 if records.loc[0, "age_group"] != "45_64" else 10
    result = check(clinicsim.conformance_report(records), "records: age_group")
    assert result.status == "failed" and "not the band of the row's age" in result.detail


def test_follow_ups_all_on_their_first_day_fail_the_interval_check(extended):
    model = clinicsim.default_model()
    lo = extended.diagnosis_category.astype(str).map(
        {c: a for c, (a, _) in model.follow_up_days.items()})
    moved = extended.visit_date + pd.to_timedelta(lo, unit="D")
    records = extended.assign(follow_up_date=extended.follow_up_date.where(
        extended.follow_up_date.isna(), moved))
    report = clinicsim.conformance_report(records)
    assert check(report, "records: follow_up_date").status == "valid"
    assert check(report, FOLLOW_UP).status == "failed"


def test_extended_csv_round_trip_passes(tmp_path, extended):
    path = tmp_path / "x.csv"
    extended.head(5000).to_csv(path, index=False)
    report = clinicsim.conformance_report(path)
    assert report.passed and check(report, "records: follow_up_date").status == "valid"


def test_sample_extended_report_passes(capsys, tmp_path):
    records, report = tmp_path / "r.csv", tmp_path / "r.json"
    with pytest.raises(SystemExit) as info:
        main(["sample", "-n", "5000", "--seed", "2207", "--extended", "-o", str(records),
              "--report", str(report)])
    _, err = capsys.readouterr()
    assert info.value.code == 0, err
    data = json.loads(report.read_text())
    names = {c["name"] for c in data["checks"]}
    assert data["passed"] and {AGE, VISIT, FOLLOW_UP, "records: diagnosis_code"} <= names


def test_grouped_statistic_of_one_group_is_pearsons():
    """Cross-check with scipy: one group's generalised statistic is Pearson's."""
    p = np.array([0.1, 0.2, 0.3, 0.4])
    observed = np.array([12, 18, 35, 35])
    result = _grouped("x", "x", observed, np.array([100]), p[None, :], 100, "rows", parts=1)
    expected = stats.chisquare(observed, 100 * p)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.pvalue == pytest.approx(expected.pvalue, rel=1e-9)


def test_visits_and_follow_ups_on_closed_days_fail_outright():
    from clinicsim.model import model_from_dict, model_to_dict

    data = model_to_dict(clinicsim.default_model())
    data["metadata"]["visit_window"]["weekday_weights"] = [1, 1, 1, 1, 1, 0, 0]
    closed = model_from_dict(data)
    own = clinicsim.sample(5000, model=closed, seed=2208, extended=True)
    assert clinicsim.conformance_report(own, closed).passed
    report = clinicsim.conformance_report(clinicsim.sample(5000, seed=2208, extended=True),
                                          closed)
    for name in (VISIT, FOLLOW_UP):
        result = check(report, name)
        assert result.status == "failed" and result.test == "impossible values", name
    assert "visits on days of weight 0" in check(report, VISIT).detail
