"""The numpy and pgmpy engines sample the same distribution.

Chi-square homogeneity (numpy rows vs pgmpy rows) of every node's marginal and of every
CPD column that holds enough rows in both samples, Holm-corrected over all of them. At
N rows per engine a shift of about 0.005 in a share near 0.3 is found with high power,
and the last test shows that a deliberately different CPD is caught.
"""

import logging

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import clinicsim
from clinicsim.analysis._checks import holm as holm_adjust
from clinicsim.model import MONTHS, model_from_dict, model_to_dict

N = 400_000
ALPHA = 0.01
MIN_COLUMN_ROWS = 500  # a CPD column is tested when each sample has this many rows in it
MIN_CELL = 20  # states rarer than this (both samples together) are pooled into one cell


def codes(records: pd.DataFrame, model: clinicsim.ClinicModel) -> dict[str, np.ndarray]:
    """Each node's state codes, from the records' columns (extended records carry all five;
    visit_month is the month of visit_date)."""
    month = np.asarray(MONTHS)[records.visit_date.dt.month.to_numpy() - 1]
    columns = {node: records[node].astype(str) for node in model.nodes if node != "visit_month"}
    columns["visit_month"] = month
    return {node: pd.Categorical(columns[node], categories=model.states(node)).codes
            for node in model.nodes}


def counts(sample: dict, model, node: str) -> np.ndarray:
    """Rows per (parent combination, state) of ``node``: shape (columns, states)."""
    column = np.zeros(len(sample[node]), np.int64)
    for parent in model.parents(node):
        column = column * len(model.states(parent)) + sample[parent]
    card = len(model.states(node))
    n_columns = int(np.prod([len(model.states(p)) for p in model.parents(node)]))
    flat = np.bincount(column * card + sample[node], minlength=n_columns * card)
    return flat.reshape(n_columns, card)


def homogeneity(a: np.ndarray, b: np.ndarray) -> float | None:
    """p-value of chi-square homogeneity of two rows of state counts, or None if untestable."""
    table = np.stack([a, b])
    rare = table.sum(axis=0) < MIN_CELL
    table = np.column_stack([table[:, ~rare], table[:, rare].sum(axis=1)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return None
    return stats.chi2_contingency(table, correction=False).pvalue


def engine_tests(model, a: dict, b: dict) -> dict[str, float]:
    """p-values by name: every node's marginal, and every CPD column with enough rows."""
    pvalues = {}
    for node in model.nodes:
        ca, cb = counts(a, model, node), counts(b, model, node)
        pvalues[f"marginal {node}"] = homogeneity(ca.sum(axis=0), cb.sum(axis=0))
        parents = model.parents(node)
        if not parents:
            continue
        combos = pd.MultiIndex.from_product([model.states(p) for p in parents])
        for combo, row_a, row_b in zip(combos, ca, cb, strict=True):
            if min(row_a.sum(), row_b.sum()) >= MIN_COLUMN_ROWS:
                label = ", ".join(f"{p}={s}" for p, s in zip(parents, combo, strict=True))
                pvalues[f"{node} | {label}"] = homogeneity(row_a, row_b)
    return {name: p for name, p in pvalues.items() if p is not None}


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm-adjusted p-values by name (the report's own Holm correction)."""
    names = list(pvalues)
    return dict(zip(names, holm_adjust(np.array([pvalues[k] for k in names])), strict=True))


def draw(model, seed: int, engine: str) -> dict[str, np.ndarray]:
    return codes(clinicsim.sample(N, model=model, seed=seed, engine=engine, extended=True), model)


@pytest.fixture(scope="module")
def default_pgmpy():
    return draw(clinicsim.default_model(), 31337, "pgmpy")


def gender_affects_follow_up() -> clinicsim.ClinicModel:
    """The default model plus an edge gender -> follow_up: men less, women more likely."""
    data = model_to_dict(clinicsim.default_model())
    node = data["nodes"]["follow_up"]
    factor = {"male": 0.8, "female": 1.25, "other": 1.0}
    node["parents"] = [*node["parents"], "gender"]
    node["cpd"] = [
        {"given": {**entry["given"], "gender": g},
         "p": {"True": (t := min(0.95, round(entry["p"]["True"] * f, 6))), "False": 1 - t}}
        for entry in node["cpd"] for g, f in factor.items()
    ]
    return model_from_dict(data, source="edited model")


def test_engines_agree_on_the_default_model(default_pgmpy):
    model = clinicsim.default_model()
    pvalues = engine_tests(model, draw(model, 2718, "numpy"), default_pgmpy)
    assert len(pvalues) > 100  # 5 marginals and most CPD columns
    adjusted = holm(pvalues)
    assert min(adjusted.values()) > ALPHA, sorted(adjusted.items(), key=lambda kv: kv[1])[:3]


def test_engines_agree_on_an_edited_model_with_other_edges():
    model = gender_affects_follow_up()
    assert model.parents("follow_up") == ("gender", "age_group", "diagnosis")  # topological
    a, b = draw(model, 1618, "numpy"), draw(model, 1414, "pgmpy")
    pvalues = engine_tests(model, a, b)
    assert sum(name.startswith("follow_up | ") and "gender=" in name for name in pvalues) > 50
    adjusted = holm(pvalues)
    assert min(adjusted.values()) > ALPHA, sorted(adjusted.items(), key=lambda kv: kv[1])[:3]
    # and the new edge is really sampled: follow-up differs by gender in both engines
    for sample in (a, b):
        table = pd.crosstab(sample["gender"], sample["follow_up"])
        assert stats.chi2_contingency(table).pvalue < 1e-12


def test_a_different_cpd_is_detected(default_pgmpy):
    """The comparison has teeth: small, deliberate CPD changes are found after Holm."""
    model = clinicsim.default_model()
    model.set_cpd("gender", {"male": 0.44, "female": 0.44, "other": 0.12})
    table = model.cpd("follow_up")
    column = ("65_74", "hypertension")  # levels in topological order
    # About 8,800 rows per engine fall in this column (P = 0.022), P(True) = 0.57: the
    # difference's standard error is 0.0075, so a shift of 0.06 is 8 of them, against a
    # Holm threshold near z = 4 for the ~190 tests: power above 0.9999 (0.04 had about 0.9).
    table[column] = table[column] + pd.Series({"True": 0.06, "False": -0.06})
    model.set_cpd("follow_up", table)
    adjusted = holm(engine_tests(model, draw(model, 2718, "numpy"), default_pgmpy))
    rejected = {name for name, p in adjusted.items() if p <= ALPHA}
    assert {"marginal gender", "follow_up | age_group=65_74, diagnosis=hypertension"} <= rejected


def test_pgmpy_engine_does_not_log_rounding_notes(caplog):
    """forward_sample's 'don't exactly sum to 1. Differ by: 2.2e-16' notes stay hidden."""
    pgmpy_logger = logging.getLogger("pgmpy")
    caplog.set_level(logging.WARNING)
    clinicsim.sample(70_000, seed=1, engine="pgmpy")
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("pgmpy")]
    assert pgmpy_logger.level == logging.NOTSET  # put back
    pgmpy_logger.warning("still heard")
    assert caplog.records[-1].getMessage() == "still heard"
