"""Property: a records table with injected faults gets a report (or a RecordsError) that names
every fault — column, row and value — and never an unhandled exception."""

import string
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clinicsim
from clinicsim.analysis._records import REQUIRED_COLUMNS

MODEL = clinicsim.default_model()
BASE = clinicsim.sample(400, model=MODEL, seed=2024)
CATEGORIES = ("gender", "diagnosis", "treatment", "follow_up")
BOOL_SPELLINGS = {"true", "t", "1", "yes", "false", "f", "0", "no"}

# Text a CSV or JSON file keeps as it is: no quote that repr() would escape, no blank value.
word = st.text(string.ascii_letters + string.digits + " _-,\"", min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and s != "")


@st.composite
def bad_category(draw):
    column = draw(st.sampled_from(CATEGORIES))
    value = draw(word.filter(lambda s: s not in MODEL.states(column)
                             and not (column == "follow_up" and s.lower() in BOOL_SPELLINGS)))
    return column, value, "not a state of the model"


bad_age = st.one_of(
    st.integers(-10**6, -1).map(lambda a: ("age", a, "outside the age bands")),
    st.integers(90, 10**6).map(lambda a: ("age", a, "outside the age bands")),
    st.sampled_from(["old", "4o", "41.5", "-", "forty"]).map(
        lambda a: ("age", a, "not a whole number of years")),
)
bad_date = st.one_of(
    st.sampled_from(["someday", "2024-02-30", "31/12/2024", "2024-13-01"]).map(
        lambda d: ("visit_date", d, "not a date")),
    st.dates().filter(lambda d: d.year != 2024).map(
        lambda d: ("visit_date", d.isoformat(), "outside the visit window")),
)
missing = st.sampled_from(REQUIRED_COLUMNS).map(lambda c: (c, None, ""))
value_fault = st.one_of(bad_category(), bad_age, bad_date, missing)


def write(frame: pd.DataFrame, form: str, folder: Path):
    """The table as a frame, or as a file written the way another tool would."""
    if form == "frame":
        return frame
    path = folder / f"r.{form}"
    if form == "csv":
        frame.to_csv(path, index=False)
    else:  # JSON has no dates: as text, like CSV
        text = frame.map(lambda v: v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else v)
        text.to_json(path, orient="records", lines=True)
    return path


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(50, len(BASE)),
    faults=st.lists(value_fault, min_size=1, max_size=3),
    duplicate=st.booleans(),
    drop=st.one_of(st.none(), st.sampled_from(REQUIRED_COLUMNS)),
    form=st.sampled_from(["frame", "csv", "jsonl"]),
    data=st.data(),
)
def test_injected_faults_are_named(n, faults, duplicate, drop, form, data):
    frame = BASE.iloc[:n].astype(object)
    rows = data.draw(st.lists(st.integers(0, n - 1), min_size=len(faults) + 1,
                              max_size=len(faults) + 1, unique=True), label="rows")
    expected = []  # (column, row, shown value, what)
    for (column, value, what), row in zip(faults, rows[:-1], strict=True):  # the last: spare
        frame.loc[row, column] = value
        expected.append((column, row, "(empty)" if value is None else str(value), what))
    if duplicate:  # the spare row takes the id of another row whose id is left alone
        spare = rows[-1]
        faulty_ids = {row for (c, *_), row in zip(faults, rows[:-1], strict=True)
                      if c == "patient_id"}
        source = data.draw(st.sampled_from([r for r in range(n)
                                            if r != spare and r not in faulty_ids]),
                           label="source")
        frame.loc[spare, "patient_id"] = frame.loc[source, "patient_id"]
        expected.append(("patient_id", max(spare, source), frame.loc[spare, "patient_id"],
                         "repeating an earlier id"))
    if drop is not None:
        frame = frame.drop(columns=drop)

    with tempfile.TemporaryDirectory() as folder:
        records = write(frame, form, Path(folder))
        if drop is not None:
            with pytest.raises(clinicsim.RecordsError, match=f"missing column.*'{drop}'"):
                clinicsim.conformance_report(records, MODEL)
            return
        report = clinicsim.conformance_report(records, MODEL)

    failed = {c.name: c.detail for c in report.failed if c.kind == "records"}
    assert set(failed) == {f"records: {column}" for column, *_ in expected}
    for column, row, shown, what in expected:
        detail = failed[f"records: {column}"]
        assert f"row {row + 1} " in detail and shown in detail and what in detail, (
            column, row, shown, detail)
    assert not report.passed
    bad_rows = {row for column, row, _, what in expected if what != "repeating an earlier id"}
    assert report.n_used == n - len(bad_rows)
    assert np.isfinite([c.pvalue for c in report.checks if c.pvalue is not None]).all()
