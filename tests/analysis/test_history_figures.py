"""A history report draws per-patient figures: visits per patient and the share of
patients with a follow-up visit, against the model's exact values."""

import pytest

import clinicsim
from clinicsim.analysis._history_figures import MAX_BARS, visit_bars
from clinicsim.model import history_expectations


@pytest.fixture(scope="module")
def history():
    return clinicsim.sample_patients(600, seed=21).visits


@pytest.fixture(scope="module")
def report(history):
    return clinicsim.conformance_report(history)


def test_figure_data_are_the_observed_counts_and_the_exact_expectations(history, report):
    d = report._figures["history"]
    per_patient = history.groupby("patient_id").size()
    assert d["n"] == len(per_patient) == 600
    observed = per_patient.value_counts()
    assert {v: c for v, c in zip(d["visits"], d["patients"], strict=True) if c} \
        == observed.to_dict()
    e = history_expectations(clinicsim.default_model())
    assert dict(zip(d["visits"], d["exact"], strict=True)) \
        == {v: e.visits.get(v, 0.0) for v in d["visits"]}
    follow = (history.visit_kind == "follow-up").groupby(history.patient_id).any()
    assert d["follow_up"] == int(follow.sum())
    assert d["follow_up_exact"] == e.follow_up_share
    # the checks report the same numbers
    check = next(c for c in report.checks if c.name.endswith("with a follow-up visit"))
    assert check.statistic == d["follow_up"]


def test_bars_pool_the_tail_and_keep_every_patient(report):
    d = report._figures["history"]
    labels, patients, exact = visit_bars(d)
    assert patients.sum() == d["n"] and exact.sum() == pytest.approx(1.0, abs=1e-9)
    assert len(labels) <= MAX_BARS and labels[0] == "1"
    long = dict(d, patients=[0] * 39 + [d["n"]], exact=[1.0] + [0.0] * 39,
                visits=list(range(1, 41)))
    labels, patients, exact = visit_bars(long)
    assert len(labels) == MAX_BARS and labels[-1] == f">= {MAX_BARS}"
    assert patients[-1] == d["n"] and exact[0] == 1.0


def test_the_figures_are_in_figures_and_on_the_page(report, history):
    figures = report.figures()
    assert list(figures)[-2:] == ["history:visits", "history:follow_up"]
    visits = figures["history:visits"].svg
    counts = history.groupby("patient_id").size()
    ones = int((counts == 1).sum())
    e = history_expectations(clinicsim.default_model())
    assert (f"1 visits: {ones / 600:.1%} ({ones:,} of 600 patients; 99% interval" in visits
            and f"exact {e.visits[1]:.1%}" in visits)
    assert "exact " in figures["history:follow_up"].svg
    page = report.to_html()
    assert 'id="extra-figures"' in page and 'href="#extra-figures"' in page
    assert 'id="figure-history-visits"' in page and 'id="figure-history-follow_up"' in page


def test_a_flat_report_has_no_history_figure():
    report = clinicsim.conformance_report(clinicsim.sample(500, seed=4))
    assert not [k for k in report.figures() if k.startswith("history")]
    assert "history" not in report._figures and "extra-figures" not in report.to_html()
