"""Calibration (CONVENTIONS.md 8c): the report's error rates, measured over many seeds.

Type I: correct 5,000-row samples fail at most at the nominal family-wise rate, up to
binomial noise: the bound is the 99.9% quantile of Binomial(seeds, alpha), so a
correctly calibrated report trips it once in a thousand runs, and one that fails correct
samples twice as often as it should is caught (at alpha = 0.1 over 200 seeds: 40 expected
failures against a bound of 34).
Power: 5,000-row samples that break one target are failed in at least 95% of 100 seeds.
"""

import numpy as np
import pytest
from scipy import stats

import clinicsim
from tests.analysis import helpers

N = 5000
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def default():
    return clinicsim.default_model()


def failures(generator, model, seeds, alpha):
    """How many of the samples drawn from ``generator`` with ``seeds`` the report fails."""
    return sum(not clinicsim.conformance_report(
        clinicsim.sample(N, model=generator, seed=seed), model, alpha=alpha).passed
        for seed in seeds)


@pytest.mark.parametrize(("alpha", "seeds"), [(0.01, range(1000, 1200)), (0.1, range(2000, 2200))])
def test_type_one_error_at_most_alpha(default, alpha, seeds):
    failed = failures(default, default, seeds, alpha)
    bound = stats.binom.ppf(0.999, len(seeds), alpha)
    assert failed <= bound, f"{failed} of {len(seeds)} correct samples failed (bound {bound:g})"


@pytest.mark.parametrize(
    ("skew", "seeds"),
    [
        (lambda m: helpers.gender_off(m, 0.05), range(3000, 3100)),
        (lambda m: helpers.follow_up_rate(m, 0.38), range(4000, 4100)),
        (helpers.follow_up_ignores_diagnosis, range(5000, 5100)),
    ],
    ids=["gender-off-5-points", "follow-up-38-percent", "follow-up-independent-of-diagnosis"],
)
def test_power_at_least_95_percent(default, skew, seeds):
    failed = failures(skew(default), default, seeds, 0.01)
    assert failed >= 95, f"only {failed} of {len(seeds)} skewed samples failed"


def test_skews_are_what_they_claim(default):
    """The skewed models break their target by the stated amount, and nothing else."""
    assert helpers.gender_off(default).marginal("gender")["male"] == pytest.approx(0.50)
    assert helpers.follow_up_rate(default, 0.38).marginal("follow_up")["True"] == pytest.approx(
        0.38, abs=0.005)
    independent = helpers.follow_up_ignores_diagnosis(default)
    assert independent.marginal("follow_up")["True"] == pytest.approx(0.30, abs=0.005)
    table = independent.cpd("follow_up").loc["True"].unstack("age_group")
    assert np.allclose(table.std(axis=0), 0)
