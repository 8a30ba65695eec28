"""Cohorts (``given=``): every row satisfies the evidence and the rows follow the exact posterior.

The expected tables come from ``model.query`` (tested against pgmpy's VariableElimination
in tests/model/test_inference.py); an age range is turned into band weights here, by
hand, not by the code under test. Each case tests every node's marginal and every
(node, parent) pair by chi-square at a Bonferroni level, and shows power: the same test
rejects the unconditional (prior) table wherever the prior is far enough from the
posterior for the test to see it.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

import clinicsim
from clinicsim import ModelError
from clinicsim.model import MONTHS, model_from_dict
from clinicsim.simulate import to_dask, write_sample

from ..model.test_properties import SETTINGS, recipes

N = 20_000
ALPHA = 1e-3  # per case, split over its tests (Bonferroni)
MIN_EXPECTED = 5


def node_codes(records: pd.DataFrame, model) -> dict[str, np.ndarray]:
    """State codes of every node from extended records (visit_month: the visit's month)."""
    columns = {n: records[n].astype(str) for n in model.nodes if n != "visit_month"}
    if "visit_month" in model.nodes:
        columns["visit_month"] = np.asarray(MONTHS)[records.visit_date.dt.month.to_numpy() - 1]
    return {n: pd.Categorical(columns[n], categories=model.states(n)).codes.astype(np.int64)
            for n in model.nodes}


def query_evidence(model, evidence: dict) -> dict:
    """``given`` as ``model.query`` takes it: one weight per state for each node. An age
    range weighs each band by the share of its ages inside the range, a category is its
    diagnoses; evidence on the same node from two entries multiplies."""
    out = {}
    for name, value in evidence.items():
        if name == "age":
            lo, hi = value
            node, weights = "age_group", np.array(
                [max(0, min(hi, b_hi) - max(lo, b_lo) + 1) / (b_hi - b_lo + 1)
                 for b_lo, b_hi in map(model.age_bands.get, model.states("age_group"))])
        else:
            if name == "diagnosis_category":
                wanted = [value] if isinstance(value, str) else value
                node, value = "diagnosis", [d for d, c in model.diagnosis_categories.items()
                                            if c in wanted]
            else:
                node = name
            states = [str(v) for v in np.atleast_1d(np.asarray(value, dtype=object))]
            weights = np.isin(model.states(node), states).astype(float)
        out[node] = out.get(node, 1.0) * weights
    return out


def chi_square(observed: np.ndarray, expected: np.ndarray) -> float:
    """p-value of counts against probabilities; rows in a cell of probability 0 give 0."""
    if observed[expected == 0].any():
        return 0.0
    keep = expected > 0
    o, e = observed[keep].astype(float), observed.sum() * expected[keep]
    small = e < MIN_EXPECTED
    if small.any():
        o, e = np.append(o[~small], o[small].sum()), np.append(e[~small], e[small].sum())
    if len(e) < 2 or e[-1] == 0:
        return 1.0
    return float(stats.chisquare(o, e).pvalue)


def tables(model, evidence):
    """(nodes, expected posterior, prior) for each marginal and each (node, parent) pair."""
    q = query_evidence(model, evidence)
    for node in model.nodes:
        yield (node,), model.query(node, q).to_numpy(), model.query(node).to_numpy()
        for parent in model.parents(node):
            yield ((node, parent), model.query([node, parent], q).to_numpy(),
                   model.query([node, parent]).to_numpy())


def counts(codes, model, nodes):
    flat = np.zeros(len(codes[nodes[0]]), np.int64)
    for n in nodes:
        flat = flat * len(model.states(n)) + codes[n]
    return np.bincount(flat, minlength=int(np.prod([len(model.states(n)) for n in nodes])))


def assert_follows_posterior(records, model, evidence, alpha=ALPHA, power=True):
    codes = node_codes(records, model)
    cases = list(tables(model, evidence))
    level = alpha / len(cases)
    for nodes, posterior, prior in cases:
        observed = counts(codes, model, nodes)
        p = chi_square(observed, posterior)
        assert p >= level, (nodes, p, observed, posterior)
        # power: the test would see the prior instead of the posterior (non-centrality
        # lambda = n * chi-square distance; 60 gives power ~1 at these levels and df)
        keep = prior > 0
        distance = (((posterior - prior)[keep] ** 2) / prior[keep]).sum()
        if power and len(records) * distance > 60:
            assert chi_square(observed, prior) < level, nodes


CASES = {
    "root": {"gender": "other"},
    "root list": {"age_group": ["0_14", "75_89"]},
    "descendant": {"follow_up": True},
    "descendants": {"treatment": "antibiotic", "visit_month": ["dec", "jan", "feb"]},
    "both": {"gender": "female", "follow_up": "True", "treatment": ["inhaler", "antibiotic"]},
    "age inside a band": {"age": (66, 70)},
    "age across bands + category": {"age": (10, 30), "diagnosis_category": "viral"},
    "type 2 diabetes aged 65+": {"diagnosis": "type2_diabetes", "age": (65, 89)},
}


@pytest.mark.parametrize("case", CASES)
def test_cohort_follows_the_exact_posterior(model, case):
    evidence = CASES[case]
    records = clinicsim.sample(N, seed=20240 + len(case), given=evidence, extended=True)
    assert len(records) == N
    q = query_evidence(model, evidence)
    codes = node_codes(records, model)
    for node, weights in q.items():  # every row satisfies the evidence
        assert (weights[codes[node]] > 0).all(), node
    if "age" in evidence:
        lo, hi = evidence["age"]
        assert records.age.between(lo, hi).all()
    assert_follows_posterior(records, model, evidence)


@pytest.mark.parametrize("case", ["age inside a band", "age across bands + category"])
def test_ages_are_uniform_inside_the_range_and_band(model, case):
    lo, hi = CASES[case]["age"]
    records = clinicsim.sample(N, seed=77, given=CASES[case])
    bands = model.age_bands
    band_p = model.query("age_group", query_evidence(model, CASES[case]))
    expected = np.zeros(hi - lo + 1)
    for band, (b_lo, b_hi) in bands.items():
        a, b = max(lo, b_lo), min(hi, b_hi)
        if a <= b:
            expected[a - lo:b - lo + 1] = band_p[band] / (b - a + 1)
    observed = np.bincount(records.age - lo, minlength=hi - lo + 1)
    assert chi_square(observed, expected) >= ALPHA


def test_filtering_an_unconditional_sample_agrees(model):
    """The cohort and the matching rows of a large unconditional sample: same distribution."""
    evidence = {"diagnosis_category": "chronic", "follow_up": "True"}
    full = clinicsim.sample(400_000, seed=5, extended=True)
    kept = full[(full.diagnosis_category == "chronic") & full.follow_up].reset_index(drop=True)
    cohort = clinicsim.sample(len(kept), seed=6, extended=True, given=evidence)
    for column in ("age_group", "gender", "diagnosis", "treatment"):
        table = pd.crosstab(np.r_[np.zeros(len(kept)), np.ones(len(cohort))],
                            np.r_[kept[column].astype(str), cohort[column].astype(str)])
        assert stats.chi2_contingency(table).pvalue >= ALPHA / 4, column


def test_pgmpy_rejection_sampling_agrees(model):
    evidence = {"age_group": "65_74", "diagnosis_category": ["chronic", "viral"]}
    rows = {engine: model.sample(3000, seed=11, engine=engine, extended=True, given=evidence)
            for engine in ("numpy", "pgmpy")}
    for records in rows.values():
        assert_follows_posterior(records, model, evidence, power=False)
    for column in ("gender", "diagnosis", "treatment", "follow_up"):
        table = pd.crosstab(np.r_[np.zeros(3000), np.ones(3000)],
                            np.r_[rows["numpy"][column].astype(str),
                                  rows["pgmpy"][column].astype(str)])
        assert stats.chi2_contingency(table).pvalue >= ALPHA / 4, column


def test_same_seed_same_bytes_whatever_the_chunking(tmp_path):
    evidence = {"follow_up": True, "age": (40, 80)}
    n = 2 * 65_536 + 123
    frame = clinicsim.sample(n, seed=3, given=evidence)
    pd.testing.assert_frame_equal(to_dask(n, seed=3, npartitions=3, given=evidence).compute(),
                                  frame)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_sample(a, n, seed=3, given=evidence, chunk_size=10_007)
    write_sample(b, n, seed=3, given=evidence)
    assert a.read_bytes() == b.read_bytes()
    assert not frame.equals(clinicsim.sample(n, seed=4, given=evidence))


def test_no_evidence_is_the_unconditional_sample():
    plain = clinicsim.sample(1000, seed=8)
    assert clinicsim.sample(1000, seed=8, given={}).equals(plain)
    assert clinicsim.sample(1000, seed=8, given=None).equals(plain)


def test_model_sample_takes_given(model):
    records = model.sample(50, seed=2, given={"gender": ["male", "other"]})
    assert set(records.gender.astype(str)) <= {"male", "other"}


@pytest.mark.parametrize(("evidence", "error", "match"), [
    ({"diagnosis": "flu"}, ValueError, "unknown state.*'flu'"),
    ({"nope": "x"}, ValueError, "unknown node 'nope'"),
    ({"age": (70, 60)}, ValueError, "range is empty"),
    ({"age": (95, 99)}, ValueError, "no age band holds an age in 95..99"),
    ({"age": "old"}, ValueError, "inclusive range"),
    ({"diagnosis_category": "vampiric"}, ValueError, "unknown categories \\['vampiric'\\]"),
    ({"diagnosis": "well_child_visit", "age_group": "75_89"}, ModelError, "probability 0"),
    ({"diagnosis_category": "preventive", "age": (80, 89),
      "treatment": "cardiology_referral"}, ModelError, "probability 0"),
    (["gender"], ValueError, "must be a mapping"),
])
def test_bad_evidence_is_named_and_nothing_is_written(tmp_path, evidence, error, match):
    with pytest.raises(error, match=match):
        clinicsim.sample(10, seed=1, given=evidence)
    path = tmp_path / "r.csv"
    with pytest.raises(error, match=match):
        write_sample(path, 10, seed=1, given=evidence)
    assert list(tmp_path.iterdir()) == []


@SETTINGS
@given(recipe=recipes, data=st.data())
def test_random_feasible_evidence_on_random_models(recipe, data):
    model = model_from_dict(recipe.build())
    nodes = data.draw(st.lists(st.sampled_from(model.nodes), min_size=1, max_size=2, unique=True))
    evidence: dict[str, object] = {
        node: data.draw(st.lists(st.sampled_from(model.states(node)), min_size=1,
                                 max_size=3, unique=True)) for node in nodes}
    if data.draw(st.booleans()):
        lo = data.draw(st.integers(0, 89))
        evidence["age"] = (lo, data.draw(st.integers(lo, 89)))
    try:
        records = model.sample(2000, seed=data.draw(st.integers(0, 2**32)), extended=True,
                               given=evidence)
    except ModelError:  # infeasible: the exact probability must be 0
        q = query_evidence(model, evidence)
        with pytest.raises(ModelError, match="probability 0"):
            model.query(model.nodes[0], q)
        assume(False)
    codes = node_codes(records, model)
    for node in nodes:
        assert np.isin(np.asarray(model.states(node))[codes[node]], evidence[node]).all()
    for node in model.nodes:  # support: no row takes a step of probability 0
        cpd = model.cpd(node).to_numpy()
        column = np.zeros(len(records), np.int64)
        for parent in model.parents(node):
            column = column * len(model.states(parent)) + codes[parent]
        assert (cpd[codes[node], column] > 0).all(), node
    assert_follows_posterior(records, model, evidence, alpha=1e-6, power=False)
