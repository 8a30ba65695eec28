"""Least-change fitting of CPDs to the stated targets (model.fit_targets)."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinicsim import ArgumentError, ModelError, TargetWarning, default_model
from clinicsim.model import cpd_changes, exact_value, is_met
from clinicsim.model._fit import fit_statements
from clinicsim.model._metadata import CATEGORIES
from clinicsim.model._targets import parse_statements


@pytest.fixture(scope="module")
def model():
    return default_model()


def _chronic(model):
    return [d for d, c in model.diagnosis_categories.items() if c == "chronic"]


def _statements(model, spec):
    return parse_statements(spec, {n: model.states(n) for n in model.nodes})


def test_edit_then_fit_restores_the_rate_with_kept_columns_untouched(model):
    edited = model.copy()
    cpd = edited.cpd("follow_up")
    cols = [c for c in cpd.columns if c[1] == "asthma"]
    cpd.loc["True", cols], cpd.loc["False", cols] = 0.9, 0.1
    with pytest.warns(TargetWarning, match="rate follow_up=True"):
        edited.set_cpd("follow_up", cpd)
    assert edited.marginal("follow_up")["True"] > 0.34
    fitted = edited.fit_targets(keep=[("follow_up", {"diagnosis": "asthma"})])
    assert abs(fitted.marginal("follow_up")["True"] - 0.30) <= 1e-9
    assert fitted.marginal("gender").to_dict() == pytest.approx(
        {"male": 0.45, "female": 0.43, "other": 0.12}, abs=1e-12)
    after = fitted.cpd("follow_up")
    assert (after[cols].to_numpy() == cpd[cols].to_numpy()).all()  # bit for bit
    # the tilt multiplies each column by one factor per state: orders within a column kept
    chronic = [c for c in cpd.columns if c[1] in _chronic(model)]
    for dx in _chronic(model):
        by_age = [c for c in chronic if c[1] == dx]
        assert np.array_equal(np.argsort(cpd.loc["True", by_age].to_numpy()),
                              np.argsort(after.loc["True", by_age].to_numpy()))
    assert edited.marginal("follow_up")["True"] > 0.34  # the input model is unchanged


def test_conditional_and_joint_statements_met_exactly(model):
    extra = _statements(model, [{"rate": {"follow_up": "True"}, "value": 0.35, "margin": 0.02,
                                 "where": {"diagnosis_category": ["chronic"]}}])
    fitted = fit_statements(model, model.targets + extra)
    chronic = fitted.query(["follow_up"], {"diagnosis": _chronic(model)})["True"]
    assert abs(chronic - 0.35) <= 1e-9
    assert abs(fitted.marginal("follow_up")["True"] - 0.30) <= 1e-9


def test_least_change_matches_scipy_on_one_node(model):
    optimize = pytest.importorskip("scipy.optimize")
    st = _statements(model, [{"rate": {"follow_up": "True"}, "value": 0.25, "margin": 0.02}])
    fitted = fit_statements(model, st)
    m = model.table("follow_up").matrix
    q = model.query(list(model.parents("follow_up"))).to_numpy()
    i = model.states("follow_up").index("True")

    live = q > 0  # columns of probability 0 do not enter the change
    q, m = q[live], m[:, live]
    mt, mf = m[i], 1 - m[i]

    def kl(x):  # x: P'(True | column)
        return float(q @ (x * np.log(x / mt) + (1 - x) * np.log((1 - x) / mf)))

    def grad(x):
        return q * (np.log(x / mt) - np.log((1 - x) / mf))

    res = optimize.minimize(kl, mt, jac=grad, method="SLSQP", bounds=[(1e-9, 1 - 1e-9)] * len(q),
                            constraints=[{"type": "eq", "fun": lambda x: q @ x - 0.25,
                                          "jac": lambda x: q}],
                            options={"ftol": 1e-15, "maxiter": 1000})
    assert res.success
    ours = fitted.table("follow_up").matrix[i][live]
    assert abs(q @ ours - 0.25) <= 1e-9
    assert kl(ours) <= res.fun + 1e-12
    assert np.abs(ours - res.x).max() < 1e-5

def test_two_statements_on_one_node_match_scipy(model):
    """An overall rate and a chronic rate, solved together, against SLSQP on the weighted
    KL with both linear constraints (every follow_up column free)."""
    optimize = pytest.importorskip("scipy.optimize")
    st = _statements(model, [
        {"rate": {"follow_up": "True"}, "value": 0.28, "margin": 0.02},
        {"rate": {"follow_up": "True"}, "value": 0.50, "margin": 0.02,
         "where": {"diagnosis_category": ["chronic"]}}])
    fitted = fit_statements(model, st)
    q = model.query(list(model.parents("follow_up"))).to_numpy()
    chronic = np.isin(model.cpd("follow_up").columns.get_level_values("diagnosis"),
                      _chronic(model))
    live = q > 0
    q, chronic = q[live], chronic[live]
    mt = model.table("follow_up").matrix[0][live]  # P(True | column); states: True, False
    qc = q * chronic / (q @ chronic)

    def kl(x):
        return float(q @ (x * np.log(x / mt) + (1 - x) * np.log((1 - x) / (1 - mt))))

    res = optimize.minimize(
        kl, mt, jac=lambda x: q * (np.log(x / mt) - np.log((1 - x) / (1 - mt))),
        method="SLSQP", bounds=[(1e-9, 1 - 1e-9)] * len(q),
        constraints=[{"type": "eq", "fun": lambda x: q @ x - 0.28, "jac": lambda x: q},
                     {"type": "eq", "fun": lambda x: qc @ x - 0.50, "jac": lambda x: qc}],
        options={"ftol": 1e-15, "maxiter": 1000})
    assert res.success
    ours = fitted.table("follow_up").matrix[0][live]
    assert abs(q @ ours - 0.28) <= 1e-9 and abs(qc @ ours - 0.50) <= 1e-9
    assert kl(ours) <= res.fun + 1e-12
    assert np.abs(ours - res.x).max() < 1e-5


def test_conflicting_statements_refused_naming_them(model):
    st = _statements(model, [
        {"rate": {"follow_up": "True"}, "value": 0.9, "margin": 0.02,
         "where": {"diagnosis_category": ["chronic"]}},
        {"rate": {"follow_up": "True"}, "value": 0.1, "margin": 0.02,
         "where": {"diagnosis_category": ["chronic", "viral"]}},
        {"rate": {"follow_up": "True"}, "value": 0.3, "margin": 0.02,
         "where": {"diagnosis_category": ["viral"]}}])
    key = model.content_key()
    with pytest.raises(ModelError, match="cannot all be met.*diagnosis_category=chronic"):
        fit_statements(model, st)
    assert model.content_key() == key


def test_statement_on_a_descendant_refused(model):
    st = _statements(model, [{"rate": {"gender": "male"}, "value": 0.5, "margin": 0.02,
                              "where": {"follow_up": ["True"]}}])
    with pytest.raises(ModelError, match="descendants"):
        fit_statements(model, st)


def _random_like(model, seed):
    """The model's structure with every CPD column drawn from a Dirichlet (zeros kept)."""
    rng = np.random.default_rng(seed)
    out = model.copy()
    for node in ("gender", "age_group", "diagnosis", "follow_up"):
        cpd = out.cpd(node)
        draw = rng.dirichlet(np.ones(len(cpd)), size=cpd.shape[1]).T * (cpd.to_numpy() > 0)
        cpd[:] = draw / draw.sum(axis=0)
        with warnings.catch_warnings():  # a random table moves the targets: not tested here
            warnings.simplefilter("ignore", TargetWarning)
            out.set_cpd(node, cpd["p"] if cpd.columns.tolist() == ["p"] else cpd)
    return out


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
@settings(max_examples=10, deadline=None)
def test_targets_of_one_random_model_met_by_fitting_another(seed_a, seed_b):
    base = default_model()
    a, b = _random_like(base, seed_a), _random_like(base, seed_b)
    chronic = _chronic(base)
    spec = [
        {"share": "gender", "values": a.marginal("gender").to_dict(), "margin": 0.02},
        {"share": "diagnosis_category", "margin": 0.02,
         "values": a.query(["diagnosis"]).groupby(a.diagnosis_categories).sum().to_dict()},
        {"rate": {"follow_up": "True"}, "value": float(a.marginal("follow_up")["True"]),
         "margin": 0.02},
        {"rate": {"follow_up": "True"}, "margin": 0.02, "where": {"diagnosis_category":
         ["chronic"]}, "value": float(a.query(["follow_up"], {"diagnosis": chronic})["True"])},
    ]
    for s in spec[1:2]:  # every category, even one the model has no diagnosis of
        s["values"] = {c: float(s["values"].get(c, 0.0)) for c in CATEGORIES}
    fitted = fit_statements(b, _statements(base, spec))
    assert np.abs(fitted.marginal("gender") - a.marginal("gender")).max() <= 1e-9
    assert abs(fitted.marginal("follow_up")["True"] - spec[2]["value"]) <= 1e-9
    got = fitted.query(["follow_up"], {"diagnosis": chronic})["True"]
    assert abs(got - spec[3]["value"]) <= 1e-9
    cats = fitted.query(["diagnosis"]).groupby(fitted.diagnosis_categories).sum()
    assert all(abs(cats.get(c, 0.0) - v) <= 1e-9 for c, v in spec[1]["values"].items())


def test_default_model_is_a_fixed_point(model):
    fitted = model.fit_targets()
    for node in model.nodes:
        assert np.abs(fitted.table(node).values - model.table(node).values).max() <= 1e-12
    assert cpd_changes(model, fitted).empty


def test_fit_meets_an_even_statement_and_zeros_stay_zero(model):
    edited = model.copy()
    with pytest.warns(TargetWarning, match="even age 0..89"):
        edited.set_cpd("age_group", dict(zip(model.states("age_group"),
                                             [0.3, 0.1, 0.2, 0.2, 0.1, 0.1], strict=True)))
    treatment = model.states("treatment")[0]
    edited = edited.with_targets([*model.targets, {"rate": {"treatment": treatment},
                                                   "value": 0.2, "margin": 0.02}])
    assert not is_met(edited, edited.targets[4])
    fitted = edited.fit_targets()
    distance, years = exact_value(fitted, fitted.targets[4])
    assert distance <= 1e-9 and years <= 1e-9
    assert abs(fitted.marginal("treatment")[treatment] - 0.2) <= 1e-9
    zeros = model.table("treatment").values == 0
    assert (fitted.table("treatment").values[zeros] == 0).all()
    changes = cpd_changes(edited, fitted)
    assert set(changes["node"]) == {"age_group", "treatment"}
    assert (changes["largest_change"] > 0).all() and (changes["kl"] >= 0).all()


def test_a_difference_missed_after_fitting_is_refused_and_nothing_changes(model):
    strict = model.with_targets([*model.targets[:2], {
        "difference": {"follow_up": "True"}, "at_least": 0.6,
        "where": {"diagnosis_category": ["chronic", "surgical", "viral"]}}])
    key = strict.content_key()
    with pytest.raises(ModelError, match=r"misses difference follow_up=True where "
                                         r"diagnosis_category=chronic,surgical,viral: \+0\.4"):
        strict.fit_targets()
    assert strict.content_key() == key


def test_kept_columns_can_make_a_statement_impossible(model):
    keep = [("follow_up", {"diagnosis": d}) for d in model.states("diagnosis")]
    target = model.with_targets([{"rate": {"follow_up": "True"}, "value": 0.31,
                                  "margin": 0.02}])
    with pytest.raises(ModelError, match="cannot all be met.*rate follow_up=True"):
        target.fit_targets(keep=keep)
    free = keep.pop(model.states("diagnosis").index("low_back_pain"))
    fitted = target.fit_targets(keep=keep)  # only low back pain's columns move
    assert fitted.marginal("follow_up")["True"] == pytest.approx(0.31, abs=1e-9)
    assert set(cpd_changes(target, fitted)["column"].str.split("diagnosis=").str[1]) \
        == {free[1]["diagnosis"]}


@pytest.mark.parametrize("keep, message", [
    ("follow_up", "must be a list"),
    ([("follow_up", "asthma")], r"keep\[0\]` must be a pair"),
    ([("nope", {})], "unknown node 'nope'"),
    ([("follow_up", {"gender": "male"})], "'gender' is not a parent of 'follow_up'"),
    ([("follow_up", {"diagnosis": "flu"})], "'flu' is not a state of 'diagnosis'"),
])
def test_bad_keep_is_an_argument_error(model, keep, message):
    with pytest.raises(ArgumentError, match=message):
        model.fit_targets(keep=keep)


def test_trend_slope_matches_a_hand_computation(model):
    """The exact stratified slope: within each chronic diagnosis, the P(band | d)-weighted
    least-squares slope of P(follow-up | d, band) on the band's midpoint, pooled."""
    trend = model.targets[3]
    bands = model.age_bands
    mid = np.array([sum(bands[b]) / 2 for b in model.states("age_group")])
    num = den = 0.0
    for d in _chronic(model):
        w = model.query(["age_group", "diagnosis"]).unstack("diagnosis")[d].to_numpy()
        r = model.cpd("follow_up").xs(d, axis=1, level="diagnosis").loc["True"].to_numpy()
        dev = mid - (w @ mid) / w.sum()
        num += float(w @ (dev * r))
        den += float(w @ dev**2)
    assert exact_value(model, trend) == pytest.approx(10 * num / den, abs=1e-12)


def test_the_jacobian_is_the_covariance_sum_without_its_k_k_c_array():
    """_jacobian (memory k*c + k^2) equals the einsum it replaced (memory k^2*c)."""
    from clinicsim.model._fit import _jacobian

    rng = np.random.default_rng(20)
    k, x, c = 9, 5, 7
    f = (rng.random((k, x)) < 0.4).astype(float)
    f[0] = 0.0  # a statement whose feature holds nowhere
    p = rng.random((x, c))
    p /= p.sum(axis=0)
    qk, r = rng.random((k, c)), rng.random((k, c))
    ef = f @ p
    cov = np.einsum("kx,lx,xc->klc", f, f, p) - ef[:, None, :] * ef[None, :, :]
    expected = np.einsum("kc,lc,klc->kl", qk, r, cov)
    np.testing.assert_allclose(_jacobian(f, p, ef, qk, r), expected, rtol=1e-12, atol=1e-15)


def test_a_node_too_big_to_fit_is_refused_before_any_work():
    from clinicsim.model._fit import _check_fit_size
    from clinicsim.model._limits import MAX_FIT_CELLS, MAX_FIT_CONDITIONS

    _check_fit_size("x", MAX_FIT_CONDITIONS, MAX_FIT_CELLS // MAX_FIT_CONDITIONS)
    with pytest.raises(ModelError, match="MAX_FIT_CONDITIONS = 500 per node"):
        _check_fit_size("x", MAX_FIT_CONDITIONS + 1, 1)
    with pytest.raises(ModelError, match="MAX_FIT_CELLS = 10,000,000 per node"):
        _check_fit_size("x", 2, MAX_FIT_CELLS // 2 + 1)
