"""``sample_remaining``: the known columns are kept, the rest follows the exact posterior."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import clinicsim
from clinicsim import ModelError
from clinicsim.model import MONTHS

ALPHA = 1e-3


def test_known_columns_are_kept_and_the_rest_is_complete():
    full = clinicsim.sample(2000, seed=1)
    known = full[["patient_id", "age", "gender", "visit_date"]].sample(frac=1, random_state=0)
    out = clinicsim.sample_remaining(known, seed=2)
    assert list(out.columns) == list(full.columns)
    assert out.dtypes.equals(full.dtypes)
    for column in known.columns:
        assert (out[column].to_numpy() == known[column].to_numpy()).all(), column
    assert out.index.equals(pd.RangeIndex(len(known)))
    assert out.notna().all().all()
    same = clinicsim.sample_remaining(known, seed=2)
    assert same.equals(out)


def test_patient_ids_are_made_when_not_given():
    out = clinicsim.sample_remaining(pd.DataFrame({"gender": ["male", "other"]}), seed=1)
    assert list(out.patient_id) == ["P0000001", "P0000002"]


def test_age_group_only_gets_an_age_in_its_band(model):
    known = pd.DataFrame({"age_group": ["0_14", "75_89"] * 500})
    out = clinicsim.sample_remaining(known, seed=3)
    bands = model.age_bands
    lo = known.age_group.map(lambda b: bands[b][0])
    hi = known.age_group.map(lambda b: bands[b][1])
    assert out.age.between(lo, hi).all()


@pytest.mark.parametrize(("seed", "known_columns"), [
    (101, {"age": 72, "gender": "female"}),                          # roots
    (102, {"follow_up": True, "treatment": "antibiotic"}),           # descendants
    (103, {"age": 30, "follow_up": False, "visit_date": "2024-01-15"}),  # both, and a date
])
def test_filled_columns_follow_the_posterior(model, seed, known_columns):
    n = 6000
    known = pd.DataFrame({k: [v] * n for k, v in known_columns.items()})
    out = clinicsim.sample_remaining(known, seed=seed)
    evidence = {k: v for k, v in known_columns.items() if k in model.nodes}
    if "age" in known_columns:
        age = known_columns["age"]
        evidence["age_group"] = next(b for b, (lo, hi) in model.age_bands.items()
                                     if lo <= age <= hi)
    if "visit_date" in known_columns:
        evidence["visit_month"] = MONTHS[pd.Timestamp(known_columns["visit_date"]).month - 1]
    drawn = [c for c in ("gender", "diagnosis", "treatment", "follow_up")
             if c not in known_columns]
    for column in drawn:
        expected = model.query(column, evidence)
        observed = out[column].astype(str).value_counts().reindex(expected.index, fill_value=0)
        assert not observed[expected == 0].any(), column
        keep = (expected * n >= 5).to_numpy()
        o = np.append(observed.to_numpy()[keep], observed.to_numpy()[~keep].sum())
        e = np.append(expected.to_numpy()[keep], expected.to_numpy()[~keep].sum()) * n
        if e[-1] == 0:
            o, e = o[:-1], e[:-1]
        assert stats.chisquare(o, e).pvalue >= ALPHA / len(drawn), column


def test_rows_are_grouped_by_pattern_each_with_its_own_posterior(model):
    known = pd.DataFrame({"diagnosis": ["influenza", "hypertension"] * 2000})
    out = clinicsim.sample_remaining(known, seed=9)
    for diagnosis, group in out.groupby("diagnosis", observed=True):
        expected = model.query("treatment", {"diagnosis": diagnosis})
        assert set(group.treatment.astype(str)) <= set(expected.index[expected > 0])


def test_impossible_rows_are_listed_in_one_error():
    known = pd.DataFrame({"age": [5, 40, 7], "treatment": ["cardiology_referral", "inhaler",
                                                           "cardiology_referral"]})
    with pytest.raises(ModelError, match="2 row\\(s\\).*row 1: age=5, treatment="
                       "'cardiology_referral'.*row 3: age=7") as info:
        clinicsim.sample_remaining(known, seed=1)
    assert len(info.value.errors) == 3


@pytest.mark.parametrize(("known", "match"), [
    (pd.DataFrame({"gender": ["male", "robot"]}), "'gender' row 2: 'robot' is not a state"),
    (pd.DataFrame({"age": [3, 120]}), "'age' row 2: 120 is not a whole number"),
    (pd.DataFrame({"age": [3], "age_group": ["75_89"]}), "age 3 is not in age_group '75_89'"),
    (pd.DataFrame({"visit_date": ["1999-01-01"]}), "not a date in the visit window"),
    # read as the records check reads dates: no relative words, numbers or time zones
    (pd.DataFrame({"visit_date": ["2024-03-05", "today"]}), "row 2: 'today' is not a date"),
    (pd.DataFrame({"visit_date": ["1.7e18"]}), "row 1: '1.7e18' is not a date"),
    (pd.DataFrame({"visit_date": ["2024-05-01T10:00+02:00"]}), "row 1: '2024-05-01T10:00"),
    (pd.DataFrame({"height": [180]}), "got also \\['height'\\]"),
    (pd.DataFrame({"gender": []}), "no rows"),
    ({"gender": ["male"]}, "must be a pandas DataFrame"),
])
def test_bad_known_values_are_named(known, match):
    with pytest.raises(ValueError, match=match):
        clinicsim.sample_remaining(known, seed=1)
