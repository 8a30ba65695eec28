"""Visit and follow-up dates: seasonality, weekdays, public holidays, windows, bad metadata.

The exact date distribution is rebuilt here independently of ``simulate/_dates.py`` (from
the model's month marginal, pandas calendars and the ``holidays`` package); tolerances are
4 standard errors of n.
"""

import holidays
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

import clinicsim
from clinicsim import ModelError
from clinicsim.model import MONTHS, model_to_dict
from tests.conftest import se

N = 50_000


def day_weights(model, days: pd.DatetimeIndex) -> np.ndarray:
    """w(d): the weekday's weight, times holiday_weight on a public holiday."""
    window = model.visit_window
    public = holidays.country_holidays(window.country, years=range(days[0].year, days[-1].year + 1))
    w = np.asarray(window.weekday_weights)[days.day_of_week]
    return np.where(days.isin(pd.DatetimeIndex(list(public))), w * window.holiday_weight, w)


def exact_day_probabilities(model) -> pd.Series:
    """P(visit on day d): P(month) x w(d) / (sum of w over the window's days in that month)."""
    window = model.visit_window
    days = pd.date_range(window.start, window.end)
    w = day_weights(model, days)
    month = np.array(MONTHS)[days.month - 1]
    if "visit_month" in model.nodes:
        p_month = model.marginal("visit_month")[month].to_numpy()
    else:
        p_month = np.ones(len(days))
        month = np.zeros(len(days))
    per_month = pd.Series(w).groupby(month).transform("sum").to_numpy()
    p = p_month * w / per_month
    return pd.Series(p / p.sum(), index=days)


def viral_month_shares(model) -> pd.Series:
    """P(visit_month | diagnosis category viral), exactly."""
    p_dx = model.marginal("diagnosis")
    viral = [d for d, c in model.diagnosis_categories.items() if c == "viral"]
    cpd = model.cpd("visit_month")[viral]
    return (cpd * p_dx[viral]).sum(axis=1) / p_dx[viral].sum()


def load(tmp_path, data):
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(data))
    return clinicsim.load_model(path)


@pytest.fixture(scope="module")
def records():
    return clinicsim.sample(N, seed=6006, extended=True)


def test_viral_visits_peak_in_january(records):
    model = clinicsim.default_model()
    exact = viral_month_shares(model)
    assert exact["jan"] / exact["jul"] == pytest.approx(3.79 / 0.83, rel=1e-3)  # ILINet
    viral = records[records.diagnosis_category == "viral"]
    month = viral.visit_date.dt.month
    for name, number in (("jan", 1), ("jul", 7)):
        share = (month == number).mean()
        assert abs(share - exact[name]) < 4 * se(exact[name], len(viral)), (name, share)
    other = records[records.diagnosis_category != "viral"].visit_date.dt.month
    jan, jul = (other == 1).mean(), (other == 7).mean()
    assert abs(jan - jul) < 4 * (2 * se(31 / 365, len(other)) ** 2) ** 0.5  # flat


def test_days_follow_the_model_exactly(records):
    exact = exact_day_probabilities(clinicsim.default_model())
    counts = records.visit_date.value_counts().reindex(exact.index, fill_value=0)
    assert counts.sum() == N
    expected = exact * N
    assert expected.min() >= 5  # every day is a valid chi-square cell (2024 has no weekend holiday)
    assert stats.chisquare(counts, expected).pvalue > 0.001


def test_sundays_and_holidays_are_rare(records):
    exact = exact_day_probabilities(clinicsim.default_model())
    sundays = exact.index.day_of_week == 6
    public = exact.index.isin(pd.DatetimeIndex(list(holidays.US(years=2024))))
    for mask, limit in ((sundays, 0.01), (public, 0.005)):
        p = exact[mask].sum()
        assert p < limit
        share = records.visit_date.isin(exact.index[mask]).mean()
        assert abs(share - p) < 4 * se(p, N), (share, p)


def test_zero_weights_mean_no_visit_and_no_follow_up_there(tmp_path):
    data = model_to_dict(clinicsim.default_model())
    data["metadata"]["visit_window"]["weekday_weights"] = [1, 1, 1, 1, 1, 0, 0]
    data["metadata"]["visit_window"]["holiday_weight"] = 0
    data["metadata"]["country"] = "GB"
    records = load(tmp_path, data).sample(20_000, seed=77, extended=True)
    closed = pd.DatetimeIndex(list(holidays.GB(years=range(2024, 2027))))
    for column in ("visit_date", "follow_up_date"):
        dates = records[column].dropna()
        assert (dates.dt.day_of_week < 5).all() and not dates.isin(closed).any(), column
    gap = (records.follow_up_date - records.visit_date).dt.days.dropna()
    assert gap.min() >= 3 and gap.max() <= 365


def test_follow_up_days_spread_over_the_span(records):
    model = clinicsim.default_model()
    chronic = records[(records.diagnosis_category == "chronic") & records.follow_up]
    gap = (chronic.follow_up_date - chronic.visit_date).dt.days
    lo, hi = model.follow_up_days["chronic"]
    assert gap.min() == lo and gap.max() == hi
    # Each row's chance of a Sunday follow-up: the Sundays' share of w over its own span.
    days = pd.date_range(model.visit_window.start, model.visit_window.end + pd.Timedelta(days=hi))
    w = day_weights(model, days)
    cum_w = np.concatenate([[0.0], np.cumsum(w)])
    cum_sunday = np.concatenate([[0.0], np.cumsum(np.where(days.day_of_week == 6, w, 0.0))])
    a = (chronic.visit_date - days[0]).dt.days.to_numpy() + lo
    b = a + (hi - lo) + 1
    p = (cum_sunday[b] - cum_sunday[a]) / (cum_w[b] - cum_w[a])
    assert p.mean() < 0.01  # rare: Sunday weighs 0.05 against 1 for a weekday
    sundays = (chronic.follow_up_date.dt.day_of_week == 6).sum()
    assert abs(sundays - p.sum()) < 4 * np.sqrt((p * (1 - p)).sum()), (sundays, p.sum())


def test_without_visit_month_months_are_flat(tmp_path):
    data = model_to_dict(clinicsim.default_model())
    del data["nodes"]["visit_month"]
    model = load(tmp_path, data)
    records = model.sample(N, seed=808)
    exact = exact_day_probabilities(model)
    assert records.visit_date.isin(exact.index).all()
    viral = records.diagnosis.map(model.diagnosis_categories) == "viral"
    jan = (records.visit_date[viral].dt.month == 1).mean()
    p = exact[exact.index.month == 1].sum()
    assert abs(jan - p) < 4 * se(p, viral.sum())


def month_cpd(model, months):
    """Every diagnosis visits only in ``months``, in proportion to their days."""
    days = pd.Series([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], index=list(MONTHS))
    p = days.where(days.index.isin(months), 0.0)
    p = p / p.sum()
    return pd.DataFrame({d: p for d in model.states("diagnosis")}).rename_axis(
        columns="diagnosis")


def test_window_must_contain_every_month_the_cpd_can_give(tmp_path):
    data = model_to_dict(clinicsim.default_model())
    data["metadata"]["visit_window"] |= {"start": "2024-03-01", "end": "2024-06-30"}
    with pytest.raises(ModelError, match=r"no visit day .* in jan, feb, jul, aug, sep, oct, "
                                         r"nov, dec, which the CPD for 'visit_month' can give"):
        load(tmp_path, data)
    model = clinicsim.default_model()
    model.set_cpd("visit_month", month_cpd(model, ["mar", "apr", "may", "jun"]))
    data = model_to_dict(model)
    data["metadata"]["visit_window"] |= {"start": "2024-03-01", "end": "2024-06-30"}
    records = load(tmp_path, data).sample(2000, seed=3)
    assert records.visit_date.between("2024-03-01", "2024-06-30").all()


def test_multi_year_window(tmp_path):
    data = model_to_dict(clinicsim.default_model())
    data["metadata"]["visit_window"] |= {"start": "2023-07-01", "end": "2025-06-30"}
    model = load(tmp_path, data)
    records = model.sample(20_000, seed=9)
    assert records.visit_date.between("2023-07-01", "2025-06-30").all()
    years = records.visit_date.dt.year.value_counts(normalize=True)
    assert set(years.index) == {2023, 2024, 2025}
    exact = exact_day_probabilities(model)
    p_jan = exact[exact.index.month == 1].sum()
    jan = (records.visit_date.dt.month == 1).mean()
    assert abs(jan - p_jan) < 4 * se(p_jan, len(records))


def test_pgmpy_engine_has_the_same_seasonality():
    model = clinicsim.default_model()
    records = model.sample(10_000, seed=31, engine="pgmpy")
    months = records.visit_date.dt.month.value_counts().sort_index()
    expected = model.marginal("visit_month").to_numpy() * len(records)
    assert stats.chisquare(months.to_numpy(), expected).pvalue > 0.001


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["metadata"].update(country="XX"),
     r"metadata.country must be a country code .* got 'XX'"),
    (lambda d: d["metadata"]["visit_window"].update(holiday_weight=-1),
     r"metadata.visit_window.holiday_weight must be a non-negative number .*; got -1"),
    (lambda d: d["nodes"]["visit_month"].update(states=[*MONTHS[:11], "december"]),
     r"node 'visit_month': states must be the twelve months"),
    (lambda d: d["nodes"]["visit_month"]["cpd"][0]["p"].update(jan=0.5),
     r"CPD for 'visit_month' column \(diagnosis=hypertension\) sums to 1.415"),
])
def test_bad_calendar_metadata(tmp_path, edit, message):
    data = model_to_dict(clinicsim.default_model())
    edit(data)
    with pytest.raises(ModelError, match=message):
        load(tmp_path, data)


def test_country_defaults_to_us(tmp_path):
    data = model_to_dict(clinicsim.default_model())
    del data["metadata"]["country"]
    del data["metadata"]["visit_window"]["holiday_weight"]
    window = load(tmp_path, data).visit_window
    assert (window.country, window.holiday_weight) == ("US", 0.05)
