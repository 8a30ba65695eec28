"""carried_forward on real histories (clinicsim.sample_patients): the carried value, the
log, the exact rate, and what the history report sees."""

import numpy as np
import pandas as pd
import pytest

import clinicsim


@pytest.fixture(scope="module")
def visits():
    return clinicsim.sample_patients(3000, seed=2026).visits


def _previous(visits):
    """The previous row of the same patient in row order (-1 for a first visit), by hand."""
    rows = pd.Series(np.arange(len(visits)))
    return rows.groupby(visits["patient_id"].to_numpy()).shift(1).fillna(-1).astype(int) \
        .to_numpy()


def _text(column):
    return column.astype(str).where(column.notna(), "").to_numpy()


@pytest.mark.parametrize("column", ["diagnosis", "treatment", "age", "follow_up",
                                    "visit_date", "follow_up_date"])
def test_carried_value_log_and_rate(visits, column):
    rate = 0.2
    result = clinicsim.inject_defects(
        visits, [{"kind": "carried_forward", "column": column, "rate": rate}], seed=7)
    damaged, log = result.records, result.log
    assert damaged[column].dtype == visits[column].dtype or column in ("diagnosis",
                                                                       "treatment")
    previous = _previous(visits)
    old, new = _text(visits[column]), _text(damaged[column])
    changed = np.flatnonzero(old != new)
    # every changed cell is logged once, with its original and new text
    assert list(log["row"]) == list(changed) and set(log["column"]) == {column}
    assert (log["original"].to_numpy() == old[changed]).all()
    assert (log["new"].to_numpy() == new[changed]).all()
    # the carried value is the previous visit's of the same patient, in row order
    assert (previous[changed] >= 0).all()
    assert (new[changed] == old[previous[changed]]).all()
    assert (damaged["patient_id"].to_numpy()[changed]
            == visits["patient_id"].to_numpy()[previous[changed]]).all()
    # eligible: a previous visit whose value is there and differs; Binomial(eligible, rate)
    has = previous >= 0
    eligible = int((has & (old[np.where(has, previous, 0)] != old)
                    & (old[np.where(has, previous, 0)] != "") & (old != "")).sum())
    assert eligible > 500
    assert abs(len(changed) - eligible * rate) < 4 * np.sqrt(eligible * rate * (1 - rate))


def _history_check(report, name):
    (check,) = [c for c in report.checks if c.name == f"records: history {name}"]
    return check


def test_history_report(visits):
    """As docs/defects.md says: the first visits (checked against the network) never
    change; a carried treatment is unseen; a carried follow_up breaks the link of each
    follow-up its visit ordered, a carried follow_up_date its due date."""
    spec = [{"kind": "carried_forward", "column": "treatment", "rate": 0.2}]
    result = clinicsim.inject_defects(visits, spec, seed=3)
    first = visits["visit_kind"].to_numpy() == "first"
    assert len(result.log) > 0 and not first[result.log["row"]].any()
    report = clinicsim.conformance_report(result.records)
    assert all(c.passed for c in report.checks if c.kind == "records")
    position = pd.Series(np.arange(len(visits)), index=visits["visit_id"].to_numpy())
    follow_ups = visits.loc[visits["visit_kind"] == "follow-up", "previous_visit_id"]
    ordering = position[follow_ups.to_numpy()].to_numpy()
    for column, name in [("follow_up", "link"), ("follow_up_date", "due date")]:
        spec = [{"kind": "carried_forward", "column": column, "rate": 0.2}]
        result = clinicsim.inject_defects(visits, spec, seed=3)
        expected = int(np.isin(ordering, result.log["row"]).sum())
        assert expected > 20
        check = _history_check(clinicsim.conformance_report(result.records), name)
        assert check.statistic == expected and not check.passed


def test_gender_is_never_carried(visits):
    """One gender per patient: no visit is eligible."""
    spec = [{"kind": "carried_forward", "column": "gender", "rate": 1.0}]
    assert clinicsim.inject_defects(visits, spec, seed=1).log.empty


def test_needs_patient_id(visits):
    spec = [{"kind": "carried_forward", "column": "age", "rate": 0.1}]
    with pytest.raises(clinicsim.ArgumentError, match="no column 'patient_id'"):
        clinicsim.inject_defects(visits.drop(columns="patient_id"), spec, seed=1)
