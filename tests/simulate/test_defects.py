"""inject_defects: every kind, the log, exact rates, determinism, refusals, the report."""

import numpy as np
import pandas as pd
import pytest

import clinicsim
from clinicsim import ArgumentError
from clinicsim.simulate._writers import write_records

ALL = [{"kind": "missing", "column": "gender", "rate": 0.05},
       {"kind": "missing", "column": "treatment", "rate": 0.3,
        "given": {"diagnosis": "influenza"}},
       {"kind": "missing", "column": "diagnosis", "rate": 0.2, "values": ["hypertension"]},
       {"kind": "typo", "column": "diagnosis", "rate": 0.02},
       {"kind": "swapped_date", "rate": 0.02},
       {"kind": "outside_window", "rate": 0.01},
       {"kind": "impossible_age", "rate": 0.01},
       {"kind": "wrong_code", "rate": 0.02},
       {"kind": "label_noise", "rate": 0.05},
       {"kind": "duplicate", "rate": 0.01},
       {"kind": "near_duplicate", "column": "gender", "rate": 0.01}]


@pytest.fixture(scope="module")
def records():
    return clinicsim.sample(20_000, seed=26, extended=True)


def test_input_unchanged_same_seed_same_bytes(records):
    before = records.copy()
    a = clinicsim.inject_defects(records, ALL, seed=7)
    b = clinicsim.inject_defects(records, ALL, seed=7)
    pd.testing.assert_frame_equal(records, before)
    pd.testing.assert_frame_equal(a.records, b.records)
    pd.testing.assert_frame_equal(a.log, b.log)
    assert not a.log.equals(clinicsim.inject_defects(records, ALL, seed=8).log)


def test_log_names_every_changed_cell(records):
    result = clinicsim.inject_defects(records, ALL[:9], seed=3)  # no appended rows
    damaged = result.records
    for column in ["gender", "treatment", "diagnosis", "visit_date", "age",
                   "diagnosis_code", "follow_up"]:
        old = records[column].astype(str).where(records[column].notna(), "")
        new = damaged[column].astype(str).where(damaged[column].notna(), "")
        changed = set(np.flatnonzero(old.to_numpy() != new.to_numpy()))
        logged = result.log[result.log["column"] == column]
        # a cell changed twice (a typo then missing) is logged twice, changed once
        assert changed <= set(logged["row"]), column


@pytest.mark.parametrize("defect", ALL, ids=lambda d: d["kind"] + str(d.get("column", "")))
def test_rate_exact_in_expectation(records, defect):
    """The changed count is Binomial(eligible, rate): within 4 standard errors."""
    result = clinicsim.inject_defects(records, [defect], seed=20261203)
    rows = result.log.loc[result.log["column"].isin(["*", defect.get("column", "*")])
                          | (result.log["kind"] != "near_duplicate"), "row"].nunique()
    eligible = len(records)
    if "given" in defect:
        eligible = int((records["diagnosis"] == "influenza").sum())
    if "values" in defect:
        eligible = int((records["diagnosis"] == "hypertension").sum())
    if defect["kind"] == "swapped_date":
        d = records["visit_date"]
        eligible = int(((d.dt.day <= 12) & (d.dt.day != d.dt.month)).sum())
    p = defect["rate"]
    assert abs(rows - eligible * p) < 4 * np.sqrt(eligible * p * (1 - p))


def test_damaged_values(records):
    result = clinicsim.inject_defects(records, ALL, seed=5)
    log, damaged = result.log, result.records
    ages = log[log["kind"] == "impossible_age"]["new"].astype(int)
    assert ((ages < 0) | (ages >= 130)).all()
    window = clinicsim.default_model().visit_window
    dates = pd.to_datetime(log[log["kind"] == "outside_window"]["new"])
    assert ((dates < pd.Timestamp(window.start)) | (dates > pd.Timestamp(window.end))).all()
    typo = log[log["kind"] == "typo"]
    assert (typo["original"] != typo["new"]).all()
    assert len(damaged) == len(records) + (log["column"] == "*").sum()


def test_report_counts_what_the_log_counts(records):
    """Each kind the report sees row by row: its count is the log's."""
    plain = records.drop(columns=["age_group", "diagnosis_category", "follow_up_date"])
    cases = {"impossible_age": ("age", "outside the age bands"),
             "outside_window": ("visit_date", "outside the visit window"),
             "wrong_code": ("diagnosis_code", "not the model's code"),
             "duplicate": ("patient_id", "repeating an earlier id")}
    for kind, (column, what) in cases.items():
        result = clinicsim.inject_defects(plain, [{"kind": kind, "rate": 0.01}], seed=11)
        report = clinicsim.conformance_report(result.records)
        text = " ".join(c.detail for c in report.checks if column in c.name)
        count = int((result.log["kind"] == kind).sum())
        assert f"{count:,} rows {what}" in text, (kind, text)
    result = clinicsim.inject_defects(plain, [{"kind": "missing", "column": "gender",
                                               "rate": 0.01}], seed=11)
    text = " ".join(c.detail for c in clinicsim.conformance_report(result.records).checks)
    assert f"{len(result.log):,} rows missing" in text


@pytest.mark.parametrize(("spec", "message"), [
    ([{"kind": "missing", "column": "gender", "rate": 1.5}], r"defects\[0\].*\[0, 1\]"),
    ([{"kind": "smudge", "rate": 0.1}], "unknown kind 'smudge'"),
    ([{"kind": "missing", "column": "shoe_size", "rate": 0.1}], "no column 'shoe_size'"),
    ([{"kind": "missing", "column": "gender", "rate": 0.1, "given": {"ward": "a"}}],
     "no column 'ward'"),
    ([{"kind": "carried_forward", "column": "gender", "rate": 0.1}], "needs histories"),
    ([{"kind": "label_noise", "column": "gender", "rate": 0.1}], "applies to"),
    ([], "non-empty list"),
])
def test_refusals(records, spec, message):
    with pytest.raises(ArgumentError, match=message):
        clinicsim.inject_defects(records, spec, seed=1)


def test_spec_file(tmp_path, records):
    path = tmp_path / "d.yaml"
    path.write_text("schema_version: 1\ndefects:\n  - {kind: label_noise, rate: 0.1}\n")
    a = clinicsim.inject_defects(records, path, seed=1)
    b = clinicsim.inject_defects(records, [{"kind": "label_noise", "rate": 0.1}], seed=1)
    pd.testing.assert_frame_equal(a.log, b.log)
    path.write_text("defects:\n  - {kind: label_noise, rate: -1}\n")
    with pytest.raises(ArgumentError, match="rate must be"):
        clinicsim.inject_defects(records, path, seed=1)


def test_report_counts_typos_into_unknown_states():
    records = clinicsim.sample(5000, seed=1)
    result = clinicsim.inject_defects(records, [{"kind": "typo", "column": "gender",
                                                 "rate": 0.01}], seed=11)
    states = set(clinicsim.default_model().states("gender"))
    unknown = int((~result.log["new"].isin(states)).sum())  # a typo into a state is unseen
    text = " ".join(c.detail for c in clinicsim.conformance_report(result.records).checks)
    assert f"{unknown:,} rows not a state of the model's 'gender' node" in text


def test_typed_columns_take_every_kind(records, tmp_path):
    """Typed records (not text read from CSV): a typo in a number, a flag or a date makes
    the column text; a missing date is NaT; the log's dates are days; a Parquet file's
    dates (datetime.date objects) are damaged and written back."""
    spec = [{"kind": "typo", "column": c, "rate": 0.01} for c in ("age", "follow_up")] + [
        {"kind": "missing", "column": "follow_up_date", "rate": 0.05},
        {"kind": "typo", "column": "visit_date", "rate": 0.01},
        {"kind": "outside_window", "rate": 0.01}]
    result = clinicsim.inject_defects(records, spec, seed=4)
    damaged, log = result.records, result.log
    assert damaged["age"].dtype == object and damaged["follow_up"].dtype == object
    assert damaged["follow_up_date"].dtype.kind == "M"
    assert log.loc[log["kind"] == "outside_window", "new"].str.fullmatch(
        r"\d{4}-\d\d-\d\d").all()
    write_records([records], tmp_path / "r.parquet")  # dates as date32
    clean = pd.read_parquet(tmp_path / "r.parquet")
    assert clean["visit_date"].dtype == object
    again = clinicsim.inject_defects(clean, [{"kind": "swapped_date", "rate": 0.05}, spec[2]],
                                     seed=4)
    write_records([again.records], tmp_path / "d.parquet")
    assert again.records["visit_date"].dtype.kind == "M"
