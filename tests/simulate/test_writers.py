"""Writers: the text of CSV and JSON Lines, pinned byte for byte, and Parquet's types."""

import csv
import io
import json
import sys
from itertools import pairwise

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clinicsim
from clinicsim.simulate import _writers
from clinicsim.simulate._writers import write_records

# Values a model's states may hold that CSV or JSON must quote or escape.
STATES = ["plain", "a,b", 'say "hi"', "two\nlines", "Sjögren", " lead", "a/b\\c", "tab\there",
          "it's", ""]


def pinned_table() -> pd.DataFrame:
    """A records table with the sampler's dtypes and awkward values, built by hand."""
    n = len(STATES)
    dates = np.array(["2024-01-01", "2024-02-29", "2024-12-31", "1999-07-04", "2024-06-01",
                      "2024-06-02", "2024-06-03", "2024-06-04", "2024-06-05", "2024-06-06"],
                     "datetime64[s]")
    follow_up = np.array([True, False] * 5)
    due = np.where(follow_up, dates + np.timedelta64(30 * 86400, "s"), np.datetime64("NaT"))

    def cat(values, categories, **kwargs):
        return pd.Categorical(values, categories=categories, **kwargs)

    return pd.DataFrame({
        "patient_id": pd.array([f"P{i:07d}" for i in range(1, n + 1)],
                               dtype=pd.StringDtype("pyarrow")),
        "visit_date": dates,
        "age": np.array([0, 5, 17, 89, 42, 100, 7, 65, 30, 1], np.int64),
        "gender": cat(["male", "female", "other"] * 3 + ["male"], ["male", "female", "other"]),
        "diagnosis": cat(STATES, STATES),
        "treatment": cat(STATES[::-1], STATES),
        "follow_up": follow_up,
        "age_group": cat(["0_14"] * 5 + ["65_89"] * 5, ["0_14", "65_89"], ordered=True),
        "diagnosis_code": cat(["J06.9"] * 9 + ["Z00.00"], ["J06.9", "Z00.00"]),
        "diagnosis_category": cat(["viral"] * 10, ["viral", "chronic"]),
        "follow_up_date": due.astype("datetime64[s]"),
    })


# Written by the pandas writers (to_csv, to_json) that these replace, before the change.
PINNED_CSV = (
    'patient_id,visit_date,age,gender,diagnosis,treatment,follow_up,age_group,'
        'diagnosis_code,diagnosis_category,follow_up_date\n'
    'P0000001,2024-01-01,0,male,plain,,True,0_14,J06.9,viral,2024-01-31\n'
    'P0000002,2024-02-29,5,female,"a,b",it\'s,False,0_14,J06.9,viral,\n'
    'P0000003,2024-12-31,17,other,"say ""hi""",tab\there,True,0_14,J06.9,viral,2025-01-30\n'
    'P0000004,1999-07-04,89,male,"two\nlines",a/b\\c,False,0_14,J06.9,viral,\n'
    'P0000005,2024-06-01,42,female,Sjögren, lead,True,0_14,J06.9,viral,2024-07-01\n'
    'P0000006,2024-06-02,100,other, lead,Sjögren,False,65_89,J06.9,viral,\n'
    'P0000007,2024-06-03,7,male,a/b\\c,"two\nlines",True,65_89,J06.9,viral,2024-07-03\n'
    'P0000008,2024-06-04,65,female,tab\there,"say ""hi""",False,65_89,J06.9,viral,\n'
    'P0000009,2024-06-05,30,other,it\'s,"a,b",True,65_89,J06.9,viral,2024-07-05\n'
    'P0000010,2024-06-06,1,male,,plain,False,65_89,Z00.00,viral,\n'
)

PINNED_JSONL = (
    '{"patient_id":"P0000001","visit_date":"2024-01-01","age":0,"gender":"male",'
        '"diagnosis":"plain","treatment":"","follow_up":true,"age_group":"0_14",'
        '"diagnosis_code":"J06.9","diagnosis_category":"viral","follow_up_date":"2024-01-31"}\n'
    '{"patient_id":"P0000002","visit_date":"2024-02-29","age":5,"gender":"female",'
        '"diagnosis":"a,b","treatment":"it\'s","follow_up":false,"age_group":"0_14",'
        '"diagnosis_code":"J06.9","diagnosis_category":"viral","follow_up_date":null}\n'
    '{"patient_id":"P0000003","visit_date":"2024-12-31","age":17,"gender":"other",'
        '"diagnosis":"say \\"hi\\"","treatment":"tab\\there","follow_up":true,'
        '"age_group":"0_14","diagnosis_code":"J06.9","diagnosis_category":"viral",'
        '"follow_up_date":"2025-01-30"}\n'
    '{"patient_id":"P0000004","visit_date":"1999-07-04","age":89,"gender":"male",'
        '"diagnosis":"two\\nlines","treatment":"a\\/b\\\\c","follow_up":false,'
        '"age_group":"0_14","diagnosis_code":"J06.9","diagnosis_category":"viral",'
        '"follow_up_date":null}\n'
    '{"patient_id":"P0000005","visit_date":"2024-06-01","age":42,"gender":"female",'
        '"diagnosis":"Sj\\u00f6gren","treatment":" lead","follow_up":true,"age_group":"0_14",'
        '"diagnosis_code":"J06.9","diagnosis_category":"viral","follow_up_date":"2024-07-01"}\n'
    '{"patient_id":"P0000006","visit_date":"2024-06-02","age":100,"gender":"other",'
        '"diagnosis":" lead","treatment":"Sj\\u00f6gren","follow_up":false,"age_group":"65_89",'
        '"diagnosis_code":"J06.9","diagnosis_category":"viral","follow_up_date":null}\n'
    '{"patient_id":"P0000007","visit_date":"2024-06-03","age":7,"gender":"male",'
        '"diagnosis":"a\\/b\\\\c","treatment":"two\\nlines","follow_up":true,'
        '"age_group":"65_89","diagnosis_code":"J06.9","diagnosis_category":"viral",'
        '"follow_up_date":"2024-07-03"}\n'
    '{"patient_id":"P0000008","visit_date":"2024-06-04","age":65,"gender":"female",'
        '"diagnosis":"tab\\there","treatment":"say \\"hi\\"","follow_up":false,'
        '"age_group":"65_89","diagnosis_code":"J06.9","diagnosis_category":"viral",'
        '"follow_up_date":null}\n'
    '{"patient_id":"P0000009","visit_date":"2024-06-05","age":30,"gender":"other",'
        '"diagnosis":"it\'s","treatment":"a,b","follow_up":true,"age_group":"65_89",'
        '"diagnosis_code":"J06.9","diagnosis_category":"viral","follow_up_date":"2024-07-05"}\n'
    '{"patient_id":"P0000010","visit_date":"2024-06-06","age":1,"gender":"male",'
        '"diagnosis":"","treatment":"plain","follow_up":false,"age_group":"65_89",'
        '"diagnosis_code":"Z00.00","diagnosis_category":"viral","follow_up_date":null}\n'
)


@pytest.mark.parametrize(("suffix", "expected"), [(".csv", PINNED_CSV), (".jsonl", PINNED_JSONL)])
@pytest.mark.parametrize("cuts", [[], [1], [4], [3, 4, 9]])
def test_text_is_pinned_byte_for_byte(tmp_path, suffix, expected, cuts):
    table = pinned_table()
    edges = [0, *cuts, len(table)]
    chunks = [table.iloc[a:b] for a, b in pairwise(edges)]
    path = tmp_path / f"r{suffix}"
    assert write_records(chunks, path) == len(table)
    assert path.read_bytes() == expected.encode("utf-8")


def pandas_text(frame: pd.DataFrame, suffix: str) -> bytes:
    """What the writers wrote before: pandas' own CSV and JSON Lines."""
    if suffix == ".csv":
        text = frame.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n")
    else:
        dates = frame.select_dtypes("datetime").columns
        frame = frame.assign(**{c: frame[c].dt.strftime("%Y-%m-%d") for c in dates})
        text = frame.to_json(orient="records", lines=True)
    return text.encode("utf-8")


def encoded(frame: pd.DataFrame, suffix: str, tmp_path, chunk_rows: int | None = None) -> bytes:
    path = tmp_path / f"encoded{suffix}"
    step = chunk_rows or len(frame)
    chunks = (frame.iloc[i:i + step] for i in range(0, len(frame), step))
    assert write_records(chunks, path) == len(frame)
    return path.read_bytes()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize("extended", [False, True])
def test_sampled_records_are_written_as_pandas_wrote_them(tmp_path, suffix, extended):
    frame = clinicsim.sample(5000, seed=31, extended=extended)
    assert encoded(frame, suffix, tmp_path, chunk_rows=1234) == pandas_text(frame, suffix)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_the_text_does_not_depend_on_the_piece_size(tmp_path, monkeypatch, suffix):
    frame = clinicsim.sample(3000, seed=32, extended=True)
    whole = encoded(frame, suffix, tmp_path)
    pieces = []
    original = _writers._encode

    def encode(piece, text):
        pieces.append(piece.num_rows)
        return original(piece, text)

    monkeypatch.setattr(_writers, "PIECE_ROWS", 701)
    monkeypatch.setattr(_writers, "_encode", encode)
    assert encoded(frame, suffix, tmp_path) == whole
    assert max(pieces) == 701 and sum(pieces) == 3000  # the text is made 701 rows at a time


# Characters that CSV quotes or JSON escapes, and some that neither does; any character
# that is valid Unicode (codec="utf-8": no lone surrogate, which no writer, pandas text
# column or Arrow string can hold, and which models and records refuse: tests/test_text.py).
awkward_text = st.text(st.sampled_from(list('ab ,"\n\t\\/\x00\x7fé€😀'))
                       | st.characters(codec="utf-8"), max_size=8)


@settings(max_examples=60, deadline=None)
@given(st.lists(awkward_text, min_size=1, max_size=6, unique=True), st.data())
def test_any_text_is_written_as_pandas_writes_it(tmp_path_factory, states, data):
    """Categories and plain string columns, with missing values, in both formats.

    CSV text equals pandas' except where a value holds a carriage return, which is
    quoted here (pandas leaves it bare, and readers then split the row); it reads back.
    """
    rows = data.draw(st.integers(1, 12))
    pick = st.lists(st.none() | st.sampled_from(states), min_size=rows, max_size=rows)
    frame = pd.DataFrame({
        "category": pd.Categorical(data.draw(pick), categories=states),
        "text": pd.array(data.draw(pick), dtype=pd.StringDtype("pyarrow")),
        "number": pd.array(data.draw(st.lists(st.none() | st.integers(-10**12, 10**12),
                                              min_size=rows, max_size=rows)), dtype="Int64"),
        "flag": data.draw(st.lists(st.booleans(), min_size=rows, max_size=rows)),
    })
    tmp_path = tmp_path_factory.mktemp("text")
    jsonl = encoded(frame, ".jsonl", tmp_path)
    assert [json.loads(line) for line in jsonl.splitlines()] == \
        [json.loads(line) for line in pandas_text(frame, ".jsonl").splitlines()]
    assert jsonl == pandas_text(frame, ".jsonl")
    text = encoded(frame, ".csv", tmp_path)
    if not any("\r" in s for s in states):
        assert text == pandas_text(frame, ".csv")
    back = list(csv.reader(io.StringIO(text.decode("utf-8"), newline="")))
    assert back[0] == list(frame.columns)
    assert [row[:2] for row in back[1:]] == \
        frame[["category", "text"]].astype(object).fillna("").values.tolist()


def test_a_carriage_return_is_quoted(tmp_path):
    frame = pd.DataFrame({"a": pd.Categorical(["x\ry", "z"]), "b": ["u\rv", "w"]})
    assert encoded(frame, ".csv", tmp_path) == b'a,b\n"x\ry","u\rv"\nz,w\n'
    assert pd.read_csv(tmp_path / "encoded.csv").values.tolist() == [["x\ry", "u\rv"], ["z", "w"]]


def test_dates_and_numbers_far_apart_and_missing(tmp_path):
    """Values spread wider than the rows are looked up after sorting, not by offset."""
    frame = pd.DataFrame({
        "day": np.array(["1900-01-01", "NaT", "2999-12-31", "1900-01-01"], "datetime64[s]"),
        "n": np.array([-2**62, 0, 2**62, 7], np.int64),
    })
    for suffix in (".csv", ".jsonl"):
        assert encoded(frame, suffix, tmp_path) == pandas_text(frame, suffix)


def test_standard_output_gets_the_file_bytes(tmp_path, capsysbinary):
    frame = clinicsim.sample(2000, seed=33, extended=True)
    assert write_records([frame], None) == 2000
    assert capsysbinary.readouterr().out == encoded(frame, ".csv", tmp_path)


def test_closed_standard_output_is_an_error(monkeypatch):
    monkeypatch.setattr(sys, "stdout", None)
    with pytest.raises(clinicsim.ClinicSimError,
                       match="cannot write records to standard output: it is closed"):
        write_records([clinicsim.sample(3, seed=1)], None)


@pytest.mark.parametrize("extended", [False, True])
def test_parquet_stores_dates_as_dates(tmp_path, extended):
    path = tmp_path / "r.parquet"
    frame = clinicsim.sample(3000, seed=34, extended=extended)
    write_records([frame.iloc[:1000], frame.iloc[1000:]], path)
    schema = pq.read_schema(path)
    dates = [name for name in frame.columns if name.endswith("_date")]
    assert dates == (["visit_date", "follow_up_date"] if extended else ["visit_date"])
    assert all(schema.field(name).type == pa.date32() for name in dates)
    table = pq.read_table(path)
    for name in dates:
        days = table.column(name).to_numpy().astype("datetime64[D]")
        assert np.array_equal(days, frame[name].to_numpy().astype("datetime64[D]"),
                              equal_nan=True)
    assert clinicsim.conformance_report(path).passed  # the report reads the dates back
