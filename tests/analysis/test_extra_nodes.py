"""The report checks a model's further nodes: their columns' marginals, CPD columns and
targets; a node absent from the records is summed out of its children's checks; a target
whose column is absent fails (issue 22, items 1 and 3)."""

import itertools

import numpy as np
import pytest

import clinicsim
from clinicsim.analysis._columns import summed_out
from clinicsim.analysis._model_info import model_info
from tests.models import insurance_follow_up_model, insurance_model, skewed_insurance

N = 20_000


@pytest.fixture(scope="module")
def model():
    return insurance_model()


@pytest.fixture(scope="module")
def follow_up_model():
    return insurance_follow_up_model()


def _nodes(report, node):
    return [c for c in report.checks if c.node == node]


def test_a_sample_of_the_model_passes(model, follow_up_model):
    for m, seed in ((model, 21), (follow_up_model, 22)):
        report = clinicsim.conformance_report(clinicsim.sample(N, model=m, seed=seed), model=m)
        assert report.passed, [c.detail for c in report.failed]
        target = next(c for c in report.checks if c.name.startswith("target: share insurance"))
        assert target.status == "shown"  # 20,000 rows show shares within 0.02


def test_the_checks_grow_by_the_nodes_checks(model):
    """A leaf node adds its records check, its target, its marginal and one check per CPD
    column (six bands): every other check is as for the default model."""
    seed = 23
    default = clinicsim.conformance_report(clinicsim.sample(N, seed=seed))
    report = clinicsim.conformance_report(clinicsim.sample(N, model=model, seed=seed),
                                          model=model)
    added = _nodes(report, "insurance")
    assert [c.name for c in added] == [
        "records: insurance", "target: share insurance", "model: marginal insurance",
        *(f"model: insurance | age_group={band}" for band in model.states("age_group"))]
    assert len(report.checks) == len(default.checks) + len(added)


def test_a_parent_node_keeps_its_childs_checks(follow_up_model):
    """insurance as a parent of follow_up: follow_up's CPD columns are checked given
    (age_group, diagnosis, insurance) with the column, and given (age_group, diagnosis)
    with insurance summed out without it; never skipped (it was 150 checks -> 104)."""
    records = clinicsim.sample(N, model=follow_up_model, seed=24)
    full = clinicsim.conformance_report(records, model=follow_up_model)
    columns = [c for c in _nodes(full, "follow_up") if c.name.startswith("model: follow_up |")]
    assert any("insurance=uninsured" in c.name for c in columns)
    without_target = follow_up_model.with_targets(list(follow_up_model.targets)[:-1])
    dropped = clinicsim.conformance_report(records.drop(columns="insurance"),
                                           model=without_target)
    assert dropped.passed, [c.detail for c in dropped.failed]
    kept = [c for c in _nodes(dropped, "follow_up") if c.name.startswith("model: follow_up |")]
    assert len(kept) >= 48 and not any("insurance" in c.name for c in kept)
    assert any("summed out exactly" in n for n in dropped.notes)
    default = clinicsim.conformance_report(clinicsim.sample(N, seed=24))
    assert len(dropped.checks) >= len(default.checks) - 5  # sparse columns pool differently


def test_summed_out_tables_are_the_models_conditionals(follow_up_model):
    info = model_info(follow_up_model)
    present = set(info.nodes) - {"insurance"}
    reduced, notes = summed_out(info, follow_up_model, present)
    assert reduced.parents["follow_up"] == ("age_group", "diagnosis")
    assert len(notes) == 1
    states = follow_up_model.states
    table = reduced.tables["follow_up"]
    for j, (band, dx) in enumerate(itertools.product(states("age_group"), states("diagnosis"))):
        evidence = {"age_group": band, "diagnosis": dx}
        if follow_up_model.query(["age_group", "diagnosis"])[band, dx] == 0:
            assert (table[:, j] == 0).all()  # a column the model never reaches
            continue
        exact = follow_up_model.query(["follow_up"], evidence)
        np.testing.assert_allclose(table[:, j], exact.to_numpy(), rtol=0, atol=1e-12)
    assert summed_out(info, follow_up_model, set(info.nodes)) == (info, [])


def test_skewed_insurance_shares_fail(model):
    """Private 0.05 lower (public higher) in every band: the share target is 0.03 beyond
    its margin, about 8 standard errors at 20,000 rows, and the CPD columns 5 points off."""
    skewed = skewed_insurance(model, 0.05)
    report = clinicsim.conformance_report(clinicsim.sample(N, model=skewed, seed=25),
                                          model=model)
    assert not report.passed
    failed = {c.name for c in report.failed}
    assert any(name.startswith("target: share insurance") for name in failed)
    assert "model: marginal insurance" in failed
    assert all(c.node == "insurance" for c in report.failed)


def test_a_target_whose_column_is_absent_fails(model):
    records = clinicsim.sample(5000, model=model, seed=26).drop(columns="insurance")
    report = clinicsim.conformance_report(records, model=model)
    assert not report.passed and not report.model_passed
    (failed,) = report.failed
    assert failed.name == "records: insurance" and failed.kind == "records"
    assert failed.status == "failed"
    assert "'share insurance" in failed.detail
    target = next(c for c in report.checks if c.name.startswith("target: share insurance"))
    assert target.status == "not tested"


def test_cli_report_of_a_file_without_the_column_exits_1(model, tmp_path, capsys):
    from clinicsim._cli import main
    from tests.models import save

    path = tmp_path / "r.csv"
    clinicsim.sample(2000, model=model, seed=27).drop(columns="insurance").to_csv(path,
                                                                                index=False)
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(path), "--model", str(save(model, tmp_path))])
    assert exit_.value.code == 1
    assert "FAILED records: insurance" in capsys.readouterr().out


def test_a_cohort_of_the_absent_node_is_checked_given_it(follow_up_model):
    """given insurance=uninsured, records without the column: follow_up is checked against
    P(follow_up | age_group, diagnosis, insurance=uninsured); the share target, which the
    cohort makes inapplicable, needs no column. A cohort of the privately insured, whose
    follow-up rate is nearly twice as high, fails."""
    given = {"insurance": "uninsured"}
    records = clinicsim.sample(N, model=follow_up_model, seed=28, given=given)
    report = clinicsim.conformance_report(records.drop(columns="insurance"),
                                          model=follow_up_model, given=given)
    assert report.passed, [c.detail for c in report.failed]
    assert any(c.name.startswith("model: follow_up | age_group=") for c in report.checks)
    wrong = clinicsim.sample(N, model=follow_up_model, seed=28, given={"insurance": "private"})
    report = clinicsim.conformance_report(wrong.drop(columns="insurance"),
                                          model=follow_up_model, given=given)
    assert "model: marginal follow_up" in {c.name for c in report.failed}
