"""examples/small_clinic.yaml: a small complete model file that loads, samples and passes
its own report, and is the model file shown in the docs (docs/model.md)."""

from pathlib import Path

import pytest

import clinicsim

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "examples" / "small_clinic.yaml"


def test_small_clinic_loads_samples_and_passes_its_report():
    model = clinicsim.load_model(SMALL)
    assert model.name == "small_clinic"
    assert model.nodes == ("gender", "age_group", "diagnosis", "treatment", "follow_up")
    assert len(model.states("diagnosis")) == 5
    t = model.targets  # its stated figures are its exact ones
    assert float(model.marginal("follow_up")["True"]) == pytest.approx(t.follow_up_rate,
                                                                        abs=0.001)
    assert dict(model.marginal("gender")) == pytest.approx(dict(t.gender_shares), abs=1e-12)
    records = model.sample(5000, seed=2024, extended=True)
    assert set(records.diagnosis) == set(model.states("diagnosis"))
    report = clinicsim.conformance_report(records, model=model)
    assert report.passed, report.summary()


def test_the_model_page_shows_the_small_clinic_file_itself():
    """docs/model.md includes the file (literalinclude), so the page cannot drift from it;
    the page's editing walkthrough, which ends with a saved model passing its report, runs
    in tests/test_docs.py."""
    page = (ROOT / "docs" / "model.md").read_text()
    assert "```{literalinclude} ../examples/small_clinic.yaml\n:language: yaml\n```" in page


PAYMENT = ROOT / "examples" / "payment_clinic.yaml"


def test_payment_clinic_is_the_default_model_plus_two_cited_nodes():
    model = clinicsim.load_model(PAYMENT)  # loading validates it
    default = clinicsim.default_model()
    assert model.name == "payment_clinic"
    assert clinicsim.simulate.extra_nodes(model) == ("patient_status", "payment")
    for node in default.nodes:  # every other table is the default's
        assert model.parents(node) == default.parents(node)
        assert model.cpd(node).equals(default.cpd(node))
    assert model.parents("payment") == ("age_group",)
    assert model.states("payment") == ["private_insurance", "medicare", "medicaid_chip",
                                        "self_pay", "other"]
    # NAMCS 2019, weighted: Medicare pays most visits from 65, private insurance below
    payment = model.cpd("payment")
    assert payment["65_74"].idxmax() == payment["75_89"].idxmax() == "medicare"
    assert {payment[b].idxmax() for b in ("0_14", "15_24", "25_44", "45_64")} \
        == {"private_insurance"}
    assert float(model.marginal("patient_status")["established"]) == pytest.approx(0.82, abs=0.01)
    # the stated payment shares are the model's exact ones (with its evenly spread ages)
    share = next(t for t in model.targets if str(t) == "share payment")
    assert dict(model.marginal("payment")) == pytest.approx(dict(share.values), abs=1e-4)


def test_payment_clinic_samples_and_passes_its_report():
    model = clinicsim.load_model(PAYMENT)
    records = model.sample(5000, seed=2024, extended=True)
    assert list(records.columns[7:9]) == ["patient_status", "payment"]
    assert set(records.payment) == set(model.states("payment"))
    report = clinicsim.conformance_report(records, model=model)
    assert report.passed, report.summary()
    names = {c.name for c in report.checks}
    assert {"target: share payment", "model: marginal payment",
            "model: marginal patient_status"} <= names


def test_skewed_payment_shares_fail_the_payment_target_and_marginal():
    """Private insurance moved to self-pay in every band, by the target's margin plus six
    standard errors of a share at n (a miss the 99% interval cannot straddle)."""
    import warnings

    n = 20_000
    model = clinicsim.load_model(PAYMENT)
    shift = 0.02 + 6 * (0.25 / n) ** 0.5
    skewed = model.copy()
    table = skewed.cpd("payment")
    table.loc["private_insurance"] -= shift
    table.loc["self_pay"] += shift
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", clinicsim.TargetWarning)  # the edit moves a target
        skewed.set_cpd("payment", table)
    report = clinicsim.conformance_report(skewed.sample(n, seed=7), model=model)
    failed = {c.name for c in report.failed}
    assert {"target: share payment", "model: marginal payment"} <= failed, report.summary()
    assert not report.targets_passed and not report.model_passed
