"""Each check on crafted tables: what passes, what fails, and by how much."""

import numpy as np
import pytest
from pgmpy.inference import VariableElimination
from scipy import stats

import clinicsim
from clinicsim.analysis._checks import gof, holm
from tests.analysis import helpers
from tests.conftest import se

N = 5000


def check(report, name):
    (found,) = [c for c in report.checks if c.name == name]
    return found


@pytest.fixture(scope="module")
def default():
    return clinicsim.default_model()


@pytest.fixture(scope="module")
def good(default):
    return clinicsim.conformance_report(clinicsim.sample(N, model=default, seed=42), default)


def test_correct_sample_passes_every_check(good):
    assert good.passed and good.failed == []
    assert [c.kind for c in good.checks[:7]] == ["records"] * 7
    assert {c.status for c in good.checks} <= {"ok", "not rejected", "shown"}
    # every statistical check is adjusted; Holm never lowers a p-value
    for c in good.checks:
        if c.pvalue is not None:
            assert c.pvalue <= c.pvalue_holm <= 1


def test_gender_off_by_five_points_fails_with_its_deviation(default):
    records = clinicsim.sample(N, model=helpers.gender_off(default), seed=1)
    report = clinicsim.conformance_report(records, default)
    gender = check(report, "target: gender shares")
    assert not gender.passed and gender.shown is False
    # the effect is the worst share's signed deviation: men +0.05 or women -0.05, by chance
    assert abs(gender.effect) == pytest.approx(0.05, abs=4 * se(0.5, N))
    assert "male" in gender.detail and gender.margin == 0.02
    assert not check(report, "model: marginal gender").passed
    assert check(report, "target: follow-up rate").passed


def test_follow_up_rate_off_fails(default):
    skewed = helpers.follow_up_rate(default, 0.38)
    rate = float(skewed.marginal("follow_up")["True"])
    report = clinicsim.conformance_report(clinicsim.sample(N, model=skewed, seed=2), default)
    result = check(report, "target: follow-up rate")
    assert not result.passed and result.shown is False
    assert result.effect == pytest.approx(rate - 0.30, abs=4 * se(rate, N))
    assert result.statistic == pytest.approx(rate * N, abs=4 * se(rate, N) * N)


def exact_priority_difference(model):
    """P(follow-up | priority category) - P(follow-up | other), by variable elimination."""
    joint = VariableElimination(model.network).query(["diagnosis", "follow_up"], joint=True,
                                                     show_progress=False)
    priority = set(model.targets.priority_categories)
    rate = {True: [0.0, 0.0], False: [0.0, 0.0]}
    for dx, category in model.diagnosis_categories.items():
        yes = joint.get_value(diagnosis=dx, follow_up="True")
        rate[category in priority][0] += yes
        rate[category in priority][1] += yes + joint.get_value(diagnosis=dx, follow_up="False")
    return rate[True][0] / rate[True][1] - rate[False][0] / rate[False][1]


def test_follow_up_independent_of_diagnosis_fails_priority(default):
    skewed = helpers.follow_up_ignores_diagnosis(default)
    report = clinicsim.conformance_report(clinicsim.sample(N, model=skewed, seed=3), default)
    priority = check(report, "target: follow-up higher in chronic/surgical/viral")
    assert not priority.passed
    # not 0: priority categories are older, and follow-up still rises with age. Both groups
    # hold over 40% of the rows, so se(0.5, 0.4 N) bounds the standard error of each rate.
    expected = exact_priority_difference(skewed)
    assert 0 < expected < 0.1
    assert priority.effect == pytest.approx(expected, abs=4 * np.sqrt(2) * se(0.5, int(0.4 * N)))
    assert priority.margin == 0.15
    # the overall rate is still right: only the dependence is wrong
    assert check(report, "target: follow-up rate").passed
    failed_cpd = [c for c in report.failed if c.name.startswith("model: follow_up |")]
    assert failed_cpd


def test_follow_up_falling_with_age_fails_trend(default):
    skewed = helpers.follow_up_falling_with_age(default)
    report = clinicsim.conformance_report(clinicsim.sample(N, model=skewed, seed=4), default)
    trend = check(report, "target: follow-up rises with age (chronic)")
    assert not trend.passed and trend.effect < 0 and trend.statistic < -3
    assert "75_89" in trend.detail


def test_trend_and_priority_are_shown_on_a_correct_sample(good, default):
    trend = check(good, "target: follow-up rises with age (chronic)")
    priority = check(good, "target: follow-up higher in chronic/surgical/viral")
    assert trend.shown and trend.effect > 0 and trend.statistic > 3
    assert priority.shown
    assert priority.effect == pytest.approx(exact_priority_difference(default),
                                            abs=4 * np.sqrt(2) * se(0.5, int(0.4 * N)))


def test_ages_at_band_edges_fail_the_age_check_not_the_band_marginal(default):
    records = clinicsim.sample(N, model=default, seed=5)
    starts = np.array(sorted(lo for lo, _ in default.age_bands.values()))
    records["age"] = starts[np.searchsorted(starts, records["age"], side="right") - 1]
    report = clinicsim.conformance_report(records, default)
    assert not check(report, "target: ages evenly spread").passed
    assert check(report, "model: marginal age_group").passed


def test_dependencies_wrong_marginals_right_is_caught(default):
    """Shuffling treatment keeps every marginal but breaks P(treatment | age, diagnosis)."""
    records = clinicsim.sample(N, model=default, seed=6)
    rng = np.random.default_rng(6)
    records["treatment"] = records["treatment"].to_numpy()[rng.permutation(N)]
    report = clinicsim.conformance_report(records, default)
    assert check(report, "model: marginal treatment").passed
    failed = [c for c in report.failed if c.name.startswith("model: treatment |")]
    assert failed and any(c.test == "impossible values" for c in failed)
    assert all(c.kind == "model" for c in report.failed)


def test_impossible_value_fails_even_in_a_sparse_column(default):
    records = clinicsim.sample(N, model=default, seed=7)
    row = records.index[records["diagnosis"] == "adult_checkup"][0]
    records.loc[row, "treatment"] = "antibiotic"
    report = clinicsim.conformance_report(records, default)
    assert not report.passed
    (failed,) = report.failed
    assert failed.test == "impossible values" and failed.pvalue == 0.0
    assert "treatment=antibiotic" in failed.detail and "probability 0" in failed.detail
    assert "diagnosis=adult_checkup" in failed.name


def test_equivalence_rescues_a_tiny_significant_deviation(default):
    """On 200,000 rows a 0.8-point gender deviation is significant, but shown to lie inside
    the ±2-point margin: the target passes as 'shown'."""
    skewed = helpers.gender_off(default, 0.008)
    report = clinicsim.conformance_report(clinicsim.sample(200_000, model=skewed, seed=8), skewed)
    gender = check(report, "target: gender shares")
    assert gender.pvalue_holm < report.alpha  # detectable...
    assert gender.shown and gender.passed and gender.status == "shown"  # ...but within margin
    assert check(report, "target: follow-up rate").status == "shown"


def test_small_table_is_not_rejected_but_not_shown(default):
    report = clinicsim.conformance_report(clinicsim.sample(300, model=default, seed=9), default)
    gender = check(report, "target: gender shares")
    assert report.passed and gender.status == "not rejected" and gender.shown is False


def test_gof_pools_sparse_cells_and_skips_zero_cells():
    observed = np.array([50, 30, 2, 1, 0, 17])
    probs = np.array([0.5, 0.3, 0.02, 0.01, 0.0, 0.17])
    statistic, df, pvalue = gof(observed, probs)
    # cells 2+3 (expected 3) pooled with the smallest adequate cell (17): three cells left
    expected = stats.chisquare([50, 30, 20], [50, 30, 20])
    assert df == 2 and statistic == pytest.approx(expected.statistic)
    assert pvalue == pytest.approx(expected.pvalue)
    assert gof(np.array([3, 1]), np.array([0.7, 0.3])) is None


def test_holm_matches_hand_computation():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(holm(p), [0.03, 0.06, 0.06, 0.02])
