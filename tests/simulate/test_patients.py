"""sample_patients: one person per patient, visits in order, follow-ups on their dates."""

import numpy as np
import pandas as pd
import pytest

import clinicsim
from clinicsim._random import as_seed_sequence, block_seed
from clinicsim.model import model_from_dict, model_to_dict
from clinicsim.simulate import Sampler, _patients


@pytest.fixture(scope="module")
def history():
    return clinicsim.sample_patients(3000, seed=11)


def _age(birth, day):
    b, d = pd.DatetimeIndex(birth), pd.DatetimeIndex(day)
    return d.year - b.year - ((d.month < b.month) | ((d.month == b.month) & (d.day < b.day)))


def test_columns_and_dtypes(history):
    visits, patients = history
    assert list(visits.columns) == [*clinicsim.simulate.COLUMNS, *_patients.HISTORY_COLUMNS]
    assert list(patients.columns) == list(_patients.PATIENT_COLUMNS)
    assert visits.visit_id.dtype == "string" and visits.previous_visit_id.dtype == "string"
    assert visits.visit_number.dtype == np.int64
    assert list(visits.visit_kind.cat.categories) == ["first", "follow-up", "return"]
    assert visits.visit_date.dtype == "datetime64[s]"
    assert patients.birth_date.dtype == "datetime64[s]"
    assert visits.visit_id.is_unique and patients.patient_id.is_unique


def test_every_patient_is_one_person_in_date_order_inside_the_window(history):
    visits, patients = history
    joined = visits.merge(patients, on="patient_id", suffixes=("", "_patient"))
    assert (joined.gender == joined.gender_patient).all()
    assert (joined.age == _age(joined.birth_date, joined.visit_date)).all()
    assert (joined.visit_date >= joined.birth_date).all()
    assert joined.visit_date.between("2024-01-01", "2024-12-31").all()
    dates = visits.groupby("patient_id").visit_date
    assert dates.apply(lambda s: s.is_monotonic_increasing).all()
    numbers = visits.groupby("patient_id").visit_number.apply(list)
    assert all(v == list(range(1, len(v) + 1)) for v in numbers)
    first = visits[visits.visit_number == 1]
    assert (first.visit_kind == "first").all() and len(first) == len(patients)
    assert (visits[visits.visit_number > 1].visit_kind != "first").all()
    by_patient = visits.groupby("patient_id").visit_date
    assert (patients.set_index("patient_id").first_visit == by_patient.min()).all()
    assert (patients.set_index("patient_id").last_visit == by_patient.max()).all()
    assert (visits.visit_id.str.split("-").str[0] == visits.patient_id).all()


def test_follow_ups_come_on_their_due_date_with_the_same_diagnosis(history):
    visits, _ = history
    follow = visits[visits.visit_kind == "follow-up"]
    assert follow.previous_visit_id.notna().all()
    assert visits[visits.visit_kind != "follow-up"].previous_visit_id.isna().all()
    ordering = visits.set_index("visit_id").loc[follow.previous_visit_id]
    assert (ordering.patient_id.to_numpy() == follow.patient_id.to_numpy()).all()
    assert (ordering.diagnosis.to_numpy() == follow.diagnosis.to_numpy()).all()
    assert (ordering.follow_up_date.to_numpy() == follow.visit_date.to_numpy()).all()
    assert (ordering.follow_up_outcome == "attended").all()
    # each attended follow-up is one visit; censored ones are due after the window
    assert (visits.follow_up_outcome == "attended").sum() == len(follow)
    censored = visits[visits.follow_up_outcome == "censored"]
    assert (censored.follow_up_date > "2024-12-31").all()
    rest = visits[visits.follow_up_outcome.isin(["attended", "no-show"])]
    assert (rest.follow_up_date <= "2024-12-31").all()
    assert visits.follow_up_outcome.isna().eq(~visits.follow_up).all()
    assert visits.follow_up_date.isna().eq(~visits.follow_up).all()


def test_prefix_stable_by_patient_and_independent_of_the_block_size(monkeypatch):
    small = clinicsim.sample_patients(40, seed=5)
    big = clinicsim.sample_patients(41, seed=5)
    keep = big.visits.patient_id.isin(small.patients.patient_id)
    pd.testing.assert_frame_equal(big.visits[keep].reset_index(drop=True), small.visits)
    pd.testing.assert_frame_equal(big.patients.iloc[:40], small.patients)
    monkeypatch.setattr(_patients, "PATIENT_BLOCK", 7)
    again = clinicsim.sample_patients(41, seed=5)
    pd.testing.assert_frame_equal(again.visits, big.visits)
    pd.testing.assert_frame_equal(again.patients, big.patients)


def test_first_visits_are_the_flat_sample_of_the_seeds_first_child():
    visits, _ = clinicsim.sample_patients(200, seed=3)
    flat = Sampler(None, seed=block_seed(as_seed_sequence(3), 0), engine="numpy",
                   extended=False, n=200).rows(0, 200)
    first = visits[visits.visit_kind == "first"].reset_index(drop=True)
    for column in ("visit_date", "age", "gender", "diagnosis", "treatment", "follow_up"):
        assert first[column].equals(flat[column]), column


def test_pinned_rows():
    visits, patients = clinicsim.sample_patients(3, seed=7)
    assert visits.visit_id.tolist() == [
        "P0000001-01", "P0000002-01", "P0000002-02", "P0000002-03", "P0000002-04",
        "P0000002-05", "P0000003-01", "P0000003-02"]
    assert visits.visit_kind.tolist() == ["first", "first", "return", "return", "follow-up",
                                          "follow-up", "first", "follow-up"]
    assert visits.visit_date.dt.strftime("%Y-%m-%d").tolist()[3:6] == [
        "2024-08-16", "2024-10-04", "2024-12-09"]
    assert patients.birth_date.dt.strftime("%Y-%m-%d").tolist() == [
        "2023-12-02", "2012-09-24", "1995-09-20"]


def test_given_conditions_the_first_visit():
    visits, _ = clinicsim.sample_patients(100, seed=2, given={"diagnosis": "type2_diabetes",
                                                              "age": (65, 89)})
    first = visits[visits.visit_kind == "first"]
    assert (first.diagnosis == "type2_diabetes").all() and first.age.between(65, 89).all()
    assert (visits.visit_kind != "first").any()


def _rates(history):
    return {"attendance": {c: 0.5 for c in ("chronic", "surgical", "viral", "bacterial",
                                             "injury", "preventive", "other")},
            "repeat": {"chronic": [0.5, 0.0]}, "return_rates": history}


def test_attendance_and_repeat_follow_the_history_model():
    data = model_to_dict(clinicsim.default_model())
    data["history"] = _rates({})
    model = model_from_dict(data)
    visits, _ = clinicsim.sample_patients(4000, model=model, seed=21)
    due = visits[visits.follow_up_outcome.isin(["attended", "no-show"])]
    n = len(due)
    share = (due.follow_up_outcome == "attended").mean()
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / n)
    chronic = visits[(visits.visit_kind == "follow-up")
                     & (visits.diagnosis.map(model.diagnosis_categories) == "chronic")]
    second = chronic.previous_visit_id.isin(chronic.visit_id)
    first_fu = chronic[~second]
    assert abs(first_fu.follow_up.mean() - 0.5) < 4 * np.sqrt(0.25 / len(first_fu))
    assert not chronic[second].follow_up.any()
    assert not visits[(visits.visit_kind == "follow-up")
                      & (visits.diagnosis.map(model.diagnosis_categories) == "viral")
                      ].follow_up.any()


def test_return_visits_come_at_the_band_rate():
    data = model_to_dict(clinicsim.default_model())
    data["history"] = {"return_rates": {b: 4.0 for b in data["metadata"]["age_bands"]}}
    model = model_from_dict(data)
    visits, patients = clinicsim.sample_patients(3000, model=model, seed=8)
    # weekday weights: the expected count is rate * (weighted days left) / mean weight
    end = pd.Timestamp("2024-12-31")
    sampler = _patients.PatientSampler(model, seed=8, n=3000)
    cum, mean = sampler._cum, sampler._mean_weight
    left = (end - patients.first_visit).dt.days.to_numpy()
    expected = (4.0 / 365.25 * (cum[-1] - cum[len(cum) - 1 - left]) / mean).sum()
    count = (visits.visit_kind == "return").sum()
    assert abs(count - expected) < 4 * np.sqrt(expected)
    none = model_from_dict({**data, "history": {"return_rates": {b: 0 for b in
                                                                 data["metadata"]["age_bands"]}}})
    assert not (clinicsim.sample_patients(300, model=none, seed=1).visits.visit_kind
                == "return").any()


def test_birth_days_give_the_age_on_awkward_dates():
    for t0 in ("2024-02-29", "2024-03-01", "2024-01-01", "2024-12-31"):
        day = np.datetime64(t0, "D").astype(np.int64)
        for age in (0, 1, 3, 4, 89):
            for u in (0.0, 0.5, 1 - 1e-12):
                b = _patients._birth_day(int(day), age, u)
                assert _patients._age(np.array([b]), np.array([day]))[0] == age
                assert _patients._age(np.array([b - 1 if u == 0 else b]), np.array([day]))[0] \
                    in (age, age + 1)


@pytest.mark.parametrize("n", [0, -1, 1.5, "3", True])
def test_bad_n_is_refused(n):
    with pytest.raises(clinicsim.ArgumentError, match="`n`"):
        clinicsim.sample_patients(n)


def test_the_flat_sample_is_unchanged():
    assert clinicsim.sample(3, seed=1).equals(clinicsim.sample(3, seed=1))
    assert "visit_id" not in clinicsim.sample(3, seed=1)
