"""history_expectations: the model's own figures, against simulation and limiting cases."""

import numpy as np
import pytest

import clinicsim
from clinicsim.model import history_expectations, model_from_dict, model_to_dict


def _model(history):
    data = model_to_dict(clinicsim.default_model())
    data["history"] = history
    return model_from_dict(data)


def _zero_rates():
    return {b: 0 for b in clinicsim.default_model().age_bands}


def test_the_distribution_is_a_distribution():
    e = history_expectations(clinicsim.default_model())
    assert e.visits.sum() == pytest.approx(1, abs=1e-12)
    assert (e.visits >= 0).all() and e.visits.index[0] == 1
    assert e.mean_visits == pytest.approx((e.visits.index * e.visits).sum(), abs=1e-9)
    assert e.returning_share == pytest.approx((e.mean_visits - 1) / e.mean_visits)
    assert list(e.visits_per_year.index) == clinicsim.default_model().states("age_group")
    assert e.visits_per_year.iloc[1:].is_monotonic_increasing  # NAMCS rates rise past 24


def test_no_returns_and_no_shows_only_leave_first_visits():
    attendance = dict.fromkeys(["chronic", "surgical", "viral", "bacterial", "injury",
                                "preventive", "other"], 0)
    e = history_expectations(_model({"attendance": attendance, "return_rates": _zero_rates()}))
    assert e.visits.to_dict() == {1: pytest.approx(1.0)}
    assert e.follow_up_share == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize(("history", "seed"), [
    (None, 3),
    # a stationary chain (the last number repeats w.p. 0.5): the backward solve
    ({"repeat": {"chronic": [0.9, 0.5], "injury": [0.4]}, "attendance": {"injury": 1.0}}, 4),
])
def test_simulation_agrees_with_the_exact_figures(history, seed):
    model = clinicsim.default_model() if history is None else _model(history)
    e = history_expectations(model)
    n = 6000
    visits, _ = clinicsim.sample_patients(n, model=model, seed=seed)
    counts = visits.groupby("patient_id").size()
    sd = np.sqrt((e.visits * (e.visits.index - e.mean_visits) ** 2).sum())
    assert abs(counts.mean() - e.mean_visits) < 4 * sd / np.sqrt(n)
    for v in (1, 2, 3):
        p = e.visits[v]
        assert abs((counts == v).mean() - p) < 4 * np.sqrt(p * (1 - p) / n), v
    share = visits.groupby("patient_id").visit_kind.apply(lambda s: (s == "follow-up").any())
    p = e.follow_up_share
    assert abs(share.mean() - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_the_exact_figures_move_with_the_history_model():
    base = history_expectations(clinicsim.default_model())
    more = history_expectations(_model({"return_rates": {"75_89": 8.0}}))
    assert more.visits_per_year["75_89"] > base.visits_per_year["75_89"]
    assert more.visits_per_year["0_14"] == pytest.approx(base.visits_per_year["0_14"])
    fewer = history_expectations(_model({"attendance": {"chronic": 0.2}}))
    assert fewer.follow_up_share < base.follow_up_share
