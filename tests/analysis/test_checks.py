"""Each check on crafted tables: what passes, what fails, and by how much; the statistics
against independent implementations (statsmodels, scipy)."""

import numpy as np
import pytest
from pgmpy.inference import VariableElimination
from scipy import stats
from statsmodels.stats import proportion
from statsmodels.stats.contingency_tables import Table
from statsmodels.stats.multitest import multipletests

import clinicsim
from clinicsim.analysis import STATUSES
from clinicsim.analysis._checks import (
    difference_check,
    even_check,
    gof,
    holm,
    rate_check,
    score_difference,
    share_check,
    sparse_columns,
    stratified_trend,
    trend_check,
)
from tests.analysis import helpers
from tests.conftest import se

N = 5000
PRIORITY = "target: difference follow_up=True where diagnosis_category=chronic,surgical,viral"
TREND = "target: trend follow_up=True over age_group where diagnosis_category=chronic"


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
    assert good.passed and good.targets_passed and good.model_passed and good.failed == []
    assert [c.kind for c in good.checks[:7]] == ["records"] * 7
    assert {c.status for c in good.checks} <= set(STATUSES) - {"failed"}
    assert sum(good.counts.values()) == len(good.checks)
    # every statistical check is adjusted within its family; Holm never lowers a p-value
    for c in good.checks:
        if c.pvalue is not None:
            assert c.pvalue <= c.pvalue_holm <= 1
    assert good.levels == {"target": 0.005, "model": 0.005}


def test_structured_fields(good):
    rate = check(good, "target: rate follow_up=True")
    assert (rate.kind, rate.node, rate.rows) == ("target", "follow_up", N)
    low, high = rate.interval
    assert low < rate.effect < high and high - low < 6 * se(0.3, N)
    column = next(c for c in good.checks if c.name.startswith("model: treatment |"))
    assert column.kind == "model" and column.node == "treatment" and 20 <= column.rows < N


def test_gender_off_fails_the_target_and_the_model(default):
    n = 10_000  # the size the README states power for (95% or more)
    records = clinicsim.sample(n, model=helpers.gender_shares(default, 0.5, 0.4, 0.1), seed=1)
    report = clinicsim.conformance_report(records, default)
    gender = check(report, "target: share gender")
    assert not gender.passed and gender.shown is False and gender.status == "failed"
    assert gender.effect == pytest.approx(0.05, abs=4 * se(0.5, n))
    assert "male" in gender.detail and gender.margin == 0.02
    assert not report.targets_passed and not report.model_passed
    assert not check(report, "model: marginal gender").passed
    assert check(report, "target: rate follow_up=True").passed
    # once one family has failed, the other is tested at the full alpha (Holm)
    assert report.levels == {"target": 0.01, "model": 0.01}


def test_follow_up_rate_off_fails(default):
    skewed = helpers.follow_up_rate(default, 0.38)
    rate = float(skewed.marginal("follow_up")["True"])
    report = clinicsim.conformance_report(clinicsim.sample(N, model=skewed, seed=2), skewed)
    result = check(report, "target: rate follow_up=True")
    assert not result.passed and result.shown is False
    assert result.effect == pytest.approx(rate - 0.30, abs=4 * se(rate, N))
    assert result.statistic == pytest.approx(rate * N, abs=4 * se(rate, N) * N)
    # a faithful sample of the skewed model: only the target fails
    assert report.model_passed and not report.targets_passed and not report.passed


def test_within_margin_model_is_not_failed_at_20000_rows(default):
    """Follow-up 0.318 against 0.30 ± 0.02: significant, not shown inside, and not failed."""
    skewed = helpers.follow_up_rate(default, 0.318)
    report = clinicsim.conformance_report(clinicsim.sample(20_000, model=skewed, seed=3), skewed)
    result = check(report, "target: rate follow_up=True")
    assert result.passed and result.status == "not shown"
    # significant at the report's alpha (0.318 is 5.5 standard errors from 0.30 at 20,000)
    assert stats.binomtest(int(result.statistic), 20_000, 0.30).pvalue < 0.01
    assert report.passed


def exact_priority_difference(model):
    """P(follow-up | priority category) - P(follow-up | other), by variable elimination."""
    joint = VariableElimination(model.network).query(["diagnosis", "follow_up"], joint=True,
                                                     show_progress=False)
    priority = set(dict(model.targets[2].where)["diagnosis_category"])
    rate = {True: [0.0, 0.0], False: [0.0, 0.0]}
    for dx, category in model.diagnosis_categories.items():
        yes = joint.get_value(diagnosis=dx, follow_up="True")
        rate[category in priority][0] += yes
        rate[category in priority][1] += yes + joint.get_value(diagnosis=dx, follow_up="False")
    return rate[True][0] / rate[True][1] - rate[False][0] / rate[False][1]


def test_follow_up_independent_of_diagnosis_fails_priority(default):
    skewed = helpers.follow_up_ignores_diagnosis(default)
    report = clinicsim.conformance_report(clinicsim.sample(N, model=skewed, seed=3), default)
    priority = check(report, PRIORITY)
    assert not priority.passed
    # not 0: priority categories are older, and follow-up still rises with age. Both groups
    # hold over 40% of the rows, so se(0.5, 0.4 N) bounds the standard error of each rate.
    expected = exact_priority_difference(skewed)
    assert 0 < expected < 0.1
    assert priority.effect == pytest.approx(expected, abs=4 * np.sqrt(2) * se(0.5, int(0.4 * N)))
    assert priority.margin == 0.15
    # the overall rate is still right: only the dependence is wrong
    assert check(report, "target: rate follow_up=True").passed
    failed_cpd = [c for c in report.failed if c.name.startswith("model: follow_up |")]
    assert failed_cpd


def test_follow_up_falling_with_age_fails_trend(default):
    skewed = helpers.follow_up_falling_with_age(default)
    report = clinicsim.conformance_report(clinicsim.sample(N, model=skewed, seed=4), default)
    trend = check(report, TREND)
    assert not trend.passed and trend.effect < 0 and trend.statistic < -3


def test_trend_is_stratified_by_diagnosis(default):
    """Flat in age within each chronic diagnosis: the pooled chronic rate still rises (older
    people have the diagnoses with more follow-up), the stratified slope does not."""
    skewed = helpers.follow_up_flat_in_age(default)
    records = clinicsim.sample(20_000, model=skewed, seed=41)
    report = clinicsim.conformance_report(records, skewed)
    trend = check(report, TREND)
    se_slope = (trend.effect - 0.02) / trend.statistic
    assert not trend.passed and abs(trend.effect) < 4 * se_slope
    chronic = records[records.diagnosis.map(default.diagnosis_categories) == "chronic"]
    pooled = stratified_trend(chronic.follow_up.to_numpy(), chronic.age.to_numpy(float),
                              np.zeros(len(chronic), np.int64))
    assert pooled.z0 > 3  # unstratified, the mix shift alone looks like a rise


def test_trend_and_priority_are_shown_on_a_correct_sample(good, default):
    trend = check(good, TREND)
    priority = check(good, PRIORITY)
    assert trend.shown and trend.effect > 0.02 and trend.statistic > 2
    assert priority.shown
    assert priority.effect == pytest.approx(exact_priority_difference(default),
                                            abs=4 * np.sqrt(2) * se(0.5, int(0.4 * N)))


def test_ages_at_band_edges_fail_the_age_check_not_the_band_marginal(default):
    records = clinicsim.sample(N, model=default, seed=5)
    starts = np.array(sorted(lo for lo, _ in default.age_bands.values()))
    records["age"] = starts[np.searchsorted(starts, records["age"], side="right") - 1]
    report = clinicsim.conformance_report(records, default)
    assert not check(report, "target: even age 0..89").passed
    assert check(report, "model: marginal age_group").passed


def test_six_missing_ages_fail_the_age_check(default):
    records = helpers.ages_missing(clinicsim.sample(N, model=default, seed=51))
    report = clinicsim.conformance_report(records, default)
    ages = check(report, "target: even age 0..89")
    assert not ages.passed and "6 years without rows" in ages.detail
    # the bands are right; the single ages within them are not the model's uniform ones
    assert check(report, "model: marginal age_group").passed
    assert [c.name for c in report.failed if c.kind == "model"] == ["model: age within band"]


def test_visits_in_one_month_fail_the_month_check(default):
    records = helpers.visits_in_one_month(clinicsim.sample(2000, model=default, seed=52))
    report = clinicsim.conformance_report(records, default)
    assert not check(report, "model: marginal visit_month").passed
    assert report.targets_passed and not report.model_passed


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
    assert not report.passed and report.targets_passed
    (failed,) = report.failed
    assert failed.test == "impossible values" and failed.pvalue == 0.0
    assert "treatment=antibiotic" in failed.detail and "probability 0" in failed.detail
    assert "diagnosis=adult_checkup" in failed.name


def test_equivalence_is_shown_for_a_tiny_significant_deviation(default):
    """On 200,000 rows a 0.8-point gender deviation is significant, but shown to lie inside
    the ±2-point margin."""
    skewed = helpers.gender_off(default, 0.008)
    report = clinicsim.conformance_report(clinicsim.sample(200_000, model=skewed, seed=8), skewed)
    gender = check(report, "target: share gender")
    counts = np.round(report._figures["gender"]["shares"] * 200_000)
    assert stats.chisquare(counts, 200_000 * np.array([0.45, 0.43, 0.12])).pvalue < 1e-6
    assert gender.shown and gender.passed and gender.status == "shown"
    assert check(report, "target: rate follow_up=True").status == "shown"
    assert report.passed


def test_small_table_is_not_shown_and_not_failed(default):
    report = clinicsim.conformance_report(clinicsim.sample(300, model=default, seed=9), default)
    gender = check(report, "target: share gender")
    assert report.passed and gender.status == "not shown" and gender.shown is False


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_tiny_tables_never_fail_a_correct_sample(default, n):
    """No zero standard error fails a tiny correct table: what cannot be tested says so."""
    for seed in range(700, 740):
        report = clinicsim.conformance_report(clinicsim.sample(n, model=default, seed=seed),
                                              default)
        assert report.passed, report.summary()
        for c in report.checks:
            assert c.pvalue is None or 0 <= c.pvalue <= 1
            assert (c.status == "not tested") == c.detail.startswith("not tested:")
    statuses = {c.name: c.status for c in report.checks}
    assert statuses[PRIORITY] == "not tested"
    assert statuses[TREND] == "not tested"


# -- the checks one by one, and against independent implementations ------------------

def test_share_check_fails_only_outside_the_margin():
    target = {"a": 0.5, "b": 0.5}
    codes = np.repeat([0, 1], [5_180, 4_820])  # 0.518: inside 0.5 ± 0.02, yet significant
    inside, _ = share_check("s", "x", codes, ["a", "b"], target, 0.02, 0.01)
    assert inside.pvalue == 1.0 or inside.pvalue > 0.01
    assert stats.binomtest(5_180, 10_000).pvalue < 0.001
    codes = np.repeat([0, 1], [5_400, 4_600])  # 0.54: outside by 2 points, 4 se
    outside, _ = share_check("s", "x", codes, ["a", "b"], target, 0.02, 0.01)
    low = stats.binomtest(5_400, 10_000).proportion_ci(1 - 0.01 / 2).low  # Bonferroni 2
    assert low > 0.52 and outside.pvalue < 0.01


def test_rate_check_p_value_is_the_interval_outside_the_margin():
    """p < alpha exactly when the 1 - alpha Clopper-Pearson interval misses target ± margin."""
    for k in range(240, 420, 7):
        result = rate_check("r", "x", np.arange(1000) < k, 0.30, 0.02, 0.05)
        ci = stats.binomtest(k, 1000).proportion_ci(0.95)
        assert (result.pvalue < 0.05) == (ci.low > 0.32 or ci.high < 0.28), k
        assert result.shown == (ci.low >= 0.28 and ci.high <= 0.32)


def test_difference_test_matches_statsmodels():
    rng = np.random.default_rng(60)
    for _ in range(20):
        n1, n2 = rng.integers(20, 3000, 2)
        x1, x2 = rng.integers(0, n1 + 1), rng.integers(0, n2 + 1)
        delta = float(rng.choice([0.0, 0.15, -0.1, 0.3]))
        z, _ = score_difference(int(x1), int(n1), int(x2), int(n2), delta)
        ref = proportion.test_proportions_2indep(x1, n1, x2, n2, value=delta, method="score",
                                      compare="diff", alternative="smaller", correction=False)
        assert z == pytest.approx(ref.statistic, rel=1e-9, abs=1e-9)
        hits = np.r_[np.arange(n1) < x1, np.arange(n2) < x2]
        group = np.r_[np.ones(n1, bool), np.zeros(n2, bool)]
        result = difference_check("d", "x", hits, group, delta, 0.01)
        assert result.pvalue == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)


def test_stratified_trend_matches_statsmodels():
    """One stratum: the linear-by-linear association z; several: Mantel's sum of strata."""
    rng = np.random.default_rng(61)
    scores = np.array([7.0, 19.5, 34.5, 54.5, 69.5, 82.0])
    tables = []
    hits, score, stratum = [], [], []
    for s in range(4):
        n = rng.integers(5, 60, len(scores))
        x = rng.binomial(n, rng.uniform(0.1, 0.7, len(scores)))
        tables.append(np.vstack([n - x, x]))
        for j in range(len(scores)):
            hits += [1] * x[j] + [0] * (n[j] - x[j])
            score += [scores[j]] * n[j]
            stratum += [s] * n[j]
    hits, score, stratum = np.array(hits), np.array(score), np.array(stratum)
    one = Table(tables[0]).test_ordinal_association(np.array([0, 1]), scores)
    first = stratum == 0
    assert stratified_trend(hits[first], score[first], stratum[first]).z0 == pytest.approx(
        one.zscore, rel=1e-9)
    parts = [Table(t).test_ordinal_association(np.array([0, 1]), scores) for t in tables]
    mantel = sum(p.statistic - p.null_mean for p in parts) / np.sqrt(
        sum(p.null_sd**2 for p in parts))
    trend = stratified_trend(hits, score, stratum)
    assert trend.z0 == pytest.approx(mantel, rel=1e-9)
    result = trend_check("t", "x", hits, score, stratum, 0.0, 0.01)
    assert result.statistic == pytest.approx(mantel, rel=1e-9)
    assert result.pvalue == pytest.approx(stats.norm.cdf(mantel), rel=1e-9)


def test_even_check_sees_single_years():
    rng = np.random.default_rng(62)
    ages = rng.integers(0, 90, 50_000)
    result, _ = even_check("e", "age", ages, 0, 89, 0.02, 0.01)
    assert result.passed and result.pvalue > 0.01 and result.shown
    gone = np.where(np.isin(ages, [3, 17, 30, 52, 68, 81]), ages + 1, ages)
    result, _ = even_check("e", "age", gone, 0, 89, 0.02, 0.01)
    assert result.effect < 0.02  # the distribution function alone cannot see them
    assert result.pvalue < 1e-10 and not result.shown


def test_holm_matches_statsmodels():
    rng = np.random.default_rng(63)
    for m in (1, 2, 5, 50):
        p = rng.uniform(0, 0.05, m) ** rng.uniform(0.5, 3, m)
        np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1], rtol=1e-12)
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, 0.005])),
                               [0.03, 0.06, 0.06, 0.02])


def test_gof_pools_sparse_cells_and_skips_zero_cells():
    observed = np.array([50, 30, 2, 1, 0, 17])
    probs = np.array([0.5, 0.3, 0.02, 0.01, 0.0, 0.17])
    statistic, df, pvalue = gof(observed, probs)
    # cells 2+3 (expected 3) pooled with the smallest adequate cell (17): three cells left
    expected = stats.chisquare([50, 30, 20], [50, 30, 20])
    assert df == 2 and statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert pvalue == 1.0  # zero statistic: p = 1, never NaN
    assert gof(np.array([3, 1]), np.array([0.7, 0.3])) is None
    observed = np.array([60, 25, 15])
    for lam in ("pearson", "cressie-read"):
        ref = stats.power_divergence(observed, 100 * np.array([0.5, 0.3, 0.2]), lambda_=lam)
        assert gof(observed, np.array([0.5, 0.3, 0.2]), lam)[2] == pytest.approx(ref.pvalue)


def test_exactly_proportional_counts_give_p_one_not_nan():
    """SciPy returns a statistic of about -1e-12 and a NaN p-value here."""
    probs = np.array([0.45, 0.43, 0.12])
    for n in (100, 1_000_000, 3_000_000):
        assert gof(np.round(n * probs), probs, "cressie-read")[2] == 1.0


@pytest.mark.slow
def test_sparse_columns_sum_is_calibrated():
    """Under the model, the sum of Pearson statistics over sparse columns rejects at most at
    the nominal rate: 4,000 tables, bound the 99.9% binomial quantile."""
    rng = np.random.default_rng(64)
    probs = rng.dirichlet(np.full(6, 0.5), 40).T
    probs[probs < 0.01] = 0
    probs /= probs.sum(axis=0)
    rows = rng.integers(1, 20, 40)
    # (tables, states, columns)
    tables = np.stack([rng.multinomial(n, p, size=4000)
                       for n, p in zip(rows, probs.T, strict=True)], axis=2)
    pvalues = np.array([sparse_columns("x", t, probs).pvalue for t in tables])
    for level in (0.1, 0.01, 0.001):
        assert (pvalues < level).sum() <= stats.binom.ppf(0.999, 4000, level), level
    assert (pvalues < 0.1).sum() >= stats.binom.ppf(0.001, 4000, 0.05)  # not far too strict
