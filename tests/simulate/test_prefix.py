"""Rows that stay put: ``sample(n, seed=s)`` is the first n rows of ``sample(m, seed=s)``.

Every node and record column draws from its own child stream of its block's seed, so a
row's values depend on its position alone, not on how many rows are drawn. The property
is checked at the real block size and, with ``BLOCK_ROWS`` made small, across many block
boundaries. The pgmpy engine keeps whole blocks only (see ``Sampler._draw_pgmpy``).
"""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clinicsim
from clinicsim.simulate import BLOCK_ROWS, COLUMNS, Sampler, _sample
from clinicsim.simulate._sample import _patient_ids
from tests.conftest import assert_same_frame


def head(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    return frame.iloc[:n]


def test_the_issue_example():
    assert_same_frame(clinicsim.sample(5000, seed=42), head(clinicsim.sample(5001, seed=42), 5000))


@pytest.mark.parametrize("n", [1, BLOCK_ROWS - 1, BLOCK_ROWS, BLOCK_ROWS + 1])
def test_prefix_across_the_first_block_boundary(n):
    longer = clinicsim.sample(BLOCK_ROWS + 1000, seed=8, extended=True)
    assert_same_frame(clinicsim.sample(n, seed=8, extended=True), head(longer, n))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 150), more=st.integers(0, 150), block_rows=st.sampled_from([2, 7, 64]),
       seed=st.integers(0, 2**64), extended=st.booleans())
def test_prefix_stable_over_many_blocks(n, more, block_rows, seed, extended):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_sample, "BLOCK_ROWS", block_rows)
        short = clinicsim.sample(n, seed=seed, extended=extended)
        long = clinicsim.sample(n + more, seed=seed, extended=extended)
        # and any window of the longer table, drawn on its own, is the same rows again
        start = min(n - 1, more)
        window = Sampler(None, seed=seed, engine="numpy", extended=extended, n=n + more).rows(
            start, n + more)
    assert_same_frame(short, head(long, n))
    assert_same_frame(window, long.iloc[start:].reset_index(drop=True))


def test_huge_tables_start_with_the_same_rows():
    """A table of 10 million rows or more has the same first rows and ids (no wider ids)."""
    m = 10_000_005
    sampler = Sampler(None, seed=3, engine="numpy", extended=True, n=m)
    assert_same_frame(sampler.rows(0, 100), clinicsim.sample(100, seed=3, extended=True))
    assert sampler.rows(m - 7, m - 3).patient_id.tolist() == [
        "P9999999", "P10000000", "P10000001", "P10000002"]


@pytest.mark.parametrize(("start", "ids"), [
    (0, ["P0000001", "P0000002"]),
    (9_999_998, ["P9999999", "P10000000"]),
    (99_999_998, ["P99999999", "P100000000"]),
    (123_456_788_999, ["P123456789000", "P123456789001"]),
])
def test_patient_ids(start, ids):
    assert _patient_ids(start, 2).tolist() == ids
    assert _patient_ids(start, 1).tolist() == ids[:1]


def test_extended_adds_columns_and_changes_none():
    basic = clinicsim.sample(3000, seed=12)
    assert_same_frame(clinicsim.sample(3000, seed=12, extended=True)[list(COLUMNS)], basic)


def test_pgmpy_engine_keeps_whole_blocks(monkeypatch):
    """pgmpy draws a block's nodes in counts that depend on its size: the rows of every
    block that is whole in both tables stay put."""
    monkeypatch.setattr(_sample, "BLOCK_ROWS", 40)
    short = clinicsim.sample(95, seed=4, engine="pgmpy", extended=True)
    long = clinicsim.sample(130, seed=4, engine="pgmpy", extended=True)
    assert_same_frame(head(short, 80), head(long, 80))
