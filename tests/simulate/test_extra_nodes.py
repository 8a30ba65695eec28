"""A model's further nodes are record columns: sampling, writers, engines, cohorts and
sample_remaining carry them (issue 22, item 1)."""

import io
import json
import sys

import numpy as np
import pandas as pd
import pytest

import clinicsim
from clinicsim.simulate import COLUMNS, EXTENDED_COLUMNS, extra_nodes, to_dask, write_sample
from tests.conftest import assert_same_frame, se
from tests.models import INSURANCE, insurance_follow_up_model, insurance_model, save


@pytest.fixture(scope="module")
def model():
    return insurance_model()


@pytest.fixture(scope="module")
def follow_up_model():
    return insurance_follow_up_model()


def test_extra_nodes_are_the_nodes_no_column_carries(model):
    assert extra_nodes(clinicsim.default_model()) == ()
    assert extra_nodes(clinicsim.load_model("us-office-visits")) == ()  # visit_month is derived
    assert extra_nodes(model) == ("insurance",)


def test_records_carry_the_node_after_the_seven(model):
    records = clinicsim.sample(500, model=model, seed=3)
    assert tuple(records.columns) == (*COLUMNS, "insurance")
    assert records.insurance.dtype == pd.CategoricalDtype(list(INSURANCE))
    assert records.insurance.notna().all()
    extended = clinicsim.sample(500, model=model, seed=3, extended=True)
    assert tuple(extended.columns) == (*COLUMNS, "insurance", *EXTENDED_COLUMNS[len(COLUMNS):])
    # the extra column is drawn from the network stream: extended changes no value
    assert_same_frame(extended[records.columns], records)


def test_the_column_follows_its_cpd(model):
    n = 20_000
    records = clinicsim.sample(n, model=model, seed=11, extended=True)
    for band, group in records.groupby("age_group", observed=True):
        exact = model.cpd("insurance")[band]
        share = group.insurance.value_counts(normalize=True)
        for state in INSURANCE:
            p = float(exact[state])
            assert abs(share[state] - p) < 5 * se(p, len(group)), (band, state)


def test_the_node_does_not_move_the_other_columns(model):
    """Node j draws from child j of the network seed: a node after follow_up in the
    topological order leaves the five nodes' values and the ages as they were (visit_month,
    after it, takes the next child: the dates are drawn anew)."""
    assert model.nodes.index("insurance") == 5
    same = ["patient_id", "age", "gender", "diagnosis", "treatment", "follow_up"]
    default = clinicsim.sample(2000, seed=5)
    extra = clinicsim.sample(2000, model=model, seed=5)
    assert_same_frame(extra[same], default[same])


def test_pgmpy_engine_carries_the_node(model):
    n = 4000
    records = clinicsim.sample(n, model=model, seed=7, engine="pgmpy")
    assert tuple(records.columns) == (*COLUMNS, "insurance")
    exact = model.marginal("insurance")
    share = records.insurance.value_counts(normalize=True)
    for state in INSURANCE:
        assert abs(share[state] - exact[state]) < 5 * se(float(exact[state]), n)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_writers_carry_the_node(model, tmp_path, suffix):
    path = tmp_path / f"records{suffix}"
    assert write_sample(path, 3000, model=model, seed=2, chunk_size=1000) == 3000
    expected = clinicsim.sample(3000, model=model, seed=2)
    if suffix == ".csv":
        back = pd.read_csv(path)
    elif suffix == ".parquet":
        back = pd.read_parquet(path)
    else:
        back = pd.read_json(path, lines=True)
    assert list(back.columns) == list(expected.columns)
    assert back.insurance.astype(str).tolist() == expected.insurance.astype(str).tolist()


def test_standard_output_carries_the_node(model, monkeypatch):
    buffer = io.BytesIO()

    class Out:
        def __init__(self):
            self.buffer = buffer

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", Out())
    write_sample(None, 50, model=model, seed=4)
    back = pd.read_csv(io.BytesIO(buffer.getvalue()))
    assert back.columns[-1] == "insurance"
    expected = clinicsim.sample(50, model=model, seed=4)
    assert back.insurance.tolist() == expected.insurance.astype(str).tolist()


def test_jsonl_rows_name_the_node(model, tmp_path):
    path = tmp_path / "r.jsonl"
    write_sample(path, 3, model=model, seed=1)
    first = json.loads(path.read_text().splitlines()[0])
    assert list(first)[-1] == "insurance" and first["insurance"] in INSURANCE


def test_dask_and_partitioned_parquet_carry_the_node(model, tmp_path):
    expected = clinicsim.sample(3000, model=model, seed=8)
    frame = to_dask(3000, model=model, seed=8, npartitions=3)
    assert_same_frame(frame.compute().reset_index(drop=True), expected)
    assert write_sample(f"{tmp_path}/parts/", 3000, model=model, seed=8) == 3000
    back = pd.read_parquet(tmp_path / "parts")
    assert back.insurance.astype(str).tolist() == expected.insurance.astype(str).tolist()


def test_cli_samples_a_model_file_with_the_node(model, tmp_path):
    from typer.testing import CliRunner

    from clinicsim._cli import app

    out = tmp_path / "r.csv"
    result = CliRunner().invoke(app, ["sample", "-n", "200", "--seed", "1", "--model",
                                      str(save(model, tmp_path)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out).columns[-1] == "insurance"


def test_cohort_given_the_node(follow_up_model):
    n = 5000
    records = clinicsim.sample(n, model=follow_up_model, seed=9,
                               given={"insurance": "uninsured"})
    assert (records.insurance == "uninsured").all()
    exact = float(follow_up_model.query(["follow_up"], {"insurance": "uninsured"})["True"])
    assert abs(records.follow_up.mean() - exact) < 5 * se(exact, n)
    assert exact < float(follow_up_model.marginal("follow_up")["True"]) - 0.1  # a real shift


def test_sample_remaining_keeps_a_known_node(follow_up_model):
    n = 4000
    known = pd.DataFrame({"insurance": ["uninsured", "private"] * (n // 2)})
    records = clinicsim.sample_remaining(known, model=follow_up_model, seed=6)
    assert tuple(records.columns) == (*COLUMNS, "insurance")
    assert records.insurance.astype(str).tolist() == known.insurance.tolist()
    for state in ("uninsured", "private"):
        rows = records[records.insurance == state]
        exact = float(follow_up_model.query(["follow_up"], {"insurance": state})["True"])
        assert abs(rows.follow_up.mean() - exact) < 5 * se(exact, len(rows))


def test_sample_remaining_draws_an_unknown_node(model):
    n = 4000
    records = clinicsim.sample_remaining(pd.DataFrame({"age": [80] * n}), model=model, seed=6)
    exact = model.cpd("insurance")["75_89"]
    share = records.insurance.value_counts(normalize=True)
    for state in INSURANCE:
        p = float(exact[state])
        assert abs(share[state] - p) < 5 * se(p, n)


def test_sample_remaining_names_a_bad_state_of_the_node(model):
    with pytest.raises(clinicsim.ArgumentError, match="'insurance' row 2: 'gold'"):
        clinicsim.sample_remaining(pd.DataFrame({"insurance": ["public", "gold"]}), model=model)
    with pytest.raises(clinicsim.ArgumentError, match="only the columns"):
        clinicsim.sample_remaining(pd.DataFrame({"insurance": ["public"]}))  # default model


def test_seeded_rows_are_pinned(model):
    records = clinicsim.sample(5, model=model, seed=1)
    assert records.insurance.astype(str).tolist() == PINNED
    np.testing.assert_array_equal(records.age, clinicsim.sample(5, seed=1).age)


PINNED = ["private", "public", "private", "private", "private"]


@pytest.mark.parametrize("suffix", [".bif", ".xmlbif"])
def test_bif_and_xmlbif_keep_the_node(follow_up_model, tmp_path, suffix):
    path = tmp_path / f"m{suffix}"
    follow_up_model.save(path)
    back = clinicsim.load_model(path)
    assert extra_nodes(back) == ("insurance",)
    assert back.parents("follow_up") == follow_up_model.parents("follow_up")
    assert tuple(clinicsim.sample(10, model=back, seed=1).columns) == (*COLUMNS, "insurance")


def test_pgmpy_cohort_given_the_node(follow_up_model):
    n = 3000
    records = clinicsim.sample(n, model=follow_up_model, seed=10, engine="pgmpy",
                               given={"insurance": ["uninsured", "public"]})
    assert records.insurance.isin(["uninsured", "public"]).all()
    exact = follow_up_model.query(["insurance"], {"insurance": ["uninsured", "public"]})
    share = float((records.insurance == "uninsured").mean())
    p = float(exact["uninsured"])
    assert abs(share - p) < 5 * se(p, n)
