"""Writers: the text of CSV and JSON Lines, pinned byte for byte, and Parquet's types."""

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

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
